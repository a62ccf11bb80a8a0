"""The OPD review queue (issue 14): staff of an OPD confirm their OPD's answers.

Each intent's answers carry ``sources`` and, once an OPD confirmed them, ``review: {opd, on,
due}`` in the flow file (bot/flows/model.py ``Review``). "Sudah benar" therefore publishes the
next flow version with that one line changed: the version row says who (its author) and when,
the audit log records ``answer.review``, a rollback restores the review that belonged to the
restored wording, and every worker picks it up like any other publish. No table of reviews
has to be kept in step with the flows, and "flows are data, versioned" stays true.

"Perlu diubah" opens the flow editor on the intent's file and line; staff may edit the flow
file of their own OPD (``may_edit``), admins every file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.flows.loader import answer_digest
from bot.flows.model import REVIEW_DUE_DAYS, FlowSet, Intent, Review
from bot.staff.roles import audit
from bot.storage.models import AuditLog

if TYPE_CHECKING:
    from bot.flows.versions import FlowVersions, VersionInfo
    from bot.region import Region
    from bot.staff.roles import RoleSet

REVIEW_ACTION = "answer.review"


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One intent's answers as a reviewer sees them."""

    intent: Intent
    opd: str  # the owning OPD (the flow's)
    status: str  # "belum" (never) | "terverifikasi" | "lewat" (overdue) | "diubah" (edited since)


def owner(flows: FlowSet, intent: Intent) -> str:
    """The OPD that answers for an intent: its own ``opd``, else its flow's."""
    if intent.opd:
        return intent.opd
    flow = flows.flows.get(intent.flow)
    return (flow.opd if flow else None) or ""


def status_of(intent: Intent, today: dt.date) -> str:
    if intent.review_stale:
        return "diubah"
    if intent.review is None:
        return "belum"
    return "lewat" if today > dt.date.fromisoformat(intent.review.due) else "terverifikasi"


def queue(flows: FlowSet, opds: list[str] | None, today: dt.date) -> list[QueueItem]:
    """The answers of ``opds`` (None: every OPD, for admins) with something to do first:
    overdue, then never confirmed, then confirmed; interface intents have nothing to verify."""
    order = {"lewat": 0, "diubah": 1, "belum": 2, "terverifikasi": 3}
    items = [
        QueueItem(intent, owner(flows, intent), status_of(intent, today))
        for intent in flows.intents.values()
        if not intent.interface and (opds is None or owner(flows, intent) in opds)
    ]
    return sorted(items, key=lambda item: (order[item.status], item.intent.id))


def may_edit(roles: RoleSet, flows: FlowSet, name: str) -> bool:
    """Admins edit every file; staff the flow file their OPD owns ("Perlu diubah")."""
    if roles.is_admin:
        return True
    flow = next((f for f in flows.flows.values() if f.path == name), None)
    return flow is not None and flow.opd is not None and flow.opd in roles.opds


def with_review(sources: Mapping[str, str], intent: Intent, review: Review) -> dict[str, str]:
    """The sources with ``intent``'s ``review:`` line set to ``review``.

    Edits the text of the intent's entry (as ``add_example`` does for NLU files) rather than
    re-dumping the YAML, so the file's comments and layout stay and the version's diff is the
    one line a reviewer changed.
    """
    lines = sources[intent.path].splitlines()
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if re.fullmatch(rf"  - id: {re.escape(intent.id)}\s*", line)
        ),
        None,
    )
    if start is None:
        raise LookupError(f"intent {intent.id} not found in {intent.path}")
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if not lines[i].startswith("    ") and lines[i].strip()
        ),
        len(lines),
    )
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    block = [line for line in lines[start + 1 : end] if not line.startswith("    review:")]
    entry = (
        f"    review: {{opd: {review.opd}, on: {json.dumps(review.on)}, "
        f"due: {json.dumps(review.due)}, answer: {json.dumps(review.answer)}}}"
    )
    new = dict(sources)
    new[intent.path] = "\n".join([*lines[: start + 1], *block, entry, *lines[end:]]) + "\n"
    return new


def new_review(opd: str, now: dt.datetime, region: Region, days: int = REVIEW_DUE_DAYS) -> Review:
    """A review made now: its day in WIT, due ``days`` later (180 by default)."""
    today = region.now(now).date()
    return Review(opd, today.isoformat(), (today + dt.timedelta(days=days)).isoformat())


async def confirm(
    versions: FlowVersions,
    intent_id: str,
    opd: str,
    *,
    author_user_id: int | None,
    now: dt.datetime,
) -> VersionInfo:
    """ "Sudah benar": publishes the next version with the intent's review set, then audits
    who confirmed what (the audit row is kept when the person erases their data)."""
    flows = versions.current
    intent = flows.intents[intent_id]
    review = dataclasses.replace(
        new_review(opd, now, versions.loket.region),
        answer=answer_digest(flows.steps, flows.intents, intent),
    )
    info = await versions.publish(
        with_review(flows.sources, intent, review),
        author_user_id=author_user_id,
        message=f"Diperiksa: {intent_id} sudah benar menurut {opd}",
    )
    async with versions.loket.sessions() as session, session.begin():
        await audit(
            session,
            author_user_id,
            REVIEW_ACTION,
            f"intent:{intent_id}",
            {"opd": opd, "on": review.on, "due": review.due, "version": info.number},
        )
    return info


async def reviewers(versions: FlowVersions, intent_ids: list[str]) -> dict[str, int | None]:
    """The user who last confirmed each intent (from the audit log), for the queue page."""
    targets = [f"intent:{i}" for i in intent_ids]
    found: dict[str, int | None] = {}
    async with versions.loket.sessions() as session:
        rows = await session.execute(
            select(AuditLog.target, AuditLog.actor_user_id)
            .where(AuditLog.action == REVIEW_ACTION, AuditLog.target.in_(targets))
            .order_by(AuditLog.id)
        )
        for target, actor in rows:
            found[str(target).removeprefix("intent:")] = actor
    return found
