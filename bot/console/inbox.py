"""The officers' inbox at ``/konsol/inbox`` (issue 15): staff see their OPDs' tickets,
admins every OPD.

An open ticket shows its waiting time on the SLA clock (office hours only), the unread count
and the last messages; an officer claims it, transfers it to another OPD (a wrong-agency
question is moved, not closed), replies (text or a canned answer of the OPD), adds internal
notes and closes it with an outcome. The list and the open ticket's thread update live over
server-sent events (``/inbox/events``): the stream says "changed" when the tickets'
signature in the database changes, whichever worker changed it, and the page fetches the
fragment again. The forms sit outside the live part, so a reply being typed is never lost.
NIK and NOP are shown masked until the officer reveals them, which is audited.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.console.auth import Session
from bot.console.html import csrf_field, esc, page, table, wit
from bot.handoff import analytics, sla, store
from bot.handoff.service import Handoff
from bot.privacy import mask_identifiers
from bot.staff.roles import STAFF_OPDS, audit
from bot.storage.models import Event, Ticket, TicketMessage
from bot.storage.repo import as_utc
from bot.yamlsrc import load_yaml_text

logger = logging.getLogger(__name__)
CANNED = Path(__file__).resolve().parents[1] / "handoff" / "canned.yaml"
OUTCOME_LABELS = {
    "terjawab": "Terjawab",
    "diteruskan": "Diteruskan ke kantor",
    "salah_instansi": "Bukan wewenang kami",
    "tidak_dapat_dibantu": "Tidak dapat dibantu lewat chat",
    "tanpa_balasan": "Warga tidak membalas",
}
STATUS_LABELS = {"open": "baru", "claimed": "diambil", "answered": "dijawab", "closed": "ditutup"}
AUTHOR_LABELS = {"citizen": "Warga", "officer": "Petugas", "note": "Catatan", "system": "Sistem"}
HEARTBEAT = 2.0  # seconds between checks of the database (other workers' changes)


@cache
def canned_answers() -> dict[str, list[dict[str, str]]]:
    data = load_yaml_text(CANNED.read_text(encoding="utf-8"), str(CANNED)) or {}
    return {str(opd): [dict(item) for item in items] for opd, items in data.items()}


def add_routes(app: web.Application, handoff: Handoff | None) -> None:
    """The inbox's pages; its live streams end when the web server shuts down."""
    add_pages(app.router)
    if handoff is not None:

        async def closing(_app: web.Application) -> None:
            handoff.hub.close()

        app.on_shutdown.append(closing)


def add_pages(router: web.UrlDispatcher) -> None:
    router.add_get("/inbox", inbox_page)
    router.add_get("/inbox/langsung", inbox_fragment)
    router.add_get("/inbox/events", inbox_events)
    router.add_get("/inbox/analitik", inbox_analytics)
    router.add_get("/inbox/berkas/{id:\\d+}", inbox_file)
    router.add_post("/inbox/{id:\\d+}/{act}", inbox_act)


def _ctx(request: web.Request) -> tuple[Any, Session, Handoff]:
    from bot.console.app import CONSOLE, SESSION

    console = request.app[CONSOLE]
    return console, request[SESSION], console.loket.handoff


def _scope(session: Session) -> list[str] | None:
    """The OPDs whose tickets this person sees (None: all, for an admin)."""
    return None if session.roles.is_admin else list(session.roles.opds)


def _allowed(session: Session, ticket: Ticket) -> bool:
    scope = _scope(session)
    return scope is None or ticket.opd in scope


def _revealed(console: Any, session: Session) -> set[int]:
    store_: dict[str, set[int]] = console.__dict__.setdefault("_revealed", {})
    return store_.setdefault(session.key, set())


def _waited(handoff: Handoff, ticket: Ticket, now: dt.datetime) -> dt.timedelta:
    region = handoff.region
    opd = region.opds.get(ticket.opd)
    office = region.offices.get(opd.office) if opd else None
    end = as_utc(ticket.first_response_at or ticket.closed_at) or now
    if office is None:
        return end - as_utc(ticket.created_at)
    return sla.office_time(
        as_utc(ticket.created_at), end, office.hours, region.holiday_dates, region.timezone
    )


def _text(message: TicketMessage, revealed: bool) -> str:
    return message.text if revealed else mask_identifiers(message.text)


async def _live(request: web.Request, selected: int | None) -> str:
    """The live part: the list of tickets, and the selected ticket's thread."""
    console, session, handoff = _ctx(request)
    now = console.clock()
    revealed = _revealed(console, session)
    async with console.loket.sessions() as db:
        items = await store.inbox(db, _scope(session))
        ticket = await db.get(Ticket, selected) if selected else None
        if ticket is not None and not _allowed(session, ticket):
            ticket = None
        thread = await store.messages(db, ticket.id) if ticket is not None else []
        steps: list[Event] = []
        if ticket is not None and ticket.consent and ticket.user_id is not None:
            since = as_utc(ticket.created_at) - dt.timedelta(hours=2)
            steps = list(
                (
                    await db.scalars(
                        select(Event)
                        .where(Event.user_id == ticket.user_id, Event.at >= since)
                        .where(Event.kind.in_(("intent", "step", "match")))
                        .order_by(Event.id)
                        .limit(30)
                    )
                ).all()
            )
    rows = []
    for item in items:
        t = item.ticket
        waited = _waited(handoff, t, now)
        late = waited > sla.DEFAULT_SLA and t.first_response_at is None
        last = " · ".join(
            f"{AUTHOR_LABELS.get(m.author, m.author)}: {_text(m, t.id in revealed)[:80]}"
            for m in item.last
        )
        unread = f'<span class="unread">{t.unread}</span>' if t.unread else ""
        rows.append(
            f'<li class="ticket{" selected" if ticket is not None and t.id == ticket.id else ""}'
            f'{" late" if late else ""}" data-number="{esc(t.number)}">'
            f'<a href="?t={t.id}"><strong>{esc(t.number)}</strong> {unread}'
            f' <span class="opd">{esc(handoff.short(t.opd))}</span>'
            f' <span class="kind">{"pengaduan" if t.kind == "complaint" else "pertanyaan"}'
            f"{_category(t)}"
            "</span>"
            f' <span class="status">{esc(STATUS_LABELS.get(t.status, t.status))}</span>'
            f' <span class="waited" title="waktu tunggu (jam kerja)">'
            f"{esc(sla.waited_text(waited))}{' · lewat SLA' if late else ''}</span>"
            f'<br><span class="last">{esc(last if t.erased_at is None else store.ERASED_TEXT)}'
            "</span></a></li>"
        )
    listing = (
        f'<ul id="tickets">{"".join(rows)}</ul>'
        if rows
        else '<p id="tickets" class="empty">Tidak ada tiket terbuka.</p>'
    )
    detail = ""
    if ticket is not None:
        shown = ticket.id in revealed
        bubbles = []
        for m in thread:
            attach = (
                f' <a class="file" href="/konsol/inbox/berkas/{m.id}" target="_blank" '
                f'rel="noopener">[{esc(m.file_kind or "berkas")}: lihat (dicatat)]</a>'
                if m.file_id
                else ""
            )
            bubbles.append(
                f'<div class="msg {esc(m.author)}"><span class="who">'
                f"{esc(AUTHOR_LABELS.get(m.author, m.author))} · {esc(wit(m.at))}</span>"
                f"<div>{esc(_text(m, shown))}{attach}</div></div>"
            )
        if ticket.erased_at is not None:
            bubbles.append(f'<p class="erased">{esc(store.ERASED_TEXT)}</p>')
        consent = (
            "Warga mengizinkan langkahnya bersama bot ditampilkan: "
            + esc(", ".join(dict.fromkeys(s.intent or s.step or "" for s in steps if s.intent)))
            if ticket.consent
            else "Warga tidak mengizinkan percakapannya dengan bot ditampilkan."
        )
        detail = (
            f'<section id="thread" data-id="{ticket.id}"><h2>{esc(ticket.number)} · '
            f"{esc(handoff.short(ticket.opd))} · {esc(STATUS_LABELS.get(ticket.status, ''))}"
            f'</h2><p class="consent">{consent}</p>{"".join(bubbles)}</section>'
        )
    return f'<div class="inbox-cols"><div>{listing}</div><div>{detail}</div></div>'


def _category(ticket: Ticket) -> str:
    if not ticket.category:
        return ""
    return " · " + esc(store.COMPLAINT_CATEGORIES.get(ticket.category, ticket.category))


def _forms(session: Session, ticket: Ticket | None) -> str:
    if ticket is None or ticket.status == "closed":
        return ""
    base = f"/konsol/inbox/{ticket.id}"
    canned = "".join(
        f'<option value="{i}">{esc(item["title"])}</option>'
        for i, item in enumerate(canned_answers().get(ticket.opd, []))
    )
    others = "".join(
        f'<option value="{esc(o)}">{esc(o)}</option>' for o in STAFF_OPDS if o != ticket.opd
    )
    outcomes = "".join(f'<option value="{k}">{esc(v)}</option>' for k, v in OUTCOME_LABELS.items())
    csrf = csrf_field(session)
    erased = ticket.erased_at is not None
    choices = "".join(
        f'<option value="{k}"{" selected" if k == ticket.category else ""}>{esc(v)}</option>'
        for k, v in store.COMPLAINT_CATEGORIES.items()
    )
    category = (
        f'<form method="post" action="{base}/kategori" class="inline">{csrf}'
        f'<label for="category">Kategori pengaduan</label><select id="category" name="category">'
        f'{choices}</select><button type="submit" id="categorise">Simpan kategori</button></form>'
        if ticket.kind == "complaint"
        else ""
    )
    reply = (
        ""
        if erased
        else (
            f'<form method="post" action="{base}/balas" class="reply">{csrf}'
            '<label for="reply-text">Balasan untuk warga</label>'
            '<textarea id="reply-text" name="text" rows="3"></textarea>'
            f'<label for="canned">Jawaban siap pakai</label><select id="canned" name="canned">'
            f'<option value="">(tidak ada)</option>{canned}</select>'
            '<button type="submit" id="send-reply">Kirim balasan</button></form>'
        )
    )
    return (
        '<div class="actions">'
        f'<form method="post" action="{base}/ambil" class="inline">{csrf}'
        '<button type="submit" id="claim">Ambil tiket</button></form>'
        f'<form method="post" action="{base}/buka" class="inline">{csrf}'
        '<button type="submit" id="reveal">Tampilkan NIK/NOP (dicatat)</button></form>'
        f"{reply}"
        f'<form method="post" action="{base}/catatan">{csrf}'
        '<label for="note-text">Catatan internal (tidak dikirim ke warga)</label>'
        '<input type="text" id="note-text" name="text">'
        '<button type="submit" id="add-note">Simpan catatan</button></form>'
        f"{category}"
        f"{category}"
        f'<form method="post" action="{base}/pindah" class="inline">{csrf}'
        f'<label for="to-opd">Pindahkan ke</label><select id="to-opd" name="opd">{others}</select>'
        '<button type="submit" id="transfer">Pindahkan</button></form>'
        f'<form method="post" action="{base}/tutup" class="inline">{csrf}'
        f'<label for="outcome">Hasil</label><select id="outcome" name="outcome">{outcomes}'
        '</select><button type="submit" id="close">Tutup tiket</button></form></div>'
    )


def _refused(session: Session) -> web.Response | None:
    if session.roles.is_citizen:
        return web.Response(status=403, text="Halaman ini untuk petugas.")
    return None


def _selected(request: web.Request) -> int | None:
    value = request.query.get("t", "")
    return int(value) if value.isdigit() else None


async def inbox_page(request: web.Request) -> web.Response:
    console, session, _handoff = _ctx(request)
    if (refused := _refused(session)) is not None:
        return refused
    selected = _selected(request)
    ticket = None
    if selected is not None:
        async with console.loket.sessions() as db, db.begin():
            ticket = await db.get(Ticket, selected)
            if ticket is not None and _allowed(session, ticket):
                await store.mark_read(db, ticket)
            else:
                ticket = None
    live = await _live(request, selected)
    body = (
        '<link rel="stylesheet" href="/konsol/static/inbox.css">'
        '<script src="/konsol/static/inbox.js" defer></script>'
        '<p><a href="/konsol/inbox/analitik" id="ticket-analytics">Analitik tiket</a></p>'
        f'<div id="live" data-url="/konsol/inbox/langsung?t={selected or ""}" '
        f'data-events="/konsol/inbox/events">{live}</div>{_forms(session, ticket)}'
    )
    return web.Response(text=page("Kotak masuk petugas", body, session), content_type="text/html")


async def inbox_fragment(request: web.Request) -> web.Response:
    _console, session, _handoff = _ctx(request)
    if (refused := _refused(session)) is not None:
        return refused
    return web.Response(text=await _live(request, _selected(request)), content_type="text/html")


async def inbox_events(request: web.Request) -> web.StreamResponse:
    """``data: changed`` whenever the inbox's tickets change; a comment line every
    HEARTBEAT seconds, which also notices a closed page."""
    console, session, handoff = _ctx(request)
    if (refused := _refused(session)) is not None:
        return refused
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'",
        }
    )
    await response.prepare(request)
    scope = _scope(session)
    seen: tuple[object, ...] | None = None
    try:
        while True:
            async with console.loket.sessions() as db:
                now = await store.signature(db, scope)
            if seen is not None and now != seen:
                await response.write(b"data: changed\n\n")
            elif seen is None:
                await response.write(b"retry: 1000\n\n")
            else:
                await response.write(b": ok\n\n")
            seen = now
            await handoff.hub.wait(HEARTBEAT)
            if handoff.hub.closing:
                break
    except (ConnectionResetError, asyncio.CancelledError, RuntimeError):
        pass
    return response


async def inbox_act(request: web.Request) -> web.StreamResponse:
    console, session, handoff = _ctx(request)
    if (refused := _refused(session)) is not None:
        return refused
    ticket_id = int(request.match_info["id"])
    act = request.match_info["act"]
    form = await request.post()
    now = console.clock()
    async with console.loket.sessions() as db, db.begin():
        ticket = await db.get(Ticket, ticket_id)
        if ticket is None or not _allowed(session, ticket):
            return web.Response(status=404, text="Tiket tidak ditemukan.")
        officer = session.user_id
        if act == "ambil":
            await store.claim(db, ticket, officer, now)
        elif act == "balas":
            text = str(form.get("text", "")).strip()
            canned = str(form.get("canned", ""))
            if not text and canned.isdigit():
                answers = canned_answers().get(ticket.opd, [])
                text = answers[int(canned)]["text"] if int(canned) < len(answers) else ""
            if text and ticket.status != "closed" and ticket.erased_at is None:
                await store.reply(db, ticket, officer, text[:3500], now)
        elif act == "catatan":
            text = str(form.get("text", "")).strip()
            if text:
                await store.note(db, ticket, officer, text[:2000], now)
        elif act == "pindah":
            opd = str(form.get("opd", ""))
            if opd in STAFF_OPDS and opd != ticket.opd:
                await store.transfer(db, ticket, opd, officer, now)
        elif act == "tutup":
            outcome = str(form.get("outcome", ""))
            if outcome in OUTCOME_LABELS and ticket.status != "closed":
                await store.close(db, ticket, officer, outcome, now)
        elif act == "kategori":
            category = str(form.get("category", ""))
            if category in store.COMPLAINT_CATEGORIES:
                await store.categorise(db, ticket, category, officer, now)
        elif act == "buka":
            await audit(
                db, officer, "ticket.reveal", f"ticket:{ticket.number}", {"opd": ticket.opd}
            )
            _revealed(console, session).add(ticket.id)
        else:
            return web.Response(status=404, text="Tindakan tidak dikenal.")
    handoff.hub.changed()
    return web.Response(status=303, headers={"Location": f"/konsol/inbox?t={ticket_id}"})


def _duration(seconds: float | None) -> str:
    return "-" if seconds is None else sla.waited_text(dt.timedelta(seconds=seconds))


async def inbox_analytics(request: web.Request) -> web.Response:
    """Handoff rate and per-OPD times (office time) over the last 30 days."""
    console, session, handoff = _ctx(request)
    if (refused := _refused(session)) is not None:
        return refused
    async with console.loket.sessions() as db:
        found = await analytics.report(db, handoff.region, console.clock())
    scope = _scope(session)
    rows = [
        (
            handoff.short(s.opd),
            s.tickets,
            s.open,
            s.abandoned,
            _duration(s.first_response_median),
            _duration(s.first_response_p90),
            _duration(s.close_median),
            _duration(s.close_p90),
        )
        for s in found.per_opd
        if scope is None or s.opd in scope
    ]
    body = (
        f"<p>Sejak {esc(wit(found.since))}: {found.citizens} warga memakai bot, "
        f'{found.tickets} meminta petugas (<strong id="handoff-rate">'
        f"{found.handoff_rate:.1%}</strong>). Waktu dihitung pada jam kerja saja.</p>"
        + table(
            (
                "OPD",
                "Tiket",
                "Masih terbuka",
                "Ditutup tanpa jawaban",
                "Jawaban pertama (median)",
                "Jawaban pertama (p90)",
                "Sampai ditutup (median)",
                "Sampai ditutup (p90)",
            ),
            rows,
            table_id="handoff-stats",
        )
        + '<p><a href="/konsol/inbox">Kembali ke kotak masuk</a></p>'
    )
    return web.Response(
        text=page("Analitik tiket petugas", body, session), content_type="text/html"
    )


def telegram_files(bot: Any) -> Callable[[str], Awaitable[bytes]]:
    """Fetches a citizen's photo or document from Telegram (``getFile`` + download)."""

    async def fetch(file_id: str) -> bytes:
        found = await bot.get_file(file_id)
        return bytes(await found.download_as_bytearray())

    return fetch


async def inbox_file(request: web.Request) -> web.Response:
    """A photo or document of a ticket, for an officer of its OPD; every view is audited
    (a photo of a KK carries every NIK of the family)."""
    console, session, _handoff = _ctx(request)
    if (refused := _refused(session)) is not None:
        return refused
    async with console.loket.sessions() as db, db.begin():
        message = await db.get(TicketMessage, int(request.match_info["id"]))
        ticket = await db.get(Ticket, message.ticket_id) if message is not None else None
        if (
            message is None
            or ticket is None
            or not message.file_id
            or not _allowed(session, ticket)
        ):
            return web.Response(status=404, text="Berkas tidak ditemukan.")
        await audit(
            db, session.user_id, "ticket.file", f"ticket:{ticket.number}", {"message": message.id}
        )
        file_id, kind = message.file_id, message.file_kind
    if console.fetch_file is None:
        return web.Response(status=503, text="Berkas hanya bisa diambil saat bot berjalan.")
    try:
        data = await console.fetch_file(file_id)
    except Exception as error:  # Telegram forgot it, or is away
        logger.warning("ticket file not fetched: %s", mask_identifiers(repr(error)))
        return web.Response(status=502, text="Berkas tidak dapat diambil dari Telegram.")
    if kind == "photo":
        png = data.startswith(b"\x89PNG")  # Telegram's photos are JPEG; a resent PNG is not
        return web.Response(body=data, content_type="image/png" if png else "image/jpeg")
    return web.Response(
        body=data,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{ticket.number}-{message.id}"'},
    )
