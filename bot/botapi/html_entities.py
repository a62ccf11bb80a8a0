"""Telegram's HTML parse mode: markup in, plain text plus ``MessageEntity`` dicts out.

This mirrors the parser in TDLib (``td/telegram/MessageEntity.cpp``, ``parse_html``) closely
enough to give the same "can't parse entities" details and byte offsets, because a bot that
forgets to escape a citizen's ``<`` must fail locally exactly as it would in production.
Like the real parser it is lenient about ``&``: an ``&`` that does not start one of the
supported entities is kept as a literal character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
        "tg-time",
    }
)
_SIMPLE_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = frozenset(" \t\r\n\0\v\f")
_URL_RE = re.compile(r"^(?:(?:https?|tg|ton|mailto):(?://)?\S+|[\w-]+(?:\.[\w-]+)+(?:[/?#]\S*)?)$")


class EntityParseError(ValueError):
    """The markup is invalid; ``detail`` is what follows "can't parse entities: "."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    text_index: int


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of ``MessageEntity.offset``/``length``."""
    return len(text.encode("utf-16-le")) // 2


def _is_space(ch: str) -> bool:
    return ch in _SPACES


def _is_name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in ".-")


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode ``&...;`` at ``pos``; the ``;`` is optional, as in TDLib."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        if end < n and text[end] == "x":
            end += 1
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
                if value > 0x10FFFF:
                    break
        else:
            while end < n and text[end].isascii() and text[end].isdigit():
                value = value * 10 + int(text[end])
                end += 1
                if value > 0x10FFFF:
                    break
        if value == 0 or value >= 0x10FFFF or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
            return None
        decoded = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        decoded_or_none = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if decoded_or_none is None:
            return None
        decoded = decoded_or_none
    if end < n and text[end] == ";":
        end += 1
    return decoded, end


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` or raise :class:`EntityParseError`."""
    n = len(text)
    out: list[str] = []
    utf16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[_OpenTag] = []

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    def fail(message: str, index: int | None = None) -> EntityParseError:
        if index is None:
            return EntityParseError(message)
        return EntityParseError(f"{message} at byte offset {_byte_offset(text, index)}")

    i = 0
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                utf16 += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if ch != "<":
            out.append(ch)
            utf16 += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        if at(i + 1) != "/":
            i += 1
            while not _is_space(at(i)) and at(i) != ">":
                i += 1
            if i >= n:
                raise fail("Unclosed start tag", begin)
            tag = text[begin + 1 : i].lower()
            if tag not in SUPPORTED_TAGS:
                raise fail(f'Unsupported start tag "{tag}"', begin)
            argument = ""
            while at(i) != ">":
                while i < n and _is_space(at(i)):
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while not _is_space(at(i)) and at(i) not in "=>":
                    i += 1
                attr_name = text[attr_begin:i]
                if not attr_name:
                    raise fail(f'Empty attribute name in the tag "{tag}"', begin)
                while i < n and _is_space(at(i)):
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attr_name == "expandable" and i < n:
                        argument = "1"
                        continue
                    if i >= n:
                        raise fail("Unclosed start tag", begin)
                    raise fail(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}"',
                        begin,
                    )
                i += 1
                while i < n and _is_space(at(i)):
                    i += 1
                if i >= n:
                    raise fail("Unclosed start tag", begin)
                if at(i) not in "'\"":
                    token_begin = i
                    while _is_name_char(at(i)):
                        i += 1
                    value = text[token_begin:i].lower()
                    if not _is_space(at(i)) and at(i) != ">":
                        raise fail("Unexpected end of name token", token_begin)
                else:
                    end_char = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != end_char:
                        if text[i] == "&":
                            decoded = _decode_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if at(i) == end_char:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise fail("Unclosed start tag", begin)
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise fail('Tag "span" must have class "tg-spoiler"', begin)
            stack.append(_OpenTag(tag, argument, utf16, len(out)))
            i += 1
            continue
        # an end tag
        if not stack:
            raise fail("Unexpected end tag", begin)
        i += 2
        while not _is_space(at(i)) and at(i) != ">":
            i += 1
        end_name = text[begin + 2 : i].lower()
        while i < n and _is_space(at(i)):
            i += 1
        if at(i) != ">":
            raise fail("Unclosed end tag", begin)
        i += 1
        opened = stack.pop()
        if end_name and end_name != opened.name:
            raise fail(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, expected "
                f'"</{opened.name}>", found "</{end_name}>"'
            )
        length = utf16 - opened.utf16_offset
        if length:
            entity = _make_entity(opened, length, "".join(out[opened.text_index :]), entities)
            if entity is not None:
                entities.append(entity)
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _make_entity(
    opened: _OpenTag, length: int, inner_text: str, entities: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """Build the entity for a closed tag; a ``pre`` swallows an exactly nested ``code``."""
    base: dict[str, Any] = {"offset": opened.utf16_offset, "length": length}
    name = opened.name
    if name in _SIMPLE_TYPES:
        base["type"] = _SIMPLE_TYPES[name]
        if name == "code" and opened.argument:
            base["_language"] = opened.argument
        return base
    if name == "a":
        url = opened.argument or inner_text
        if not _URL_RE.match(url):
            return None
        base.update(type="text_link", url=url)
        return base
    if name == "pre":
        base["type"] = "pre"
        for index in range(len(entities) - 1, -1, -1):
            inner = entities[index]
            if inner["type"] != "code" or inner["offset"] != base["offset"]:
                continue
            if inner["length"] == length:
                language = inner.get("_language")
                del entities[index]
                if language:
                    base["language"] = language
            break
        return base
    if name == "blockquote":
        base["type"] = "expandable_blockquote" if opened.argument else "blockquote"
        return base
    if name == "tg-emoji":
        if not opened.argument.isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")
        base.update(type="custom_emoji", custom_emoji_id=opened.argument)
        return base
    return None  # tg-time: accepted, rendered as plain text here


def clean_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop the parser's private keys before entities leave the server."""
    return [{k: v for k, v in e.items() if not k.startswith("_")} for e in entities]
