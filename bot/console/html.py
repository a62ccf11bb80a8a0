"""Tiny HTML helpers: every value goes through ``esc``; pages share one layout.

Why no template engine: a dozen small pages do not justify a dependency, and building HTML in
functions keeps escaping explicit at each value.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from bot.console.auth import Session

STATIC = "/konsol/static"


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def csrf_field(session: Session) -> str:
    return f'<input type="hidden" name="csrf" value="{esc(session.csrf)}">'


def table(headers: Iterable[str], rows: Iterable[Iterable[object]], *, raw: bool = False) -> str:
    """A table; cells are escaped unless ``raw`` (then the caller escaped them)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str, session: Session | None = None, *, base: str = "/konsol") -> str:
    nav = ""
    if session is not None:
        links = [(f"{base}/", "Beranda")]
        if session.roles.is_admin:
            links += [(f"{base}/alur", "Alur"), (f"{base}/alur/versi", "Versi")]
        links += [(f"{base}/pengumuman", "Pengumuman"), (f"{base}/analitik", "Analitik")]
        items = "".join(f'<a href="{esc(href)}">{esc(label)}</a>' for href, label in links)
        nav = (
            f"<nav>{items}"
            f'<form method="post" action="{esc(base)}/keluar" class="inline">'
            f'{csrf_field(session)}<button type="submit">Keluar</button></form></nav>'
        )
    csrf_meta = (
        f'<meta name="csrf-token" content="{esc(session.csrf)}">' if session is not None else ""
    )
    return (
        '<!doctype html><html lang="id"><head><meta charset="utf-8">'
        f"<title>{esc(title)} · Konsol Loket</title>{csrf_meta}"
        f'<link rel="stylesheet" href="{esc(base)}/static/console.css">'
        f'<script src="{esc(base)}/static/console.js" defer></script>'
        f"</head><body>{nav}<main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )
