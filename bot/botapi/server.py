"""``LocalBotApi``: the aiohttp application and the public API tests and tools use.

Routes follow api.telegram.org (``/bot<token>/<method>``, ``/file/bot<token>/<path>``);
the simulation (citizens) and observation (what the bot did) helpers live here too so a
test needs one object only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import web

from bot.botapi import simulate
from bot.botapi.errors import BotApiError, not_found, unauthorized
from bot.botapi.files import find_file
from bot.botapi.limits import BotApiLimits, Clock, default_clock
from bot.botapi.methods import METHODS, Described, MethodContext, is_error_worth_recording
from bot.botapi.params import Params, read_params
from bot.botapi.state import (
    BotState,
    BotStats,
    CallbackAnswer,
    ChatRecord,
    ErrorRecord,
    InjectedError,
    RequestRecord,
    StoredMessage,
    User,
    World,
    scope_key,
)
from bot.botapi.webchat import WebChat
from bot.botapi.webhook import WebhookDeliverer

logger = logging.getLogger(__name__)
DEFAULT_TOKEN = "123456:LOCAL"  # noqa: S105 - a fixed local token, not a secret


def _error_response(exc: BotApiError) -> web.Response:
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return web.json_response(exc.to_json(), status=exc.error_code, headers=headers)


class LocalBotApi:
    """A Telegram Bot API server for one or more bots, on loopback.

    Simulation and observation methods take an optional ``bot`` token and default to the
    first bot registered (``123456:LOCAL`` / ``@loket_bot`` unless told otherwise).
    """

    def __init__(
        self,
        limits: BotApiLimits | None = None,
        *,
        clock: Clock | None = None,
        token: str = DEFAULT_TOKEN,
        username: str = "loket_bot",
        first_name: str = "Loket",
        webchat_user_id: int = 1000,
        webchat_user_name: str = "Warga",
    ) -> None:
        self.limits = limits or BotApiLimits()
        self.clock: Clock = clock or default_clock
        self.world = World()
        self.bots: dict[str, BotState] = {}
        self.default_token = token
        self.add_bot(token, username=username, first_name=first_name)
        self.base_url: str | None = None
        self._runner: web.AppRunner | None = None
        self._webhooks = WebhookDeliverer(self._execute_from_webhook)
        self.webchat = WebChat(self, webchat_user_id, webchat_user_name)
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self.webchat.setup(self.app)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0 = any free port); returns the base URL."""
        self._runner = web.AppRunner(self.app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound_port = sockets[0].getsockname()[1] if sockets else port
        self.base_url = f"http://{host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        """Wake every long poll, stop webhook workers and close the server."""
        for state in self.bots.values():
            state.closing = True
            state.changed()
        self.webchat.close()
        await self._webhooks.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def bot_api_url(self) -> str:
        """What to pass to ``ApplicationBuilder().base_url(...)``."""
        return f"{self._require_url()}/bot"

    @property
    def file_url(self) -> str:
        """What to pass to ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self._require_url()}/file/bot"

    def _require_url(self) -> str:
        if self.base_url is None:
            raise RuntimeError("LocalBotApi is not started")
        return self.base_url

    # -- bots and citizens -------------------------------------------------------------

    def add_bot(
        self, token: str, *, username: str, first_name: str = "Bot", default: bool = False
    ) -> BotState:
        """Register a bot token; its id is the number before the colon.

        ``default=True`` makes it the bot that the web chat and the ``bot=None`` helpers
        use (otherwise that stays the first bot, normally ``123456:LOCAL``).
        """
        bot_id = int(token.split(":", 1)[0])
        user = User(bot_id, first_name, username, is_bot=True)
        self.world.users.setdefault(bot_id, user)
        state = BotState(token, user, self.world, self.limits, self.clock)
        self.bots[token] = state
        if default:
            self.default_token = token
        return state

    def bot(self, token: str | None = None) -> BotState:
        """The state of one bot (the default bot when ``token`` is None)."""
        return self.bots[token or self.default_token]

    def add_user(
        self,
        user_id: int,
        first_name: str = "Warga",
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "id",
    ) -> User:
        """Create (or replace) a citizen; the bot can then write to chat ``user_id``."""
        return self.world.add_user(
            user_id,
            first_name,
            username=username,
            last_name=last_name,
            language_code=language_code,
        )

    def add_group(self, chat_id: int, title: str | None = None, chat_type: str = "group") -> None:
        """Create a group chat the bot is a member of."""
        self.world.add_group(chat_id, title, chat_type)

    def block_user(self, user_id: int, *, bot: str | None = None) -> None:
        """The citizen blocks the bot: sends answer 403 "bot was blocked by the user"."""
        self.world.ensure_user(user_id)
        self.bot(bot).blocked.add(user_id)

    def unblock_user(self, user_id: int, *, bot: str | None = None) -> None:
        self.bot(bot).blocked.discard(user_id)

    def deactivate_user(self, user_id: int) -> None:
        """The citizen deleted the account: 403 "user is deactivated"."""
        self.world.ensure_user(user_id).deactivated = True

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        chat_title: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        reply_to_message_id: int | None = None,
        bot: str | None = None,
    ) -> dict[str, Any]:
        """A citizen writes ``text``; returns the queued update (commands get entities)."""
        return simulate.user_message(
            self.bot(bot),
            user_id,
            chat_id=chat_id,
            chat_type=chat_type,
            chat_title=chat_title,
            text=text,
            entities=entities,
            reply_to_message_id=reply_to_message_id,
        )

    def forward_text(
        self,
        user_id: int,
        text: str,
        *,
        origin_chat: str = "Grup Warga Mimika",
        bot: str | None = None,
    ) -> dict[str, Any]:
        """A citizen forwards a text they got elsewhere (a group's message) to the bot: the
        update carries ``forward_origin`` as Telegram's does (hidden user origin)."""
        origin = {"type": "hidden_user", "sender_user_name": origin_chat, "date": 1_700_000_000}
        return simulate.user_message(
            self.bot(bot), user_id, text=text, entities=[], extra={"forward_origin": origin}
        )

    def send_edited_text(
        self,
        user_id: int,
        message_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        bot: str | None = None,
    ) -> dict[str, Any]:
        """A citizen edits an earlier message: an ``edited_message`` update."""
        return simulate.edit_user_message(
            self.bot(bot), user_id, message_id, text, chat_id=chat_id
        )

    def send_photo(
        self,
        user_id: int,
        data: bytes | None = None,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        bot: str | None = None,
    ) -> dict[str, Any]:
        """A citizen sends a photo (a 1x1 PNG unless ``data`` is given)."""
        state = self.bot(bot)
        return simulate.user_message(
            state,
            user_id,
            chat_id=chat_id,
            chat_type=chat_type,
            kind="photo",
            caption=caption,
            extra=simulate.photo_extra(state, data),
        )

    def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str = "berkas.pdf",
        *,
        mime_type: str = "application/pdf",
        caption: str | None = None,
        bot: str | None = None,
    ) -> dict[str, Any]:
        """A citizen sends a document."""
        state = self.bot(bot)
        return simulate.user_message(
            state,
            user_id,
            kind="document",
            caption=caption,
            extra=simulate.document_extra(state, data, file_name, mime_type),
        )

    def send_sticker(
        self, user_id: int, emoji: str = "👍", *, bot: str | None = None
    ) -> dict[str, Any]:
        """A citizen sends a sticker."""
        state = self.bot(bot)
        return simulate.user_message(
            state, user_id, kind="sticker", extra=simulate.sticker_extra(state, emoji)
        )

    def send_location(
        self, user_id: int, latitude: float, longitude: float, *, bot: str | None = None
    ) -> dict[str, Any]:
        """A citizen shares a location."""
        return simulate.user_message(
            self.bot(bot),
            user_id,
            kind="location",
            extra={"location": {"latitude": latitude, "longitude": longitude}},
        )

    def send_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        first_name: str | None = None,
        bot: str | None = None,
    ) -> dict[str, Any]:
        """A citizen shares a contact (their own unless ``first_name`` says otherwise)."""
        user = self.world.ensure_user(user_id)
        contact = {
            "phone_number": phone_number,
            "first_name": first_name or user.first_name,
            "user_id": user_id,
        }
        return simulate.user_message(
            self.bot(bot), user_id, kind="contact", extra={"contact": contact}
        )

    def press_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        chat_id: int | None = None,
        check: bool = True,
        bot: str | None = None,
    ) -> str:
        """A citizen presses an inline button; returns the callback query id.

        With ``check`` (default) the message must exist and carry that callback_data,
        which catches tests pressing buttons the bot never showed.
        """
        return simulate.press_button(
            self.bot(bot), user_id, message_id, callback_data, chat_id=chat_id, check=check
        )

    # -- observing the bot -------------------------------------------------------------

    def chat(self, chat_id: int, *, bot: str | None = None) -> ChatRecord:
        """What the bot did in one chat: messages (current state), raw requests, actions."""
        return self.bot(bot).record(chat_id)

    def messages(self, chat_id: int, *, bot: str | None = None) -> list[StoredMessage]:
        """Messages the bot sent to ``chat_id`` (edits applied in place), oldest first."""
        return list(self.bot(bot).record(chat_id).messages)

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the test-facing API takes a timeout
        *,
        bot: str | None = None,
    ) -> list[StoredMessage]:
        """Wait until the bot has sent ``count`` messages to ``chat_id``; return the first
        ``count``. Raises ``TimeoutError`` listing what did arrive."""
        state = self.bot(bot)
        record = state.record(chat_id)
        if not await state.signal.wait_for(lambda: len(record.messages) >= count, timeout):
            raise TimeoutError(
                f"expected {count} bot message(s) in chat {chat_id} within {timeout}s, "
                f"got {len(record.messages)}: {record.texts!r}; errors: {self.errors_for(bot)}"
            )
        return record.messages[:count]

    async def wait_for_callback_answer(
        self,
        callback_query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - the test-facing API takes a timeout
        *,
        bot: str | None = None,
    ) -> CallbackAnswer:
        """Wait until the bot answered the button press ``callback_query_id``."""
        state = self.bot(bot)
        pending = state.callbacks[callback_query_id]
        if not await state.signal.wait_for(lambda: pending.answer is not None, timeout):
            raise TimeoutError(f"callback query {callback_query_id} was not answered")
        assert pending.answer is not None
        return pending.answer

    async def wait_for_idle_updates(self, timeout: float = 5.0, *, bot: str | None = None) -> None:  # noqa: ASYNC109 - the test-facing API takes a timeout
        """Wait until the bot has fetched every queued update (getUpdates or webhook)."""
        state = self.bot(bot)
        if not await state.signal.wait_for(lambda: not state.pending(10**9), timeout):
            raise TimeoutError(f"{len(state.queue)} update(s) still queued")

    async def wait_until(
        self,
        predicate: Any,
        timeout: float = 5.0,  # noqa: ASYNC109 - the test-facing API takes a timeout
        *,
        bot: str | None = None,
    ) -> None:
        """Wait until ``predicate()`` is true; re-checked after every state change."""
        if not await self.bot(bot).signal.wait_for(predicate, timeout):
            raise TimeoutError("condition not met in time")

    def errors_for(self, bot: str | None = None) -> list[ErrorRecord]:
        return list(self.bot(bot).errors)

    def inject_error(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        text_contains: str | None = None,
        retry_after: int = 1,
        times: int = 1,
        bot: str | None = None,
    ) -> None:
        """The next ``times`` matching calls are refused with Telegram's 429 (``retry_after``
        seconds), as a busy Telegram would: for tests that a refused message is sent again."""
        self.bot(bot).injected.append(
            InjectedError(
                method,
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
                chat_id=chat_id,
                text_contains=text_contains,
                times=times,
            )
        )

    @property
    def errors(self) -> list[ErrorRecord]:
        """Every error answer given to the default bot (method, code, description)."""
        return self.bot().errors

    @property
    def requests(self) -> list[RequestRecord]:
        """Every call the default bot made, in order."""
        return self.bot().requests

    @property
    def stats(self) -> BotStats:
        """Delivered messages per chat and 429 counts of the default bot."""
        return self.bot().stats

    @property
    def commands(self) -> list[dict[str, str]]:
        """The default bot's commands for the default scope and no language."""
        return self.get_commands()

    def get_commands(
        self,
        scope: dict[str, Any] | None = None,
        language_code: str = "",
        *,
        bot: str | None = None,
    ) -> list[dict[str, str]]:
        """Commands registered for a scope/language pair (as setMyCommands stored them)."""
        return list(self.bot(bot).commands.get((scope_key(scope), language_code), []))

    def reset(self, *, bot: str | None = None) -> None:
        """Forget observations (records, errors, requests, stats, flood history).

        Chats, messages, queued updates, webhook and commands are kept, so a test can
        reset after the bot's start-up chatter and assert only on what follows.
        """
        self.bot(bot).reset_observations()

    # -- HTTP handlers -----------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        state = self.bots.get(request.match_info["token"])
        if state is None:
            return _error_response(unauthorized())
        method_name = request.match_info["method"]
        try:
            params = await read_params(request)
        except BotApiError as exc:
            return _error_response(exc)

        def client_gone() -> bool:
            transport = request.transport
            return transport is None or transport.is_closing()

        return await self._dispatch(state, method_name, params, client_gone)

    async def _dispatch(
        self, state: BotState, method_name: str, params: Params, client_gone: Any
    ) -> web.Response:
        ctx = MethodContext(state, method_name, client_gone, self._webhooks.ensure)
        state.stats.calls[method_name] += 1
        handler = METHODS.get(method_name.lower())
        chat_id = params.get_str("chat_id")
        try:
            if handler is None:
                raise not_found()
            injected = next(
                (i for i in state.injected if i.matches(method_name, params.loggable())), None
            )
            if injected is not None:
                injected.times -= 1
                raise BotApiError(injected.error_code, injected.description, injected.parameters)
            try:
                result = await handler(ctx, params)
            except (BotApiError, asyncio.CancelledError):
                raise
            except Exception as exc:  # a bug here must look like Telegram's 500, not HTML
                logger.exception("local Bot API method %s failed", method_name)
                raise BotApiError(500, f"Internal Server Error: {exc!r}") from exc
        except BotApiError as exc:
            self._log(state, method_name, params, chat_id, exc.error_code, exc.description)
            if exc.error_code == 429:
                state.stats.rate_limited += 1
                with contextlib.suppress(TypeError, ValueError):
                    state.stats.rate_limited_by_chat[int(chat_id or 0)] += 1
            if is_error_worth_recording(exc, ctx):
                state.errors.append(
                    ErrorRecord(
                        method_name,
                        exc.error_code,
                        exc.description,
                        params.loggable(),
                        dict(exc.parameters),
                    )
                )
                state.changed()
            return _error_response(exc)
        body: dict[str, Any] = {"ok": True}
        if isinstance(result, Described):
            body["result"] = result.result
            body["description"] = result.description
        else:
            body["result"] = result
        self._log(state, method_name, params, chat_id, 200, None)
        return web.json_response(body)

    def _log(
        self,
        state: BotState,
        method_name: str,
        params: Params,
        chat_id: str | None,
        status: int,
        description: str | None,
    ) -> None:
        entry = RequestRecord(method_name, params.loggable(), status, description)
        state.requests.append(entry)
        if chat_id is not None:
            with contextlib.suppress(ValueError):
                state.record(int(chat_id)).requests.append(
                    {"method": method_name, "params": entry.params, "status": status}
                )

    async def _execute_from_webhook(
        self, state: BotState, method_name: str, values: dict[str, Any]
    ) -> None:
        """Run a method the bot returned in its webhook response body."""
        await self._dispatch(state, method_name, Params(values), lambda: False)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        state = self.bots.get(request.match_info["token"])
        if state is None:
            return _error_response(unauthorized())
        path = request.match_info["path"]
        for stored in state.files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type=stored.mime_type)
        stored_by_id = find_file(state, path)
        if stored_by_id is not None:
            return web.Response(body=stored_by_id.data, content_type=stored_by_id.mime_type)
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )
