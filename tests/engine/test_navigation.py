"""Back, cancel and main menu work from every waiting step (each choice and input step of the
flow set), typed as words and pressed as buttons.

Each step is reached the way a citizen reaches it: the shortest path of button presses and
valid answers found by walking the flow set from /start (tests/support/walk.py), replayed
through the front desk with the sandbox answering the agency actions. The few steps that only
follow an action whose outcome depends on stored data (the list of followed applications)
get a stored state at that step, with the back history a citizen would have.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.app import Loket
from bot.engine.engine import MENU_INTENT, NAV_BACK, NAV_CANCEL, NAV_MENU
from bot.engine.state import ConversationState
from bot.flows.model import WAITING_TYPES
from tests.support.app import FakeClock, project_flow_set
from tests.support.conversation import Conversation
from tests.support.walk import Walk, behind_actions, owning_intent, walk

module_loop = pytest.mark.asyncio(loop_scope="module")

FLOWS = project_flow_set()
WAITING = sorted(ref for ref, step in FLOWS.steps.items() if step.type in WAITING_TYPES)
MENU_STEP = FLOWS.intents[MENU_INTENT].start
NAVIGATION = {
    "typed kembali": ("send", "kembali"),
    "button back": ("press", NAV_BACK),
    "typed batal": ("send", "batal"),
    "button cancel": ("press", NAV_CANCEL),
    "typed menu": ("send", "menu"),
    "button menu": ("press", NAV_MENU),
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def paths(loket: Loket, module_clock: FakeClock) -> AsyncIterator[Walk]:
    walker = Conversation(loket)  # actions that store something need a real citizen
    await walker.command("start")
    yield await walk(
        loket.runtime.current(), now=module_clock(), user_id=str(await walker.user_id())
    )


async def reach(loket: Loket, paths: Walk, ref: str, now: dt.datetime) -> Conversation:
    chat = Conversation(loket)
    if ref in paths.waiting:
        await chat.play(paths.waiting[ref])
        chat.assert_sane()
    else:
        engine = loket.runtime.current()
        history = behind_actions(engine.flows, paths)[ref]
        await chat.put_state(
            ConversationState(
                step=ref,
                history=history,
                seq=len(history) + 1,
                expires_at=now + engine.timeout,
                flow_version=engine.flows.version,
                intent=owning_intent(engine.flows, ref),
            )
        )
    assert (await chat.state()).step == ref, chat.last_text
    return chat


def test_the_flow_set_has_waiting_steps() -> None:
    kinds = {FLOWS.steps[ref].type for ref in WAITING}
    assert kinds == {"choice", "input"}
    assert len(WAITING) >= 20


@module_loop
async def test_every_waiting_step_is_reachable(paths: Walk) -> None:
    behind = behind_actions(FLOWS, paths)
    assert sorted({*paths.waiting, *behind}) == WAITING
    # Queue steps shown only to a citizen holding a booking (or losing the last seat) are
    # driven with real bookings by tests/booking/test_flow.py.
    others = sorted(ref for ref in behind if not ref.startswith("antrean:"))
    assert len(others) <= 5, f"only a few steps should need a stored state: {others}"


@module_loop
@pytest.mark.parametrize("how", NAVIGATION)
@pytest.mark.parametrize("ref", WAITING)
async def test_navigation_from_every_waiting_step(
    loket: Loket, paths: Walk, module_clock: FakeClock, ref: str, how: str
) -> None:
    chat = await reach(loket, paths, ref, module_clock())
    before = await chat.state()
    kind, value = NAVIGATION[how]
    await (chat.send(value) if kind == "send" else chat.press(value))
    chat.assert_sane()
    after = await chat.state()
    if value in ("kembali", NAV_BACK):
        if before.history:  # back to the previous waiting step, with its question again
            assert after.step == before.history[-1]
            assert after.history == before.history[:-1]
            previous = FLOWS.steps[after.step]
            assert previous.text is not None
            assert previous.text["id"].split("{")[0].strip()[:30] in chat.last_text
        else:  # nowhere to go back to: the main menu
            assert after.step == MENU_STEP
    elif value in ("batal", NAV_CANCEL):
        assert after.step is None
        assert after.history == []
        assert after.context == {}
        assert "dibatalkan" in chat.last_text
        assert chat.buttons == ["Menu utama"]
    else:
        assert after.step == MENU_STEP
        assert after.intent == MENU_INTENT
        assert "Menu utama" in chat.last_text
        assert "Kependudukan (Disdukcapil)" in chat.buttons


@module_loop
@pytest.mark.parametrize("ref", WAITING)
async def test_waiting_steps_offer_navigation_buttons(
    loket: Loket, paths: Walk, module_clock: FakeClock, ref: str
) -> None:
    chat = await reach(loket, paths, ref, module_clock())
    if ref not in paths.waiting:  # a stored state has no reply yet: ask the question again
        await chat.send("")
    state = await chat.state()
    if ref == MENU_STEP:
        assert not {NAV_MENU, NAV_CANCEL} & set(chat.payloads)
        return
    assert {NAV_MENU, NAV_CANCEL} <= set(chat.payloads)
    assert (NAV_BACK in chat.payloads) == bool(state.history)


@module_loop
async def test_back_twice_walks_back_up_the_menus(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.send("menu")
    await chat.click("Lainnya")
    await chat.click("Langganan info")
    await chat.click("Atur langganan")
    assert (await chat.state()).step == "umum:langganan_distrik"
    await chat.click("Kembali")
    assert (await chat.state()).step == "umum:langganan"
    await chat.send("kembali")
    assert (await chat.state()).step == "umum:lainnya"
    await chat.send("kembali")
    assert (await chat.state()).step == MENU_STEP
    await chat.send("kembali")  # no history left: stays on the menu
    chat.assert_sane()
    assert (await chat.state()).step == MENU_STEP


@module_loop
async def test_back_after_an_answer_continues_from_the_menu(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.send("syarat ktp baru")
    assert (await chat.state()).step is None
    await chat.send("kembali")
    chat.assert_sane()
    assert (await chat.state()).step == MENU_STEP


@module_loop
async def test_cancel_with_nothing_to_cancel(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.send("syarat ktp baru")
    await chat.send("batal")
    chat.assert_sane()
    assert "Tidak ada yang perlu dibatalkan" in chat.last_text
    await chat.command("batal")
    chat.assert_sane()


@module_loop
async def test_back_from_an_input_after_an_invalid_answer(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.send("menu")
    await chat.click("Pajak Daerah")
    await chat.click("Cek tagihan PBB")
    await chat.send("bukan nop")
    assert (await chat.state()).step == "bapenda:pbb_tagihan"
    await chat.send("kembali")
    chat.assert_sane()
    assert (await chat.state()).step == "bapenda:menu"


@module_loop
async def test_english_navigation_words(loket: Loket) -> None:
    chat = Conversation(loket, locale="en")
    await chat.send("main menu")
    await chat.click("Regional taxes")
    await chat.send("back")
    assert (await chat.state()).step == MENU_STEP
    await chat.click("Regional taxes")
    await chat.send("cancel")
    chat.assert_sane()
    assert (await chat.state()).step is None
