"""Outbound messages as WhatsApp Cloud API messages, within WhatsApp's limits.

A choice of up to three options becomes reply buttons when every label fits 20 characters
without losing words (a parenthesis or a subtitle may go: "Kependudukan (Disdukcapil)" ->
"Kependudukan"); otherwise, and for four to ten options, a list message, whose row titles
(24 characters) are shortened the same way and carry the full label as their description.
More than ten options are shown a page at a time with a "Lainnya" row; the options are kept
(``Menu``) so the next page can be drawn on whichever worker receives the press. Bodies are
split at line boundaries: at most 1,024 characters under buttons or a list, 4,096 otherwise.

Text is plain (``Outbound``); WhatsApp has no escape for its own markup (*bold*, _italic_,
~strike~, ```mono```), so a marker character in a value typed by a citizen or sent by an
agency is followed by a word joiner (U+2060), which stops WhatsApp pairing it; only the
title is made bold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from bot.engine.messages import Button, Outbound
from bot.i18n import N_
from bot.whatsapp import limits

MORE_PREFIX = "wa:more:"  # the "Lainnya" row of a paginated list: wa:more:<page>
WORD_JOINER = "\u2060"
_MARKERS = re.compile(r"([*_~`])")
_PARENTHESIS = re.compile(r"\s*\([^)]*\)")
ELLIPSIS = "…"

LIST_BUTTON = N_("Pilih")
MORE_LABEL = N_("Lainnya")
MORE_DESCRIPTION = N_("Pilihan berikutnya ({page}/{pages})")

Gettext = Callable[..., str]


def _identity(message: str, **params: object) -> str:
    return message.format(**params) if params else message


def plain(text: str) -> str:
    """Text shown exactly as written: WhatsApp markers cannot pair up."""
    return _MARKERS.sub(lambda m: m.group(1) + WORD_JOINER, text)


def bold(text: str) -> str:
    return f"*{plain(text).strip()}*" if text.strip() else ""


def split_text(text: str, limit: int) -> list[str]:
    """Splits at paragraph, then line, then word boundaries; mid-word only for a word
    longer than the limit."""
    if len(text) <= limit:
        return [text]
    for separator in ("\n\n", "\n", " "):
        if separator in text:
            break
    else:
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    chunks: list[str] = []
    current = ""
    for piece in text.split(separator):
        candidate = f"{current}{separator}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if len(piece) > limit:
            sub = split_text(piece, limit)
            chunks.extend(sub[:-1])
            current = sub[-1]
        else:
            current = piece
    if current:
        chunks.append(current)
    return [c for c in chunks if c.strip()] or [text[:limit]]


def shorten(label: str, limit: int, *, cut: bool = True) -> str | None:
    """``label`` within ``limit`` characters, shortened with care: first without its
    parentheses, then without a subtitle after " - " or ":"; with ``cut``, at last cut at a
    word with an ellipsis. None when it cannot fit without cutting and ``cut`` is False."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    candidates = [_PARENTHESIS.sub("", label).strip()]
    for separator in (" - ", " – ", ": "):
        if separator in candidates[0]:
            candidates.append(candidates[0].split(separator, 1)[0].strip())
    for candidate in candidates:
        if candidate and len(candidate) <= limit:
            return candidate
    if not cut:
        return None
    words = candidates[-1] or label
    room = limit - len(ELLIPSIS)
    head = words[: room + 1]
    head = head[: head.rfind(" ")] if " " in head else head[:room]
    return head.rstrip(" ,.;:-") + ELLIPSIS


def button_titles(buttons: Sequence[Button]) -> list[str] | None:
    """Reply-button titles for these buttons, or None when they must be a list instead
    (more than three, a label that cannot be shortened without cutting, or two alike)."""
    if not 1 <= len(buttons) <= limits.MAX_BUTTONS:
        return None
    titles = [shorten(b.label, limits.MAX_BUTTON_TITLE, cut=False) for b in buttons]
    if any(t is None or not t for t in titles):
        return None
    if len({t.casefold() for t in titles if t}) != len(titles):
        return None
    return [t for t in titles if t]


def rows_for(buttons: Sequence[Button]) -> list[dict[str, str]]:
    """List rows: a title of at most 24 characters, unique, and the full label as the
    description whenever the title had to be shortened."""
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for button in buttons:
        title = shorten(button.label, limits.MAX_ROW_TITLE) or button.label[:24]
        number = 2
        base = title
        while title.casefold() in seen:  # two labels that shorten alike stay apart
            suffix = f" {number}"
            title = (shorten(base, limits.MAX_ROW_TITLE - len(suffix)) or base) + suffix
            number += 1
        seen.add(title.casefold())
        row = {"id": button.payload, "title": title}
        full = " ".join(button.label.split())
        if title != full:
            row["description"] = shorten(full, limits.MAX_ROW_DESCRIPTION) or full[:72]
        rows.append(row)
    return rows


@dataclass(frozen=True, slots=True)
class Menu:
    """A choice of more than ten options: its body and options, to draw any page of it."""

    text: str
    title: str | None
    options: tuple[tuple[str, str], ...]  # (label, payload), navigation last

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "title": self.title, "options": [list(o) for o in self.options]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Menu:
        return cls(
            text=str(data["text"]),
            title=data.get("title"),
            options=tuple((str(label), str(payload)) for label, payload in data["options"]),
        )


@dataclass(frozen=True, slots=True)
class Rendered:
    """The Cloud API message bodies (without the recipient) for one outbound message, and
    the menu to keep when it was paginated."""

    messages: list[dict[str, Any]]
    menu: Menu | None = None


def _text_message(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def _body_parts(body: str, last_limit: int) -> tuple[list[str], str]:
    """Text messages before an interactive one, and the interactive message's body."""
    if len(body) <= last_limit:
        return [], body
    parts = split_text(body, last_limit)
    leading: list[str] = []
    for part in parts[:-1]:  # joined back up to 4,096 characters per text message
        if leading and len(leading[-1]) + 2 + len(part) <= limits.MAX_TEXT_BODY:
            leading[-1] = f"{leading[-1]}\n\n{part}"
        else:
            leading.append(part)
    return leading, parts[-1]


def render(message: Outbound, gettext: Gettext = _identity, *, page: int = 0) -> Rendered:
    """``message`` as Cloud API messages; ``gettext`` words the list button and "Lainnya"
    in the citizen's language."""
    title = bold(message.title) if message.title else ""
    body = f"{title}\n\n{plain(message.text)}" if title else plain(message.text)
    buttons = message.flat_buttons
    if not buttons:
        return Rendered([_text_message(part) for part in split_text(body, limits.MAX_TEXT_BODY)])
    if not body.strip():
        body = "…"
    leading, last = _body_parts(body, limits.MAX_BUTTON_BODY)
    messages = [_text_message(part) for part in leading]
    titles = button_titles(buttons)
    menu = None
    if titles is not None:
        interactive: dict[str, Any] = {
            "type": "button",
            "body": {"text": last},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": b.payload, "title": t}}
                    for b, t in zip(buttons, titles, strict=True)
                ]
            },
        }
    else:
        if len(buttons) > limits.MAX_ROWS:
            menu = Menu(
                message.text,
                message.title,
                tuple((b.label, b.payload) for b in buttons),
            )
        interactive = _list(last, buttons, gettext, page=page)
    messages.append({"type": "interactive", "interactive": interactive})
    return Rendered(messages, menu)


def pages(buttons: Sequence[Button]) -> list[list[Button]]:
    """Options split into pages of a list; navigation buttons (``n:``) on every page."""
    navigation = [b for b in buttons if b.payload.startswith("n:")]
    options = [b for b in buttons if not b.payload.startswith("n:")]
    if len(buttons) <= limits.MAX_ROWS:
        return [list(buttons)]
    room = limits.MAX_ROWS - len(navigation) - 1  # one row for "Lainnya"
    room = max(room, 1)
    chunks = [options[i : i + room] for i in range(0, len(options), room)]
    return [[*chunk, *navigation] for chunk in chunks]


def _list(body: str, buttons: Sequence[Button], gettext: Gettext, *, page: int) -> dict[str, Any]:
    all_pages = pages(buttons)
    page = min(max(page, 0), len(all_pages) - 1)
    rows = rows_for(all_pages[page])
    if page + 1 < len(all_pages):
        rows.append(
            {
                "id": f"{MORE_PREFIX}{page + 1}",
                "title": shorten(gettext(MORE_LABEL), limits.MAX_ROW_TITLE) or "Lainnya",
                "description": gettext(MORE_DESCRIPTION, page=page + 2, pages=len(all_pages)),
            }
        )
    label = shorten(gettext(LIST_BUTTON), limits.MAX_LIST_BUTTON) or "Pilih"
    return {
        "type": "list",
        "body": {"text": body},
        "action": {"button": label, "sections": [{"rows": rows}]},
    }


def render_page(menu: Menu, page: int, gettext: Gettext = _identity) -> Rendered:
    """Page ``page`` (from 0) of a kept menu, body included, as a list message."""
    buttons = tuple(Button(label, payload) for label, payload in menu.options)
    message = Outbound(text=menu.text, title=menu.title, buttons=(buttons,))
    rendered = render(message, gettext, page=page)
    return Rendered(rendered.messages[-1:], None)  # the body text was shown with page 1


def label_warnings(label: str) -> list[str]:
    """Why ``label`` does not fit WhatsApp as written (for ``loket flows validate``)."""
    found = []
    if shorten(label, limits.MAX_BUTTON_TITLE, cut=False) is None:
        if shorten(label, limits.MAX_ROW_TITLE, cut=False) is None:
            found.append(
                f"longer than {limits.MAX_ROW_TITLE} characters ({len(label)}) even without "
                "its parentheses: shown cut on WhatsApp, with the full text below it"
            )
        else:
            found.append(
                f"longer than {limits.MAX_BUTTON_TITLE} characters: shown in a list, "
                "not as a button, on WhatsApp"
            )
    if len(" ".join(label.split())) > limits.MAX_ROW_DESCRIPTION:
        found.append(f"longer than {limits.MAX_ROW_DESCRIPTION} characters: cut on WhatsApp")
    return found


# Telegram HTML (what /umumkan composes) in WhatsApp's own markup.
_MARKUP = {
    "b": "*",
    "strong": "*",
    "i": "_",
    "em": "_",
    "s": "~",
    "strike": "~",
    "del": "~",
    "code": "```",
    "pre": "```",
}


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._links: list[str | None] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _MARKUP:
            self._open.append(tag)
            self.parts.append(_MARKUP[tag])
        elif tag == "a":
            self._links.append(dict(attrs).get("href"))
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _MARKUP and tag in self._open:
            self._open.remove(tag)
            self.parts.append(_MARKUP[tag])
        elif tag == "a" and self._links:
            href = self._links.pop()
            if href and href not in "".join(self.parts[-3:]):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        # Inside code WhatsApp shows markers as they are; elsewhere they must not pair up.
        self.parts.append(data if "code" in self._open or "pre" in self._open else plain(data))


def from_html(text_html: str) -> str:
    """Telegram HTML (``<b>``, ``<i>``, ``<s>``, ``<code>``, ``<a href>``) as WhatsApp text:
    ``*bold*``, ``_italic_``, ``~strike~``, monospace, the link's address after its text;
    a marker character in the words themselves is kept from pairing (:func:`plain`)."""
    converter = _Converter()
    converter.feed(text_html)
    converter.close()
    return "".join(converter.parts).strip()
