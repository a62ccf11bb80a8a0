"""A local stand-in of the WhatsApp Cloud API, like ``bot/botapi`` is for Telegram.

An aiohttp server that accepts ``POST /{version}/{phone_number_id}/messages`` as the Graph
API does: the bearer token (190), the phone number id (100), every message shape and limit
(``bot.whatsapp.limits.check_message``: 100, 131009), the approved templates (132001,
132000), the number's throughput (80 messages/s: 130429) and the pair rate limit to one
citizen (one message every 6 s on average, bursts of 45: 131056). Like Meta, it answers a
free-text message outside the 24-hour window, or to a number that cannot receive it, with a
200 and then a ``failed`` status webhook (131047, 131026). Every call is recorded.

It also plays the citizens: ``send_text``/``press`` post messages to Loket's webhook signed
with the app secret, exactly as Meta does, and accepted messages get ``sent`` and
``delivered`` status webhooks (``read`` on request).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.whatsapp import limits
from bot.whatsapp.templates import DEFAULT_TEMPLATES, Template
from bot.whatsapp.webhook import SIGNATURE_HEADER, signature

VERSION = "v23.0"
PHONE_NUMBER_ID = "100000000000016"
ACCESS_TOKEN = "LOKET-LOCAL-WHATSAPP"  # noqa: S105 - the stand-in's fixed token
APP_SECRET = "loket-local-app-secret"  # noqa: S105
VERIFY_TOKEN = "loket-local-verify"  # noqa: S105


@dataclass(slots=True)
class Sent:
    """A message the stand-in accepted: its id, recipient and body as posted."""

    id: str
    to: str
    body: dict[str, Any]
    at: dt.datetime

    @property
    def kind(self) -> str:
        if self.body.get("type") == "interactive":
            return str(self.body["interactive"]["type"])  # button | list
        return str(self.body.get("type", "text"))

    @property
    def text(self) -> str:
        if self.kind == "text":
            return str(self.body["text"]["body"])
        if self.kind == "template":
            params = self.body["template"].get("components", [{}])[0].get("parameters", [])
            return " ".join(str(p.get("text", "")) for p in params)
        return str(self.body["interactive"]["body"]["text"])

    @property
    def options(self) -> list[tuple[str, str]]:
        """(title, id) of the buttons or list rows."""
        if self.kind == "button":
            return [
                (b["reply"]["title"], b["reply"]["id"])
                for b in self.body["interactive"]["action"]["buttons"]
            ]
        if self.kind == "list":
            return [
                (row["title"], row["id"])
                for section in self.body["interactive"]["action"]["sections"]
                for row in section["rows"]
            ]
        return []


@dataclass(slots=True)
class _Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    at: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class StandInLimits:
    per_second: float = 80.0
    pair_interval: float = 6.0
    pair_burst: float = 45.0

    @classmethod
    def unlimited(cls) -> StandInLimits:
        return cls(per_second=1e9, pair_interval=1e-9, pair_burst=1e9)


class CloudApiStandIn:
    def __init__(
        self,
        *,
        phone_number_id: str = PHONE_NUMBER_ID,
        access_token: str = ACCESS_TOKEN,
        app_secret: str = APP_SECRET,
        templates: Mapping[str, Template] = DEFAULT_TEMPLATES,
        rate: StandInLimits | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        monotonic: Callable[[], float] = time.monotonic,
        statuses: bool = True,
    ) -> None:
        self.phone_number_id = phone_number_id
        self.access_token = access_token
        self.app_secret = app_secret
        self.templates = {t.name: t for t in templates.values()}
        self.rate = rate or StandInLimits()
        self.clock = clock
        self.monotonic = monotonic
        self.statuses = statuses
        self.webhook_url: str | None = None
        self.calls: list[tuple[int, dict[str, Any]]] = []  # (HTTP status, request body)
        self.sent: list[Sent] = []
        self.refusals: list[dict[str, Any]] = []
        self.webhook_answers: list[int] = []
        self.last_inbound: dict[str, dt.datetime] = {}
        self.unreachable: set[str] = set()
        self._number = _Bucket(self.rate.per_second, self.rate.per_second, self.rate.per_second, 0)
        self._pairs: dict[str, _Bucket] = {}
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        # Called with every message accepted for a citizen (the web chat page listens).
        self.on_sent: Callable[[Sent], None] | None = None
        self.app = web.Application()
        self.mount(self.app)

    def mount(self, app: web.Application) -> None:
        """Serves the Graph API's ``/messages`` on ``app`` (its own, or the local Bot API's
        in the local mode: one port for both channels); then :meth:`attach`."""
        app.router.add_post(f"/{VERSION}/{{phone_id}}/messages", self._messages)

    async def attach(self, origin: str, webhook_url: str) -> str:
        """Used when mounted on another server already listening at ``origin``."""
        self.base_url = f"{origin.rstrip('/')}/{VERSION}"
        self.webhook_url = webhook_url
        self._session = aiohttp.ClientSession()
        return self.base_url

    # -- running ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound}/{VERSION}"
        self._session = aiohttp.ClientSession()
        return self.base_url

    async def stop(self) -> None:
        await self.idle()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def idle(self) -> None:
        """Returns when every webhook the stand-in is posting has been answered."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- the Graph API ----------------------------------------------------------------------

    def _refuse(self, refusal: limits.Refusal, body: dict[str, Any]) -> web.Response:
        self.calls.append((refusal.status, body))
        self.refusals.append({"code": refusal.code, "details": refusal.details, "body": body})
        return web.json_response(refusal.body(), status=refusal.status)

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return self._refuse(
                limits.Refusal(190, "Invalid OAuth access token.", status=401), body
            )
        if request.match_info["phone_id"] != self.phone_number_id:
            return self._refuse(
                limits.Refusal(100, "Unsupported post request. Object does not exist."), body
            )
        if not isinstance(body, dict):
            return self._refuse(limits.Refusal(100, "(#100) Invalid parameter"), body)
        refusal = limits.check_message(body) or self._check_template(body)
        if refusal is not None:
            return self._refuse(refusal, body)
        to = str(body.get("to") or body.get("recipient"))
        now = self.monotonic()
        if not self._number.take(now):
            return self._refuse(
                limits.Refusal(limits.RATE_LIMIT_HIT, "(#130429) Rate limit hit", status=400),
                body,
            )
        pair = self._pairs.setdefault(
            to,
            _Bucket(1 / self.rate.pair_interval, self.rate.pair_burst, self.rate.pair_burst, now),
        )
        if not pair.take(now):
            return self._refuse(
                limits.Refusal(limits.PAIR_RATE_LIMIT, "(#131056) Pair rate limit hit"), body
            )
        wamid = f"wamid.LOKET{next(self._ids):012d}"
        self.calls.append((200, body))
        failure = self._failure(to, body)
        if failure is None:
            sent = Sent(wamid, to, body, self.clock())
            self.sent.append(sent)
            if self.on_sent is not None:
                self.on_sent(sent)
            self._status(wamid, to, "sent")
            self._status(wamid, to, "delivered")
        else:
            self._status(wamid, to, "failed", failure)
        contact = {"input": to, "wa_id": to} if "to" in body else {"input": to, "user_id": to}
        return web.json_response(
            {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}
        )

    def _check_template(self, body: dict[str, Any]) -> limits.Refusal | None:
        if body.get("type") != "template":
            return None
        template = body["template"]
        known = self.templates.get(template["name"])
        if known is None or known.language != template["language"]["code"]:
            return limits.Refusal(
                limits.TEMPLATE_DOES_NOT_EXIST,
                "(#132001) Template name does not exist in the translation",
            )
        params = [p for c in template.get("components", []) for p in c.get("parameters", [])]
        if len(params) != known.text.count("{{"):
            return limits.Refusal(
                limits.TEMPLATE_PARAMS_MISMATCH,
                "(#132000) Number of parameters does not match the expected number of params",
            )
        for param in params:
            value = str(param.get("text", ""))
            if "\n" in value or "\t" in value or "     " in value or not value.strip():
                return limits.Refusal(
                    132018, "(#132018) There was an issue with the parameters in your template"
                )
        return None

    def _failure(self, to: str, body: dict[str, Any]) -> int | None:
        if to in self.unreachable:
            return limits.UNDELIVERABLE
        if body.get("type") == "template":
            return None
        last = self.last_inbound.get(to)
        if last is None or self.clock() - last >= dt.timedelta(hours=24):
            return limits.WINDOW_CLOSED
        return None

    # -- webhooks to Loket ------------------------------------------------------------------

    def _envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "WABA-LOKET",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "6290100000016",
                                    "phone_number_id": self.phone_number_id,
                                },
                                **value,
                            },
                        }
                    ],
                }
            ],
        }

    def _status(self, wamid: str, to: str, status: str, code: int | None = None) -> None:
        if not self.statuses or self.webhook_url is None:
            return
        item: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(self.clock().timestamp())),
            "recipient_id": to,
        }
        if code is not None:
            item["errors"] = [{"code": code, "title": "failed"}]
        self._post_later(self._envelope({"statuses": [item]}))

    def read(self, message: Sent) -> None:
        """The citizen opened ``message``: a ``read`` status webhook."""
        self._status(message.id, message.to, "read")

    def _post_later(self, data: dict[str, Any]) -> None:
        task = asyncio.create_task(self._post_ignoring(data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_ignoring(self, data: dict[str, Any]) -> None:
        try:
            await self.post(data)
        except aiohttp.ClientError:
            self.webhook_answers.append(0)

    async def post(
        self, data: dict[str, Any] | bytes, *, sign: str | None = None, secret: str | None = None
    ) -> int:
        """Posts a webhook to Loket, signed with the app secret (or ``secret``; ``sign``
        given: that header value exactly, "" for none); returns Loket's HTTP status."""
        assert self.webhook_url is not None and self._session is not None
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        header = signature(secret or self.app_secret, raw) if sign is None else sign
        headers = {"Content-Type": "application/json"}
        if header:
            headers[SIGNATURE_HEADER] = header
        async with self._session.post(self.webhook_url, data=raw, headers=headers) as response:
            await response.read()
            self.webhook_answers.append(response.status)
            return response.status

    def message(
        self,
        sender: str | None,
        content: dict[str, Any],
        *,
        user_id: str | None = None,
        name: str = "Warga",
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """A citizen's message webhook; ``sender`` None: a username-only citizen."""
        wamid = message_id or f"wamid.IN{next(self._ids):012d}"
        contact: dict[str, Any] = {"profile": {"name": name}}
        message: dict[str, Any] = {
            "id": wamid,
            "timestamp": str(int(self.clock().timestamp())),
            **content,
        }
        if sender is not None:
            contact["wa_id"] = sender
            message["from"] = sender
        if user_id is not None:
            contact["user_id"] = user_id
            message["from_user_id"] = user_id
        self.last_inbound[sender or user_id or ""] = self.clock()
        return self._envelope({"contacts": [contact], "messages": [message]})

    async def send_text(
        self, sender: str | None, text: str, *, forwarded: bool = False, **kwargs: Any
    ) -> int:
        content: dict[str, Any] = {"type": "text", "text": {"body": text}}
        if forwarded:
            content["context"] = {"forwarded": True}
        return await self.post(self.message(sender, content, **kwargs))

    async def press(self, sender: str | None, option: tuple[str, str], **kwargs: Any) -> int:
        """Presses a reply button or picks a list row: ``option`` is (title, id)."""
        title, option_id = option
        last = next((s for s in reversed(self.sent) if option in s.options), None)
        kind = "list_reply" if last is not None and last.kind == "list" else "button_reply"
        content = {
            "type": "interactive",
            "interactive": {"type": kind, kind: {"id": option_id, "title": title}},
        }
        return await self.post(self.message(sender, content, **kwargs))

    def to(self, recipient: str) -> list[Sent]:
        return [s for s in self.sent if s.to == recipient]
