"""The console's review queue pages (issue 14): ``/periksa`` lists an OPD's answers with their
sources and review state; "Sudah benar" publishes the review (bot/console/review.py);
"Perlu diubah" opens the flow editor at the intent's line. Staff see their OPDs' answers,
admins every OPD's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from babel.dates import format_date

from bot.console import review
from bot.console.html import csrf_field, esc, page
from bot.flows.model import FlowSet, Intent
from bot.i18n import DEFAULT_LOCALE

BASE = "/konsol"
STATUS_LABELS = {
    "belum": "Belum diverifikasi",
    "terverifikasi": "Sudah diverifikasi",
    "lewat": "Lewat jadwal pemeriksaan ulang",
    "diubah": "Diubah setelah diperiksa; warga melihatnya belum diverifikasi, periksa lagi",
}
MAX_STEPS = 8


def _date(value: str) -> str:
    return format_date(dt.date.fromisoformat(value), "d MMMM y", locale="id")


def answer_preview(loket: Any, flows: FlowSet, intent: Intent, now: dt.datetime) -> str:
    """The answer a citizen reads first, as far as it does not depend on what they type or
    on an agency's system: the service card or the first message on the intent's path."""
    engine = loket.runtime.current()
    render = engine.renderer
    ref: str | None = intent.start
    for _ in range(MAX_STEPS):
        step = flows.steps.get(ref or "")
        if step is None:
            break
        if step.type == "service" and step.service is not None:
            title, body = render.service(
                step.service, review.owner(flows, intent), {}, DEFAULT_LOCALE, now
            )
            return f"{title}\n\n{body}"
        if step.text:
            return render.text(step.text, {}, DEFAULT_LOCALE)
        ref = step.default if step.type == "branch" else step.next
    return "(Jawaban ini disusun dari sistem OPD saat warga bertanya.)"


def due_count(flows: FlowSet, opds: list[str] | None, today: dt.date) -> int:
    return sum(1 for item in review.queue(flows, opds, today) if item.status == "lewat")


def banner(flows: FlowSet, opds: list[str] | None, today: dt.date) -> str:
    """The reminder on the console's home page and queue: answers past their review date."""
    due = due_count(flows, opds, today)
    if not due:
        return ""
    return (
        f'<div class="confirm" id="review-due"><strong>{due} jawaban sudah lewat jadwal '
        "pemeriksaan ulang.</strong> Warga melihat peringatan itu di jawabannya. "
        f'<a href="{BASE}/periksa">Periksa sekarang</a>.</div>'
    )


def queue_page(
    session: Any,
    loket: Any,
    flows: FlowSet,
    now: dt.datetime,
    who: dict[str, str],
    notice: str = "",
) -> str:
    roles = session.roles
    opds = None if roles.is_admin else roles.opds
    today = loket.region.now(now).date()
    parts = [f'<div class="ok" id="notice">{esc(notice)}</div>'] if notice else []
    parts.append(banner(flows, opds, today))
    parts.append(
        "<p>Setiap jawaban di bawah ini dilihat warga apa adanya. Bila isinya sesuai aturan dan "
        "keadaan di kantor Anda, tekan <strong>Sudah benar</strong>: warga lalu membaca "
        "\u201cDiperiksa oleh OPD Anda pada tanggal hari ini\u201d, dan jawaban perlu diperiksa "
        "lagi dalam 180 hari. Bila ada yang salah, tekan <strong>Perlu diubah</strong>.</p>"
    )
    items = review.queue(flows, opds, today)
    if not items:
        parts.append("<p>Tidak ada jawaban untuk OPD Anda.</p>")
    for item in items:
        intent = item.intent
        title = intent.title.get("id") or intent.id
        sources = "".join(f"<li>{esc(s)}</li>" for s in intent.sources)
        state = STATUS_LABELS[item.status]
        if intent.review is not None:
            state += (
                f": diperiksa {esc(_date(intent.review.on))}"
                f"{' oleh ' + esc(who[intent.id]) if intent.id in who else ''}, "
                f"periksa lagi sebelum {esc(_date(intent.review.due))}"
            )
        edit = f"{BASE}/alur/edit?file={esc(intent.path)}#baris-{intent.line}"
        parts.append(
            f'<section class="review {esc(item.status)}" id="jawaban-{esc(intent.id)}" '
            f'data-intent="{esc(intent.id)}"><h2>{esc(title)}</h2>'
            f"<p><code>{esc(intent.id)}</code> · {esc(item.opd)} · "
            f'<span class="status">{state}</span></p>'
            f"<details><summary>Jawaban yang dilihat warga</summary>"
            f'<pre class="answer">{esc(answer_preview(loket, flows, intent, now))}</pre>'
            f"</details><p>Sumber:</p><ul>{sources}</ul>"
            f'<form method="post" action="{BASE}/periksa" class="inline">{csrf_field(session)}'
            f'<input type="hidden" name="intent" value="{esc(intent.id)}">'
            f'<button type="submit" class="benar">Sudah benar</button> '
            f'<a class="ubah" href="{edit}">Perlu diubah</a></form></section>'
        )
    return page("Periksa jawaban", "".join(parts), session)


async def _who(console: Any, flows: FlowSet) -> dict[str, str]:
    """Who confirmed each reviewed answer, as staff know each other (role and Telegram)."""
    from bot.console.app import _authors

    ids = [i.id for i in flows.intents.values() if i.review is not None]
    actors = await review.reviewers(console.versions, ids)
    labels = await _authors(console, [_Author(a) for a in set(actors.values())])
    return {intent: labels.get(actor, "") for intent, actor in actors.items()}


class _Author:
    """What ``_authors`` reads of a version: its author's user id."""

    def __init__(self, user_id: int | None) -> None:
        self.author_user_id = user_id


async def show(request: web.Request, console: Any, session: Any) -> web.Response:
    flows = console.versions.current
    notice = "Tersimpan: jawaban ditandai sudah benar." if request.query.get("ok") else ""
    body = queue_page(
        session, console.loket, flows, console.clock(), await _who(console, flows), notice
    )
    return web.Response(text=body, content_type="text/html")


async def submit(request: web.Request, console: Any, session: Any) -> web.Response:
    """ "Sudah benar" for one intent: only staff of the owning OPD, or an admin."""
    form = await request.post()
    flows = console.versions.current
    intent = flows.intents.get(str(form.get("intent", "")))
    if intent is None or intent.interface:
        return web.Response(status=404, text="Jawaban tidak dikenal.")
    opd = review.owner(flows, intent)
    if not (session.roles.is_admin or opd in session.roles.opds):
        return web.Response(status=403, text="Jawaban ini milik OPD lain.")
    await review.confirm(
        console.versions, intent.id, opd, author_user_id=session.user_id, now=console.clock()
    )
    return web.Response(
        status=303, headers={"Location": f"{BASE}/periksa?ok=1#jawaban-{intent.id}"}
    )
