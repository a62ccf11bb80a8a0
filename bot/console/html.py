"""Tiny HTML helpers: every value goes through ``esc``; pages share one layout.

Why no template engine: a dozen small pages do not justify a dependency, and building HTML in
functions keeps escaping explicit at each value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from html import escape
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.console.auth import Session

STATIC = "/konsol/static"
WIT = ZoneInfo("Asia/Jayapura")


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def wit(moment: dt.datetime, zone: ZoneInfo = WIT) -> str:
    """A stored UTC time as people in Mimika read it: ``4 Desember 2026 15.35 WIT``.

    Why Babel: Indonesian month names and the ``15.35`` time style come from CLDR, not from
    the server's C locale. A naive value is UTC (SQLite returns stored times without zone).
    """
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return format_datetime(aware, "d MMMM y HH.mm", tzinfo=zone, locale="id") + " WIT"


def csrf_field(session: Session) -> str:
    return f'<input type="hidden" name="csrf" value="{esc(session.csrf)}">'


def table(
    headers: Iterable[str],
    rows: Iterable[Iterable[object]],
    *,
    raw: bool = False,
    table_id: str = "",
) -> str:
    """A table; cells are escaped unless ``raw`` (then the caller escaped them).

    The table scrolls sideways inside its own box on a narrow screen, so the page never does.
    """
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    attr = f' id="{esc(table_id)}"' if table_id else ""
    return (
        f'<div class="scroll"><table{attr}><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def page(title: str, body: str, session: Session | None = None, *, base: str = "/konsol") -> str:
    nav = ""
    if session is not None:
        links = [(f"{base}/", "Beranda")]
        if session.roles.is_admin:
            links += [(f"{base}/alur", "Alur"), (f"{base}/alur/versi", "Versi")]
        links += [(f"{base}/pengumuman", "Pengumuman"), (f"{base}/analitik", "Analitik")]
        links.append((f"{base}/inbox", "Kotak masuk"))  # issue 15
        items = "".join(f'<a href="{esc(href)}">{esc(label)}</a>' for href, label in links)
        nav = (
            f'<nav><div class="links">{items}</div>'
            f'<form method="post" action="{esc(base)}/keluar" class="inline">'
            f'{csrf_field(session)}<button type="submit" id="keluar">Keluar</button></form></nav>'
        )
    csrf_meta = (
        f'<meta name="csrf-token" content="{esc(session.csrf)}">' if session is not None else ""
    )
    return (
        '<!doctype html><html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · Konsol Loket</title>{csrf_meta}"
        f'<link rel="stylesheet" href="{esc(base)}/static/console.css">'
        f'<script src="{esc(base)}/static/console.js" defer></script>'
        f"</head><body>{nav}<main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )
