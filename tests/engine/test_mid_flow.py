"""An input step that receives something other than its answer (issue 13, item 6-7): a
question about another service is offered as a switch, "I don't know" is told where to find
the value (and offered an officer), and a valid answer is never taken for either."""

from __future__ import annotations

import pytest

from bot.app import Loket
from bot.storage.models import Event, UnmatchedQuestion
from tests.support.app import rows
from tests.support.conversation import Conversation

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOP_QUESTION = "Tulis NOP (Nomor Objek Pajak)"


async def at_the_nop_question(loket: Loket) -> Conversation:
    chat = Conversation(loket)
    await chat.send("cek tagihan pbb")
    assert NOP_QUESTION in chat.last_text
    return chat


async def test_another_service_asked_at_an_input_is_offered_as_a_switch(loket: Loket) -> None:
    chat = await at_the_nop_question(loket)
    await chat.send("syarat akta kematian")
    chat.assert_sane()
    assert 'bertanya tentang "Akta kematian"' in chat.last_text
    assert NOP_QUESTION in chat.last_text  # the question is still open
    assert "NOP hanya berisi angka" not in chat.last_text  # not the validator's error
    assert chat.buttons[0] == "Akta kematian"
    assert (await chat.state()).step == "bapenda:pbb_tagihan"
    await chat.click("Akta kematian")
    assert (await chat.state()).intent == "disdukcapil.akta_kematian"
    assert "Akta kematian" in chat.replies[0].title


async def test_the_question_can_still_be_answered_after_the_offer(loket: Loket) -> None:
    chat = await at_the_nop_question(loket)
    await chat.send("syarat ktp hilang")
    await chat.send("94.12.010.001.001-0001.0")
    assert "tahun berapa" in chat.last_text


@pytest.mark.parametrize("text", ["sa tra tau NOP", "saya tidak tahu", "lupa nomornya", "gak tau"])
async def test_dont_know_says_where_to_find_the_value_and_offers_an_officer(
    loket: Loket, text: str
) -> None:
    chat = await at_the_nop_question(loket)
    await chat.send(text)
    chat.assert_sane()
    assert "SPPT" in chat.last_text and "bukti bayar PBB" in chat.last_text
    assert chat.buttons[0] == "Bicara dengan petugas"
    assert (await chat.state()).step == "bapenda:pbb_tagihan"
    await chat.click("Bicara dengan petugas")
    # The agency is known from the citizen's own words ("pbb"): straight to the question.
    assert "Tulis pertanyaan Anda untuk petugas" in chat.last_text


async def test_dont_know_in_english(loket: Loket) -> None:
    chat = Conversation(loket, locale="en")
    await chat.send("check my application status")
    await chat.send("I don't know it")
    assert "receipt" in chat.last_text
    assert chat.buttons[0] == "Talk to an officer"


async def test_a_valid_answer_is_never_taken_for_a_switch(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.send("cek status permohonan")
    await chat.send("9404-2026-000101")
    assert "Sepertinya Anda bertanya" not in chat.last_text
    assert "Permohonan 9404-2026-000101" in chat.last_text


async def test_text_at_the_menu_that_matches_nothing_is_recorded(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.command("start")
    await chat.send("zzqx vlorp kwak")
    assert "belum mengerti" in chat.last_text
    user_id = await chat.user_id()
    recorded = await rows(loket, UnmatchedQuestion, UnmatchedQuestion.user_id == user_id)
    assert [q.text for q in recorded] == ["zzqx vlorp kwak"]
    events = await rows(loket, Event, Event.user_id == user_id)
    assert "match" in [e.kind for e in events]


async def test_none_of_these_records_the_text_and_shows_the_menu(loket: Loket) -> None:
    """Issue 13, item 3: the close-call buttons end with "Bukan semuanya"; pressing it records
    the message for admins as not understood and answers politely with the menu."""
    chat = Conversation(loket)
    await chat.send("ktp kk hilang")
    assert "Maksud Anda yang mana?" in chat.last_text
    assert chat.buttons[:4] == [
        "KK hilang atau rusak",
        "KTP-el hilang atau rusak",
        "KTP-el baru",
        "Bukan semuanya",
    ]
    user_id = await chat.user_id()
    assert await rows(loket, UnmatchedQuestion, UnmatchedQuestion.user_id == user_id) == []
    await chat.click("Bukan semuanya")
    chat.assert_sane()
    assert "Pertanyaan Anda kami catat" in chat.replies[0].text
    state = await chat.state()
    assert state.intent == "umum.menu"
    assert "_choice_text" not in state.context  # the text is not kept once recorded
    recorded = await rows(loket, UnmatchedQuestion, UnmatchedQuestion.user_id == user_id)
    assert [q.text for q in recorded] == ["ktp kk hilang"]
    events = await rows(loket, Event, Event.user_id == user_id)
    assert "none_of_these" in [e.kind for e in events]


async def test_picking_a_choice_records_nothing(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.send("ktp kk hilang")
    await chat.click("KTP-el hilang atau rusak")
    assert "_choice_text" not in (await chat.state()).context
    user_id = await chat.user_id()
    assert await rows(loket, UnmatchedQuestion, UnmatchedQuestion.user_id == user_id) == []
