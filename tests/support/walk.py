"""Walks a flow set the way a citizen can: pressing offered buttons and typing valid answers.

The walk runs on the engine alone (each branch on a copy of the state), so exploring every
button of every menu costs milliseconds. It records, for every waiting step and every intent,
the first (shortest) way a citizen gets there, which tests replay through the front desk.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.engine.engine import Engine, Turn
from bot.engine.messages import Inbound
from bot.engine.state import ConversationState
from bot.flows.model import WAITING_TYPES, FlowSet, Step

# A valid answer for each validator, taken from the sandbox's seeded records.
VALID_ANSWERS: Mapping[str, str] = {
    "nop": "94.12.010.001.001-0001.0",
    "year": "2026",
    "application_number": "9404-2026-000101",
    "ak1_number": "AK1-2026-000201",
    "free_text": "Antrean di loket sangat panjang hari Senin pagi",
    "nik": "9401010101900001",
}

# One move of a citizen: ("command", "start"), ("click", label) or ("send", text).
Move = tuple[str, str]


@dataclass(slots=True)
class Walk:
    waiting: dict[str, tuple[Move, ...]] = field(default_factory=dict)  # step ref -> moves
    history: dict[str, list[str]] = field(default_factory=dict)  # step ref -> its back history
    steps: dict[str, tuple[Move, ...]] = field(default_factory=dict)  # every step run
    intents: dict[str, tuple[Move, ...]] = field(default_factory=dict)  # state.intent seen


async def walk(
    engine: Engine,
    *,
    now: dt.datetime,
    start: Inbound | None = None,
    answers: Mapping[str, str] | None = VALID_ANSWERS,
    user_id: str = "0",
    visit: Callable[[Turn, tuple[Move, ...]], None] | None = None,
) -> Walk:
    """Breadth-first from ``start`` (/start by default) over every offered non-navigation
    button; with ``answers``, input steps are answered with a valid value too. ``visit`` sees
    every turn with the moves that led to it (tests/engine/test_provenance.py)."""
    result = Walk()
    start = start or Inbound(kind="command", command="start")
    first_move: Move = (
        ("command", start.command) if start.kind == "command" else ("send", start.text)
    )

    async def play(state: ConversationState, event: Inbound) -> Turn:
        return await engine.handle(copy.deepcopy(state), event, now=now, user_id=user_id)

    first = await play(ConversationState(), start)
    queue: deque[tuple[Turn, tuple[Move, ...]]] = deque([(first, (first_move,))])
    explored: set[object] = set()
    while queue:
        turn, moves = queue.popleft()
        state = turn.state
        if visit is not None:
            visit(turn, moves)
        for kind, detail in turn.transitions:
            if kind == "step":
                result.steps.setdefault(str(detail["step"]), moves)
        if state.intent:
            result.intents.setdefault(state.intent, moves)
        buttons = [b for b in turn.messages[-1].flat_buttons if not b.payload.startswith("n:")]
        if state.step is not None:
            result.waiting.setdefault(state.step, moves)
            result.history.setdefault(state.step, list(state.history))
            key: object = state.step
        else:
            key = tuple(b.payload for b in buttons)
        if key in explored:
            continue
        explored.add(key)
        step = engine.flows.steps.get(state.step) if state.step else None
        if step is not None and step.options_from:
            buttons = [b for b in buttons if b.payload.startswith("o:")][:1]  # all go to `next`
        for button in buttons:
            after = await play(state, Inbound(kind="button", payload=button.payload))
            queue.append((after, (*moves, ("click", button.label))))
        if step is not None and step.type == "input" and answers is not None:
            answer = answers.get(step.validator or "")
            if answer is not None:
                after = await play(state, Inbound(kind="text", text=answer))
                queue.append((after, (*moves, ("send", answer))))
    return result


def targets(step: Step) -> list[str]:
    """Every step a step can lead to."""
    found = [step.next] if step.next else []
    found += [option.goto for option in (*step.options, *step.buttons)]
    found += list(step.on.values()) + [case.goto for case in step.cases]
    return found + ([step.default] if step.default else [])


def behind_actions(flows: FlowSet, found: Walk) -> dict[str, list[str]]:
    """Waiting steps the walk did not reach (they follow an action whose outcome depends on
    stored data, e.g. the list of followed applications), each with a plausible back
    history: the waiting steps a citizen passes on the way there."""
    result: dict[str, list[str]] = {}
    queue = deque((ref, [*found.history[ref], ref]) for ref in found.waiting)
    seen: set[str] = set(found.waiting)
    while queue:
        ref, history = queue.popleft()
        for target in targets(flows.steps[ref]):
            if target in seen or target not in flows.steps:
                continue
            seen.add(target)
            if flows.steps[target].type in WAITING_TYPES:
                result[target] = history
                queue.append((target, [*history, target]))
            else:
                queue.append((target, history))
    return result


def owning_intent(flows: FlowSet, ref: str) -> str | None:
    """The intent whose start leads to ``ref`` in the fewest steps."""
    best: tuple[int, str] | None = None
    for intent in flows.intents.values():
        distance = {intent.start: 0}
        queue = deque([intent.start])
        while queue and ref not in distance:
            current = queue.popleft()
            for target in targets(flows.steps[current]):
                if target not in distance and target in flows.steps:
                    distance[target] = distance[current] + 1
                    queue.append(target)
        if ref in distance and (best is None or distance[ref] < best[0]):
            best = (distance[ref], intent.id)
    return best[1] if best else None
