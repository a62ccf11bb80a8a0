"""Whatever a citizen (or a forged update) sends gets a clear, non-empty reply and never an
exception: odd text, odd characters, out-of-range numbers, stale and forged buttons. Checked
when idle, at a choice step (the main menu) and at an input step."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Loket
from bot.engine.engine import MAX_TEXT_CHARS
from bot.engine.messages import Inbound
from bot.storage.models import Base, UnmatchedQuestion
from tests.support.app import rows, table_names
from tests.support.conversation import Conversation

module_loop = pytest.mark.asyncio(loop_scope="module")

EMPTY = "kosong"
NOT_UNDERSTOOD = "belum mengerti"
PICK_A_BUTTON = "Silakan pilih salah satu tombol"
STALE = "Tombol itu sudah tidak berlaku"
SQL = "'; DROP TABLE users; --"

TEXTS = {
    "empty": "",
    "whitespace only": " \t\n  \u00a0 ",
    "5000 characters": "a" * 5000,
    "5000 characters after a question": "syarat ktp baru " + "x" * 4984,
    "emoji only": "🙏🏽🙏🏽😀",
    "zero-width only": "\u200b\u200c\u200d\u2060\ufeff",
    "right-to-left override": "\u202eurab ptk tarays\u202c",
    "SQL-looking": SQL,
    "script tag": "<script>alert(1)</script>",
    "bold tag": "<b>",
    "null byte only": "\x00",
    "null bytes inside": "syarat\x00 ktp\x00 baru",
    "control characters": "\x01\x02\x1b[31m\x7f",
    "lone surrogate": "\ud800",
    "lone surrogate with words": "\udfff qwerty zxcv",
    "number zero": "0",
    "number out of range": "99",
    "negative number": "-1",
    "huge number": "9" * 400,
    "decimal number": "1.5",
}
PLACES = ("idle", "choice", "input")


async def citizen_at(loket: Loket, place: str) -> Conversation:
    chat = Conversation(loket)
    if place == "idle":  # a question was answered; nothing is waiting
        await chat.send("syarat ktp baru")
        assert (await chat.state()).step is None
    elif place == "choice":
        await chat.send("menu")
        assert (await chat.state()).step == "umum:menu"
    elif place == "input":
        await chat.send("cek status permohonan")
        assert (await chat.state()).step == "disdukcapil:status_permohonan"
    return chat


@module_loop
@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("name", TEXTS)
async def test_odd_text_gets_a_clear_reply(loket: Loket, name: str, place: str) -> None:
    chat = await citizen_at(loket, place)
    before = await chat.state()
    await chat.send(TEXTS[name])
    chat.assert_sane()
    assert chat.offered, "the citizen always has a button to go on with"
    after = await chat.state()
    if name in ("empty", "whitespace only", "zero-width only", "null byte only"):
        assert EMPTY in chat.last_text
        assert after.step == before.step  # and the question is asked again
    if place == "input" and name not in ("5000 characters after a question",):
        assert after.step == before.step, chat.last_text  # not an application number
    if place == "choice" and name.startswith(("number", "negative", "huge", "decimal")):
        assert PICK_A_BUTTON in chat.last_text
        assert after.step == "umum:menu"


@module_loop
async def test_invisible_and_direction_characters_do_not_hide_a_question(loket: Loket) -> None:
    for text in (
        "\u200bsyarat\u200b ktp\u2060 baru",
        "\u202esyarat ktp baru\u202c",
        "syarat\x00 ktp baru",
    ):
        chat = Conversation(loket)
        await chat.send(text)
        assert (await chat.state()).intent == "disdukcapil.ktp_baru", repr(text)


@module_loop
async def test_markup_is_never_echoed_as_markup(loket: Loket) -> None:
    chat = await citizen_at(loket, "idle")
    await chat.send("<script>alert(1)</script>")
    assert "<script>" not in chat.last_text
    assert NOT_UNDERSTOOD in chat.last_text


@module_loop
async def test_sql_looking_text_is_stored_as_text_and_tables_are_intact(loket: Loket) -> None:
    chat = await citizen_at(loket, "idle")
    await chat.send(SQL)
    chat.assert_sane()
    stored = [
        q.text
        for q in await rows(
            loket, UnmatchedQuestion, UnmatchedQuestion.user_id == await chat.user_id()
        )
    ]
    assert stored == [SQL]
    assert set(Base.metadata.tables) <= await table_names(loket)
    await chat.send("menu")  # the citizen, and the users table, are still there
    chat.assert_sane()
    assert (await chat.user_row()) is not None


@module_loop
async def test_very_long_text_is_cut_not_refused(loket: Loket) -> None:
    chat = await citizen_at(loket, "idle")
    await chat.send("qwerty " * 1000)
    chat.assert_sane()
    stored = await rows(
        loket, UnmatchedQuestion, UnmatchedQuestion.user_id == await chat.user_id()
    )
    assert len(stored) == 1
    assert len(stored[0].text) <= min(500, MAX_TEXT_CHARS)


@module_loop
async def test_stale_button_from_an_earlier_message(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.send("menu")
    old_other = chat.button("Lainnya").payload
    await chat.click("Kependudukan (Disdukcapil)")
    await chat.press(old_other)
    chat.assert_sane()
    assert STALE in chat.last_text
    assert (await chat.state()).step == "disdukcapil:menu"
    assert "KTP-el baru" in chat.buttons  # the current question is asked again


@module_loop
async def test_stale_button_after_the_conversation_ended(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.send("menu")
    old = chat.button("Kependudukan (Disdukcapil)").payload
    await chat.send("syarat ktp baru")
    await chat.press(old)
    chat.assert_sane()
    assert STALE in chat.last_text


FORGED = {
    "skip to erasure": "g:umum:hapus_proses",
    "start erasure intent": "i:umum.hapus_data",
    "option of a future step": "o:999.0",
    "option with a bad index": "o:1.99",
    "malformed option": "o:x",
    "unknown navigation": "n:admin",
    "unknown kind": "z:whatever",
    "empty": "",
    "long": "g:" + "x" * 5000,
    "surrogate": "o:\ud800",
    "null byte": "g:umum:menu\x00",
}


@module_loop
@pytest.mark.parametrize("name", FORGED)
async def test_forged_button_is_refused(loket: Loket, name: str) -> None:
    chat = Conversation(loket)
    await chat.send("menu")
    await chat.press(FORGED[name])
    chat.assert_sane()
    assert STALE in chat.last_text
    state = await chat.state()
    assert state.step == "umum:menu"
    assert (await chat.counts())["users"] == 1  # nothing was erased


@module_loop
async def test_forged_erasure_button_erases_nothing(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.send("hapus data saya")
    await chat.press("g:umum:hapus_proses")
    assert STALE in chat.last_text
    assert (await chat.counts())["users"] == 1


@module_loop
async def test_unsupported_messages_and_unknown_commands(loket: Loket) -> None:
    chat = await citizen_at(loket, "input")
    await chat.unsupported()
    chat.assert_sane()
    assert "pesan teks" in chat.last_text
    assert (await chat.state()).step == "disdukcapil:status_permohonan"
    for name, argument in (
        ("tidakada", ""),
        ("start", "\ud800"),
        ("\ud800", ""),
        ("START", "KTP_BARU"),
    ):
        await chat.command(name, argument)
        chat.assert_sane()


# -- properties ----------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


# Any code point, surrogates included, with the troublesome ones made frequent.
NASTY = st.sampled_from(
    ["\x00", "\ud800", "\udfff", "\u202e", "\u200b", "\ufeff", "🙏", "<", "'", "\n", "1"]
)
ANY_TEXT = st.text(st.one_of(st.characters(exclude_categories=()), NASTY))


def assert_answered(replies: list) -> None:  # type: ignore[type-arg]
    assert replies
    assert all(isinstance(m.text, str) for m in replies)
    assert any(m.text.strip() for m in replies)


@module_loop
@PROPERTY_SETTINGS
@given(text=ANY_TEXT, place=st.sampled_from(PLACES))
async def test_any_text_gets_an_answer(loket: Loket, text: str, place: str) -> None:
    chat = await citizen_at(loket, place)
    assert_answered(await chat.send(text))


@module_loop
@PROPERTY_SETTINGS
@given(payload=st.one_of(ANY_TEXT, st.from_regex(r"\A[nogi]:[\w.:]{0,20}\Z")))
async def test_any_button_payload_gets_an_answer(loket: Loket, payload: str) -> None:
    chat = await citizen_at(loket, "choice")
    assert_answered(await chat.press(payload))


@module_loop
@PROPERTY_SETTINGS
@given(
    command=st.text(st.one_of(st.characters(exclude_categories=()), NASTY), max_size=40),
    argument=st.text(st.one_of(st.characters(exclude_categories=()), NASTY), max_size=80),
    hint=st.one_of(st.none(), st.text(max_size=8)),
)
async def test_any_command_gets_an_answer(
    loket: Loket, command: str, argument: str, hint: str | None
) -> None:
    chat = Conversation(loket)
    replies = await loket.frontdesk.handle(
        chat.channel,
        chat.user,
        Inbound(kind="command", command=command, argument=argument, language_hint=hint),
    )
    assert_answered(replies)
