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


REVIEW_DUE_DAYS = 180  # an answer its OPD confirmed is due for another look after this


@dataclass(frozen=True, slots=True)
class Review:
    """An OPD's "Sudah benar" on one intent's answers (issue 14), kept in the flow file.

    Why in the flow and not in a table: a review vouches for one wording, and the wording is
    a flow version; so the review is published as the next version (its author and time are
    the version's, audited as ``answer.review``), a rollback brings back the review that
    belonged to the restored text, and "what did the bot say, and who vouched for it, last
    Tuesday" has one answer. No staff name is written here: who is the version's author.
    """

    opd: str  # the OPD that confirmed it (a key of ``opds`` in the region file)
    on: str  # the day it was confirmed, YYYY-MM-DD, WIT
    due: str  # the day it is due for another review, YYYY-MM-DD (default on + 180 days)
    # A digest of the wording that was confirmed (``answer_digest``): when the answer is
    # edited afterwards the review no longer applies and citizens read "belum diverifikasi".
    answer: str = ""


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    title: LocalText
    summary: LocalText
    requirements: LocalList
    cost: LocalText
    duration: LocalText
    office: str
    legal_basis: tuple[str, ...]
    checked: str = ""  # when the compiler last read the sources: not a review by the OPD
    bring: LocalList | None = None
    procedure: LocalList | None = None
    notes: LocalList | None = None
    proxy: LocalText | None = None  # "Bisa diwakilkan?": whether someone else may apply


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
    # Provenance of every answer of the intent (issue 14): where its facts come from, shown
    # under each answer, and the OPD's review, or None: "belum diverifikasi oleh <OPD>".
    sources: tuple[str, ...] = ()
    review: Review | None = None
    # The bot's own interface (the menu, the language choice, small talk): no facts of an
    # OPD, so nothing to source or verify. tests/engine/test_provenance.py pins the list.
    interface: bool = False
    # The review was made for a wording that has changed since: shown as not verified.
    review_stale: bool = False
    # The OPD that answers for the intent when it is not the flow's (BPJS PBI: Dinsos, in the
    # health flow): named in the provenance and owner of the answer in the review queue.
    opd: str | None = None


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
