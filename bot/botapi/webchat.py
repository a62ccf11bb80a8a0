"""The browser chat: a newcomer talks to the bot as a simulated citizen.

The page renders the bot's messages from ``text`` + ``entities`` (what Telegram clients
receive), never from the bot's raw HTML, so formatting is applied safely and looks like
Telegram. JSON endpoints live under ``/webchat/`` and answer loopback clients only.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.botapi.files import find_file
from bot.botapi.state import BotState, StoredMessage

if TYPE_CHECKING:
    from bot.botapi.server import LocalBotApi

STATIC_DIR = Path(__file__).parent / "static"
_STATIC_FILES = {
    "webchat.js": "application/javascript",
    "webchat.css": "text/css",
}
HISTORY_TIMEOUT = 25.0
MAX_TEXT = 4096


def _is_loopback(request: web.Request) -> bool:
    remote = request.remote
    if remote is None:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


@web.middleware
async def loopback_only(request: web.Request, handler: Any) -> web.StreamResponse:
    """The web chat acts as a citizen without any login, so keep it off the network."""
    if (request.path == "/" or request.path.startswith("/webchat/")) and not _is_loopback(request):
        return web.json_response({"ok": False, "error": "loopback only"}, status=403)
    return await handler(request)


def message_json(message: StoredMessage) -> dict[str, Any]:
    """A chat message as the page needs it."""
    data: dict[str, Any] = {
        "message_id": message.message_id,
        "seq": message.seq,
        "from": "bot" if message.from_bot else "user",
        "kind": message.kind,
        "text": message.visible_text,
        "entities": message.entities,
        "buttons": [
            [
                {"text": b.get("text", ""), "data": b.get("callback_data"), "url": b.get("url")}
                for b in row
            ]
            for row in (message.reply_markup or {}).get("inline_keyboard", [])
        ],
        "edited": message.edit_date is not None,
        "deleted": message.deleted,
        "date": message.date,
    }
    if message.kind == "photo" and message.extra.get("photo"):
        data["file_id"] = message.extra["photo"][-1]["file_id"]
    if message.kind == "document" and message.extra.get("document"):
        data["file_name"] = message.extra["document"].get("file_name", "berkas")
        data["file_id"] = message.extra["document"]["file_id"]
    if message.kind == "location":
        loc = message.extra.get("location", {})
        data["text"] = f"📍 {loc.get('latitude')}, {loc.get('longitude')}"
    if message.kind == "sticker":
        data["text"] = message.extra.get("sticker", {}).get("emoji", "🙂")
    return data


class WebChat:
    """Routes and state of the browser chat for the default bot."""

    def __init__(self, api: LocalBotApi, user_id: int, user_name: str) -> None:
        self._api = api
        self.user_id = user_id
        self.user_name = user_name
        self._closing = False
        self.waiting = 0  # history long polls in progress (lets tests avoid sleeps)

    @property
    def _state(self) -> BotState:
        return self._api.bot()

    def setup(self, app: web.Application) -> None:
        app.middlewares.append(loopback_only)
        app.router.add_get("/", self._index)
        app.router.add_get("/webchat/static/{name}", self._static)
        app.router.add_get("/webchat/info", self._info)
        app.router.add_post("/webchat/send", self._send)
        app.router.add_post("/webchat/press", self._press)
        app.router.add_get("/webchat/history", self._history)
        app.router.add_get("/webchat/file/{file_id}", self._file)

    def close(self) -> None:
        """Release pending history long-polls on shutdown."""
        self._closing = True
        self._state.changed()

    def _ensure_user(self) -> None:
        if self.user_id not in self._api.world.users:
            self._api.add_user(self.user_id, self.user_name)

    async def _index(self, request: web.Request) -> web.Response:
        html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
        return web.Response(text=html, content_type="text/html")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in _STATIC_FILES:
            raise web.HTTPNotFound()
        body = (STATIC_DIR / name).read_text(encoding="utf-8")
        return web.Response(text=body, content_type=_STATIC_FILES[name])

    async def _info(self, request: web.Request) -> web.Response:
        bot = self._state.user
        return web.json_response(
            {
                "bot": {"first_name": bot.first_name, "username": bot.username},
                "user": {"id": self.user_id, "first_name": self.user_name},
            }
        )

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="JSON body expected") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="JSON object expected")
        return body

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        text = str(body.get("text", "")).strip()
        if not text or len(text) > MAX_TEXT:
            return web.json_response({"ok": False, "error": "teks kosong atau terlalu panjang"})
        self._ensure_user()
        update = self._api.send_text(self.user_id, text)
        return web.json_response({"ok": True, "update_id": update["update_id"]})

    async def _press(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        self._ensure_user()
        try:
            query_id = self._api.press_button(
                self.user_id, int(body.get("message_id", 0)), str(body.get("data", ""))
            )
        except (KeyError, ValueError) as exc:
            return web.json_response({"ok": False, "error": str(exc)})
        return web.json_response({"ok": True, "callback_query_id": query_id})

    def history(self, after: int) -> dict[str, Any]:
        """Messages and notices of the web chat's chat changed since sequence ``after``."""
        state = self._state
        chat = state.messages.get(self.user_id, {})
        messages = sorted((m for m in chat.values() if m.seq > after), key=lambda m: m.seq)
        notices = [
            {"kind": n.kind, "text": n.text, "seq": n.seq}
            for n in state.notices
            if n.chat_id == self.user_id and n.seq > after
        ]
        return {
            "seq": state.seq,
            "messages": [message_json(m) for m in messages],
            "notices": notices,
        }

    async def _history(self, request: web.Request) -> web.Response:
        try:
            after = int(request.query.get("after", "0"))
        except ValueError:
            after = 0
        try:
            timeout = min(HISTORY_TIMEOUT, max(0.0, float(request.query.get("timeout", "25"))))
        except ValueError:
            timeout = HISTORY_TIMEOUT
        state = self._state
        if state.seq < after:  # the server restarted under an open page
            after = 0
        self.waiting += 1
        state.changed()
        try:
            await state.signal.wait_for(
                lambda: self._closing or state.closing or self._has_news(after), timeout
            )
        finally:
            self.waiting -= 1
        return web.json_response(self.history(after))

    def _has_news(self, after: int) -> bool:
        state = self._state
        if state.seq <= after:
            return False
        chat = state.messages.get(self.user_id, {})
        return any(m.seq > after for m in chat.values()) or any(
            n.chat_id == self.user_id and n.seq > after for n in state.notices
        )

    async def _file(self, request: web.Request) -> web.Response:
        stored = find_file(self._state, request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        return web.Response(body=stored.data, content_type=stored.mime_type)
