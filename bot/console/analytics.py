"""What citizens ask, from what is already recorded: ``events`` and ``unmatched_questions``.

No new personal data is collected for this page: events carry no message text, and the
unmatched questions were masked (NIK, NOP, phone numbers) before they were stored. The
figures cover a window of days (30 by default) and are aggregated here in Python over the
few columns needed, which keeps the queries portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.html import esc
from bot.storage.models import Event, UnmatchedQuestion

# A handled message writes all its events with one ``at`` (bot/frontdesk.py), so a message is
# one distinct (user, at) pair: commands, buttons and typed text alike, whatever steps ran.
# Outcomes of a status check that mean the agency could not answer (not "not found").
FAILED_OUTCOMES = frozenset({"unavailable", "invalid", "error"})
# Status checks: a citizen's own case looked up at an OPD. Most are named ``*_status``; the
# PBB bill lookup is Bapenda's (it was missing from "Cek status per OPD").
STATUS_CHECK_ACTIONS = frozenset({"bapenda.pbb_bill"})


def is_status_check(action: str) -> bool:
    """Whether an action looks up a citizen's application, card or bill at an OPD."""
    return not action.startswith("core.") and (
        action.endswith("_status") or action in STATUS_CHECK_ACTIONS
    )


@dataclass(slots=True)
class Report:
    days: list[tuple[str, int]] = field(default_factory=list)
    intents: list[tuple[str, int]] = field(default_factory=list)
    unmatched: list[tuple[str, str, int]] = field(default_factory=list)  # text, locale, count
    abandoned: list[tuple[str, str, int]] = field(default_factory=list)  # flow, step, count
    status_checks: list[tuple[str, int, int]] = field(default_factory=list)  # opd, n, failed


def _opd_of(name: str | None) -> str:
    return (name or "").split(".", 1)[0].split(":", 1)[0]


async def build_report(
    session: AsyncSession,
    *,
    now: dt.datetime,
    days: int = 30,
    opds: Iterable[str] | None = None,
) -> Report:
    """The analytics of the last ``days`` days; ``opds`` limits it to those OPDs (staff)."""
    since = now - dt.timedelta(days=days)
    allowed = None if opds is None else set(opds)

    def mine(name: str | None) -> bool:
        return allowed is None or _opd_of(name) in allowed

    rows = await session.execute(
        select(Event.user_id, Event.at, Event.kind, Event.intent, Event.detail).where(
            Event.at >= since
        )
    )
    turns: set[tuple[int | None, dt.datetime]] = set()
    intents: Counter[str] = Counter()
    abandoned: Counter[tuple[str, str]] = Counter()
    checks: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    for user_id, at, kind, intent, detail in rows:
        detail = detail or {}
        if allowed is None or (intent is not None and mine(intent)):
            turns.add((user_id, at))
        if kind == "intent" and intent and mine(intent):
            intents[intent] += 1
        where = None
        if kind == "expired":
            where = detail.get("waiting")
        elif kind == "nav" and detail.get("action") == "n:cancel":
            where = detail.get("from")
        if isinstance(where, str) and where and mine(where):
            flow, _, step = where.partition(":")
            abandoned[(flow, step)] += 1
        if kind == "action":
            action = str(detail.get("action") or "")
            if is_status_check(action) and mine(action):
                checks[_opd_of(action)] += 1
                if detail.get("outcome") in FAILED_OUTCOMES:
                    failures[_opd_of(action)] += 1
    per_day = Counter(at.date().isoformat() for _, at in turns)
    report = Report()
    start = since.date()
    report.days = [
        (
            (start + dt.timedelta(days=i)).isoformat(),
            per_day[(start + dt.timedelta(days=i)).isoformat()],
        )
        for i in range(1, days + 1)
    ]
    report.intents = intents.most_common()
    report.abandoned = [(f, s, n) for (f, s), n in abandoned.most_common()]
    report.status_checks = [(opd, n, failures[opd]) for opd, n in checks.most_common()]
    if allowed is None:  # questions belong to no OPD: admins only
        counted = await session.execute(
            select(
                func.lower(UnmatchedQuestion.text),
                UnmatchedQuestion.locale,
                func.count(),
            )
            .where(UnmatchedQuestion.at >= since)
            .group_by(func.lower(UnmatchedQuestion.text), UnmatchedQuestion.locale)
            .order_by(func.count().desc())
            .limit(100)
        )
        report.unmatched = [(str(t), str(loc), int(n)) for t, loc, n in counted]
    return report


def bar_chart(points: list[tuple[str, int]], *, width: int = 900, height: int = 160) -> str:
    """A bar chart as inline SVG, drawn by the server (no script, no chart library)."""
    if not points:
        return "<p>Belum ada data.</p>"
    top = max(n for _, n in points) or 1
    gap = width / len(points)
    bars = []
    for i, (label, n) in enumerate(points):
        h = (height - 30) * n / top
        x = i * gap
        bars.append(
            f'<rect x="{x + 1:.1f}" y="{height - 20 - h:.1f}" width="{max(gap - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="#2f6db5"><title>{esc(label)}: {n}</title></rect>'
        )
        if n:
            bars.append(
                f'<text x="{x + gap / 2:.1f}" y="{height - 23 - h:.1f}" '
                f'text-anchor="middle">{n}</text>'
            )
        if i % max(1, len(points) // 6) == 0:
            bars.append(f'<text x="{x:.1f}" y="{height - 5}">{esc(label[5:])}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">{"".join(bars)}</svg>'
    )


def hbar_chart(points: list[tuple[str, int]], *, width: int = 600) -> str:
    """Horizontal bars (one per intent / OPD), labels on the left."""
    if not points:
        return "<p>Belum ada data.</p>"
    top = max(n for _, n in points) or 1
    row = 18
    parts = []
    for i, (label, n) in enumerate(points):
        w = (width - 260) * n / top
        y = i * row
        parts.append(f'<text x="0" y="{y + 12}">{esc(label)}</text>')
        parts.append(
            f'<rect x="220" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="#2f6db5"/>'
        )
        parts.append(f'<text x="{224 + w:.1f}" y="{y + 12}">{n}</text>')
    height = row * len(points)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
    )


def to_csv(report: Report) -> str:
    """Every table of the report in one CSV (section, key, detail, count, failed)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "detail", "count", "failed"])
    for day, n in report.days:
        writer.writerow(["messages_per_day", day, "", n, ""])
    for intent, n in report.intents:
        writer.writerow(["intents", intent, "", n, ""])
    for text, locale, n in report.unmatched:
        writer.writerow(["unmatched", text, locale, n, ""])
    for flow, step, n in report.abandoned:
        writer.writerow(["abandoned", flow, step, n, ""])
    for opd, n, failed in report.status_checks:
        writer.writerow(["status_checks", opd, "", n, failed])
    return out.getvalue()
