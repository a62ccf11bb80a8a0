"""The officers' pages for queue numbers (issue 18), under ``/konsol/antrean``.

* ``GET /antrean?kantor=&tanggal=``: the day's list per session, print-friendly (the browser's
  print hides the navigation and the forms). Loket stores no citizen names: a row shows the
  queue number, the booking code the citizen shows at the counter, the service and the chat
  channel with its id masked to the last two digits, which is all the counter needs.
* ``POST /antrean/hadir``: check-in by code; ``POST /antrean/{id}/tidak-datang``: no-show.
* Fill rate and no-show rate per service over the 30 days up to the chosen date.
* ``GET/POST /antrean/kuota`` (admins): the ``queues`` block checked like at start-up (a
  mistake is shown with its line, nothing changes), and applied with "Terapkan"
  (bot/booking/editor.py).

Staff see the offices of their OPDs (``opds.<key>.office`` in the region file); admins all.
Dates are WIT, "today" from the injected clock.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot.booking import editor, store
from bot.console.html import csrf_field, esc, page, table
from bot.storage.models import Booking, User
from bot.yamlsrc import YamlError

STATUS_TEXT = {
    "active": "terdaftar",
    "checked_in": "hadir",
    "no_show": "tidak datang",
    "cancelled": "dibatalkan",
}
CHECK_IN_TEXT = {
    "ok": "Hadir: {code}, nomor {number} ({service}, sesi {session}).",
    "unknown": "Kode {code} tidak ada untuk kantor ini.",
    "other_day": "Kode {code} untuk tanggal {day}, bukan hari ini.",
    "checked_in": "Kode {code} sudah tercatat hadir.",
    "cancelled": "Kode {code} sudah dibatalkan.",
    "no_show": "Kode {code} sudah ditandai tidak datang.",
}
# A stylesheet of its own (the console's CSP allows no inline style): print hides the forms.
PRINT_CSS = '<link rel="stylesheet" href="/konsol/static/booking.css">'


def _console(request: web.Request) -> Any:
    from bot.console.app import CONSOLE

    return request.app[CONSOLE]


def _session(request: web.Request) -> Any:
    from bot.console.app import SESSION

    return request[SESSION]


def _offices(request: web.Request) -> list[str]:
    """The offices with a queue this person may see."""
    loket = _console(request).loket
    roles = _session(request).roles
    with_queue = sorted({office for office, _s in loket.region.queues.queues})
    if roles.is_admin:
        return with_queue
    mine = {loket.region.opds[o].office for o in roles.opds if o in loket.region.opds}
    return [office for office in with_queue if office in mine]


def _today(request: web.Request) -> dt.date:
    loket = _console(request).loket
    return loket.region.now(loket.clock()).date()


def _masked(user: User | None) -> str:
    if user is None:
        return "-"
    tail = user.external_id[-2:] if len(user.external_id) > 2 else ""
    return f"{user.channel} ··{tail}"


def _day_param(text: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(text) if text else default
    except ValueError:
        return default


async def _rates(loket: Any, office: str, end: dt.date) -> list[tuple[str, int, int, str, str]]:
    """Per service over the 30 days up to ``end``: seats offered, numbers taken, fill rate,
    no-show rate (of the numbers whose day has been served: came or did not)."""
    start = end - dt.timedelta(days=29)
    async with loket.sessions() as session:
        rows = (
            await session.execute(
                select(Booking.service, Booking.status, func.count())
                .where(Booking.office == office, Booking.day >= start, Booking.day <= end)
                .group_by(Booking.service, Booking.status)
            )
        ).all()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for service, status, n in rows:
        counts[service][status] += int(n)
    result = []
    for (queue_office, service), queue in sorted(loket.region.queues.queues.items()):
        if queue_office != office:
            continue
        offered = sum(
            sum(s.quota for s in queue.sessions)
            for offset in range(30)
            if queue.is_open_on(start + dt.timedelta(days=offset), loket.region.holiday_dates)
        )
        by_status = counts.get(service, {})
        taken = sum(n for status, n in by_status.items() if status != "cancelled")
        served = by_status.get("checked_in", 0) + by_status.get("no_show", 0)
        fill = f"{100 * taken / offered:.1f}%" if offered else "-"
        no_show = f"{100 * by_status.get('no_show', 0) / served:.0f}%" if served else "-"
        result.append((service, offered, taken, fill, no_show))
    return result


async def day_page(request: web.Request) -> web.Response:
    from bot.console.app import BASE, _html, _refuse

    offices = _offices(request)
    if not offices:
        return _refuse(request, 403, "Tidak ada kantor dengan antrean untuk peran Anda.")
    office = request.query.get("kantor") or offices[0]
    if office not in offices:
        return _refuse(request, 403, "Kantor ini bukan kantor OPD Anda.")
    today = _today(request)
    day = _day_param(request.query.get("tanggal"), today)
    console = _console(request)
    loket = console.loket
    session_ = _session(request)
    async with loket.sessions() as db:
        rows = await store.day_list(db, office, day)
        users = {
            u.id: u
            for u in (
                await db.scalars(select(User).where(User.id.in_({r.user_id for r in rows})))
            ).all()
        }
    notice = request.query.get("pesan", "")
    choose = "".join(
        f'<option value="{esc(o)}"{" selected" if o == office else ""}>{esc(o)}</option>'
        for o in offices
    )
    parts = [
        PRINT_CSS,
        f'<p id="notice" class="ok">{esc(notice)}</p>' if notice else "",
        f'<form method="get" action="{BASE}/antrean" class="noprint">'
        f'<label>Kantor <select name="kantor">{choose}</select></label> '
        f'<label>Tanggal <input type="date" name="tanggal" value="{day.isoformat()}"></label> '
        '<button type="submit">Tampilkan</button></form>',
        f'<h2 id="day">{esc(office)}: {esc(day.isoformat())}</h2>',
    ]
    if day == today:
        parts.append(
            f'<form method="post" action="{BASE}/antrean/hadir" id="check-in">'
            f"{csrf_field(session_)}"
            f'<input type="hidden" name="kantor" value="{esc(office)}">'
            '<label>Kode booking <input type="text" name="kode" id="kode" required '
            'autocomplete="off" placeholder="ANT-XXXXXX"></label> '
            '<button type="submit" id="hadir">Catat hadir</button></form>'
        )
    by_session: dict[str, list[Booking]] = defaultdict(list)
    for row in rows:
        by_session[row.session].append(row)
    if not rows:
        parts.append("<p>Belum ada nomor antrean untuk tanggal ini.</p>")
    for key in sorted(by_session):
        table_rows = []
        for row in by_session[key]:
            action = ""
            if row.status == "active" and row.day <= today:
                action = (
                    f'<form method="post" action="{BASE}/antrean/{row.id}/tidak-datang">'
                    f"{csrf_field(session_)}"
                    f'<input type="hidden" name="kantor" value="{esc(office)}">'
                    f'<input type="hidden" name="tanggal" value="{row.day.isoformat()}">'
                    '<button type="submit">Tidak datang</button></form>'
                )
            table_rows.append(
                (
                    esc(row.number),
                    f"<code>{esc(row.code)}</code>",
                    esc(row.title),
                    esc(_masked(users.get(row.user_id))),
                    esc(STATUS_TEXT.get(row.status, row.status)),
                    action,
                )
            )
        parts.append(f"<h3>Sesi {esc(key.replace(':', '.'))} WIT</h3>")
        parts.append(
            table(
                ["No.", "Kode", "Layanan", "Warga", "Status", ""],
                table_rows,
                raw=True,
                table_id=f"sesi-{key.replace(':', '')}",
            )
        )
    rates = await _rates(loket, office, day)
    parts.append("<h2>Keterisian dan ketidakhadiran (30 hari sampai tanggal ini)</h2>")
    parts.append(
        table(
            ["Layanan", "Kuota", "Diambil", "Keterisian", "Tidak datang"],
            rates,
            table_id="rates",
        )
    )
    if session_.roles.is_admin:
        parts.append(f'<p class="noprint"><a href="{BASE}/antrean/kuota">Ubah kuota</a></p>')
    return _html(page("Antrean hari ini", "".join(parts), session_))


async def check_in(request: web.Request) -> web.StreamResponse:
    from bot.console.app import BASE, _redirect, _refuse

    form = await request.post()
    office = str(form.get("kantor", ""))
    if office not in _offices(request):
        return _refuse(request, 403, "Kantor ini bukan kantor OPD Anda.")
    loket = _console(request).loket
    now = loket.region.now(loket.clock())
    code = str(form.get("kode", ""))[:20]
    outcome, booking = await store.check_in(loket.sessions, office, code, now)
    message = CHECK_IN_TEXT.get(outcome, CHECK_IN_TEXT["unknown"]).format(
        code=(booking.code if booking else code.strip().upper()) or "-",
        number=booking.number if booking else "-",
        service=booking.title if booking else "-",
        session=booking.session.replace(":", ".") if booking else "-",
        day=booking.day.isoformat() if booking else "-",
    )
    day = now.date().isoformat()
    return _redirect(
        f"{BASE}/antrean?kantor={_quote(office)}&tanggal={day}&pesan={_quote(message)}"
    )


async def no_show(request: web.Request) -> web.StreamResponse:
    from bot.console.app import BASE, _redirect, _refuse

    form = await request.post()
    office = str(form.get("kantor", ""))
    if office not in _offices(request):
        return _refuse(request, 403, "Kantor ini bukan kantor OPD Anda.")
    loket = _console(request).loket
    booking_id = int(request.match_info["id"])
    async with loket.sessions() as db:
        booking = await db.get(Booking, booking_id)
    if booking is None or booking.office != office:
        return _refuse(request, 404, "Nomor antrean itu tidak ada.")
    now = loket.region.now(loket.clock())
    marked = await store.mark_no_show(loket.sessions, booking_id, now)
    message = (
        f"Nomor {booking.number} ({booking.code}) ditandai tidak datang."
        if marked
        else "Nomor itu tidak bisa ditandai (belum harinya, atau sudah tercatat)."
    )
    day = str(form.get("tanggal", booking.day.isoformat()))
    return _redirect(
        f"{BASE}/antrean?kantor={_quote(office)}&tanggal={_quote(day)}&pesan={_quote(message)}"
    )


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _quota_form(request: web.Request, text: str, result: str) -> str:
    from bot.console.app import BASE

    return (
        f"{result}<p>Blok <code>queues</code> dari berkas wilayah. Diperiksa seperti saat bot "
        "mulai: hari (mon..sun), sesi di dalam jam kantor, kuota 1 sampai 1000, jendela "
        "pemesanan 1 sampai 90 hari.</p>"
        f'<form method="post" action="{BASE}/antrean/kuota">{csrf_field(_session(request))}'
        f'<textarea name="yaml" id="quota-yaml" rows="24" cols="80" spellcheck="false">'
        f"{esc(text)}</textarea><br>"
        '<button type="submit" id="check-quota">Periksa</button> '
        '<button type="submit" name="apply" value="1" id="apply-quota">Terapkan</button></form>'
    )


def _current_block(loket: Any) -> str:
    import yaml

    block = loket.region.raw.get("queues") or {}
    return yaml.safe_dump({"queues": _plain(block)}, allow_unicode=True, sort_keys=False)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def quota_page(request: web.Request) -> web.Response:
    from bot.console.app import _admin_only, _html

    refused = _admin_only(request)
    if refused is not None:
        return refused
    loket = _console(request).loket
    if request.method == "GET":
        body = _quota_form(request, _current_block(loket), "")
        return _html(page("Kuota antrean", body, _session(request)))
    form = await request.post()
    text = str(form.get("yaml", ""))
    session_ = _session(request)
    applying = form.get("apply") is not None
    try:
        if applying:
            config = await editor.save(loket.sessions, loket.region, text, session_.user_id)
        else:
            config = editor.check(text, loket.region)
    except YamlError as error:
        result = (
            '<div class="errors" id="quota-errors"><p>Kuota ditolak, tidak ada yang diubah.</p>'
            f"<pre>baris {error.line}: {esc(error.problem)}</pre></div>"
        )
        body = _quota_form(request, text, result)
        return _html(page("Kuota antrean", body, session_), 422)
    count = len(config.queues)
    if applying:
        message = (
            f"Kuota diterapkan: {count} layanan. Berlaku untuk pemesanan berikutnya; nomor "
            "yang sudah diambil tetap."
        )
    else:
        message = f"Kuota sah: {count} layanan. Tekan Terapkan untuk memakainya."
    result = f'<div class="ok" id="quota-ok"><p>{esc(message)}</p></div>'
    return _html(page("Kuota antrean", _quota_form(request, text, result), session_))


def add_booking_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/antrean", day_page)
    router.add_post("/antrean/hadir", check_in)
    router.add_post("/antrean/{id:\\d+}/tidak-datang", no_show)
    router.add_get("/antrean/kuota", quota_page)
    router.add_post("/antrean/kuota", quota_page)
