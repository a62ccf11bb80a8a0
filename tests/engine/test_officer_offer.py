"""Not understood twice in a row (issue 15, item 1): the second apology offers an officer in
the chat instead of asking the citizen to reword once more; anything understood in between
starts the count again."""

from __future__ import annotations

import pytest

from bot.app import Loket
from tests.support.conversation import Conversation

pytestmark = pytest.mark.asyncio(loop_scope="module")
GIBBERISH = ("qwzx plorb vendek", "zzkrt mmblo fwaq")
OFFICER = "Bicara dengan petugas"


async def test_the_second_miss_in_a_row_offers_an_officer(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.send(GIBBERISH[0])
    assert "belum mengerti" in chat.last_text
    assert OFFICER not in chat.buttons
    await chat.send(GIBBERISH[1])
    chat.assert_sane()
    assert "masih belum mengerti" in chat.last_text
    assert chat.buttons[0] == OFFICER
    await chat.click(OFFICER)
    assert (await chat.state()).step is not None
    assert (await chat.state()).intent == "umum.petugas"


async def test_an_answer_in_between_starts_the_count_again(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.send(GIBBERISH[0])
    await chat.send("syarat ktp baru")
    await chat.send("menu")
    await chat.send(GIBBERISH[1])
    assert "masih belum mengerti" not in chat.last_text
    assert OFFICER not in chat.buttons
