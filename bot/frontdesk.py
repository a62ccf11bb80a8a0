"""The front desk: one citizen event in, replies out, everything stored in one transaction.

Channels call ``FrontDesk.handle``. It loads the citizen's state, runs the engine, applies the
engine's effects and stores the new state before returning, so a crash or restart right after
a reply never loses or repeats a step. Events of one citizen are handled one at a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import weakref
from collections.abc import Callable
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine.engine import Engine, Turn
from bot.engine.messages import Inbound, Outbound
from bot.engine.state import ConversationState
from bot.i18n import normalise_locale
from bot.privacy import mask_identifiers
from bot.storage import repo

logger = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]

# The transaction of the citizen event being handled. Core actions that change the citizen's
# own record (following an application) write through it, so the change commits or rolls
# back with the event; a second connection would wait on SQLite's write lock held here.
_EVENT_SESSION: ContextVar[AsyncSession | None] = ContextVar("loket_event_session", default=None)


def current_session() -> AsyncSession | None:
    """The open transaction of the event being handled, or None outside ``FrontDesk.handle``."""
    return _EVENT_SESSION.get()


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FrontDesk:
    """Owns the per-citizen order of events and the transaction around each one."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: Callable[[], Engine],
        *,
        clock: Clock = system_clock,
    ) -> None:
        self._sessions = sessions
        self._engine = engine  # a callable: the published flow set may change at run time
        self._clock = clock
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def _lock(self, key: tuple[str, str]) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def handle(
        self, channel: str, external_id: str, event: Inbound
    ) -> list[Outbound]:
        lock = self._lock((channel, external_id))
        async with lock:
            return await self._handle(channel, external_id, event)

    async def _handle(self, channel: str, external_id: str, event: Inbound) -> list[Outbound]:
        engine = self._engine()
        now = self._clock()
        async with self._sessions() as session, session.begin():
            user, _created = await repo.get_or_create_user(
                session, channel, external_id, normalise_locale(event.language_hint)
            )
            state = await repo.load_state(session, user.id) or ConversationState(locale=user.locale)
            state.locale = user.locale
            token = _EVENT_SESSION.set(session)
            try:
                turn = await engine.handle(state, event, now=now, user_id=str(user.id))
            finally:
                _EVENT_SESSION.reset(token)
            await self._apply(session, user.id, turn, engine)
            if not any(effect.kind == "erase_user_data" for effect in turn.effects):
                user.locale = turn.state.locale
                await repo.save_state(session, user.id, turn.state)
                await repo.append_events(
                    session, user.id, turn.transitions,
                    flow_version=turn.state.flow_version, intent=turn.state.intent, at=now,
                )
        return turn.messages

    async def _apply(self, session: AsyncSession, user_id: int, turn: Turn, engine: Engine) -> None:
        for effect in turn.effects:
            data = effect.data
            if effect.kind == "record_unmatched":
                await repo.record_unmatched(session, user_id, mask_identifiers(str(data["text"])), str(data["locale"]))
            elif effect.kind == "record_request":
                await repo.record_request(
                    session, user_id, reference=str(data["reference"]), kind=str(data["kind"]),
                    opd=data.get("opd"), intent=data.get("intent"),
                    message=mask_identifiers(str(data.get("message", ""))),
                )
            elif effect.kind == "save_subscription":
                await repo.save_subscription(session, user_id, str(data["district"]), list(data["topics"]))
            elif effect.kind == "set_locale":
                pass  # stored with the user below
            elif effect.kind == "erase_user_data":
                await repo.erase_user(session, user_id)
                logger.info("erased the data of user %s on request", user_id)
                return
            else:
                logger.error("unknown effect %s", effect.kind)

    async def notify(self, channel: str, external_id: str, message: Outbound) -> bool:
        """Prepares a message the citizen did not ask for (a status notification) before it
        is sent: its buttons become valid answers, next to those of the last reply.

        An expired conversation is closed first, silently, so pressing the button later is
        not refused as stale. Returns False when the citizen is no longer known (erased).
        """
        payloads = [button.payload for button in message.flat_buttons]
        lock = self._lock((channel, external_id))
        async with lock, self._sessions() as session, session.begin():
            user = await repo.find_user(session, channel, external_id)
            if user is None:
                return False
            if not payloads:
                return True
            now = self._clock()
            state = await repo.load_state(session, user.id)
            state = state or ConversationState(locale=user.locale)
            expired = state.expires_at is not None and now >= state.expires_at
            if expired and (state.step or state.context):
                state.reset()
            state.offered = [*state.offered, *(p for p in payloads if p not in state.offered)]
            await repo.save_state(session, user.id, state)
        return True
