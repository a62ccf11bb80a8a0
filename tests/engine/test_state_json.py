"""The stored form of a conversation: every field, JSON types only, a copy."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import fields

from hypothesis import given
from hypothesis import strategies as st

from bot.engine.state import ConversationState

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


def test_every_field_is_stored() -> None:
    """A field added to the class and forgotten in to_json would silently not be stored."""
    assert {f.name for f in fields(ConversationState)} == set(ConversationState().to_json())


@given(st.dictionaries(st.text(max_size=8), JSON, max_size=5), st.lists(st.text(max_size=8)))
def test_round_trip_and_copy(context: dict[str, object], history: list[str]) -> None:
    state = ConversationState(
        locale="en",
        step="umum:menu",
        history=history,
        context=context,
        offered=["n:menu"],
        seq=3,
        expires_at=dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC),
        flow_version="abc",
        intent="umum.menu",
        ticket="LKT-ABC234",
    )
    data = json.loads(json.dumps(state.to_json()))
    assert ConversationState.from_json(data) == state
    stored = state.to_json()
    state.context["later"] = [1]
    state.history.append("later")
    assert "later" not in stored["context"] and "later" not in stored["history"]
