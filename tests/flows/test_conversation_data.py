"""Every conversation test in flows/tests/*.yaml, one pytest case each, through the real
front desk (bot/flows/testing.py, the same runner as ``loket flows test``)."""

from __future__ import annotations

import pytest

from bot.app import Loket
from bot.flows.loader import FLOWS_DIR
from bot.flows.testing import ConversationTest, load_conversation_tests, run_conversation_test

TESTS = load_conversation_tests(FLOWS_DIR / "tests")


def test_there_are_conversation_tests_for_every_flow_file() -> None:
    flows = {path.stem for path in FLOWS_DIR.glob("*.yaml")}
    tested = {test.path.rsplit("/", 1)[-1].removesuffix(".yaml") for test in TESTS}
    assert flows <= tested


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("test", TESTS, ids=[test.name for test in TESTS])
async def test_conversation(loket: Loket, test: ConversationTest) -> None:
    outcome = await run_conversation_test(loket.frontdesk, test)
    assert outcome.passed, f"{test.path}:{test.line} {test.name}\n" + "\n".join(outcome.failures)
