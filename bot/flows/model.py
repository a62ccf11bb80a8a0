"""The in-memory shape of a validated flow set. Immutable: a published set never changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.nlu.matcher import IntentNLU

LocalText = dict[str, str]
LocalList = dict[str, tuple[str, ...]]

STEP_TYPES = ("message", "service", "choice", "input", "action", "branch", "end", "handoff")
# Steps that stop and wait for the citizen; every other step runs straight through.
WAITING_TYPES = frozenset({"choice", "input"})


@dataclass(frozen=True, slots=True)
class Option:
    label: LocalText
    goto: str
    set: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Case:
    var: str
    test: str  # equals | not_equals | in | exists
    value: Any
    goto: str


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    title: LocalText
    summary: LocalText
    requirements: LocalList
    cost: LocalText
    duration: LocalText
    office: str
    legal_basis: tuple[str, ...]
    checked: str
    bring: LocalList | None = None
    procedure: LocalList | None = None
    notes: LocalList | None = None


@dataclass(frozen=True, slots=True)
class Step:
    ref: str  # "flow:step"
    type: str
    path: str
    line: int
    text: LocalText | None = None
    next: str | None = None
    options: tuple[Option, ...] = ()
    options_from: str | None = None
    save_as: str | None = None
    validator: str | None = None
    action: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    on: dict[str, str] = field(default_factory=dict)
    cases: tuple[Case, ...] = ()
    default: str | None = None
    buttons: tuple[Option, ...] = ()
    set: dict[str, Any] = field(default_factory=dict)
    kind: str | None = None
    opd: str | None = None
    service: ServiceInfo | None = None
    entity: str | None = None  # an entity of bot.nlu.entities that fills this input
    help: LocalText | None = None  # an input's answer to "tidak tahu": where to find it

    @property
    def flow(self) -> str:
        return self.ref.split(":", 1)[0]

    @property
    def name(self) -> str:
        return self.ref.split(":", 1)[1]


@dataclass(frozen=True, slots=True)
class Intent:
    id: str
    title: LocalText
    start: str  # step ref
    flow: str
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Flow:
    id: str
    opd: str | None
    path: str
    intents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FlowSet:
    """A complete, checked set of flows. ``version`` is a digest of every source file."""

    flows: dict[str, Flow]
    steps: dict[str, Step]
    intents: dict[str, Intent]
    nlu: dict[str, dict[str, IntentNLU]]
    sources: dict[str, str]
    version: str

    def step(self, ref: str) -> Step:
        return self.steps[ref]
