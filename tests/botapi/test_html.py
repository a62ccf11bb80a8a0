"""HTML parse mode: Telegram's error details, entity offsets, and escaped text always passing."""

from __future__ import annotations

import html

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.botapi import LocalBotApi
from bot.botapi.formatting import format_text
from bot.botapi.html_entities import EntityParseError, parse_html
from tests.botapi.conftest import CITIZEN


@pytest.mark.parametrize(
    ("markup", "detail"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<x>hi</x>", 'Unsupported start tag "x" at byte offset 0'),
        ("<b>tebal", 'Can\'t find end tag corresponding to start tag "b"'),
        ("tebal</b>", "Unexpected end tag at byte offset 5"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a href=x!>l</a>", "Unexpected end of name token at byte offset 8"),
        ("é <x>", 'Unsupported start tag "x" at byte offset 3'),  # offsets are in bytes
    ],
)
def test_parse_errors_match_tdlib(markup: str, detail: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html(markup)
    assert info.value.detail == detail


def test_entities_and_offsets_are_utf16() -> None:
    text, entities = parse_html(
        "😀 <b>Bold</b> <i>it<u>al</u></i> &lt;&amp;&gt;&quot; &#65;&#x42;"
    )
    assert text == '😀 Bold ital <&>" AB'
    assert entities == [
        {"offset": 3, "length": 4, "type": "bold"},
        {"offset": 8, "length": 4, "type": "italic"},
        {"offset": 10, "length": 2, "type": "underline"},
    ]


def test_supported_tags() -> None:
    text, entities = parse_html(
        '<a href="https://mimikakab.go.id/?a=1&amp;b=2">situs</a> <code>kode</code> '
        '<pre><code class="language-python">x = 1</code></pre> <blockquote>kutip</blockquote> '
        "<tg-spoiler>rahasia</tg-spoiler> <s>coret</s> <strong>B</strong> <em>I</em> <ins>U</ins>"
    )
    by_type = {e["type"]: e for e in entities}
    assert by_type["text_link"]["url"] == "https://mimikakab.go.id/?a=1&b=2"
    assert by_type["pre"]["language"] == "python"
    assert "code" in by_type
    assert {"blockquote", "spoiler", "strikethrough", "bold", "italic", "underline"} <= set(
        by_type
    )
    assert text.startswith("situs kode x = 1 kutip rahasia")


def test_bare_ampersand_is_literal_like_telegram() -> None:
    assert parse_html("Tom & Jerry &nbsp;") == ("Tom & Jerry &nbsp;", [])


def test_whitespace_is_trimmed_and_entities_moved() -> None:
    formatted = format_text("  <b>x</b>  ", "HTML", None, max_length=4096)
    assert formatted.text == "x"
    assert formatted.entities == [{"offset": 0, "length": 1, "type": "bold"}]


@given(st.text(min_size=1, max_size=300))
def test_any_escaped_text_is_accepted(raw: str) -> None:
    escaped = html.escape(raw)
    text, entities = parse_html(escaped)
    assert text == raw
    assert entities == []
    if raw.strip():
        wrapped = format_text(f"<b>{escaped}</b>", "HTML", None, max_length=10**6)
        assert wrapped.text == raw.strip()


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=200).filter(lambda s: s.strip()))
async def test_escaped_text_is_accepted_over_http(api: LocalBotApi, bot: Bot, raw: str) -> None:
    sent = await bot.send_message(CITIZEN, f"<i>{html.escape(raw)}</i>", parse_mode=ParseMode.HTML)
    assert sent.text == raw.strip()


async def test_unescaped_citizen_input_fails_like_production(bot: Bot) -> None:
    with pytest.raises(BadRequest) as info:
        await bot.send_message(CITIZEN, "Anda menulis: <script>", parse_mode=ParseMode.HTML)
    assert info.value.message == (
        'Can\'t parse entities: unsupported start tag "script" at byte offset 14'
    )
