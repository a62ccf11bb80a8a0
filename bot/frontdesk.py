"""The front desk: one citizen event in, replies out, the outcome stored before replying.

Channels call ``FrontDesk.handle``. It loads the citizen's state, runs the engine, then applies
the engine's effects and stores the new state in one transaction before returning, so a crash
or restart right after a reply never loses or repeats a step. Events of one citizen are
handled one at a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.engine.engine import Engine, Turn
from bot.engine.messages import Inbound, Outbound
from bot.engine.state import ConversationState
from bot.i18n import normalise_locale
from bot.privacy import mask_identifiers
from bot.storage import repo
from bot.storage.db import READ_ONLY

logger = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
# Answers some events before the engine (the hoax check): replies, or None to go on. It sees
# the event and the citizen's language only, and never changes their conversation.
Interceptor = Callable[[Inbound, str], Awaitable[list[Outbound] | None]]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# One handled event to store: user id, new state, transitions, when.
_Write = tuple[int, ConversationState, list[tuple[str, Mapping[str, Any]]], dt.datetime]


# What is read before an event: user id, language, stored state (None: no conversation yet).
_Found = tuple[int, str, ConversationState | None]


def _settle(done: asyncio.Future[Any], error: BaseException | None, result: Any = None) -> None:
    if done.done():  # its caller was cancelled
        return
    if isinstance(error, asyncio.CancelledError):
        done.cancel()
    elif error is None:
        done.set_result(result)
    else:
        done.set_exception(error)


class FrontDesk:
    """Owns the per-citizen order of events and the transaction around each one."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: Callable[[], Engine],
        *,
        clock: Clock = system_clock,
        database: AsyncEngine | None = None,
        interceptors: Sequence[Interceptor] = (),
        handoff: Any = None,
    ) -> None:
        self._sessions = sessions
        # Live handoff to an officer (issue 15, bot.handoff.service.Handoff): a citizen with
        # an open ticket talks to it, not to the engine; an officer request opens one.
        self.handoff = handoff
        self._interceptors = tuple(interceptors)
        # The hot path (every citizen event) uses Core on a bare connection, not the ORM.
        self._database: AsyncEngine = database if database is not None else sessions.kw["bind"]
        self._reader = self._database.execution_options(**{READ_ONLY: True})
        self._pending: list[tuple[_Write, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._wanted: list[tuple[tuple[str, str], asyncio.Future[_Found | None]]] = []
        self._loader: asyncio.Task[None] | None = None
        self._new: list[tuple[tuple[tuple[str, str], str], asyncio.Future[_Found]]] = []
        self._creator: asyncio.Task[None] | None = None
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

    async def handle(self, channel: str, external_id: str, event: Inbound) -> list[Outbound]:
        lock = self._lock((channel, external_id))
        async with lock:
            return await self._handle(channel, external_id, event)

    async def _handle(self, channel: str, external_id: str, event: Inbound) -> list[Outbound]:
        """Read, think, write: two short transactions around the engine, none during it.

        The engine may wait seconds for an agency's system; holding a transaction (on SQLite,
        the database's single write lock) meanwhile would make every other citizen wait for
        that agency too. The citizen's lock keeps their own events in order in between.
        """
        engine = self._engine()
        now = self._clock()
        found = await self._load((channel, external_id))
        if found is None:
            found = await self._create(
                (channel, external_id), normalise_locale(event.language_hint)
            )
        user_id, locale, state = found
        if self.handoff is not None and self.handoff.wants(state, event):
            routed = await self.handoff.route(
                user_id, state or ConversationState(locale=locale), event, locale
            )
            if routed is not None:
                return routed
        for intercept in self._interceptors:
            answer = await intercept(event, locale)
            if answer is not None:
                return answer
        if state is None:
            state = ConversationState(locale=locale)
        state.locale = locale
        turn = await engine.handle(state, event, now=now, user_id=str(user_id))
        if any(effect.kind != "set_locale" for effect in turn.effects):
            async with self._sessions() as session, session.begin():
                erased = await self._apply(session, user_id, turn, engine)
                if not erased:
                    await repo.touch_user(session, user_id, locale=turn.state.locale, at=now)
                    await repo.save_state(session, user_id, turn.state)
                    await repo.append_events(
                        session,
                        user_id,
                        turn.transitions,
                        flow_version=turn.state.flow_version,
                        intent=turn.state.intent,
                        at=now,
                    )
        else:
            await self._store((user_id, turn.state, turn.transitions, now))
        return turn.messages

    async def _load(self, key: tuple[str, str]) -> _Found | None:
        """The citizen's id, language and state; None when unknown.

        A plain read (no write lock): one SELECT, without a transaction around it. Citizens
        asked for while a read is in progress are read together by the next one.
        """
        loop = asyncio.get_running_loop()
        found: asyncio.Future[_Found | None] = loop.create_future()
        self._wanted.append((key, found))
        if self._loader is None or self._loader.done():
            self._loader = loop.create_task(self._load_wanted())
        return await found

    async def _load_wanted(self) -> None:
        batch: list[tuple[tuple[str, str], asyncio.Future[_Found | None]]] = []
        try:
            while self._wanted:
                batch, self._wanted = self._wanted, []
                try:
                    async with self._reader.connect() as connection:
                        rows = await repo.load_users_and_states(
                            connection, list(dict.fromkeys(key for key, _ in batch))
                        )
                except Exception as error:
                    for _key, found in batch:
                        _settle(found, error)
                else:
                    for key, found in batch:
                        _settle(found, None, rows.get(key))
                batch = []
        except BaseException as error:  # cancelled (shutdown): nobody may wait forever
            for _key, found in [*batch, *self._wanted]:
                _settle(found, error)
            self._wanted = []
            raise

    async def _create(self, key: tuple[str, str], locale: str) -> _Found:
        """Adds a citizen seen for the first time; returns once the row is committed.

        Citizens who write for the first time while a creation is in progress are added
        together by the next one (one transaction, one INSERT), like the group commit of
        :meth:`_store`.
        """
        loop = asyncio.get_running_loop()
        created: asyncio.Future[_Found] = loop.create_future()
        self._new.append(((key, locale), created))
        if self._creator is None or self._creator.done():
            self._creator = loop.create_task(self._create_new())
        return await created

    async def _create_new(self) -> None:
        batch: list[tuple[tuple[tuple[str, str], str], asyncio.Future[_Found]]] = []
        try:
            while self._new:
                batch, self._new = self._new, []
                try:
                    async with self._database.begin() as connection:
                        rows = await repo.create_users(
                            connection, [(*key, locale) for (key, locale), _ in batch]
                        )
                except Exception as error:
                    for _wanted, created in batch:
                        _settle(created, error)
                else:
                    for (key, _locale), created in batch:
                        found = rows.get(key)
                        if found is None:  # cannot happen: the row was just committed
                            _settle(created, LookupError("citizen row missing after insert"))
                        else:
                            _settle(created, None, found)
                batch = []
        except BaseException as error:  # cancelled (shutdown): nobody may wait forever
            for _wanted, created in [*batch, *self._new]:
                _settle(created, error)
            self._new = []
            raise

    async def _store(self, write: _Write) -> None:
        """Stores one handled event; returns once it is committed.

        Events of different citizens that finish while a write is in progress are stored
        together in the next transaction (group commit): one BEGIN IMMEDIATE, one statement
        per table and one COMMIT for all of them, instead of one of each per event.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((write, done))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write_pending())
        await done

    async def _write_pending(self) -> None:
        batch: list[tuple[_Write, asyncio.Future[None]]] = []
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    async with self._database.begin() as connection:
                        await repo.store_turns(connection, [write for write, _ in batch])
                except Exception as error:
                    if len(batch) == 1:
                        _settle(batch[0][1], error)
                    else:
                        # One bad event (its citizen just erased, say) must not fail the
                        # others: store each on its own.
                        for write, done in batch:
                            try:
                                async with self._database.begin() as connection:
                                    await repo.store_turns(connection, [write])
                            except Exception as single_error:
                                _settle(done, single_error)
                            else:
                                _settle(done, None)
                else:
                    for _write, done in batch:
                        _settle(done, None)
                batch = []
        except BaseException as error:  # cancelled (shutdown): nobody may wait forever
            for _write, done in [*batch, *self._pending]:
                _settle(done, error)
            self._pending = []
            raise

    async def _apply(
        self, session: AsyncSession, user_id: int, turn: Turn, engine: Engine
    ) -> bool:
        """Applies the turn's effects; True when the citizen's data was erased."""
        for effect in turn.effects:
            data = effect.data
            if effect.kind == "record_unmatched":
                await repo.record_unmatched(
                    session, user_id, mask_identifiers(str(data["text"])), str(data["locale"])
                )
            elif effect.kind == "record_request":
                await repo.record_request(
                    session,
                    user_id,
                    reference=str(data["reference"]),
                    kind=str(data["kind"]),
                    opd=data.get("opd"),
                    intent=data.get("intent"),
                    message=mask_identifiers(str(data.get("message", ""))),
                    # The call-back number is the one value kept unmasked: an officer dials it.
                    contact=data.get("contact"),
                    phone=data.get("phone"),
                )
                if self.handoff is not None and data.get("opd"):
                    ticket, extra = await self.handoff.opened(
                        session,
                        user_id,
                        # Unmasked for the officer, who sees it masked unless they reveal
                        # it (audited): the question may need the NIK it names.
                        data,
                        turn.state.locale,
                        self._clock(),
                    )
                    if turn.messages and extra:  # in the flow's last reply: no extra message
                        # (Telegram's per-chat limit), its buttons first
                        previous, note = turn.messages[-1], extra[0]
                        turn.messages[-1] = Outbound(
                            f"{previous.text}\n\n{note.text}",
                            previous.title,
                            note.buttons + previous.buttons,
                        )
                    else:
                        turn.messages.extend(extra)
                    if self.handoff.attaches(data):
                        turn.state.ticket = ticket.number
            elif effect.kind == "save_subscription":
                await repo.save_subscription(
                    session, user_id, str(data["district"]), list(data["topics"])
                )
            elif effect.kind == "stop_subscription":
                await repo.delete_subscription(session, user_id)
            elif effect.kind == "set_locale":
                pass  # stored with the user below
            elif effect.kind == "erase_user_data":
                await repo.erase_user(session, user_id)
                logger.info("erased the data of user %s on request", user_id)
                return True
            else:
                logger.error("unknown effect %s", effect.kind)
        return False

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
