"""Small named queries. Handlers and services call these, never ``select()`` directly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, overload

from sqlalchemy import bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.engine.state import ConversationState
from bot.storage.models import (
    Announcement,
    AnnouncementDelivery,
    AuditLog,
    Booking,
    BroadcastInactive,
    CitizenRequest,
    ConsoleLoginToken,
    ConsoleSession,
    Conversation,
    Event,
    FlowVersion,
    FollowedApplication,
    InboxUpdate,
    Role,
    StatusNotification,
    Subscription,
    TicketOutbox,
    UnmatchedQuestion,
    User,
    WhatsAppInbound,
    WhatsAppMenu,
    WhatsAppOutbound,
    options_now,
)


def session_now(session: AsyncSession) -> dt.datetime:
    """ "Now" for rows written in this session: the clock the engine was made with."""
    return options_now(session.sync_session.get_bind().get_execution_options())


def connection_now(connection: AsyncConnection) -> dt.datetime:
    """ "Now" for rows written on this connection (``session_now`` for Core writes)."""
    return options_now(connection.sync_connection.get_execution_options())


# Every table that holds something about one citizen. /hapusdata deletes from all of them,
# and a test checks that this list covers every table with a user_id column.
USER_TABLES = (
    Event,
    UnmatchedQuestion,
    CitizenRequest,
    Subscription,
    Conversation,
    StatusNotification,
    FollowedApplication,
    AnnouncementDelivery,
    BroadcastInactive,
    Role,
    # The admin console's sign-in links and sessions (issue 6).
    ConsoleLoginToken,
    ConsoleSession,
    # WhatsApp (issue 16): statuses of messages sent to the citizen, a paginated menu.
    WhatsAppOutbound,
    WhatsAppMenu,
    # Officer replies still to deliver (issue 15); tickets themselves are unlinked instead.
    TicketOutbox,
    # Queue numbers (issue 18); their reminders go with them (ON DELETE CASCADE).
    Booking,
)


async def get_or_create_user(
    session: AsyncSession, channel: str, external_id: str, locale: str
) -> tuple[User, bool]:
    user = await session.scalar(
        select(User).where(User.channel == channel, User.external_id == external_id)
    )
    if user is not None:
        return user, False
    user = User(channel=channel, external_id=external_id, locale=locale)
    session.add(user)
    await session.flush()
    return user, True


async def touch_user(session: AsyncSession, user_id: int, *, locale: str, at: dt.datetime) -> None:
    """Stores the citizen's language and when they were last seen, in one UPDATE."""
    await session.execute(
        update(User).where(User.id == user_id).values(locale=locale, last_seen_at=at)
    )


async def find_user(session: AsyncSession, channel: str, external_id: str) -> User | None:
    return await session.scalar(
        select(User).where(User.channel == channel, User.external_id == external_id)
    )


async def load_state(session: AsyncSession, user_id: int) -> ConversationState | None:
    row = await session.get(Conversation, user_id)
    return ConversationState.from_json(row.state) if row is not None else None


async def save_state(session: AsyncSession, user_id: int, state: ConversationState) -> None:
    row = await session.get(Conversation, user_id)
    if row is None:
        row = Conversation(user_id=user_id, state={})
        session.add(row)
    row.state = state.to_json()
    row.flow_version = state.flow_version
    row.expires_at = state.expires_at
    row.updated_at = session_now(session)


async def append_events(
    session: AsyncSession,
    user_id: int | None,
    events: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    flow_version: str | None,
    intent: str | None,
    at: dt.datetime | None = None,
) -> None:
    moment = at or session_now(session)
    session.add_all(
        Event(
            user_id=user_id,
            at=moment,
            kind=kind,
            intent=detail.get("intent") or intent,
            step=detail.get("step"),
            flow_version=flow_version,
            detail=dict(detail),
        )
        for kind, detail in events
    )


# -- the front desk's hot path, in SQLAlchemy Core ---------------------------------------------
# One statement per step, built once with bound parameters so the compiled cache always hits;
# no ORM session, identity map or flush on the path every citizen event takes.

_users = User.__table__
_conversations = Conversation.__table__
_events = Event.__table__

_SELECT_USER_AND_STATE = (
    select(_users.c.id, _users.c.locale, _conversations.c.state)
    .select_from(_users.outerjoin(_conversations, _conversations.c.user_id == _users.c.id))
    .where(
        _users.c.channel == bindparam("channel"), _users.c.external_id == bindparam("external_id")
    )
)
_SELECT_USERS_AND_STATES = (
    select(
        _users.c.channel,
        _users.c.external_id,
        _users.c.id,
        _users.c.locale,
        _conversations.c.state,
    )
    .select_from(_users.outerjoin(_conversations, _conversations.c.user_id == _users.c.id))
    .where(tuple_(_users.c.channel, _users.c.external_id).in_(bindparam("keys", expanding=True)))
)
_TOUCH_USER = (
    update(_users)
    .where(_users.c.id == bindparam("uid"))
    .values(locale=bindparam("locale"), last_seen_at=bindparam("at"))
)
_INSERT_EVENT = insert(_events)
_insert_user: dict[str, Any] = {}
_upsert_state: dict[str, Any] = {}


def dialect_insert(dialect: str) -> Any:
    """``insert`` of the dialect, for ``on_conflict_*`` (None for another database)."""
    if dialect == "sqlite":
        return sqlite.insert
    if dialect == "postgresql":
        return postgresql.insert
    return None


async def load_user_and_state(
    connection: AsyncConnection, channel: str, external_id: str
) -> tuple[int, str, ConversationState | None] | None:
    """The citizen's id, language and stored conversation, in one query; None if unknown."""
    row = (
        await connection.execute(
            _SELECT_USER_AND_STATE, {"channel": channel, "external_id": external_id}
        )
    ).first()
    if row is None:
        return None
    state = ConversationState.from_json(row[2]) if row[2] is not None else None
    return row[0], row[1], state


async def load_users_and_states(
    connection: AsyncConnection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str, ConversationState | None]]:
    """``load_user_and_state`` for several (channel, external_id) at once, in one query;
    unknown citizens are missing from the answer."""
    if len(keys) == 1:
        found = await load_user_and_state(connection, *keys[0])
        return {keys[0]: found} if found is not None else {}
    rows = await connection.execute(_SELECT_USERS_AND_STATES, {"keys": list(keys)})
    return {
        (row[0], row[1]): (
            row[2],
            row[3],
            ConversationState.from_json(row[4]) if row[4] is not None else None,
        )
        for row in rows
    }


async def create_user(
    connection: AsyncConnection, channel: str, external_id: str, locale: str
) -> tuple[int, str, ConversationState | None]:
    """Adds the citizen unless another event just did; answers like ``load_user_and_state``."""
    dialect = connection.dialect.name
    statement = _insert_user.get(dialect)
    if statement is None:
        make = dialect_insert(dialect)
        if make is not None:
            statement = make(_users).on_conflict_do_nothing(
                index_elements=[_users.c.channel, _users.c.external_id]
            )
        else:
            statement = insert(_users)
        _insert_user[dialect] = statement
    now = connection_now(connection)
    await connection.execute(
        statement,
        {
            "channel": channel,
            "external_id": external_id,
            "locale": locale,
            "created_at": now,
            "last_seen_at": now,
        },
    )
    found = await load_user_and_state(connection, channel, external_id)
    assert found is not None
    return found


async def create_users(
    connection: AsyncConnection, new: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str], tuple[int, str, ConversationState | None]]:
    """``create_user`` for several (channel, external_id, locale) at once: one INSERT for all
    of them (a citizen another event or worker just added is left as it is), then one read.
    First contacts arrive in crowds (after an announcement, on a market day); one
    transaction each would queue them all behind the database's single write lock."""
    if len(new) == 1:
        found = await create_user(connection, *new[0])
        return {(new[0][0], new[0][1]): found}
    dialect = connection.dialect.name
    make = dialect_insert(dialect)
    if make is None:  # no ON CONFLICT: one at a time, each checked
        answers = {}
        for channel, external_id, locale in new:
            answers[(channel, external_id)] = await create_user(
                connection, channel, external_id, locale
            )
        return answers
    now = connection_now(connection)
    await connection.execute(
        make(_users).on_conflict_do_nothing(
            index_elements=[_users.c.channel, _users.c.external_id]
        ),
        [
            {
                "channel": channel,
                "external_id": external_id,
                "locale": locale,
                "created_at": now,
                "last_seen_at": now,
            }
            for channel, external_id, locale in new
        ],
    )
    return await load_users_and_states(
        connection, list(dict.fromkeys((channel, external_id) for channel, external_id, _ in new))
    )


def _state_upsert(dialect: str) -> Any:
    statement = _upsert_state.get(dialect)
    if statement is None:
        make = dialect_insert(dialect)
        if make is None:
            return None
        statement = make(_conversations)
        statement = statement.on_conflict_do_update(
            index_elements=[_conversations.c.user_id],
            set_={
                "state": statement.excluded.state,
                "flow_version": statement.excluded.flow_version,
                "expires_at": statement.excluded.expires_at,
                "updated_at": statement.excluded.updated_at,
            },
        )
        _upsert_state[dialect] = statement
    return statement


async def store_turns(
    connection: AsyncConnection,
    turns: Sequence[
        tuple[int, ConversationState, Iterable[tuple[str, Mapping[str, Any]]], dt.datetime]
    ],
) -> None:
    """``touch_user`` + ``save_state`` + ``append_events`` for handled events (of different
    citizens), in Core: one executemany per table, whatever the number of events."""
    touches = []
    states = []
    events = []
    updated = connection_now(connection)
    for user_id, state, transitions, at in turns:
        touches.append({"uid": user_id, "locale": state.locale, "at": at})
        states.append(
            {
                "user_id": user_id,
                "state": state.to_json(),
                "flow_version": state.flow_version,
                "expires_at": state.expires_at,
                "updated_at": updated,
            }
        )
        events.extend(
            {
                "user_id": user_id,
                "at": at,
                "kind": kind,
                "intent": detail.get("intent") or state.intent,
                "step": detail.get("step"),
                "flow_version": state.flow_version,
                "detail": dict(detail),
            }
            for kind, detail in transitions
        )
    if not touches:
        return
    await connection.execute(_TOUCH_USER, touches)
    upsert = _state_upsert(connection.dialect.name)
    if upsert is not None:
        await connection.execute(upsert, states)
    else:
        for values in states:
            changed = await connection.execute(
                update(_conversations)
                .where(_conversations.c.user_id == values["user_id"])
                .values(values)
            )
            if not changed.rowcount:
                await connection.execute(insert(_conversations), values)
    if events:
        await connection.execute(_INSERT_EVENT, events)


async def store_turn(
    connection: AsyncConnection,
    user_id: int,
    state: ConversationState,
    events: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    at: dt.datetime,
) -> None:
    """``store_turns`` for one handled event."""
    await store_turns(connection, [(user_id, state, events, at)])


async def record_unmatched(session: AsyncSession, user_id: int, text: str, locale: str) -> None:
    session.add(UnmatchedQuestion(user_id=user_id, text=text, locale=locale))


async def record_request(
    session: AsyncSession,
    user_id: int,
    *,
    reference: str,
    kind: str,
    opd: str | None,
    intent: str | None,
    message: str,
    contact: str | None = None,
    phone: str | None = None,
) -> None:
    session.add(
        CitizenRequest(
            reference=reference,
            user_id=user_id,
            kind=kind,
            opd=opd,
            intent=intent,
            message=message,
            contact=contact,
            phone=phone,
        )
    )


async def save_subscription(
    session: AsyncSession, user_id: int, district: str, topics: list[str]
) -> None:
    row = await session.get(Subscription, user_id)
    if row is None:
        row = Subscription(user_id=user_id, district=district, topics="")
        session.add(row)
    row.district = district
    row.topics = ",".join(sorted(set(topics)))
    row.updated_at = session_now(session)


async def get_subscription(session: AsyncSession, user_id: int) -> Subscription | None:
    return await session.get(Subscription, user_id)


async def delete_subscription(session: AsyncSession, user_id: int) -> bool:
    """Stops every announcement subscription of the citizen (/berhenti); True if one existed.
    The row is deleted, so no announcement segment can select the citizen any more."""
    result = await session.execute(delete(Subscription).where(Subscription.user_id == user_id))
    # Announcements already queued for them but not yet sent are dropped in the same
    # transaction: unsubscribing takes effect before the next message, even mid-broadcast.
    await session.execute(
        update(AnnouncementDelivery)
        .where(AnnouncementDelivery.user_id == user_id, AnnouncementDelivery.status == "pending")
        .values(status="skipped", last_error="unsubscribed")
    )
    return bool(getattr(result, "rowcount", 0))


async def erase_user(session: AsyncSession, user_id: int) -> None:
    """Deletes everything stored about one citizen, in every table."""
    from bot.handoff.store import erase_for_user  # tickets (issue 15): kept, emptied, unlinked

    await erase_for_user(session, user_id, session_now(session))
    for table in USER_TABLES:
        await session.execute(delete(table).where(table.user_id == user_id))  # type: ignore[attr-defined]
    # An unfinished draft is nobody's act yet: it goes with its author.
    await session.execute(
        delete(Announcement).where(
            Announcement.author_user_id == user_id, Announcement.status == "draft"
        )
    )
    # Announcements are official acts of the regency and stay; only the link to the staff
    # member who wrote them is cut (the OPD and the text remain, for the hoax check). The
    # progress message ids point into their chat: cut too.
    await session.execute(
        update(Announcement)
        .where(Announcement.author_user_id == user_id)
        .values(author_user_id=None, progress_chat_id=None, progress_message_id=None)
    )
    # The audit log of official acts stays too (UU 27/2022 Pasal 15(1)); the erased person's
    # internal id is cut from it, so nothing links the rows to them (and a reused id in SQLite
    # can never attach someone else to those acts). Roles they granted stay, their granter
    # becoming ERASED_GRANTER (not NULL: NULL marks a role seeded from ADMIN_TELEGRAM_IDS).
    await session.execute(
        update(AuditLog).where(AuditLog.actor_user_id == user_id).values(actor_user_id=None)
    )
    await session.execute(
        update(AuditLog).where(AuditLog.target == audit_target(user_id)).values(target="user:-")
    )
    await session.execute(
        update(Role).where(Role.granted_by == user_id).values(granted_by=ERASED_GRANTER)
    )
    # Published flow versions are official acts too (issue 6): only the author link is cut.
    await session.execute(
        update(FlowVersion)
        .where(FlowVersion.author_user_id == user_id)
        .values(author_user_id=None)
    )
    # Several workers (issue 7): updates waiting in, or kept for a day by, the webhook inbox
    # carry the citizen's Telegram id and words; keyed by that id (bot/workers/inbox.py).
    await session.execute(
        delete(InboxUpdate).where(
            InboxUpdate.ordering_key
            == select("user:" + User.external_id)
            .where(User.id == user_id, User.channel == "telegram")
            .scalar_subquery()
        )
    )
    # WhatsApp (issue 16): messages waiting in, or kept for a day by, the WhatsApp inbox
    # carry the citizen's number and words; keyed by their WhatsApp id (bot/whatsapp/inbox.py).
    await session.execute(
        delete(WhatsAppInbound).where(
            WhatsAppInbound.ordering_key
            == select("wa:" + User.external_id)
            .where(User.id == user_id, User.channel == "whatsapp")
            .scalar_subquery()
        )
    )
    await session.execute(delete(User).where(User.id == user_id))


# roles.granted_by of a role whose granting admin has since erased their data (ids start at 1).
ERASED_GRANTER = 0


def audit_target(user_id: int) -> str:
    """How a user appears as the target of an audited act: their internal id only."""
    return f"user:{user_id}"


async def count_rows_for_user(session: AsyncSession, user_id: int) -> dict[str, int]:
    """How many rows each table holds for a user (used to prove an erasure)."""
    counts = {}
    for table in USER_TABLES:
        counts[table.__tablename__] = (
            await session.scalar(
                select(func.count()).select_from(table).where(table.user_id == user_id)  # type: ignore[attr-defined]
            )
            or 0
        )
    counts["users"] = (
        await session.scalar(select(func.count()).select_from(User).where(User.id == user_id)) or 0
    )
    counts["announcements"] = (
        await session.scalar(
            select(func.count())
            .select_from(Announcement)
            .where(Announcement.author_user_id == user_id)
        )
        or 0
    )
    counts["audit_log"] = (
        await session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(
                (AuditLog.actor_user_id == user_id) | (AuditLog.target == audit_target(user_id))
            )
        )
        or 0
    )
    counts["roles_granted"] = (
        await session.scalar(
            select(func.count()).select_from(Role).where(Role.granted_by == user_id)
        )
        or 0
    )
    return counts


# -- followed applications and their status notifications -------------------------------------


@overload
def as_utc(moment: dt.datetime) -> dt.datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A timestamp as aware UTC; SQLite hands stored ones back naive (they are stored in UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


async def get_follow(
    session: AsyncSession, user_id: int, opd: str, number: str
) -> FollowedApplication | None:
    return await session.scalar(
        select(FollowedApplication).where(
            FollowedApplication.user_id == user_id,
            FollowedApplication.opd == opd,
            FollowedApplication.number == number,
        )
    )


async def list_follows(session: AsyncSession, user_id: int) -> list[FollowedApplication]:
    """The citizen's active follows, oldest first."""
    rows = await session.scalars(
        select(FollowedApplication)
        .where(FollowedApplication.user_id == user_id, FollowedApplication.active.is_(True))
        .order_by(FollowedApplication.created_at, FollowedApplication.id)
    )
    return list(rows)


async def save_follow(
    session: AsyncSession,
    user_id: int,
    opd: str,
    number: str,
    *,
    status: str | None,
    updated_at: dt.datetime | None,
) -> tuple[FollowedApplication, bool]:
    """Starts (or restarts) following; returns the row and whether it was already active.

    ``status``/``updated_at`` are what the citizen has just been shown: the next change is
    measured against them.
    """
    row = await get_follow(session, user_id, opd, number)
    was_active = row is not None and row.active
    if row is None:
        row = FollowedApplication(user_id=user_id, opd=opd, number=number)
        session.add(row)
    row.active = True
    row.last_status = status
    row.last_updated_at = as_utc(updated_at)
    row.changed_at = session_now(session)
    await session.flush()
    return row, was_active


async def stop_follows(
    session: AsyncSession, user_id: int, *, opd: str | None = None, number: str | None = None
) -> int:
    """Stops the citizen's active follows (all, one OPD's, or one number); returns how many."""
    rows = await list_follows(session, user_id)
    stopped = 0
    for row in rows:
        if (opd is None or row.opd == opd) and (number is None or row.number == number):
            row.active = False
            row.changed_at = session_now(session)
            stopped += 1
    return stopped


async def active_followers(
    session: AsyncSession, opd: str, number: str
) -> list[FollowedApplication]:
    """Every active follow of one application, across citizens."""
    rows = await session.scalars(
        select(FollowedApplication)
        .where(
            FollowedApplication.opd == opd,
            FollowedApplication.number == number,
            FollowedApplication.active.is_(True),
        )
        .order_by(FollowedApplication.id)
    )
    return list(rows)


async def followed_numbers(session: AsyncSession, opd: str) -> list[str]:
    """The distinct application numbers of one OPD that someone follows (for polling)."""
    rows = await session.scalars(
        select(FollowedApplication.number)
        .where(FollowedApplication.opd == opd, FollowedApplication.active.is_(True))
        .distinct()
        .order_by(FollowedApplication.number)
    )
    return list(rows)


async def queue_notification(
    session: AsyncSession,
    user_id: int,
    opd: str,
    number: str,
    *,
    status: str,
    updated_at: dt.datetime,
    note: str | None,
    final: bool,
) -> bool:
    """Adds an outbox row unless the same change is already queued for this citizen."""
    moment = as_utc(updated_at)
    existing = await session.scalar(
        select(StatusNotification.id).where(
            StatusNotification.user_id == user_id,
            StatusNotification.opd == opd,
            StatusNotification.number == number,
            StatusNotification.status == status,
            StatusNotification.updated_at == moment,
        )
    )
    if existing is not None:
        return False
    session.add(
        StatusNotification(
            user_id=user_id,
            opd=opd,
            number=number,
            status=status,
            updated_at=moment,
            note=note,
            final=final,
            state="pending",
        )
    )
    return True


async def due_notifications(
    session: AsyncSession, *, now: dt.datetime, channels: Iterable[str], limit: int = 50
) -> list[tuple[StatusNotification, User]]:
    """Pending outbox rows whose time has come, for citizens of ``channels``, oldest first."""
    rows = await session.execute(
        select(StatusNotification, User)
        .join(User, User.id == StatusNotification.user_id)
        .where(
            StatusNotification.state == "pending",
            User.channel.in_(list(channels)),
            (StatusNotification.next_attempt_at.is_(None))
            | (StatusNotification.next_attempt_at <= as_utc(now)),
        )
        .order_by(StatusNotification.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


async def next_notification_attempt(
    session: AsyncSession, channels: Iterable[str]
) -> dt.datetime | None:
    """When the earliest postponed pending row is due (None if nothing is postponed)."""
    moment = await session.scalar(
        select(func.min(StatusNotification.next_attempt_at))
        .join(User, User.id == StatusNotification.user_id)
        .where(StatusNotification.state == "pending", User.channel.in_(list(channels)))
    )
    return as_utc(moment)


async def purge_notification_data(
    session: AsyncSession, *, finished_before: dt.datetime, stale_before: dt.datetime
) -> int:
    """Deletes what status notifications no longer need: stopped follows and finished
    messages changed before ``finished_before``, and messages still pending (for a channel
    no process serves) since before ``stale_before``. Returns the number of rows deleted."""
    finished = as_utc(finished_before)
    stale = as_utc(stale_before)
    deleted = 0
    for statement in (
        delete(StatusNotification).where(
            StatusNotification.state != "pending", StatusNotification.created_at < finished
        ),
        delete(StatusNotification).where(
            StatusNotification.state == "pending", StatusNotification.created_at < stale
        ),
        delete(FollowedApplication).where(
            FollowedApplication.active.is_(False), FollowedApplication.changed_at < finished
        ),
    ):
        result = await session.execute(statement)
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


async def give_up_notifications(session: AsyncSession, user_id: int, state: str) -> None:
    """Marks every pending message of one citizen as not to be sent (``blocked``...)."""
    await session.execute(
        update(StatusNotification)
        .where(StatusNotification.user_id == user_id, StatusNotification.state == "pending")
        .values(state=state)
    )
