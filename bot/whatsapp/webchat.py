"""The WhatsApp web chat page of the local mode: a newcomer talks to Loket as a WhatsApp
citizen, next to the Telegram web chat, with one ``./scripts/start.sh``.

The page talks to the Cloud API stand-in, never to Loket directly: what the citizen types is
posted by the stand-in to Loket's ``/whatsapp/webhook``, signed as Meta signs it, and Loket's
replies reach the page only as the Graph API messages the stand-in accepted, so the page
shows exactly what a WhatsApp phone would (reply buttons, lists, *bold* and _italic_). The
page renders the text with ``textContent`` only. Routes under ``/wa/`` answer loopback
clients only: the page acts as a citizen without any login.
"""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.whatsapp.standin import CloudApiStandIn, Sent

PAGE = Path(__file__).parent / "static" / "whatsapp.html"
PREFIX = "/wa"
CITIZEN = "6281200000016"  # the page's citizen: a number no real person has
MAX_TEXT = 4096
HISTORY_TIMEOUT = 25.0


def _loopback(request: web.Request) -> bool:
    try:
        return request.remote is not None and ipaddress.ip_address(request.remote).is_loopback
    except ValueError:
        return False


def sent_json(sent: Sent, seq: int) -> dict[str, Any]:
    body = sent.body
    item: dict[str, Any] = {"seq": seq, "from": "bot", "kind": sent.kind, "text": sent.text}
    if sent.kind in ("button", "list"):
        interactive = body["interactive"]
        item["options"] = [{"title": t, "id": i} for t, i in sent.options]
        if sent.kind == "list":
            item["button"] = interactive["action"]["button"]
            item["rows"] = [
                {"title": r["title"], "id": r["id"], "description": r.get("description", "")}
                for section in interactive["action"]["sections"]
                for r in section["rows"]
            ]
    if sent.kind == "template":
        item["template"] = body["template"]["name"]
    return item


class WhatsAppWebChat:
    def __init__(self, api: CloudApiStandIn, citizen: str = CITIZEN, name: str = "Warga") -> None:
        self.api = api
        self.citizen = citizen
        self.name = name
        self.items: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._closing = False
        self.waiting = 0  # history long polls in progress (lets tests avoid sleeps)
        api.on_sent = self._on_sent

    def setup(self, app: web.Application) -> None:
        app.router.add_get(f"{PREFIX}/", self._index)
        app.router.add_get(PREFIX, self._index)
        app.router.add_post(f"{PREFIX}/send", self._send)
        app.router.add_post(f"{PREFIX}/press", self._press)
        app.router.add_get(f"{PREFIX}/history", self._history)

    def close(self) -> None:
        self._closing = True
        self._changed.set()

    def _add(self, item: dict[str, Any]) -> None:
        item["seq"] = len(self.items) + 1
        self.items.append(item)
        self._changed.set()

    def _on_sent(self, sent: Sent) -> None:
        if sent.to == self.citizen:
            self._add(sent_json(sent, 0))

    @staticmethod
    def _guard(request: web.Request) -> None:
        if not _loopback(request):
            raise web.HTTPForbidden(text="loopback only")

    async def _index(self, request: web.Request) -> web.Response:
        self._guard(request)
        return web.Response(text=PAGE.read_text(encoding="utf-8"), content_type="text/html")

    async def _body(self, request: web.Request) -> dict[str, Any]:
        self._guard(request)
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="JSON body expected") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="JSON object expected")
        return body

    async def _send(self, request: web.Request) -> web.Response:
        text = str((await self._body(request)).get("text", "")).strip()
        if not text or len(text) > MAX_TEXT:
            return web.json_response({"ok": False, "error": "teks kosong atau terlalu panjang"})
        self._add({"from": "user", "kind": "text", "text": text})
        status = await self.api.send_text(self.citizen, text, name=self.name)
        return web.json_response({"ok": status == 200, "status": status})

    async def _press(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        option = (str(body.get("title", "")), str(body.get("id", "")))
        if not option[1]:
            return web.json_response({"ok": False, "error": "pilihan tidak dikenal"})
        self._add({"from": "user", "kind": "text", "text": option[0]})
        status = await self.api.press(self.citizen, option, name=self.name)
        return web.json_response({"ok": status == 200, "status": status})

    async def _history(self, request: web.Request) -> web.Response:
        self._guard(request)
        try:
            after = max(0, int(request.query.get("after", "0")))
            timeout = min(HISTORY_TIMEOUT, max(0.0, float(request.query.get("timeout", "25"))))
        except ValueError:
            after, timeout = 0, HISTORY_TIMEOUT
        if after > len(self.items):  # the server restarted under an open page
            after = 0
        self.waiting += 1
        try:
            while len(self.items) <= after and not self._closing:
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout)
                except TimeoutError:
                    break
        finally:
            self.waiting -= 1
        return web.json_response({"seq": len(self.items), "items": self.items[after:]})
