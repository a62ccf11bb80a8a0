"""What the local Bot API server knows: citizens, chats, messages, queued updates.

The state is kept in plain dataclasses, separate from HTTP handling, so that tests can
inspect exactly what the bot did (``ChatRecord``), and so the web chat, webhook delivery
and getUpdates all read one source of truth.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.botapi.limits import BotApiLimits, Clock, FloodControl

DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
UPDATE_TTL = {"callback_query": 150.0, "inline_query": 30.0, "chosen_inline_result": 600.0}
DEFAULT_UPDATE_TTL = 86400.0


class Signal:
    """A broadcast "something changed" that can be fired from synchronous code.

    ``asyncio.Condition.notify_all`` needs its lock, i.e. an ``await``; simulated citizens
    act synchronously (``send_text`` returns the update at once), so waiters park on
    futures instead and re-check their predicate, Condition-style.
    """

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        """Wake every waiter."""
        waiters, self._waiters = self._waiters, set()
        for future in waiters:
            if not future.done():
                future.set_result(None)

    async def wait(self, timeout: float | None) -> bool:  # noqa: ASYNC109 - the test-facing API takes a timeout
        """Wait for the next :meth:`notify`; ``False`` on timeout."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(future)
        try:
            async with asyncio.timeout(timeout):
                await future
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(future)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float | None) -> bool:  # noqa: ASYNC109 - the test-facing API takes a timeout
        """Wait until ``predicate()`` holds; ``False`` if ``timeout`` passes first."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not predicate():
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await self.wait(remaining)
        return True


@dataclass
class User:
    """A Telegram user: a simulated citizen or a bot."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    deactivated: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "is_bot": self.is_bot,
            "first_name": self.first_name,
        }
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data


@dataclass
class Chat:
    """A private chat (id = the citizen's user id) or a group."""

    id: int
    type: str
    title: str | None = None
    user: User | None = None

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
        else:
            data["title"] = self.title or f"Chat {self.id}"
        return data


@dataclass
class StoredMessage:
    """One message in a chat, from the bot or from a citizen, in its current state.

    For bot messages, ``requests`` holds the raw arguments of the send and of every edit
    and ``edits`` the previous versions, so tests can see exactly what the bot asked for.
    """

    message_id: int
    chat_id: int
    date: int
    sender: User
    from_bot: bool
    kind: str = "text"
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    edit_date: int | None = None
    deleted: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard as rows of ``(label, callback_data or None)``."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [
            [(b.get("text", ""), b.get("callback_data")) for b in row]
            for row in self.reply_markup["inline_keyboard"]
        ]

    @property
    def callback_data(self) -> list[str]:
        """Every callback_data on the message's inline keyboard."""
        return [data for row in self.buttons for _, data in row if data is not None]

    @property
    def visible_text(self) -> str:
        """Text or caption, whichever the message has."""
        return self.text if self.text is not None else (self.caption or "")

    def to_api(self, chat: Chat, *, with_reply: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender.to_api(),
            "chat": chat.to_api(),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        for key, value in self.extra.items():
            if key == "reply_to_message" and not with_reply:
                continue
            data[key] = value
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.caption:
            data["caption"] = self.caption
            if self.entities:
                data["caption_entities"] = self.entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = self.reply_markup
        return data


@dataclass
class ChatRecord:
    """Everything the bot did in one chat, for assertions."""

    chat_id: int
    messages: list[StoredMessage] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None

    @property
    def texts(self) -> list[str]:
        """Current text (or caption) of every message the bot sent here."""
        return [m.visible_text for m in self.messages]


@dataclass
class CallbackAnswer:
    """The bot's answerCallbackQuery for one pressed button."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass
class PendingCallback:
    """A button press waiting for answerCallbackQuery."""

    id: str
    created: float
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: CallbackAnswer | None = None


@dataclass
class InjectedError:
    """A refusal the server gives instead of executing a call (tests: a 429 on the report).

    Matches ``method`` (case-insensitive), and ``chat_id`` / a substring of ``text`` (or
    ``caption``) when given; used ``times`` times."""

    method: str
    error_code: int
    description: str
    parameters: dict[str, Any]
    chat_id: int | None = None
    text_contains: str | None = None
    times: int = 1

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.times <= 0 or method.lower() != self.method.lower():
            return False
        if self.chat_id is not None and str(params.get("chat_id")) != str(self.chat_id):
            return False
        if self.text_contains is not None:
            text = str(params.get("text") or params.get("caption") or "")
            return self.text_contains in text
        return True


@dataclass
class QueuedUpdate:
    update_id: int
    kind: str
    created: float
    payload: dict[str, Any]

    def to_api(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.kind: self.payload}


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None = None


@dataclass
class WebhookDelivery:
    """One POST of an update to the bot's webhook."""

    update_id: int
    status: int | None
    error: str | None
    secret_token_sent: str | None


@dataclass
class RequestRecord:
    """One Bot API call as the bot made it and how it was answered."""

    method: str
    params: dict[str, Any]
    status: int
    description: str | None = None


@dataclass
class ErrorRecord:
    """One error answer; tests assert there were no unexpected Bad Requests."""

    method: str
    error_code: int
    description: str
    params: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class Notice:
    """Something transient the web chat shows: a callback answer toast or "typing…"."""

    seq: int
    chat_id: int
    kind: str
    text: str
    show_alert: bool = False


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    mime_type: str
    file_name: str | None = None


@dataclass
class BotStats:
    """Counters for benchmarks and broadcast tests."""

    delivered: Counter[int] = field(default_factory=Counter)
    rate_limited: int = 0
    rate_limited_by_chat: Counter[int] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    webhook_deliveries: int = 0

    @property
    def total_delivered(self) -> int:
        return sum(self.delivered.values())


class World:
    """Citizens and group chats, shared by every bot on the server."""

    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.groups: dict[int, Chat] = {}

    def add_user(
        self,
        user_id: int,
        first_name: str = "Warga",
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "id",
        is_bot: bool = False,
    ) -> User:
        user = User(user_id, first_name, username, last_name, language_code, is_bot)
        self.users[user_id] = user
        return user

    def ensure_user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            user = self.add_user(user_id, f"Warga {user_id}")
        return user

    def add_group(self, chat_id: int, title: str | None = None, chat_type: str = "group") -> Chat:
        chat = self.groups.get(chat_id)
        if chat is None:
            chat = Chat(chat_id, chat_type, title or f"Grup {abs(chat_id)}")
            self.groups[chat_id] = chat
        return chat

    def chat(self, chat_id: int) -> Chat | None:
        """The chat a bot can write to, or ``None`` ("chat not found")."""
        if chat_id in self.groups:
            return self.groups[chat_id]
        user = self.users.get(chat_id)
        if user is not None:
            return Chat(user.id, "private", user=user)
        return None


def scope_key(scope: dict[str, Any] | None) -> str:
    """A stable key for a BotCommandScope (``default`` when absent)."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True, separators=(",", ":"))


class BotState:
    """Everything one bot token owns on the server."""

    def __init__(
        self, token: str, bot_user: User, world: World, limits: BotApiLimits, clock: Clock
    ) -> None:
        self.token = token
        self.user = bot_user
        self.world = world
        self.limits = limits
        self.clock = clock
        self.signal = Signal()
        self.closing = False
        self.flood = FloodControl(limits, clock)
        self._next_update_id = 1
        self._next_callback = 1
        self._seq = 0
        self.queue: list[QueuedUpdate] = []
        self.allowed_updates: list[str] | None = None
        self.webhook: WebhookConfig | None = None
        self.webhook_last_error: tuple[int, str] | None = None
        self.poll_generation = 0
        self.poll_abort_reason = ""
        self.messages: dict[int, dict[int, StoredMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self.records: dict[int, ChatRecord] = {}
        self.callbacks: dict[str, PendingCallback] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.files: dict[str, StoredFile] = {}
        self.blocked: set[int] = set()
        self.stats = BotStats()
        self.errors: list[ErrorRecord] = []
        self.requests: list[RequestRecord] = []
        self.deliveries: list[WebhookDelivery] = []
        self.notices: list[Notice] = []
        self.dropped_updates = 0
        self.injected: list[InjectedError] = []

    # -- change notification -------------------------------------------------------------

    def next_seq(self) -> int:
        """A fresh sequence number for the web chat's "what changed since N"."""
        self._seq += 1
        return self._seq

    @property
    def seq(self) -> int:
        return self._seq

    def changed(self) -> None:
        self.signal.notify()

    # -- updates -------------------------------------------------------------------------

    def is_allowed(self, kind: str) -> bool:
        if not self.allowed_updates:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self.allowed_updates

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Create an update; it is dropped at once if ``allowed_updates`` excludes it."""
        update = QueuedUpdate(self._next_update_id, kind, self.clock(), payload)
        self._next_update_id += 1
        if self.is_allowed(kind):
            self.queue.append(update)
        else:
            self.dropped_updates += 1
        self.changed()
        return update.to_api()

    def _expire(self) -> None:
        now = self.clock()
        self.queue = [
            u for u in self.queue if now - u.created < UPDATE_TTL.get(u.kind, DEFAULT_UPDATE_TTL)
        ]

    def confirm(self, offset: int) -> None:
        """getUpdates ``offset``: forget confirmed updates (negative: keep the last -k)."""
        if offset > 0:
            self.queue = [u for u in self.queue if u.update_id >= offset]
        elif offset < 0:
            self.queue = self.queue[offset:]

    def pending(self, limit: int) -> list[QueuedUpdate]:
        self._expire()
        return self.queue[:limit]

    def drop_pending(self) -> None:
        self.queue.clear()

    def remove_update(self, update_id: int) -> None:
        self.queue = [u for u in self.queue if u.update_id != update_id]

    # -- chats and messages ----------------------------------------------------------------

    def record(self, chat_id: int) -> ChatRecord:
        record = self.records.get(chat_id)
        if record is None:
            record = self.records[chat_id] = ChatRecord(chat_id)
        return record

    def new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def store(self, message: StoredMessage) -> StoredMessage:
        message.seq = self.next_seq()
        self.messages.setdefault(message.chat_id, {})[message.message_id] = message
        if message.from_bot:
            self.record(message.chat_id).messages.append(message)
        self.changed()
        return message

    def find_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        message = self.messages.get(chat_id, {}).get(message_id)
        if message is None or message.deleted:
            return None
        return message

    def touch(self, message: StoredMessage) -> None:
        """Mark a message as changed (edited, deleted) for waiters and the web chat."""
        message.seq = self.next_seq()
        self.changed()

    def add_notice(self, chat_id: int, kind: str, text: str, show_alert: bool = False) -> None:
        self.notices.append(Notice(self.next_seq(), chat_id, kind, text, show_alert))
        del self.notices[:-200]
        self.changed()

    def new_callback_id(self) -> str:
        callback_id = f"{self.user.id}{self._next_callback:08d}"
        self._next_callback += 1
        return callback_id

    def reset_observations(self) -> None:
        """Forget what was observed (records, logs, stats) but keep chats and messages."""
        self.records.clear()
        self.errors.clear()
        self.requests.clear()
        self.deliveries.clear()
        self.notices.clear()
        self.stats = BotStats()
        self.flood.reset()
        self.changed()
