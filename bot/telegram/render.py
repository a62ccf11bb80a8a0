"""Outbound messages as Telegram HTML with inline keyboards, split to Telegram's limits."""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.engine.messages import Outbound
from bot.telegram import callbacks

MAX_MESSAGE_UNITS = 4096  # Telegram counts UTF-16 code units of the text after parsing


@dataclass(frozen=True, slots=True)
class TelegramMessage:
    html: str
    markup: InlineKeyboardMarkup | None


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """Splits plain text at paragraph, then line, then word boundaries, never mid-word
    unless a single word is longer than the limit."""
    if _units(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for separator in ("\n\n", "\n", " "):
        if separator in text:
            break
    else:
        separator = ""
    pieces = text.split(separator) if separator else list(text)
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if _units(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if _units(piece) > limit:
            sub = split_text(piece, limit)
            chunks.extend(sub[:-1])
            current = sub[-1]
        else:
            current = piece
    if current:
        chunks.append(current)
    return [c for c in chunks if c.strip()] or [text[:limit]]


def to_telegram(message: Outbound, key: bytes, user_id: int) -> list[TelegramMessage]:
    """Escapes everything (values from citizens and agencies included) and adds the keyboard
    to the last part."""
    title = f"<b>{html.escape(message.title)}</b>\n\n" if message.title else ""
    # The limit counts the text as the citizen sees it (after HTML parsing), so the plain
    # text is split first, leaving room for the title on the first part.
    title_units = _units(message.title) + 2 if message.title else 0
    parts = split_text(message.text, limit=MAX_MESSAGE_UNITS - title_units)
    rendered = [html.escape(part, quote=False) for part in parts]
    rendered[0] = title + rendered[0]
    markup = None
    if message.buttons:
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        b.label[:64], callback_data=callbacks.encode(key, user_id, b.payload)
                    )
                    for b in row
                ]
                for row in message.buttons
            ]
        )
    return [
        TelegramMessage(text, markup if index == len(rendered) - 1 else None)
        for index, text in enumerate(rendered)
    ]
