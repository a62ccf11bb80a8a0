"""The text pipeline of sendMessage/editMessageText/captions: parse, trim, measure.

Limits count the text *after* markup removal, in Unicode code points, and leading and
trailing whitespace is trimmed first, exactly like TDLib; a bot that builds a 4100-character
HTML string whose visible text is 4000 characters must be accepted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.botapi.errors import bad_request
from bot.botapi.html_entities import EntityParseError, clean_entities, parse_html, utf16_len

MAX_RAW_TEXT_BYTES = 1 << 15
_ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "date_time",
    }
)


@dataclass
class FormattedText:
    """Visible text plus entities (UTF-16 offsets), as the Message will carry them."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def _strip(text: str, entities: list[dict[str, Any]]) -> FormattedText:
    """Trim surrounding whitespace and move/clip entities accordingly."""
    stripped_left = text.lstrip()
    shift = utf16_len(text[: len(text) - len(stripped_left)])
    result = stripped_left.rstrip()
    total = utf16_len(result)
    fixed: list[dict[str, Any]] = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] + entity["length"] - shift)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return FormattedText(result, fixed)


def parse_entities_param(raw: Any, text: str) -> list[dict[str, Any]]:
    """Validate an explicit ``entities``/``caption_entities`` array."""
    if raw in (None, ""):
        return []
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise bad_request("can't parse entities JSON object") from None
    if not isinstance(value, list):
        raise bad_request('field "entities" must be an Array')
    total = utf16_len(text)
    result: list[dict[str, Any]] = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("can't parse MessageEntity: expected an Object")
        kind, offset, length = item.get("type"), item.get("offset"), item.get("length")
        if kind not in _ENTITY_TYPES:
            raise bad_request("can't parse MessageEntity: unsupported entity type")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0:
            raise bad_request('can\'t parse MessageEntity: field "offset" must be a Number')
        if length > 0 and offset + length <= total:
            result.append(dict(item))
    return result


def format_text(
    raw: str | None,
    parse_mode: str | None,
    entities_raw: Any,
    *,
    max_length: int,
    caption: bool = False,
) -> FormattedText:
    """Run one text or caption through Telegram's checks; raise :class:`BotApiError`."""
    raw = raw or ""
    if not raw:
        if caption:
            return FormattedText("")
        raise bad_request("message text is empty")
    if len(raw.encode("utf-8")) > MAX_RAW_TEXT_BYTES:
        raise bad_request("text is too long")
    mode = (parse_mode or "").lower()
    if mode in ("", "none"):
        formatted = FormattedText(raw, parse_entities_param(entities_raw, raw))
    elif mode == "html":
        try:
            text, entities = parse_html(raw)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc.detail}") from None
        formatted = FormattedText(text, clean_entities(entities))
    elif mode in ("markdown", "markdownv2"):
        # Not parsed (yet): the text is kept as sent, without entities.
        formatted = FormattedText(raw)
    else:
        raise bad_request("unsupported parse_mode")
    formatted = _strip(formatted.text, formatted.entities)
    if not formatted.text and not caption:
        raise bad_request("text must be non-empty")
    if len(formatted.text) > max_length:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return formatted
