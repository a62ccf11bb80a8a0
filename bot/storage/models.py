"""The tables. Only what a feature needs is stored (UU 27/2022): see README "Data we keep"."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Execution option carrying the front desk's clock (set by bot.storage.db.make_engine). Rows
# are stamped with the same "now" the logic compares them with: a test that moves its clock
# moves the stamps too, and retention ("older than a week") holds whatever the calendar says.
CLOCK_OPTION = "loket_clock"


def utcnow() -> dt.datetime:
    """The wall clock, for what is about processes rather than data (leases, heartbeats)."""
    return dt.datetime.now(dt.UTC)


def options_now(options: Any) -> dt.datetime:
    """ "Now" from a connection's execution options: the injected clock, else the wall clock."""
    clock = options.get(CLOCK_OPTION) if options else None
    return clock().astimezone(dt.UTC) if clock is not None else utcnow()


def stamp(context: Any) -> dt.datetime:
    """Column default: SQLAlchemy passes the execution context, which carries the clock."""
    return options_now(context.execution_options)


# Every constraint gets a predictable name on every database (bot/storage/migrations): a later
# migration can then drop or alter it by name, on SQLite (batch mode) as on PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar = {dt.datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class User(Base):
    """A citizen (or staff member) as seen on one channel."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8), default="id")
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=stamp)


class Conversation(Base):
    """The one live conversation of a user; replaced after every handled event."""

    __tablename__ = "conversations"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    flow_version: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(default=stamp)


class Event(Base):
    """Append-only record of every step transition, for analytics and audits.

    Never updated; rows of a citizen are deleted only when the citizen asks (/hapusdata) or
    when they pass the retention period.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_at", "at"), Index("ix_events_user", "user_id"))

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(default=stamp)
    kind: Mapped[str] = mapped_column(String(32))
    intent: Mapped[str | None] = mapped_column(String(64))
    step: Mapped[str | None] = mapped_column(String(128))
    flow_version: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class UnmatchedQuestion(Base):
    """A question the bot could not answer, masked, so admins can teach it."""

    __tablename__ = "unmatched_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(default=stamp)
    locale: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)


class CitizenRequest(Base):
    """A request to talk to a person, or a complaint, with the reference the citizen quotes.

    ``message`` is the question or complaint (masked); ``contact`` how an officer request is
    to be answered (``chat``, ``phone``, ``whatsapp``) and ``phone`` the number for the latter
    two, unmasked since an officer dials it. This row is the only place the number is kept:
    erased with the citizen (/hapusdata) and listed by ``loket export-user``.
    """

    __tablename__ = "citizen_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    opd: Mapped[str | None] = mapped_column(String(32))
    intent: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)


# -- Live handoff to an officer (issue 15, bot/handoff) ------------------------------------


class Ticket(Base):
    """A conversation handed to an OPD officer, under the reference the citizen quotes.

    ``number`` is the officer request's LKT- reference (the ``citizen_requests`` row keeps
    the same one). Times come from the injected clock. ``consent``: the citizen allowed the
    officer to see what they did with the bot before asking. ``user_id`` is cut and
    ``erased_at`` set when the citizen erases their data (/hapusdata): the officer then sees
    that the data were erased at the citizen's request, and no message remains.
    """

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_opd_status", "opd", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default="request")  # request | complaint
    category: Mapped[str | None] = mapped_column(String(32))
    opd: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|claimed|answered|closed
    outcome: Mapped[str | None] = mapped_column(String(32))
    consent: Mapped[bool] = mapped_column(default=False)
    assignee_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    unread: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    updated_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    first_response_at: Mapped[dt.datetime | None] = mapped_column()
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    erased_at: Mapped[dt.datetime | None] = mapped_column()
    sla_notified_at: Mapped[dt.datetime | None] = mapped_column()


class TicketMessage(Base):
    """One message of a ticket: the citizen's, an officer's reply, or an internal note (never
    shown to the citizen). ``file_id`` is the channel's id of a photo or document."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(16))  # citizen | officer | note | system
    officer_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text, default="")
    file_id: Mapped[str | None] = mapped_column(String(200))
    file_kind: Mapped[str | None] = mapped_column(String(16))  # photo | document
    at: Mapped[dt.datetime] = mapped_column(default=stamp)


class TicketOutbox(Base):
    """What an officer sent that the citizen must receive: one row per reply or close notice,
    written in the transaction of the officer's act. Claimed by one worker (``pending`` ->
    ``sending``, a conditional UPDATE) before the send, so two workers never both send it; a
    row left ``sending`` by a crash becomes ``unknown``, never sent twice."""

    __tablename__ = "ticket_outbox"
    __table_args__ = (Index("ix_ticket_outbox_state", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # reply | closed
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    sent_at: Mapped[dt.datetime | None] = mapped_column()


class Subscription(Base):
    """Which announcements a citizen wants: one distrik and a set of topics."""

    __tablename__ = "subscriptions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    district: Mapped[str] = mapped_column(String(16))
    topics: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(default=stamp)


class FollowedApplication(Base):
    """An application (or AK/I card) a citizen asked to be told about when its status changes.

    ``last_status``/``last_updated_at`` are what the citizen was last shown or told, so a
    duplicated or out-of-order push is recognised. The number is kept only while the follow
    exists: stopping keeps the row inactive until /hapusdata erases it with the user.
    """

    __tablename__ = "followed_applications"
    __table_args__ = (
        UniqueConstraint("user_id", "opd", "number"),
        Index("ix_followed_applications_opd_number", "opd", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    opd: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(32))
    last_status: Mapped[str | None] = mapped_column(String(32))
    last_updated_at: Mapped[dt.datetime | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    changed_at: Mapped[dt.datetime] = mapped_column(default=stamp)


class StatusNotification(Base):
    """Outbox of status-change messages: written with the change, sent by the delivery loop.

    The unique key makes a duplicated push unable to queue a second message; ``state`` is
    ``pending`` until the channel accepted it (``sent``) or gave up (``blocked``, ``failed``),
    so a restart delivers what was left pending, and only that.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "opd", "number", "status", "updated_at"),
        Index("ix_notifications_state", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    opd: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)
    final: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    sent_at: Mapped[dt.datetime | None] = mapped_column()


class Announcement(Base):
    """A staff announcement (issue 5): one text, one reference code, many deliveries.

    ``reference`` (``MMK-7K3Q``) is printed under the message so a citizen can ask the bot
    whether an announcement is genuine. ``status``: ``draft`` (being composed, never shown
    as genuine) -> ``scheduled`` -> ``sending`` -> ``done``, or ``cancelled``. The counts
    are refreshed by the sender as it goes (the deliveries are the truth; the counts let a
    list of announcements avoid counting 100,000 rows each).
    """

    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_status", "status", "send_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    opd: Mapped[str] = mapped_column(String(32))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    send_at: Mapped[dt.datetime | None] = mapped_column()
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    blocked: Mapped[int] = mapped_column(Integer, default=0)
    unknown: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # unsubscribed before their turn
    # One photo or document sent with the text as its caption (Telegram file_id), or none.
    media_kind: Mapped[str | None] = mapped_column(String(16))
    media_file_id: Mapped[str | None] = mapped_column(String(256))
    # While ``draft``: the compose step the author is at (bot/broadcast/compose.py).
    draft_step: Mapped[str | None] = mapped_column(String(16))
    # The author's live progress message (channel chat id and message id), edited as it goes.
    progress_chat_id: Mapped[str | None] = mapped_column(String(64))
    progress_message_id: Mapped[int | None] = mapped_column(Integer)


class AnnouncementDelivery(Base):
    """One recipient of one announcement, written in bulk when the announcement is queued.

    ``status``: ``pending`` -> ``sending`` (attempt recorded, committed before the call) ->
    ``sent`` / ``failed`` / ``blocked``, or back to ``pending`` when Telegram certainly did not
    take it (429, network error: ``next_attempt_at``). A row found in ``sending`` when a
    sender starts was cut off by a crash: it becomes ``unknown`` and is never sent again.
    """

    __tablename__ = "announcement_deliveries"
    __table_args__ = (
        UniqueConstraint("announcement_id", "user_id"),
        Index("ix_announcement_deliveries_queue", "announcement_id", "status", "id"),
        Index("ix_announcement_deliveries_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8), default="id")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[dt.datetime | None] = mapped_column()
    # Several workers (issue 7, bot/workers): the ``loket_workers.id`` that claimed the row
    # into ``sending``; only a dead owner's rows become ``unknown``. NULL: one process.
    claimed_by: Mapped[int | None] = mapped_column(Integer)


class BroadcastInactive(Base):
    """A citizen announcements are no longer sent to: Telegram answered 403 (blocked the bot,
    account deleted). Deleted with the user; ``bot.broadcast.store.reactivate`` clears it
    (to be called when the citizen writes to the bot again)."""

    __tablename__ = "broadcast_inactive"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(default=stamp)


class Role(Base):
    """A staff or admin role (issue 5). A citizen has no row: "citizen" is the default.

    ``role`` is ``staff`` (with the ``opd`` it serves, one row per OPD) or ``admin`` (``opd``
    NULL). ``granted_by`` is the granting admin's internal user id, NULL when the role was
    seeded from ADMIN_TELEGRAM_IDS. Deleted with the user (/hapusdata); bot/staff/roles.py.
    """

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("user_id", "role", "opd"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    opd: Mapped[str | None] = mapped_column(String(32))
    granted_by: Mapped[int | None] = mapped_column(Integer)
    granted_at: Mapped[dt.datetime] = mapped_column(default=stamp)


class AuditLog(Base):
    """Append-only record of official acts of staff and admins (role grants and revocations,
    later announcements): who (internal user id only), what, on whom, when.

    Kept when the actor or the target erases their data (an official act of the regency is
    not theirs to erase, UU 27/2022 Pasal 15(1)); ``repo.erase_user`` then cuts the link to
    the person (ids become NULL / ``user:-``), so no personal data of theirs remains. No
    Telegram id, name or message text is ever written here. See docs/staff.md.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(default=stamp)


# -- Admin console and flow versions (issue 6, bot/console, bot/flows/versions.py) -----------


class FlowVersion(Base):
    """One published flow set (issue 6): the YAML sources as they were, immutable.

    ``number`` counts up from 1; a rollback publishes an earlier version's sources as a new
    number, so the list is the true history of what the bot said. ``author_user_id`` is an
    internal id only (no name, no Telegram id), cut to NULL when the author erases their
    data, like the audit log: publishing is an official act of the regency.
    """

    __tablename__ = "flow_versions"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(32))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(String(500))
    sources: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What changed against the previous version (flows/steps/intents added, removed, changed).
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)


class ConsoleLoginToken(Base):
    """A one-time sign-in link sent by the bot after /admin; only the SHA-256 of the token is
    kept, so a copy of the database cannot sign anyone in. Used once, then ``used_at``."""

    __tablename__ = "console_login_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column()


class ConsoleSession(Base):
    """A signed-in browser: the SHA-256 of its cookie, its CSRF token and when it expires."""

    __tablename__ = "console_sessions"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    expires_at: Mapped[dt.datetime] = mapped_column()


# -- Several workers behind one webhook (issue 7 item 3, bot/workers) -------------------------


class LoketWorker(Base):
    """One running ``loket run`` process on PostgreSQL. Alive while it holds its advisory lock
    (released by PostgreSQL the moment the process dies) and its heartbeat is fresh."""

    __tablename__ = "loket_workers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    host: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class InboxUpdate(Base):
    """A Telegram update accepted by some worker's webhook, recorded before the 200 answer.

    ``update_id`` is the key, so a redelivered update is dropped. One citizen's rows
    (``ordering_key``) are processed in ``update_id`` order by whichever worker holds that
    citizen's lock; ``started_at`` is set just before processing (at most once). Processed
    rows are kept a day for the duplicate check, then purged. ``payload`` is the update as
    Telegram sent it (it can hold a NIK typed by the citizen: deleted with the row).
    """

    __tablename__ = "inbox_updates"
    __table_args__ = (Index("ix_inbox_updates_key", "ordering_key", "started_at", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ordering_key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column()


class BroadcastRateSlot(Base):
    """The global broadcast budget shared by every worker: the next free send time (seconds
    since the epoch, the database's clock). A worker reserves a few slots at a time."""

    __tablename__ = "broadcast_rate_slots"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)


# -- WhatsApp as a second channel (issue 16, bot/whatsapp) ------------------------------------


class WhatsAppInbound(Base):
    """A WhatsApp message accepted by some worker's webhook, recorded before the 200 answer.

    ``message_id`` (the ``wamid``) is unique, so a message Meta delivers twice, to the same
    worker or to another one, is handled once. ``seq`` orders one citizen's messages
    (``ordering_key`` ``wa:<id>``); ``started_at`` is set just before handling (at most once).
    ``payload`` is the message as received (it can hold a NIK and the sender's phone number:
    erased with the citizen, purged a day after handling).
    """

    __tablename__ = "whatsapp_inbound"
    __table_args__ = (Index("ix_whatsapp_inbound_key", "ordering_key", "started_at", "seq"),)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    ordering_key: Mapped[str] = mapped_column(String(80))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column()


class WhatsAppOutbound(Base):
    """A message Loket sent over WhatsApp whose fate matters: a status notification or an
    announcement. Meta reports ``sent`` -> ``delivered`` -> ``read`` (or ``failed`` with a
    code) by webhook, keyed by the ``wamid`` the send returned. ``fallback`` is the approved
    template to send instead if the free-text message fails with 131047 (the 24-hour window
    had closed), so such a message is never silently lost."""

    __tablename__ = "whatsapp_outbound"
    __table_args__ = (Index("ix_whatsapp_outbound_user", "user_id"),)

    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # notification | announcement
    reference: Mapped[str | None] = mapped_column(String(64))  # notification id, MMK-7K3Q
    template: Mapped[str | None] = mapped_column(String(64))  # sent as this template
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    error_code: Mapped[int | None] = mapped_column(Integer)
    fallback: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    updated_at: Mapped[dt.datetime] = mapped_column(default=stamp)


class WhatsAppMenu(Base):
    """The last choice of more than ten options shown to a citizen on WhatsApp, which a list
    message cannot hold: its options, so that "Lainnya" can show the next page on whichever
    worker receives the press."""

    __tablename__ = "whatsapp_menus"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    menu: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(default=stamp)


# -- Office queue numbers (issue 18, bot/booking) ---------------------------------------------


class BookingSession(Base):
    """One session of one service's day at one office, as a row to lock: a booking takes
    ``SELECT ... FOR UPDATE`` on it (PostgreSQL) before counting the slots held, so two
    citizens pressing for the last slot at once, on any worker, are served one after the
    other. On SQLite ``BEGIN IMMEDIATE`` already serialises writers."""

    __tablename__ = "booking_sessions"

    office: Mapped[str] = mapped_column(String(32), primary_key=True)
    service: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    session: Mapped[str] = mapped_column(String(11), primary_key=True)


class Booking(Base):
    """A queue number for one citizen, one service, one day and session.

    ``slot`` is the seat held in the session's quota (1..quota) while the booking holds it
    and NULL once cancelled, so the unique (office, service, day, session, slot) makes a
    double-booked seat impossible whatever the code does; ``number`` stays what the citizen
    was told. ``active_user`` is the citizen's id while the booking is active, NULL after:
    unique with the service, one active booking per citizen per service.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("office", "service", "day", "session", "slot"),
        UniqueConstraint("active_user", "service"),
        Index("ix_bookings_user", "user_id"),
        Index("ix_bookings_day", "office", "day", "session"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    active_user: Mapped[int | None] = mapped_column(Integer)
    office: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(120))  # the service's name as the citizen read it
    bring: Mapped[str | None] = mapped_column(Text)  # what to bring, as the answer listed it
    day: Mapped[dt.date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(11))
    number: Mapped[int] = mapped_column(Integer)
    slot: Mapped[int | None] = mapped_column(Integer)
    # active | cancelled | checked_in | no_show
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    updated_at: Mapped[dt.datetime] = mapped_column(default=stamp)


class BookingReminder(Base):
    """Outbox of booking reminders (the day before, the morning of the visit): planned with
    the booking, sent once by bot.booking.reminders like the status notifications."""

    __tablename__ = "booking_reminders"
    __table_args__ = (
        UniqueConstraint("booking_id", "kind"),
        Index("ix_booking_reminders_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # day_before | morning | confirm
    due_at: Mapped[dt.datetime] = mapped_column()
    # pending | sending (claimed by a worker) | sent | failed | skipped (the booking was
    # cancelled first) | unknown (a crash after the claim: never sent twice)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    sent_at: Mapped[dt.datetime | None] = mapped_column()


class BookingQuotaVersion(Base):
    """Queue quotas an admin applied from the console (``queues`` block as YAML text). The
    newest one replaces the region file's block at start; the file stays the default."""

    __tablename__ = "booking_quota_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)
