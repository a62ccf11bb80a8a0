"""Ticket queries: small named functions on an ``AsyncSession``, SQLite and PostgreSQL alike.

Every officer act that the citizen must hear of (a reply, a close) writes its outbox row in
the same transaction as the act, so it is delivered even if the process stops right after.
The ``citizen_requests`` row of the same reference follows the ticket's status, so the
existing "cek pengaduan LKT-..." lookup answers with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import CitizenRequest, Ticket, TicketMessage, TicketOutbox, User
from bot.storage.repo import as_utc

STATUSES = ("open", "claimed", "answered", "closed")
ACTIVE = ("open", "claimed", "answered")
OUTCOMES = ("terjawab", "diteruskan", "salah_instansi", "tidak_dapat_dibantu", "tanpa_balasan")
ERASED_TEXT = "data dihapus atas permintaan warga"
# What a complaint is about, set by the officer (the citizen is not asked another question).
COMPLAINT_CATEGORIES = {
    "pungutan": "Pungutan / diminta uang",
    "lambat": "Layanan lambat / tidak selesai",
    "sikap": "Sikap petugas",
    "informasi": "Informasi salah atau tidak jelas",
    "fasilitas": "Fasilitas / tempat layanan",
    "lainnya": "Lainnya",
}


@dataclass(frozen=True, slots=True)
class InboxItem:
    ticket: Ticket
    last: Sequence[TicketMessage]


async def open_ticket(
    session: AsyncSession,
    *,
    number: str,
    user_id: int,
    opd: str,
    kind: str,
    consent: bool,
    message: str,
    now: dt.datetime,
    category: str | None = None,
) -> Ticket:
    """A new ticket with the citizen's question as its first message."""
    now = as_utc(now)  # SQLite keeps no zone: every stored time is UTC
    ticket = Ticket(
        number=number,
        user_id=user_id,
        opd=opd,
        kind=kind,
        consent=consent,
        category=category,
        status="open",
        unread=1 if message else 0,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    await session.flush()
    if message:
        session.add(TicketMessage(ticket_id=ticket.id, author="citizen", text=message, at=now))
    return ticket


async def by_number(session: AsyncSession, number: str) -> Ticket | None:
    return await session.scalar(select(Ticket).where(Ticket.number == number))


async def add_citizen_message(
    session: AsyncSession,
    ticket: Ticket,
    *,
    text: str,
    now: dt.datetime,
    file_id: str | None = None,
    file_kind: str | None = None,
) -> TicketMessage:
    now = as_utc(now)
    message = TicketMessage(
        ticket_id=ticket.id,
        author="citizen",
        text=text,
        file_id=file_id,
        file_kind=file_kind,
        at=now,
    )
    session.add(message)
    ticket.unread += 1
    ticket.updated_at = now
    if ticket.status == "answered":  # the citizen wrote back: it waits for the officer again
        ticket.status = "claimed" if ticket.assignee_user_id else "open"
    return message


async def inbox(
    session: AsyncSession, opds: Sequence[str] | None, *, closed: bool = False, last: int = 3
) -> list[InboxItem]:
    """Tickets of ``opds`` (None: every OPD, for an admin), oldest waiting first."""
    statement = select(Ticket).where(
        Ticket.status == "closed" if closed else Ticket.status.in_(ACTIVE)
    )
    if opds is not None:
        statement = statement.where(Ticket.opd.in_(list(opds)))
    tickets = (await session.scalars(statement.order_by(Ticket.created_at, Ticket.id))).all()
    items = []
    for ticket in tickets:
        rows = (
            await session.scalars(
                select(TicketMessage)
                .where(TicketMessage.ticket_id == ticket.id, TicketMessage.author != "note")
                .order_by(TicketMessage.id.desc())
                .limit(last)
            )
        ).all()
        items.append(InboxItem(ticket, list(reversed(rows))))
    return items


async def messages(session: AsyncSession, ticket_id: int) -> list[TicketMessage]:
    return list(
        (
            await session.scalars(
                select(TicketMessage)
                .where(TicketMessage.ticket_id == ticket_id)
                .order_by(TicketMessage.id)
            )
        ).all()
    )


async def signature(session: AsyncSession, opds: Sequence[str] | None) -> tuple[object, ...]:
    """Changes whenever anything an inbox shows changes (for the live updates, across
    workers: a message handled by another process changes it too)."""
    tickets = select(func.count(Ticket.id), func.max(Ticket.updated_at))
    notes = select(func.count(TicketMessage.id)).join(Ticket)
    if opds is not None:
        tickets = tickets.where(Ticket.opd.in_(list(opds)))
        notes = notes.where(Ticket.opd.in_(list(opds)))
    count, latest = (await session.execute(tickets)).one()
    return (count, str(latest), await session.scalar(notes))


def _sync_request(number: str, status: str) -> object:
    request_status = "closed" if status == "closed" else status
    return (
        update(CitizenRequest)
        .where(CitizenRequest.reference == number)
        .values(status=request_status)
    )


async def claim(session: AsyncSession, ticket: Ticket, officer: int, now: dt.datetime) -> None:
    now = as_utc(now)
    ticket.assignee_user_id = officer
    if ticket.status == "open":
        ticket.status = "claimed"
    ticket.unread = 0
    ticket.updated_at = now
    session.add(
        TicketMessage(ticket_id=ticket.id, author="system", text="diambil petugas", at=now)
    )
    await session.execute(_sync_request(ticket.number, ticket.status))


async def mark_read(session: AsyncSession, ticket: Ticket) -> None:
    if ticket.unread:
        ticket.unread = 0


async def transfer(
    session: AsyncSession, ticket: Ticket, opd: str, officer: int, now: dt.datetime
) -> None:
    """A wrong-agency question is moved, not closed: it waits in the other OPD's inbox."""
    now = as_utc(now)
    previous = ticket.opd
    ticket.opd = opd
    ticket.status = "open"
    ticket.assignee_user_id = None
    ticket.updated_at = now
    session.add(
        TicketMessage(
            ticket_id=ticket.id,
            author="system",
            officer_user_id=officer,
            text=f"dipindahkan dari {previous} ke {opd}",
            at=now,
        )
    )
    await session.execute(
        update(CitizenRequest).where(CitizenRequest.reference == ticket.number).values(opd=opd)
    )


async def reply(
    session: AsyncSession, ticket: Ticket, officer: int, text: str, now: dt.datetime
) -> TicketOutbox | None:
    """The officer's answer, and its outbox row (none when the citizen erased their data)."""
    now = as_utc(now)
    session.add(
        TicketMessage(
            ticket_id=ticket.id, author="officer", officer_user_id=officer, text=text, at=now
        )
    )
    ticket.status = "answered"
    ticket.assignee_user_id = ticket.assignee_user_id or officer
    ticket.first_response_at = ticket.first_response_at or now
    ticket.unread = 0
    ticket.updated_at = now
    await session.execute(_sync_request(ticket.number, "answered"))
    return _outbox(session, ticket, "reply", text, now)


async def categorise(
    session: AsyncSession, ticket: Ticket, category: str, officer: int, now: dt.datetime
) -> None:
    now = as_utc(now)
    ticket.category = category
    ticket.updated_at = now
    session.add(
        TicketMessage(
            ticket_id=ticket.id,
            author="system",
            officer_user_id=officer,
            text=f"kategori: {COMPLAINT_CATEGORIES.get(category, category)}",
            at=now,
        )
    )


async def note(
    session: AsyncSession, ticket: Ticket, officer: int, text: str, now: dt.datetime
) -> None:
    """An internal note: officers only, never sent to the citizen."""
    now = as_utc(now)
    session.add(
        TicketMessage(
            ticket_id=ticket.id, author="note", officer_user_id=officer, text=text, at=now
        )
    )
    ticket.updated_at = now


async def close(
    session: AsyncSession, ticket: Ticket, officer: int, outcome: str, now: dt.datetime
) -> TicketOutbox | None:
    now = as_utc(now)
    ticket.status = "closed"
    ticket.outcome = outcome
    ticket.closed_at = now
    ticket.updated_at = now
    ticket.unread = 0
    session.add(
        TicketMessage(
            ticket_id=ticket.id,
            author="system",
            officer_user_id=officer,
            text=f"ditutup: {outcome}",
            at=now,
        )
    )
    await session.execute(_sync_request(ticket.number, "closed"))
    return _outbox(session, ticket, "closed", outcome, now)


def _outbox(
    session: AsyncSession, ticket: Ticket, kind: str, text: str, now: dt.datetime
) -> TicketOutbox | None:
    if ticket.user_id is None:
        return None
    row = TicketOutbox(
        ticket_id=ticket.id,
        user_id=ticket.user_id,
        kind=kind,
        text=text,
        state="pending",
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


async def erase_for_user(session: AsyncSession, user_id: int, now: dt.datetime) -> int:
    """/hapusdata: the citizen's messages go; the ticket row stays (an officer's work on it
    is the regency's record) with no link to them, marked as erased at their request."""
    ids = list((await session.scalars(select(Ticket.id).where(Ticket.user_id == user_id))).all())
    if not ids:
        return 0
    await session.execute(delete(TicketMessage).where(TicketMessage.ticket_id.in_(ids)))
    await session.execute(delete(TicketOutbox).where(TicketOutbox.ticket_id.in_(ids)))
    await session.execute(
        update(Ticket)
        .where(Ticket.id.in_(ids))
        .values(user_id=None, erased_at=now, updated_at=now, consent=False)
    )
    return len(ids)


async def for_user(
    session: AsyncSession, user_id: int
) -> list[tuple[Ticket, list[TicketMessage]]]:
    """The citizen's tickets with their messages (internal notes excluded), for the export."""
    found = []
    for ticket in (
        await session.scalars(select(Ticket).where(Ticket.user_id == user_id).order_by(Ticket.id))
    ).all():
        rows = [m for m in await messages(session, ticket.id) if m.author != "note"]
        found.append((ticket, rows))
    return found


async def purge_closed(session: AsyncSession, before: dt.datetime) -> int:
    """Retention: tickets closed, erased or untouched (abandoned) before ``before``, with
    their messages and outbox rows."""
    old = select(Ticket.id).where(
        ((Ticket.status == "closed") & (Ticket.closed_at < before))
        | (Ticket.erased_at < before)
        | (Ticket.updated_at < before)
    )
    ids = list((await session.scalars(old)).all())
    if ids:
        await session.execute(delete(TicketMessage).where(TicketMessage.ticket_id.in_(ids)))
        await session.execute(delete(TicketOutbox).where(TicketOutbox.ticket_id.in_(ids)))
        await session.execute(delete(Ticket).where(Ticket.id.in_(ids)))
    return len(ids)


async def user_of(session: AsyncSession, ticket: Ticket) -> User | None:
    return await session.get(User, ticket.user_id) if ticket.user_id is not None else None


def waiting_since(ticket: Ticket) -> dt.datetime:
    return as_utc(ticket.created_at)
