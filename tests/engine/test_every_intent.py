"""Every intent of the published flow set can be reached: by typing (its own first NLU
example, in Indonesian and in English), by pressing buttons from the main menu, and by a
deep link ``/start <suffix>``."""

from __future__ import annotations

import pytest
import yaml

from bot.app import Loket
from bot.engine.engine import DEEP_LINK_ALIASES, NAV_MENU, NAV_WORDS
from bot.flows.loader import FLOWS_DIR
from bot.nlu.matcher import RESERVED_PREFIX
from bot.storage.models import Event
from tests.support.app import FakeClock, project_flow_set, rows
from tests.support.conversation import Conversation
from tests.support.walk import walk

module_loop = pytest.mark.asyncio(loop_scope="module")

INTENTS = sorted(project_flow_set().intents)
# Small talk is typed, never pressed: no citizen looks for a "thank you" button.
TYPED_ONLY = {"umum.terima_kasih"}


def first_examples(locale: str) -> dict[str, str]:
    """First example per intent; '_' entries are out-of-scope look-alikes, not intents."""
    data = yaml.safe_load((FLOWS_DIR / "nlu" / f"{locale}.yaml").read_text(encoding="utf-8"))
    return {
        intent: entry["examples"][0]
        for intent, entry in data.items()
        if entry.get("examples") and not intent.startswith(RESERVED_PREFIX)
    }


ID_EXAMPLES = first_examples("id")
EN_EXAMPLES = first_examples("en")


async def assert_in_intent(chat: Conversation, intent: str, via: str) -> None:
    chat.assert_sane()
    state = await chat.state()
    assert state.intent == intent, f"landed in {state.intent!r}; reply:\n{chat.last_text}"
    events = await rows(chat.loket, Event, Event.user_id == await chat.user_id())
    entered = [(e.intent, e.detail.get("via")) for e in events if e.kind == "intent"]
    assert (intent, via) in entered, entered


async def walker(loket: Loket) -> str:
    """The walk presses buttons as a stored citizen: some actions store things for them."""
    chat = Conversation(loket)
    await chat.command("start")
    return str(await chat.user_id())


def typed_via(text: str) -> str:
    """How the engine logs a typed text: navigation words ("menu") are not matched."""
    return "menu" if NAV_WORDS.get(text.strip().lower()) == NAV_MENU else "text"


def test_every_intent_has_examples_in_both_languages() -> None:
    assert set(INTENTS) == set(ID_EXAMPLES)
    assert set(INTENTS) == set(EN_EXAMPLES)


@module_loop
@pytest.mark.parametrize("intent", INTENTS)
async def test_free_text_in_indonesian(loket: Loket, intent: str) -> None:
    chat = Conversation(loket)
    await chat.send(ID_EXAMPLES[intent])
    await assert_in_intent(chat, intent, typed_via(ID_EXAMPLES[intent]))


@module_loop
@pytest.mark.parametrize("intent", INTENTS)
async def test_free_text_in_english(loket: Loket, intent: str) -> None:
    chat = Conversation(loket, locale="en")
    await chat.send(EN_EXAMPLES[intent])
    await assert_in_intent(chat, intent, typed_via(EN_EXAMPLES[intent]))
    assert (await chat.user_row()).locale == "en"  # type: ignore[union-attr]


@module_loop
async def test_menu_buttons_reach_every_intent(loket: Loket, module_clock: FakeClock) -> None:
    engine = loket.runtime.current()
    found = await walk(engine, now=module_clock(), answers=None, user_id=await walker(loket))
    missing = sorted(set(engine.flows.intents) - set(found.intents) - TYPED_ONLY)
    assert not missing, f"not reachable from the menu by buttons: {missing}"
    unstarted = sorted(
        i.id
        for i in engine.flows.intents.values()
        if i.start not in found.steps and i.id not in TYPED_ONLY
    )
    assert not unstarted, unstarted


@module_loop
async def test_menu_paths_replayed_through_the_front_desk(
    loket: Loket, module_clock: FakeClock
) -> None:
    """The recorded button paths work for a real citizen, and land in the intent."""
    found = await walk(
        loket.runtime.current(), now=module_clock(), answers=None, user_id=await walker(loket)
    )
    for intent in sorted(set(INTENTS) - TYPED_ONLY):
        chat = Conversation(loket)
        await chat.play(found.intents[intent])
        assert all(kind != "send" for kind, _ in found.intents[intent])
        await assert_in_intent(chat, intent, "start" if intent == "umum.menu" else "navigation")


@module_loop
@pytest.mark.parametrize("intent", INTENTS)
async def test_deep_link(loket: Loket, intent: str) -> None:
    chat = Conversation(loket)
    await chat.command("start", intent.split(".", 1)[1])
    await assert_in_intent(chat, intent, "deep_link")


@module_loop
@pytest.mark.parametrize("alias", sorted(DEEP_LINK_ALIASES))
async def test_deep_link_aliases(loket: Loket, alias: str) -> None:
    chat = Conversation(loket)
    await chat.command("start", alias)
    await assert_in_intent(chat, DEEP_LINK_ALIASES[alias], "deep_link")


@module_loop
async def test_unknown_deep_link_opens_the_menu(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.command("start", "tidak_ada")
    await assert_in_intent(chat, "umum.menu", "start")
