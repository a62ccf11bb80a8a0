"""The console's aiohttp application, mounted under ``/konsol`` on ``loket run``'s web server.

Every request passes two middlewares before a handler: ``_guard`` (security headers; a
session is required everywhere except the sign-in page and the static files) and the CSRF
check of every POST (form field ``csrf`` or header ``X-CSRF-Token``, compared in constant
time with the session's token: 403 otherwise). Roles are checked in each handler: flows and
versions are for admins; announcements and analytics for staff, limited to their OPDs.
"""

from __future__ import annotations

import datetime as dt
import hmac
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.broadcast import store
from bot.broadcast.compose import STATUS_WORDS
from bot.broadcast.message import render_announcement
from bot.broadcast.verify import plain
from bot.broadcast.when import SendTimeError, parse_send_time
from bot.console import analytics, inbox, review, review_pages
from bot.console.auth import ConsoleAuth, Session
from bot.console.booking import add_booking_routes
from bot.console.html import csrf_field, esc, page, table, wit
from bot.console.preview import preview_turn, replace_file
from bot.flows.loader import FlowSetError, read_flow_sources
from bot.flows.versions import FlowVersions, VersionInfo, add_example
from bot.staff.audience import OPD_TOPICS, TOPIC_LABELS, Segment, count
from bot.staff.roles import Grant, audit
from bot.storage.models import Announcement, Role, User, utcnow

logger = logging.getLogger(__name__)
BASE = "/konsol"
COOKIE = "loket_konsol"
STATIC_DIR = Path(__file__).with_name("static")
MAX_BODY = 1024 * 1024  # one YAML file in a form; the loader refuses over 512 KiB anyway
PUBLIC = ("/masuk", "/static/")
NEED_MESSAGE = "Tulis pesan perubahan: apa yang diubah dan mengapa. Belum ada yang diterbitkan."
SHIPPED_MESSAGE = "Kembali ke versi bawaan (berkas flows/)"
# What the masking of NIK, NOP and phone numbers leaves (``94**-****-****05``): such a text is
# no sentence a citizen types, so it never becomes an NLU example.
MASK_SHAPED = re.compile(r"\*{2,}|\d\*|\*\d|····")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONSOLE: web.AppKey[Console] = web.AppKey("console", None)  # type: ignore[arg-type]
SESSION: web.RequestKey[Session] = web.RequestKey("console_session", Session)


class Console:
    """The console's dependencies; one per running Loket."""

    def __init__(
        self,
        loket: Any,
        versions: FlowVersions,
        auth: ConsoleAuth,
        *,
        secure_cookie: bool = False,
        clock: Callable[[], dt.datetime] = utcnow,
        wake_broadcasts: Callable[[], None] | None = None,
    ) -> None:
        self.loket = loket
        self.versions = versions
        self.auth = auth
        self.secure_cookie = secure_cookie
        self.clock = clock
        self.wake_broadcasts = wake_broadcasts
        # Downloads a photo or document a citizen sent to a ticket (issue 15), by its channel
        # file id; set where the Telegram bot exists (bot.console.inbox.telegram_files).
        self.fetch_file: Callable[[str], Awaitable[bytes]] | None = None

    def application(self) -> web.Application:
        app = web.Application(middlewares=[_guard, _csrf], client_max_size=MAX_BODY)
        app[CONSOLE] = self
        r = app.router
        r.add_get("/masuk", sign_in_page)
        r.add_post("/masuk", sign_in)
        r.add_post("/keluar", sign_out)
        r.add_get("/", home)
        r.add_get("/alur", flow_list)
        r.add_get("/alur/edit", flow_edit)
        r.add_post("/alur/edit", flow_submit)
        r.add_post("/alur/pratinjau", flow_preview)
        r.add_get("/alur/versi", version_list)
        r.add_get("/alur/versi/{number:\\d+}", version_detail)
        r.add_get("/alur/versi/{number:\\d+}/kembalikan", version_rollback)
        r.add_post("/alur/versi/{number:\\d+}/kembalikan", version_rollback)
        r.add_get("/alur/bawaan", restore_shipped)
        r.add_post("/alur/bawaan", restore_shipped)
        r.add_get("/analitik", analytics_page)
        r.add_get("/analitik.csv", analytics_csv)
        r.add_post("/analitik/contoh", analytics_add_example)
        r.add_get("/periksa", review_show)
        r.add_post("/periksa", review_submit)
        r.add_get("/pengumuman", announcements_page)
        r.add_post("/pengumuman", announcements_submit)
        r.add_post("/pengumuman/{id:\\d+}/batal", announcements_cancel)
        inbox.add_routes(app, getattr(self.loket, "handoff", None))  # officers' inbox (15)
        add_booking_routes(r)  # queue numbers (issue 18): bot/console/booking.py
        r.add_static("/static/", STATIC_DIR)
        return app

    def mount(self, parent: web.Application) -> None:
        """Serves the console under ``/konsol`` of ``parent`` (call before it starts)."""
        parent.add_subapp(BASE, self.application())


def _console(request: web.Request) -> Console:
    return request.app[CONSOLE]


def _session(request: web.Request) -> Session:
    return request[SESSION]


def _redirect(location: str) -> web.Response:
    """303 See Other: after a POST the browser GETs the result (no resubmission on reload)."""
    return web.Response(status=303, headers={"Location": location})


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, content_type="text/html", status=status)


def _refuse(request: web.Request, status: int, message: str) -> web.Response:
    session = request.get(SESSION)
    return _html(
        page("Ditolak" if status == 403 else "Tidak bisa", f"<p>{esc(message)}</p>", session),
        status,
    )


def _local(request: web.Request) -> str:
    """The path inside the console (``/alur``), whatever prefix it is mounted under."""
    path = request.path
    return path[len(BASE) :] or "/" if path.startswith(BASE) else path


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    local = _local(request)
    if not any(local == p or (p.endswith("/") and local.startswith(p)) for p in PUBLIC):
        session = await _console(request).auth.session_of(request.cookies.get(COOKIE))
        if session is None:
            response: web.StreamResponse = _html(
                page(
                    "Silakan masuk",
                    "<p>Sesi Anda tidak ada atau sudah berakhir. Kirim <code>/admin</code> "
                    "ke bot Loket untuk mendapat tautan masuk baru.</p>",
                ),
                401,
            )
            _headers(response)
            return response
        request[SESSION] = session
    response = await handler(request)
    _headers(response)
    return response


def _headers(response: web.StreamResponse) -> None:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def _csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    session: Session | None = request.get(SESSION)
    if request.method == "POST" and session is not None:
        sent = request.headers.get("X-CSRF-Token", "")
        if not sent and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            sent = str((await request.post()).get("csrf", ""))
        if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
            logger.warning("console: POST %s without a valid CSRF token", _local(request))
            return _refuse(request, 403, "Formulir ditolak: token keamanan (CSRF) tidak sah.")
    return await handler(request)


def _admin_only(request: web.Request) -> web.Response | None:
    if not _session(request).roles.is_admin:
        return _refuse(request, 403, "Halaman ini hanya untuk admin.")
    return None


# -- sign-in ------------------------------------------------------------------------------------


async def sign_in_page(request: web.Request) -> web.Response:
    """The link from the bot opens this page; the token is used only by the button's POST,
    so a link preview or a prefetch cannot spend it."""
    token = request.query.get("t", "")
    body = (
        "<p>Masuk ke konsol Loket dengan tautan dari bot.</p>"
        f'<form method="post" action="{BASE}/masuk"><input type="hidden" name="t" '
        f'value="{esc(token)}"><button type="submit" id="masuk">Masuk</button></form>'
    )
    return _html(page("Masuk", body))


async def sign_in(request: web.Request) -> web.StreamResponse:
    console = _console(request)
    form = await request.post()
    redeemed = await console.auth.redeem(str(form.get("t", "")))
    if redeemed is None:
        return _html(
            page(
                "Tautan tidak berlaku",
                "<p>Tautan masuk ini sudah dipakai atau sudah kedaluwarsa. Kirim "
                "<code>/admin</code> ke bot untuk tautan baru.</p>",
            ),
            403,
        )
    cookie, _ = redeemed
    response = _redirect(f"{BASE}/")
    response.set_cookie(
        COOKIE,
        cookie,
        path=BASE,
        httponly=True,
        samesite="Strict",
        secure=console.secure_cookie,
        max_age=int(console.auth.session_lifetime.total_seconds()),
    )
    return response


async def sign_out(request: web.Request) -> web.StreamResponse:
    await _console(request).auth.end(_session(request).key)
    response = _redirect(f"{BASE}/masuk")
    response.del_cookie(COOKIE, path=BASE)
    return response


async def home(request: web.Request) -> web.Response:
    session = _session(request)
    roles = session.roles
    who = "admin" if roles.is_admin else "staf " + ", ".join(roles.opds)
    items = []
    if roles.is_admin:
        items.append(
            f'<li><a href="{BASE}/alur">Alur percakapan</a> dan '
            f'<a href="{BASE}/alur/versi">versinya</a></li>'
        )
    items.append(f'<li><a href="{BASE}/periksa">Periksa jawaban</a> (verifikasi OPD)</li>')
    items.append(f'<li><a href="{BASE}/pengumuman">Pengumuman</a></li>')
    items.append(f'<li><a href="{BASE}/analitik">Analitik</a></li>')
    items.append(f'<li><a href="{BASE}/antrean" id="antrean">Antrean kantor</a></li>')
    console = _console(request)
    flows = console.versions.current
    today = console.loket.region.now(console.clock()).date()
    reminder = review_pages.banner(flows, None if roles.is_admin else roles.opds, today)
    body = reminder + (
        f"<p>Anda masuk sebagai {esc(who)}. Versi alur berjalan: "
        f"<code>{esc(flows.version)}</code>.</p><ul>{''.join(items)}</ul>"
    )
    return _html(page("Konsol Loket", body, session))


# -- flows ----------------------------------------------------------------------------------


async def flow_list(request: web.Request) -> web.Response:
    if (refused := _admin_only(request)) is not None:
        return refused
    flows = _console(request).versions.current
    rows = []
    for name in sorted(flows.sources):
        flow = next((f for f in flows.flows.values() if f.path == name), None)
        intents = len(flow.intents) if flow else 0
        rows.append(
            (
                f'<a href="{BASE}/alur/edit?file={esc(name)}">{esc(name)}</a>',
                esc(flow.opd or "" if flow else "contoh kalimat (NLU)"),
                esc(intents),
            )
        )
    body = table(["Berkas", "OPD", "Intent"], rows, raw=True)
    return _html(page("Alur percakapan", body, _session(request)))


def _found(error: FlowSetError) -> list[tuple[str, int, str]]:
    """The errors as the console shows them: file, line and the Indonesian message."""
    return [(e.path, e.line, e.indonesian) for e in error.errors]


def _editor(
    session: Session,
    name: str,
    content: str,
    *,
    errors: list[tuple[str, int, str]] | None = None,
    notice: str = "",
    message: str = "",
    refusal: str = "",
) -> str:
    parts = []
    if notice:
        parts.append(f'<div class="ok" id="notice">{esc(notice)}</div>')
    if refusal:
        parts.append(f'<div class="errors" id="errors"><p>{esc(refusal)}</p></div>')
    if errors:
        lines = content.splitlines()
        items = []
        for path, line, problem in errors:
            excerpt = ""
            if path == name and 1 <= line <= len(lines):
                excerpt = f"<pre>{line:>4} | {esc(lines[line - 1])}</pre>"
            items.append(
                f'<li data-line="{line}"><strong>{esc(path)}, baris {line}:</strong> '
                f"{esc(problem)}{excerpt}</li>"
            )
        parts.append(
            '<div class="errors" id="errors"><p>Alur tidak valid; tidak ada yang disimpan '
            f"atau diterbitkan.</p><ul>{''.join(items)}</ul></div>"
        )
    gutter = "\n".join(str(n) for n in range(1, content.count("\n") + 2)) + "\n "
    parts.append(
        '<div class="cols"><div>'
        f'<form method="post" action="{BASE}/alur/edit?file={esc(name)}">{csrf_field(session)}'
        '<div class="editor"><pre class="gutter" id="gutter" aria-hidden="true">'
        f"{gutter}</pre>"
        '<textarea id="source" name="content" rows="32" wrap="off" spellcheck="false" '
        f'autocapitalize="off" autocomplete="off" aria-label="Isi berkas YAML">{esc(content)}'
        "</textarea></div>"
        '<p><button type="submit" name="do" value="validasi" id="validate" formnovalidate>'
        "Periksa</button></p>"
        '<p><label>Pesan perubahan (wajib) <input type="text" name="message" id="message" '
        f'maxlength="500" required value="{esc(message)}"></label> '
        '<button type="submit" name="do" value="terbitkan" id="publish">Terbitkan</button></p>'
        "</form></div>"
        "<div><h2>Pratinjau</h2><p>Percakapan uji dengan alur yang sedang disunting; tidak "
        "tersimpan.</p>"
        f'<div id="preview-log"></div><form id="preview-form" data-url="{BASE}/alur/pratinjau" '
        f'data-file="{esc(name)}"><input type="text" id="preview-text" size="30" '
        'placeholder="Tulis seperti warga"> <button type="submit" id="preview-send">Kirim'
        '</button> <button type="button" id="preview-reset">Ulang</button></form></div></div>'
    )
    return page(f"Sunting {name}", "".join(parts), session)


def _may_not_edit(request: web.Request, name: str) -> web.Response | None:
    """Admins edit every file; staff the flow file of their own OPD (issue 14: "Perlu
    diubah" in the review queue opens the editor)."""
    flows = _console(request).versions.current
    if not review.may_edit(_session(request).roles, flows, name):
        return _refuse(request, 403, "Halaman ini hanya untuk admin atau staf OPD pemilik alur.")
    return None


async def flow_edit(request: web.Request) -> web.Response:
    name = request.query.get("file", "")
    if (refused := _may_not_edit(request, name)) is not None:
        return refused
    sources = _console(request).versions.current.sources
    if name not in sources:
        return _refuse(request, 404, "Berkas alur tidak dikenal.")
    return _html(_editor(_session(request), name, sources[name]))


async def flow_submit(request: web.Request) -> web.Response:
    """``do=validasi``: check only. ``do=terbitkan``: check, then publish a new version."""
    name = request.query.get("file", "")
    if (refused := _may_not_edit(request, name)) is not None:
        return refused
    console = _console(request)
    session = _session(request)
    current = console.versions.current.sources
    if name not in current:
        return _refuse(request, 404, "Berkas alur tidak dikenal.")
    form = await request.post()
    content = str(form.get("content", ""))
    message = str(form.get("message", ""))
    sources = replace_file(current, name, content)
    content = sources[name]
    try:
        console.versions.check(sources)
    except FlowSetError as error:
        return _html(_editor(session, name, content, errors=_found(error), message=message), 422)
    if form.get("do") != "terbitkan":
        return _html(_editor(session, name, content, notice="Alur valid.", message=message))
    if sources == current:
        return _html(_editor(session, name, content, notice="Tidak ada perubahan."))
    if not message.strip():  # a version's message is what the history is read by
        return _html(_editor(session, name, content, refusal=NEED_MESSAGE), 422)
    try:
        info = await console.versions.publish(
            sources, author_user_id=session.user_id, message=message
        )
    except FlowSetError as error:  # changed under us by another publish: show, save nothing
        return _html(_editor(session, name, content, errors=_found(error), message=message), 422)
    return _redirect(f"{BASE}/alur/versi/{info.number}")


async def flow_preview(request: web.Request) -> web.Response:
    console = _console(request)
    try:
        payload = await request.json()
    except json.JSONDecodeError:
        return web.json_response({"errors": ["permintaan tidak sah"]}, status=400)
    if not isinstance(payload, dict):
        return web.json_response({"errors": ["permintaan tidak sah"]}, status=400)
    current = console.versions.current.sources
    name = str(payload.get("file", ""))
    if not review.may_edit(_session(request).roles, console.versions.current, name):
        return web.json_response({"errors": ["hanya untuk admin atau staf OPD"]}, status=403)
    if name not in current:
        return web.json_response({"errors": ["berkas tidak dikenal"]}, status=404)
    sources = replace_file(current, name, str(payload.get("content", "")))
    result = await preview_turn(
        console.loket, console.versions, sources, payload, now=console.clock()
    )
    return web.json_response(result)


# -- versions -----------------------------------------------------------------------------------


async def version_list(request: web.Request) -> web.Response:
    if (refused := _admin_only(request)) is not None:
        return refused
    console = _console(request)
    versions = await console.versions.list()
    authors = await _authors(console, versions)
    rows = [
        (
            f'<a href="{BASE}/alur/versi/{v.number}">{v.number}</a>',
            esc(_when(console, v.created_at)),
            esc(authors.get(v.author_user_id, "-")),
            esc(v.message),
            esc("; ".join(v.summary.lines())),
        )
        for v in versions
    ]
    body = (
        table(["Versi", "Waktu", "Penulis", "Pesan", "Perubahan"], rows, raw=True)
        if rows
        else "<p>Belum ada versi terbit; bot memakai berkas di folder flows/.</p>"
    )
    body += (
        f'<p><a href="{BASE}/alur/bawaan" id="restore-shipped">Kembalikan ke versi bawaan</a> '
        "(berkas di folder flows/ yang dikirim bersama Loket), sebagai versi baru.</p>"
    )
    return _html(page("Versi alur", body, _session(request)))


def _when(console: Console, moment: dt.datetime) -> str:
    return wit(moment, console.loket.region.timezone)


async def _authors(console: Console, versions: list[VersionInfo]) -> dict[int | None, str]:
    """Who published, as staff know each other: role and Telegram account, not a row id.

    Why not a name: Loket stores no names (docs/data-protection); the Telegram id is what
    admins grant roles by (``/peran beri <id>``). An author who erased their data is NULL.
    """
    ids = {v.author_user_id for v in versions if v.author_user_id is not None}
    found: dict[int | None, str] = {None: "(tidak diketahui)"}
    if not ids:
        return found
    from sqlalchemy import select

    async with console.loket.sessions() as db:
        rows = await db.execute(select(User.id, User.external_id).where(User.id.in_(ids)))
        users = {user_id: external for user_id, external in rows}
        grants: dict[int, list[str]] = {}
        for user_id, role, opd in await db.execute(
            select(Role.user_id, Role.role, Role.opd).where(Role.user_id.in_(ids))
        ):
            grants.setdefault(user_id, []).append(Grant(role, opd).label())
    for user_id in ids:
        roles = ", ".join(sorted(grants.get(user_id, []))) or "tanpa peran"
        account = users.get(user_id)
        found[user_id] = f"{roles} (Telegram {account})" if account else roles
    return found


def _diff_html(diff: str) -> str:
    lines = []
    for line in diff.splitlines():
        css = "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        lines.append(f'<span class="{css}">{esc(line)}</span>' if css else esc(line))
    return '<pre class="diff" id="diff">' + "\n".join(lines) + "</pre>"


async def version_detail(request: web.Request) -> web.Response:
    if (refused := _admin_only(request)) is not None:
        return refused
    console = _console(request)
    session = _session(request)
    number = int(request.match_info["number"])
    info = await console.versions.info(number)
    if info is None:
        return _refuse(request, 404, "Versi tidak ada.")
    diff = await console.versions.diff_of(number)
    author = (await _authors(console, [info]))[info.author_user_id]
    body = (
        f'<p id="version-info">Versi {info.number}, {esc(_when(console, info.created_at))}, '
        f"oleh {esc(author)}: {esc(info.message)}</p>"
        f"<ul>{''.join(f'<li>{esc(line)}</li>' for line in info.summary.lines())}</ul>"
        f"{_diff_html(diff)}"
        f'<p><a href="{BASE}/alur/versi/{number}/kembalikan" id="rollback">Kembalikan ke versi '
        f"{number}</a></p>"
    )
    return _html(page(f"Versi {number}", body, session))


def _confirm_page(request: web.Request, title: str, question: str, action: str) -> web.Response:
    """The step between a button and a change everyone's chats depend on: nothing happens
    until this form is sent with ``konfirmasi=ya`` (checked by the server, not by a script)."""
    session = _session(request)
    body = (
        f'<div class="confirm"><p>{esc(question)}</p>'
        f'<form method="post" action="{esc(action)}">{csrf_field(session)}'
        '<input type="hidden" name="konfirmasi" value="ya">'
        '<button type="submit" id="confirm">Ya, terbitkan sebagai versi baru</button> '
        f'<a href="{BASE}/alur/versi" id="cancel">Batal</a></form></div>'
    )
    return _html(page(title, body, session))


async def _confirmed(request: web.Request) -> bool:
    if request.method != "POST":
        return False
    return str((await request.post()).get("konfirmasi", "")) == "ya"


async def version_rollback(request: web.Request) -> web.Response:
    if (refused := _admin_only(request)) is not None:
        return refused
    console = _console(request)
    number = int(request.match_info["number"])
    if await console.versions.info(number) is None:
        return _refuse(request, 404, "Versi tidak ada.")
    if not await _confirmed(request):
        return _confirm_page(
            request,
            f"Kembalikan ke versi {number}?",
            f"Yakin mengembalikan alur ke isi versi {number}? Isinya diterbitkan sebagai versi "
            "baru dan langsung dipakai bot untuk semua warga.",
            f"{BASE}/alur/versi/{number}/kembalikan",
        )
    try:
        info = await console.versions.rollback(number, author_user_id=_session(request).user_id)
    except LookupError:
        return _refuse(request, 404, "Versi tidak ada.")
    except FlowSetError as error:
        return _refuse(request, 409, f"Versi {number} tidak lagi valid: {_problems(error)}")
    return _redirect(f"{BASE}/alur/versi/{info.number}")


def _problems(error: FlowSetError) -> str:
    return "; ".join(f"{e.path}, baris {e.line}: {e.indonesian}" for e in error.errors)


async def restore_shipped(request: web.Request) -> web.Response:
    """The shipped ``flows/`` files, published again as a new version (after a confirmation).

    Why a new version and not "delete the versions": the history stays true (who went back,
    when), and the audit log names it as its own act.
    """
    if (refused := _admin_only(request)) is not None:
        return refused
    console = _console(request)
    session = _session(request)
    if not await _confirmed(request):
        return _confirm_page(
            request,
            "Kembalikan ke versi bawaan?",
            "Yakin mengembalikan semua alur ke versi bawaan, yaitu berkas di folder flows/ yang "
            "dikirim bersama Loket? Semua perubahan dari konsol tidak dipakai lagi (tetap ada "
            "di riwayat versi).",
            f"{BASE}/alur/bawaan",
        )
    shipped = read_flow_sources(console.loket.settings.flows_dir)
    try:
        info = await console.versions.publish(
            shipped, author_user_id=session.user_id, message=SHIPPED_MESSAGE
        )
    except FlowSetError as error:
        return _refuse(request, 409, f"Versi bawaan tidak valid: {_problems(error)}")
    async with console.loket.sessions() as db, db.begin():
        await audit(
            db,
            session.user_id,
            "flow.restore_shipped",
            f"flow_version:{info.number}",
            {"digest": info.digest, "via": "console"},
        )
    return _redirect(f"{BASE}/alur/versi/{info.number}")


# -- analytics ----------------------------------------------------------------------------------


async def _report(request: web.Request) -> analytics.Report:
    console = _console(request)
    roles = _session(request).roles
    async with console.loket.sessions() as db:
        return await analytics.build_report(
            db, now=console.clock(), opds=None if roles.is_admin else roles.opds
        )


async def review_show(request: web.Request) -> web.Response:
    return await review_pages.show(request, _console(request), _session(request))


async def review_submit(request: web.Request) -> web.Response:
    return await review_pages.submit(request, _console(request), _session(request))


async def analytics_page(request: web.Request) -> web.Response:
    session = _session(request)
    report = await _report(request)
    intents = sorted(_console(request).versions.current.intents)
    # No intent preselected: a row defaulting to the first intent was one click from a wrong
    # example. The browser requires a choice; the server checks again.
    options = '<option value="" selected disabled>— pilih layanan —</option>' + "".join(
        f'<option value="{esc(i)}">{esc(i)}</option>' for i in intents
    )
    parts = [
        f'<p><a href="{BASE}/analitik.csv" id="csv">Unduh CSV</a> (30 hari terakhir)</p>',
        "<h2>Pesan per hari</h2>",
        analytics.bar_chart(report.days),
        "<h2>Intent yang ditanyakan</h2>",
        analytics.hbar_chart(report.intents[:25]),
        "<h2>Di mana warga berhenti</h2>",
        _table_or_none(["Alur", "Langkah", "Jumlah"], report.abandoned),
        "<h2>Cek status per OPD</h2>",
        _table_or_none(
            ["OPD", "Cek", "Gagal", "Tingkat gagal"],
            [(o, n, f, f"{100 * f / n:.0f}%" if n else "-") for o, n, f in report.status_checks],
            table_id="status-checks",
        ),
    ]
    if session.roles.is_admin:
        rows = [
            (
                esc(text),
                esc(locale),
                esc(n),
                '<span class="masked">Berisi data yang disamarkan; tidak bisa jadi contoh.</span>'
                if MASK_SHAPED.search(text)
                else f'<form method="post" action="{BASE}/analitik/contoh">{csrf_field(session)}'
                f'<input type="hidden" name="text" value="{esc(text)}">'
                f'<input type="hidden" name="locale" value="{esc(locale)}">'
                f'<select name="intent" required aria-label="Layanan">{options}</select> '
                '<button type="submit">Jadikan contoh</button></form>',
            )
            for text, locale, n in report.unmatched
        ]
        parts += [
            "<h2>Pertanyaan yang belum dimengerti</h2>",
            _table_or_none(["Pertanyaan (disamarkan)", "Bahasa", "Jumlah", ""], rows, raw=True),
        ]
    return _html(page("Analitik", "".join(parts), session))


def _table_or_none(
    headers: list[str], rows: list[Any], *, raw: bool = False, table_id: str = ""
) -> str:
    return table(headers, rows, raw=raw, table_id=table_id) if rows else "<p>Belum ada data.</p>"


async def analytics_csv(request: web.Request) -> web.Response:
    report = await _report(request)
    return web.Response(
        text=analytics.to_csv(report),
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="loket-analitik.csv"'},
    )


async def analytics_add_example(request: web.Request) -> web.Response:
    """One click: the unmatched question becomes an example of an intent, as a new version."""
    if (refused := _admin_only(request)) is not None:
        return refused
    console = _console(request)
    form = await request.post()
    text, locale, intent = (str(form.get(k, "")) for k in ("text", "locale", "intent"))
    current = console.versions.current
    if MASK_SHAPED.search(text):
        return _refuse(
            request,
            400,
            "Pertanyaan ini berisi data yang disamarkan (tanda *), jadi tidak bisa dijadikan "
            "contoh kalimat. Tambahkan contoh tanpa nomor di editor alur bila perlu.",
        )
    if not intent:
        return _refuse(request, 400, "Pilih layanan yang dimaksud pertanyaan ini lebih dulu.")
    if not text.strip():
        return _refuse(request, 400, "Pertanyaannya kosong.")
    if intent not in current.intents or f"nlu/{locale}.yaml" not in current.sources:
        return _refuse(request, 400, "Layanan atau bahasa tidak dikenal.")
    try:
        info = await console.versions.publish(
            add_example(current.sources, locale, intent, text),
            author_user_id=_session(request).user_id,
            message=f"Contoh baru untuk {intent}",
        )
    except FlowSetError as error:
        return _refuse(request, 409, f"Contoh tidak bisa ditambahkan: {_problems(error)}")
    return _redirect(f"{BASE}/alur/versi/{info.number}")


# -- announcements --------------------------------------------------------------------------


async def _announcements(request: web.Request, notice: str = "", draft: str = "") -> str:
    console = _console(request)
    session = _session(request)
    opds = session.roles.opds
    async with console.loket.sessions() as db:
        rows = await _list_announcements(db, opds)
    listing = [
        (
            esc(a.reference),
            esc(a.opd),
            esc(STATUS_WORDS.get(a.status, a.status)),
            esc(f"{a.sent}/{a.recipients}"),
            esc(a.failed + a.blocked + a.unknown),
            esc(plain(a.text)[:80]),
            (
                f'<form method="post" action="{BASE}/pengumuman/{a.id}/batal">'
                f'{csrf_field(session)}<button type="submit">Batalkan</button></form>'
                if a.status in ("scheduled", "sending")
                else ""
            ),
        )
        for a in rows
    ]
    if not opds:
        form = "<p>Anda tidak memiliki peran staf OPD, jadi tidak dapat mengirim pengumuman.</p>"
    else:
        choices = "".join(f'<option value="{esc(o)}">{esc(o)}</option>' for o in opds)
        districts = "".join(
            f'<option value="{esc(d.code)}">{esc(d.name)}</option>'
            for d in console.loket.region.districts
        )
        topics = "".join(
            f'<option value="{esc(t)}">{esc(TOPIC_LABELS.get(t, t))} ({esc(o)})</option>'
            for o in opds
            for t in OPD_TOPICS.get(o, ())
        )
        form = (
            f'<form method="post" action="{BASE}/pengumuman">{csrf_field(session)}'
            f'<p><label>OPD <select name="opd">{choices}</select></label> '
            f'<label>Topik <select name="topic"><option value="">Semua topik OPD</option>'
            f"{topics}</select></label></p>"
            "<p><label>Distrik (kosong: semua; Ctrl+klik untuk beberapa)<br>"
            f'<select name="district" multiple size="6">{districts}</select></label></p>'
            f'<p><textarea name="text" rows="6" id="announcement-text">{esc(draft)}</textarea></p>'
            "<p><label>Waktu kirim (WIT, kosong: sekarang) "
            '<input type="datetime-local" name="send_at"></label></p>'
            '<button type="submit" name="do" value="pratinjau">Pratinjau</button> '
            '<button type="submit" name="do" value="kirim" id="send">Kirim</button></form>'
        )
    notice_html = f'<div class="ok" id="notice">{notice}</div>' if notice else ""
    # While one is queued or sending, the page refreshes its progress (console.js).
    active = any(a.status in ("scheduled", "sending") for a in rows)
    refresh = ' data-refresh="5"' if active else ""
    body = (
        notice_html
        + form
        + f'<h2 id="announcements"{refresh}>Pengumuman</h2>'
        + table(["Kode", "OPD", "Status", "Terkirim", "Gagal", "Teks", ""], listing, raw=True)
    )
    return page("Pengumuman", body, session)


async def _list_announcements(db: Any, opds: list[str]) -> list[Announcement]:
    from sqlalchemy import select

    result = await db.scalars(
        select(Announcement)
        .where(Announcement.opd.in_(opds), Announcement.status != "draft")
        .order_by(Announcement.id.desc())
        .limit(50)
    )
    return list(result)


async def announcements_page(request: web.Request) -> web.Response:
    return _html(await _announcements(request))


async def announcements_submit(request: web.Request) -> web.Response:
    """Queues an announcement as /umumkan does: the text is escaped (Telegram HTML), the
    preview is the message exactly as citizens get it, a send time is optional."""
    console = _console(request)
    session = _session(request)
    form = await request.post()
    opd = str(form.get("opd", ""))
    text = str(form.get("text", "")).strip()
    districts = tuple(str(d) for d in form.getall("district", []) if str(d))
    topic = str(form.get("topic", "")) or None
    if opd not in session.roles.opds:
        return _refuse(request, 403, "Anda bukan staf OPD ini.")
    segment = Segment(opd, districts, topic)
    if not segment.allowed():
        return _html(await _announcements(request, "Topik itu bukan milik OPD ini.", text), 422)
    if not text:
        return _html(await _announcements(request, "Teks pengumuman kosong.", text), 422)
    send_at = None
    if str(form.get("send_at", "")).strip():
        now = console.clock().astimezone(console.loket.region.timezone)
        try:
            send_at = parse_send_time(str(form["send_at"]), now).astimezone(dt.UTC)
        except SendTimeError as error:
            return _html(await _announcements(request, esc(str(error)), text), 422)
    text_html = html.escape(text, quote=False)
    async with console.loket.sessions() as db:
        audience = await count(db, "telegram", segment)
    if form.get("do") != "kirim":
        shown = render_announcement(console.loket.translator, "id", text_html, "MMK-····").replace(
            "\n", "<br>"
        )
        notice = (
            f"Pratinjau untuk {esc(audience)} penerima, persis seperti yang diterima warga "
            f'(kodenya diberikan saat dikirim):<div class="preview">{shown}</div>'
            "Tekan Kirim untuk mengirim."
        )
        return _html(await _announcements(request, notice, text))
    try:
        async with console.loket.sessions() as db, db.begin():
            announcement = await store.create_announcement(
                db,
                opd=opd,
                text=text_html,
                author_user_id=session.user_id,
                segment=segment.to_json(),
                send_at=send_at,
            )
            await audit(
                db,
                session.user_id,
                "announcement.create",
                f"announcement:{announcement.id}",
                {
                    "reference": announcement.reference,
                    "opd": opd,
                    "segment": segment.to_json(),
                    "send_at": send_at.isoformat() if send_at else None,
                    "via": "console",
                },
            )
        # The broadcast service queues the subscribers of the moment it is due (now, or at
        # send_at) and sends it, exactly as for /umumkan.
        if console.wake_broadcasts is not None:  # the service looks at once, not next tick
            console.wake_broadcasts()
    except ValueError as error:
        return _html(await _announcements(request, esc(str(error)), text), 422)
    if send_at is None:
        notice = f"Pengumuman {esc(announcement.reference)} diantrekan untuk {audience} penerima."
    else:
        local = send_at.astimezone(console.loket.region.timezone)
        notice = (
            f"Pengumuman {esc(announcement.reference)} dijadwalkan "
            f"{esc(local.strftime('%d-%m-%Y %H.%M'))} WIT (saat ini {audience} penerima)."
        )
    return _html(await _announcements(request, notice))


async def announcements_cancel(request: web.Request) -> web.Response:
    console = _console(request)
    session = _session(request)
    announcement_id = int(request.match_info["id"])
    async with console.loket.sessions() as db, db.begin():
        row = await db.get(Announcement, announcement_id)
        if row is None or row.opd not in session.roles.opds:
            return _refuse(request, 403, "Bukan pengumuman OPD Anda.")
        cancelled = await store.cancel(db, announcement_id)
        if cancelled:
            await audit(
                db,
                session.user_id,
                "announcement.cancel",
                f"announcement:{announcement_id}",
                {"reference": row.reference, "opd": row.opd, "via": "console"},
            )
    notice = "Pengumuman dibatalkan." if cancelled else "Pengumuman sudah selesai."
    return _html(await _announcements(request, notice))
