"""Everything the conversation bot sends, paced per chat and with priority (issue 12).

Two pieces sit between PTB and the Bot API:

* :class:`PacedRequest` wraps the bot's request object. Every call that puts a message into a
  chat (send, edit, copy...) first waits for the shared :class:`~bot.broadcast.pacer.Pacer`'s
  interactive lane: Telegram's per-chat limit (about 1/s, a burst of 3) and the bot's global
  limit, ahead of any announcement. So replies, staff confirmations, the live progress
  message, its edits and the report all keep to one chat's limit whichever code sends them,
  and a reply is never stuck behind a broadcast. A 429 that still comes back (another process
  of the same bot, a limit Telegram lowered) is waited out for ``retry_after`` and sent again,
  ``attempts`` times at most, each logged: a report or a notice is not lost on a 429.
  An edit waits for the global budget and for a 429 pause on its chat, but is not counted
  as a new message in the chat's bucket (the Bot API counts messages sent; the sender
  already coalesces progress edits to one per ``progress_interval``).
* :class:`ReceiptQueue` is the Application's update queue. A callback query is answered the
  moment its update is queued, before it waits for the citizen's earlier updates or for a
  free processing slot, so the button's spinner stops within Telegram's deadline even with a
  backlog of thousands of updates.

Answering early means the answer cannot depend on the turn. What is computable at once is
kept: a button whose signature does not check (stale, forged, from another chat) gets its
"Tombol ini tidak berlaku" toast right away, exactly as before. Everything the turn decides
later is sent as ordinary messages, as it already was; a handler's own later
``query.answer()`` (the staff buttons call it) is answered locally without a second call,
which Telegram would refuse as "query is too old".
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import CallbackQuery, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.request import BaseRequest, RequestData

from bot.broadcast.pacer import Pacer

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

# Bot API methods that put (or change) a message in a chat: what Telegram's limits count.
PACED_METHODS = frozenset(
    name.lower()
    for name in (
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageMedia",
    )
)
SEND_ATTEMPTS = 6  # a 429 five times in a row means something else is wrong: give up, logged
MAX_RETRY_WAIT = 60.0
_ANSWERED = json.dumps({"ok": True, "result": True}).encode()


def _method(url: str) -> str:
    return url.rsplit("/", 1)[-1].lower()


def _retry_after(payload: bytes) -> float | None:
    """``parameters.retry_after`` of a 429 body (None if it is not one)."""
    try:
        body = json.loads(payload)
        return float(body["parameters"]["retry_after"])
    except (ValueError, KeyError, TypeError):
        return None


class EarlyAnswers:
    """Callback query ids answered at receipt (bounded), so a later answer is not resent.

    The receipt's own call is the first answerCallbackQuery for the id to reach the request
    (its task is started before the update is even queued); every later one is a repeat.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._sent: OrderedDict[str, bool] = OrderedDict()

    def add(self, query_id: str) -> None:
        self._sent[query_id] = False
        if len(self._sent) > self.capacity:
            self._sent.popitem(last=False)

    def __contains__(self, query_id: object) -> bool:
        return query_id in self._sent

    def repeat(self, query_id: str) -> bool:
        """True if ``query_id`` was answered already; else this call is the answer."""
        if query_id not in self._sent:
            return False
        if self._sent[query_id]:
            return True
        self._sent[query_id] = True
        return False


class PacedRequest(BaseRequest):
    """The bot's request object, with every message to a chat paced (see the module)."""

    def __init__(
        self,
        inner: BaseRequest,
        pacer: Pacer,
        *,
        answered: EarlyAnswers | None = None,
        attempts: int = SEND_ATTEMPTS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.inner = inner
        self.pacer = pacer
        self.answered = answered if answered is not None else EarlyAnswers()
        self.attempts = attempts
        self._sleep = sleep
        self.retried = 0  # 429s waited out, for tests and the log

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
        name = _method(url)
        parameters = request_data.parameters if request_data is not None else {}
        if name == "answercallbackquery" and self.answered.repeat(
            str(parameters.get("callback_query_id"))
        ):
            return 200, _ANSWERED  # answered at receipt; a second answer would be refused
        chat_id = parameters.get("chat_id")
        if name not in PACED_METHODS or chat_id is None:
            return await self.inner.do_request(url, method, request_data, **timeouts)
        chat = str(chat_id)
        attempt = 1
        while True:
            await self.pacer.acquire_interactive(chat, per_chat=not name.startswith("edit"))
            status, payload = await self.inner.do_request(url, method, request_data, **timeouts)
            if status != 429:
                return status, payload
            wait = _retry_after(payload)
            if wait is None or attempt >= self.attempts or wait > MAX_RETRY_WAIT:
                logger.error(
                    "%s refused with 429 after %d attempts (retry_after %s): giving up",
                    name,
                    attempt,
                    wait,
                )
                return status, payload
            attempt += 1
            self.retried += 1
            logger.warning("%s met a 429, sending again in %.0f s", name, wait)
            self.pacer.pause_chat(chat, self.pacer.now() + wait)
            await self._sleep(wait)


AnswerText = Callable[[CallbackQuery], Awaitable[str | None]]


class ReceiptQueue(asyncio.Queue):  # type: ignore[type-arg]
    """The Application's update queue: a callback query is answered as it is queued.

    ``answer_text(query)`` gives the toast for a press that is invalid on its face (None: a
    plain answer); it runs in the answer's task, so a role lookup never holds the queue.
    Every answer is recorded in ``answered`` for :class:`PacedRequest`.
    """

    def __init__(self, answer_text: AnswerText, answered: EarlyAnswers) -> None:
        super().__init__()
        self.answer_text = answer_text
        self.answered = answered
        self._tasks: set[asyncio.Task[None]] = set()

    def put_nowait(self, item: Any) -> None:
        self.receive(item)
        super().put_nowait(item)

    def receive(self, update: object) -> None:
        """Answers ``update``'s callback query now (in a task), if it has one."""
        if not isinstance(update, Update) or update.callback_query is None:
            return
        query = update.callback_query
        if query.id in self.answered:
            return
        self.answered.add(query.id)  # before the call: a handler's own answer is not resent
        task = asyncio.get_running_loop().create_task(self._answer(query))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, query: CallbackQuery) -> None:
        try:
            text = await self.answer_text(query)
        except Exception:  # the answer must not cost the update itself
            logger.exception("callback answer text failed")
            text = None
        try:
            await query.answer(text=text)
        except TelegramError as error:  # e.g. an update older than Telegram's deadline
            logger.info("answerCallbackQuery failed: %s", error)

    async def drain(self) -> None:
        """Waits for the answers in flight (before shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def private_chat(query: CallbackQuery) -> bool:
    message = query.message
    return message is not None and message.chat.type == ChatType.PRIVATE
