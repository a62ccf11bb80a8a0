"""A conversation's state: small, JSON-serialisable, stored after every handled event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import DEFAULT_LOCALE


@dataclass(slots=True)
class ConversationState:
    """Where a citizen is in a conversation.

    ``step`` is the step waiting for an answer (None when idle); ``history`` holds the
    earlier waiting steps, for "back"; ``offered`` the button payloads of the last reply, so
    a stale or forged button is recognised; ``expires_at`` is the inactivity deadline, kept
    with the state so a restart does not forget it; ``flow_version`` the flow set the
    conversation runs on.
    """

    locale: str = DEFAULT_LOCALE
    step: str | None = None
    history: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    offered: list[str] = field(default_factory=list)
    seq: int = 0
    expires_at: dt.datetime | None = None
    flow_version: str | None = None
    intent: str | None = None
    # The open ticket the citizen is talking to an officer in (issue 15, bot/handoff): while
    # set, the front desk routes their messages there, not to the engine.
    ticket: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A copy made of JSON types. Written out field by field: ``dataclasses.asdict`` was a
        tenth of a first contact's CPU time (it deep-copies through dataclass machinery)."""
        return {
            "locale": self.locale,
            "step": self.step,
            "history": list(self.history),
            "context": _copy_json(self.context),
            "offered": list(self.offered),
            "seq": self.seq,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "flow_version": self.flow_version,
            "intent": self.intent,
            "ticket": self.ticket,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConversationState:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        expires = known.get("expires_at")
        known["expires_at"] = dt.datetime.fromisoformat(expires) if expires else None
        return cls(**known)

    def reset(self) -> None:
        """Forgets the conversation but keeps the citizen's language."""
        self.step = None
        self.history = []
        self.context = {}
        self.offered = []
        self.intent = None


def _copy_json(value: Any) -> Any:
    """A deep copy of dicts and lists (the context holds only JSON values)."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_json(item) for item in value]
    return value
