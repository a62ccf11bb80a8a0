"""A conversation-shaped test client for Loket on python-telegram-bot and the local Bot API.

Everything goes the production way: a simulated citizen's update is queued on
:class:`~bot.botapi.LocalBotApi`, the PTB Application built by ``build_application`` fetches
it over loopback HTTP (long polling), the handlers call the real ``open_loket`` front desk on
a SQLite file, and the replies go back through ``sendMessage`` to the server, whose entity
parser and limits check them. Tests read like a chat::

    reply = await citizen.send("/start")
    reply = await citizen.click("Kependudukan (Disdukcapil)")
    assert "Tempat:" in citizen.last_reply().text

No sleeps: each step waits until PTB has finished processing that very update (every handler
and every reply done), observed by wrapping the application's update processor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes
from telegram.request import BaseRequest, RequestData

from bot.app import Loket, open_loket
from bot.botapi import BotApiLimits, CallbackAnswer, LocalBotApi, StoredMessage
from bot.botapi.state import Signal
from bot.broadcast.pacer import Pacer
from bot.broadcast.runtime import TelegramBroadcasts
from bot.observability.updates import UpdateObserver
from bot.runner import running_application
from bot.settings import Settings
from bot.storage import repo
from bot.telegram.channel import CHANNEL, ChannelSettings, build_application

TOKEN = "424242:LOKET-TEST"
BOT_USERNAME = "loket_mimika_bot"
CALLBACK_SECRET = "test-callback-secret"
TIMEOUT = 10.0
UNPACED = 1_000_000.0  # messages per second to one chat: no per-chat wait at all


class HeldReply:
    """Holds the bot's first ``sendMessage`` to one chat until the test releases it."""

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    def wants(self, url: str, request_data: RequestData | None) -> bool:
        if self.held.is_set() or not url.endswith("/sendMessage") or request_data is None:
            return False
        return str(request_data.parameters.get("chat_id")) == str(self.chat_id)


class GatedRequest(BaseRequest):
    """Wraps the bot's real request class; lets a :class:`HeldReply` pause one call."""

    def __init__(self, inner: BaseRequest, hold: HeldReply) -> None:
        self.inner = inner
        self.hold = hold

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(  # type: ignore[override]
        self, url: str, method: str, request_data: RequestData | None = None, **timeouts: Any
    ) -> tuple[int, bytes]:
        if self.hold.wants(url, request_data):
            self.hold.held.set()
            await self.hold.release.wait()
        return await self.inner.do_request(url, method, request_data, **timeouts)


class UpdateTracker:
    """Which updates the Application has completely processed, and what failed in them."""

    def __init__(self, application: Application) -> None:  # type: ignore[type-arg]
        self.update_ids: set[int] = set()
        self.callback_ids: set[str] = set()
        self.errors: list[BaseException] = []
        self.signal = Signal()
        processor = application.update_processor
        original = processor.do_process_update

        async def tracked(update: object, coroutine: Any) -> None:
            try:
                await original(update, coroutine)
            finally:
                if isinstance(update, Update):
                    self.update_ids.add(update.update_id)
                    if update.callback_query is not None:
                        self.callback_ids.add(update.callback_query.id)
                self.signal.notify()

        processor.do_process_update = tracked  # type: ignore[method-assign]
        application.add_error_handler(self._record_error)

    async def _record_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            self.errors.append(context.error)

    async def wait_updates(self, update_ids: Iterable[int], timeout: float = TIMEOUT) -> None:  # noqa: ASYNC109
        wanted = set(update_ids)
        if not await self.signal.wait_for(lambda: wanted <= self.update_ids, timeout):
            raise TimeoutError(f"updates {sorted(wanted - self.update_ids)} were not processed")

    async def wait_callback(self, callback_id: str, timeout: float = TIMEOUT) -> None:  # noqa: ASYNC109
        if not await self.signal.wait_for(lambda: callback_id in self.callback_ids, timeout):
            raise TimeoutError(f"callback query {callback_id} was not processed")


@dataclass
class Reply:
    """What the bot sent in answer to one step of the citizen."""

    messages: list[StoredMessage] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(m.visible_text for m in self.messages)

    @property
    def buttons(self) -> list[str]:
        """Labels of every inline button, in order."""
        return [label for m in self.messages for row in m.buttons for label, _ in row]

    @property
    def choice_buttons(self) -> list[str]:
        """Button labels without the navigation row (Kembali / Menu utama / Batal)."""
        return [
            label
            for m in self.messages
            for row in m.buttons
            for label, data in row
            if not (data or "").startswith("n:")
        ]

    def __bool__(self) -> bool:
        return bool(self.messages)


def mirror_server_limits(pacer: Pacer, limits: BotApiLimits) -> None:
    """The client's per-chat pacing mirrors the server it talks to. A test that raises the
    server's burst, to click faster than a person, raises the client's too; against a server
    with flood control off (most functional tests) the client does not wait a second per
    message to a chat either, which would only make the suite slow. Tests about pacing run
    against a server with Telegram's limits on, where a message sent too early is a 429."""
    pacer.chat_burst = max(pacer.chat_burst, limits.per_chat_burst)
    if not limits.rate_limits_enabled:
        pacer.chat_rate = UNPACED
        pacer.chat_burst = int(UNPACED)
        pacer.per_chat_interval = 0.0


class Desk:
    """LocalBotApi + Loket (real app on a SQLite file, sandbox agencies) + PTB Application."""

    def __init__(
        self, api: LocalBotApi, settings: Settings, integration_env: dict[str, str]
    ) -> None:
        self.api = api
        self.settings = settings
        self.integration_env = integration_env
        self._stack: AsyncExitStack | None = None
        self.loket: Loket | None = None
        self.application: Application | None = None  # type: ignore[type-arg]
        self.tracker: UpdateTracker | None = None
        self.allowed_error_codes: set[int] = set()
        self.entered: list[str] = []  # citizen ids, each time the front desk is entered
        # Announcements (/umumkan) as ``loket run`` wires them, when set: options for
        # TelegramBroadcasts (rate, wallclock, sleep...). ``broadcasts`` is the running one.
        self.broadcast_options: dict[str, Any] | None = None
        self.broadcasts: TelegramBroadcasts | None = None

    def channel_settings(self, *, polling: bool = True) -> ChannelSettings:
        return ChannelSettings(
            token=TOKEN,
            base_url=self.api.bot_api_url,
            base_file_url=self.api.file_url,
            callback_secret=self.settings.callback_secret,
            flood_messages=self.settings.flood_messages,
            flood_window_seconds=self.settings.flood_window_seconds,
            polling=polling,
        )

    async def open_loket(self) -> Loket:
        """Opens the app (database, flows, agency clients) without any Telegram side."""
        assert self._stack is None
        self._stack = AsyncExitStack()
        self.loket = await self._stack.enter_async_context(
            open_loket(self.settings, integration_env=self.integration_env)
        )
        return self.loket

    async def start(self, *, request: BaseRequest | None = None, polling: bool = True) -> None:
        """Opens Loket and runs the Application as ``loket run`` does: by long polling, or
        (``polling=False``) waiting for updates from a webhook receiver."""
        loket = await self.open_loket()
        assert self._stack is not None
        handle = loket.frontdesk.handle

        async def observed(channel: str, external_id: str, event: Any) -> Any:
            self.entered.append(external_id)
            return await handle(channel, external_id, event)

        loket.frontdesk.handle = observed  # type: ignore[method-assign]
        broadcasts = None
        pacer = None
        if self.broadcast_options is not None:
            options = {"rate": 30.0, **self.broadcast_options}
            broadcasts = TelegramBroadcasts(loket, TOKEN, base_url=self.api.bot_api_url, **options)
            pacer = broadcasts.pacer
        elif not self.api.limits.rate_limits_enabled:
            pacer = Pacer()
        if pacer is not None:
            mirror_server_limits(pacer, self.api.limits)
        application = build_application(
            loket.frontdesk,
            loket.translator,
            self.channel_settings(polling=polling),
            request=request,
            staff=loket.staff,
            composer=broadcasts.composer if broadcasts is not None else None,
            pacer=pacer,
            # The per-update log line as in `loket run`, so the suite-wide masking check
            # (tests/observability/leakcheck.py) sees every Telegram test's updates too.
            observer=UpdateObserver(),
        )
        self.tracker = UpdateTracker(application)
        self.application = application
        await self._stack.enter_async_context(running_application(application, polling=polling))
        if broadcasts is not None:
            await self._stack.enter_async_context(broadcasts.running(application.bot))
            self.broadcasts = broadcasts

    async def stop(self) -> None:
        """Stops polling and the Application and closes Loket (database included)."""
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()
        self.application = None
        self.loket = None

    async def restart(self, *, request: BaseRequest | None = None, polling: bool = True) -> None:
        """A process restart: everything in memory is gone, the database file stays."""
        previous = self.tracker
        await self.stop()
        await self.start(request=request, polling=polling)
        if previous is not None and self.tracker is not None:
            self.tracker.errors[:0] = previous.errors

    def citizen(
        self,
        user_id: int,
        first_name: str = "Warga",
        *,
        language_code: str | None = "id",
        chat_id: int | None = None,
    ) -> Citizen:
        if user_id not in self.api.world.users:
            self.api.add_user(user_id, first_name, language_code=language_code)
        return Citizen(self, user_id, chat_id)

    async def rows_of(self, user_id: int) -> dict[str, int] | None:
        """Row counts per table for a Telegram user, or None if no user row exists."""
        assert self.loket is not None
        async with self.loket.sessions() as session:
            user = await repo.find_user(session, CHANNEL, str(user_id))
            if user is None:
                return None
            return await repo.count_rows_for_user(session, user.id)

    def unexpected_errors(self) -> list[Any]:
        return [e for e in self.api.errors if e.error_code not in self.allowed_error_codes]


class Citizen:
    """One simulated citizen in one chat (their private chat unless ``chat_id`` says so)."""

    def __init__(self, desk: Desk, user_id: int, chat_id: int | None = None) -> None:
        self.desk = desk
        self.user_id = user_id
        self.chat_id = user_id if chat_id is None else chat_id
        self.chat_type = "private" if chat_id is None else "group"
        self.replies: list[Reply] = []
        self.sent: list[dict[str, Any]] = []  # the updates this citizen caused, in order

    @property
    def api(self) -> LocalBotApi:
        return self.desk.api

    @property
    def tracker(self) -> UpdateTracker:
        assert self.desk.tracker is not None, "the Application is not running"
        return self.desk.tracker

    def in_group(self, chat_id: int) -> Citizen:
        """The same person writing in a group chat."""
        self.api.add_group(chat_id, "Warga Mimika")
        return Citizen(self.desk, self.user_id, chat_id)

    def bot_messages(self) -> list[StoredMessage]:
        return self.api.messages(self.chat_id)

    def mark(self) -> int:
        """A bookmark in the chat; ``since(mark)`` is what the bot sent after it."""
        return len(self.bot_messages())

    def since(self, mark: int) -> Reply:
        return Reply(self.bot_messages()[mark:])

    def last_reply(self) -> Reply:
        assert self.replies, "nothing was sent yet"
        return self.replies[-1]

    def _queued(self, update: dict[str, Any]) -> int:
        self.sent.append(update)
        return int(update["update_id"])

    async def _exchange(self, act: Any) -> Reply:
        before = len(self.bot_messages())
        update_id = act()
        await self.tracker.wait_updates([update_id])
        reply = Reply(self.bot_messages()[before:])
        self.replies.append(reply)
        return reply

    # -- what a citizen can do --------------------------------------------------------

    async def send(self, text: str, *, reply_to: int | None = None) -> Reply:
        """Sends ``text`` (as a reply to message ``reply_to``) and waits for the answer."""
        return await self._exchange(lambda: self.send_nowait(text, reply_to_message_id=reply_to))

    def send_nowait(self, text: str, **kwargs: Any) -> int:
        """Queues a text message and returns its update_id (no waiting)."""
        update = self.api.send_text(
            self.user_id,
            text,
            chat_id=None if self.chat_type == "private" else self.chat_id,
            chat_type=self.chat_type,
            **kwargs,
        )
        return self._queued(update)

    async def send_photo(self, caption: str | None = None) -> Reply:
        return await self._exchange(
            lambda: self._queued(self.api.send_photo(self.user_id, caption=caption))
        )

    async def send_sticker(self) -> Reply:
        return await self._exchange(lambda: self._queued(self.api.send_sticker(self.user_id)))

    async def send_location(self, latitude: float, longitude: float) -> Reply:
        return await self._exchange(
            lambda: self._queued(self.api.send_location(self.user_id, latitude, longitude))
        )

    async def send_contact(self, phone_number: str) -> Reply:
        return await self._exchange(
            lambda: self._queued(self.api.send_contact(self.user_id, phone_number))
        )

    def edit_nowait(self, update: dict[str, Any], text: str) -> dict[str, Any]:
        """Edits the message of an earlier update; returns the ``edited_message`` update
        (the server drops it at once if the bot did not ask for edited messages)."""
        message_id = update["message"]["message_id"]
        return self.api.send_edited_text(self.user_id, message_id, text, chat_id=self.chat_id)

    def find_button(self, label: str) -> tuple[StoredMessage, str]:
        """The newest bot message with a button labelled ``label``, and its callback_data."""
        for message in reversed(self.bot_messages()):
            for row in message.buttons:
                for text, data in row:
                    if text == label and data is not None:
                        return message, data
        shown = [b for m in self.bot_messages() for row in m.buttons for b, _ in row]
        raise AssertionError(f"no button {label!r}; buttons shown: {shown}")

    async def click(self, label: str) -> Reply:
        message, data = self.find_button(label)
        reply, answer = await self.press(message.message_id, data)
        assert answer.text is None, f"a valid button got an alert: {answer.text!r}"
        return reply

    async def press(
        self, message_id: int, data: str, *, check: bool = True
    ) -> tuple[Reply, CallbackAnswer]:
        """Presses a button with exactly this callback_data (``check=False``: forged)."""
        before = len(self.bot_messages())
        query_id = self.api.press_button(
            self.user_id, message_id, data, chat_id=self.chat_id, check=check
        )
        await self.tracker.wait_callback(query_id)
        answer = await self.api.wait_for_callback_answer(query_id, timeout=TIMEOUT)
        reply = Reply(self.bot_messages()[before:])
        self.replies.append(reply)
        return reply, answer
