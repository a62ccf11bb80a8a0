"""Names that flows may use, resolved to code.

Flows are data and never import Python: they name a validator (``validator: nik``) or an
action (``action: disdukcapil.application_status``) and this registry resolves the name.
The flow validator refuses a flow that names something not registered here, so a typo is
caught when the flow is loaded, not when a citizen reaches that step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["ok", "not_found", "unavailable", "invalid"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "not_found", "unavailable", "invalid")


@dataclass(frozen=True, slots=True)
class Validation:
    """The result of checking one citizen answer.

    ``value`` is the cleaned value to store (e.g. a NIK without spaces) when ``ok``;
    ``error`` is the message when not: Indonesian source text marked with ``bot.i18n.N_`` so
    that Babel extracts it into the catalogues, with ``{placeholders}`` filled from ``params``
    after translation. The message always shows what a valid value looks like.
    """

    ok: bool
    value: str | None = None
    error: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an integration action returns to a flow.

    ``outcome`` picks the flow's next step; ``data`` is stored in the conversation context
    under the step's ``save_as`` so templates can show it. ``data`` must be JSON-serialisable
    plain values (str, int, float, bool, None, lists, dicts): it is persisted with the state.
    """

    outcome: Outcome
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ActionCall:
    """Everything an action may know about the call: who asks, in which language, with what."""

    params: Mapping[str, Any]
    user_id: str
    locale: str


Validator = Callable[[str], Validation]
Action = Callable[[ActionCall], Awaitable[ActionResult]]


class Registry:
    """Validators and actions by name. One instance is built at start-up and passed around."""

    def __init__(self) -> None:
        self._validators: dict[str, Validator] = {}
        self._actions: dict[str, Action] = {}

    def add_validator(self, name: str, validator: Validator) -> None:
        if name in self._validators:
            raise ValueError(f"validator {name!r} registered twice")
        self._validators[name] = validator

    def add_action(self, name: str, action: Action) -> None:
        if name in self._actions:
            raise ValueError(f"action {name!r} registered twice")
        self._actions[name] = action

    def replace_action(self, name: str, action: Action) -> None:
        """Swaps a registered action for a wrapper of it (bot/local.py marks sandbox data)."""
        if name not in self._actions:
            raise KeyError(name)
        self._actions[name] = action

    def validator(self, name: str) -> Validator:
        return self._validators[name]

    def action(self, name: str) -> Action:
        return self._actions[name]

    def has_validator(self, name: str) -> bool:
        return name in self._validators

    def has_action(self, name: str) -> bool:
        return name in self._actions

    @property
    def validator_names(self) -> frozenset[str]:
        return frozenset(self._validators)

    @property
    def action_names(self) -> frozenset[str]:
        return frozenset(self._actions)
