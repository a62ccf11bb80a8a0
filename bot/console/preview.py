"""The flow editor's preview chat: the edited flow set through the same engine, sandboxed.

Why this is safe to run on a live server: the conversation state lives in the browser (sent
back with each turn as JSON) and the engine's effects (record a complaint, save a
subscription, erase data) are returned, not applied: only the front desk applies effects,
and the preview never calls it. Agency lookups do run (read-only), which is what an admin
wants to see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bot.engine.messages import Inbound
from bot.engine.state import ConversationState
from bot.flows.loader import FlowSetError

PREVIEW_USER = "preview"


def replace_file(sources: Mapping[str, str], name: str, content: str) -> dict[str, str]:
    new = dict(sources)
    new[name] = content.replace("\r\n", "\n")
    return new


async def preview_turn(
    loket: Any,
    versions: Any,
    sources: Mapping[str, str],
    payload: Mapping[str, Any],
    *,
    now: dt.datetime,
) -> dict[str, Any]:
    """One turn of the preview: {messages, state} or {errors} when the set does not load."""
    from bot.app import build_engine

    try:
        flows = versions.check(sources)
    except FlowSetError as error:
        return {"errors": [f"{e.path}, baris {e.line}: {e.indonesian}" for e in error.errors]}
    engine = build_engine(flows, loket.registry, loket.region, loket.translator, loket.settings)
    raw = payload.get("state")
    state = ConversationState.from_json(raw) if isinstance(raw, dict) else ConversationState()
    if isinstance(payload.get("payload"), str) and payload["payload"]:
        event = Inbound(kind="button", payload=str(payload["payload"]))
    else:
        event = Inbound(kind="text", text=str(payload.get("text") or "")[:1000])
    turn = await engine.handle(state, event, now=now, user_id=PREVIEW_USER)
    return {
        "state": turn.state.to_json(),
        "messages": [
            {
                "title": m.title,
                "text": m.text,
                "buttons": [{"label": b.label, "payload": b.payload} for b in m.flat_buttons],
            }
            for m in turn.messages
        ],
    }
