"""Conversation tests written as data (``flows/tests/*.yaml``), run through the real front desk.

Admins write them next to the flows they edit, so a changed answer is checked the same way a
programmer's change is: what the citizen sends, what the bot must say, which buttons it offers.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.engine.messages import Inbound, Outbound
from bot.frontdesk import FrontDesk
from bot.yamlsrc import YamlError, line_of, load_yaml_text

_counter = itertools.count(1)


@dataclass(frozen=True, slots=True)
class TurnSpec:
    line: int
    send: str | None = None
    click: str | None = None
    command: str | None = None
    expect: tuple[str, ...] = ()
    expect_not: tuple[str, ...] = ()
    buttons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConversationTest:
    name: str
    path: str
    line: int
    locale: str
    turns: tuple[TurnSpec, ...]


@dataclass(slots=True)
class TestOutcome:
    test: ConversationTest
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def load_conversation_tests(directory: Path) -> list[ConversationTest]:
    tests: list[ConversationTest] = []
    for path in sorted(directory.glob("*.yaml")):
        data = load_yaml_text(path.read_text(encoding="utf-8"), str(path))
        if not isinstance(data, list):
            raise YamlError(str(path), 1, "a test file is a list of tests")
        for index, raw in enumerate(data):
            line = line_of(data, index)
            if not isinstance(raw, dict) or not isinstance(raw.get("turns"), list):
                raise YamlError(str(path), line, "a test needs 'name' and a list of 'turns'")
            turns = []
            for turn_index, turn in enumerate(raw["turns"]):
                turn_line = line_of(raw["turns"], turn_index)
                if (
                    not isinstance(turn, dict)
                    or sum(k in turn for k in ("send", "click", "command")) != 1
                ):
                    raise YamlError(
                        str(path), turn_line, "each turn has exactly one of send, click, command"
                    )
                unknown = set(turn) - {
                    "send",
                    "click",
                    "command",
                    "expect",
                    "expect_not",
                    "buttons",
                }
                if unknown:
                    raise YamlError(str(path), turn_line, f"unknown keys {sorted(unknown)}")
                turns.append(
                    TurnSpec(
                        line=turn_line,
                        send=str(turn["send"]) if "send" in turn else None,
                        click=str(turn["click"]) if "click" in turn else None,
                        command=str(turn["command"]) if "command" in turn else None,
                        expect=_strings(turn.get("expect")),
                        expect_not=_strings(turn.get("expect_not")),
                        buttons=_strings(turn.get("buttons")),
                    )
                )
            tests.append(
                ConversationTest(
                    name=str(raw.get("name", f"test {index + 1}")),
                    path=str(path),
                    line=line,
                    locale=str(raw.get("locale", "id")),
                    turns=tuple(turns),
                )
            )
    return tests


def reply_text(messages: list[Outbound]) -> str:
    return "\n".join(f"{m.title}\n{m.text}" if m.title else m.text for m in messages)


async def run_conversation_test(frontdesk: FrontDesk, test: ConversationTest) -> TestOutcome:
    """Plays one test as a brand-new citizen and collects every mismatch."""
    outcome = TestOutcome(test)
    user = f"flowtest-{next(_counter)}"
    last: list[Outbound] = []
    if test.locale != "id":
        await frontdesk.handle(
            "test", user, Inbound(kind="command", command="start", language_hint=test.locale)
        )
    for turn in test.turns:
        where = f"{test.path}:{turn.line}"
        if turn.click is not None:
            buttons = [b for m in last for b in m.flat_buttons]
            button = next((b for b in buttons if b.label == turn.click), None) or next(
                (b for b in buttons if b.label.casefold() == turn.click.casefold()), None
            )
            if button is None:
                outcome.failures.append(
                    f"{where}: no button {turn.click!r}; offered: {[b.label for b in buttons]}"
                )
                return outcome
            event = Inbound(kind="button", payload=button.payload, language_hint=test.locale)
        elif turn.command is not None:
            command, _, argument = turn.command.lstrip("/").partition(" ")
            event = Inbound(
                kind="command", command=command, argument=argument, language_hint=test.locale
            )
        else:
            event = Inbound(kind="text", text=turn.send or "", language_hint=test.locale)
        last = await frontdesk.handle("test", user, event)
        text = reply_text(last)
        folded = text.casefold()
        for expected in turn.expect:
            if expected.casefold() not in folded:
                outcome.failures.append(
                    f"{where}: expected {expected!r} in the reply:\n{_indent(text)}"
                )
        for unwanted in turn.expect_not:
            if unwanted.casefold() in folded:
                outcome.failures.append(
                    f"{where}: did not expect {unwanted!r} in the reply:\n{_indent(text)}"
                )
        labels = [b.label for m in last for b in m.flat_buttons]
        for label in turn.buttons:
            if label not in labels:
                outcome.failures.append(f"{where}: expected a button {label!r}; offered: {labels}")
        if outcome.failures:
            return outcome
    return outcome


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines()[:40])
