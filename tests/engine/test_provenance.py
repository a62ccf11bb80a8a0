"""Provenance that means something (issue 14, item 2): every answer of every intent says
where it comes from and whether its OPD verified it, plainly; never "Informasi dari".

The walk presses every button and answers every input with a valid value, so every answer a
citizen can reach by buttons is checked, not a sample.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from bot.app import Loket
from bot.console.review import new_review, with_review
from bot.engine.engine import Turn
from bot.engine.messages import Inbound
from bot.flows.loader import (
    FLOWS_DIR,
    FlowSetError,
    answer_digest,
    build_flow_set,
    read_flow_sources,
)
from bot.flows.model import Review
from tests.support.app import FakeClock, offline_known, project_flow_set, running_loket
from tests.support.conversation import Conversation
from tests.support.walk import VALID_ANSWERS, Move, walk

KNOWN = offline_known()
module_loop = pytest.mark.asyncio(loop_scope="module")

# The bot's own interface: nothing an OPD could verify. Adding one is a deliberate choice.
# The bot's own interface: the menu, the language, small talk, and the queue-number feature
# (issue 18), whose facts (what to bring, the address) are the service's, sourced there.
INTERFACE = {"umum.menu", "umum.bahasa", "umum.terima_kasih", "antrean.saya", "antrean.ambil"}
UNVERIFIED = "Belum diverifikasi oleh"
# A reference no complaint has: its "not found" answer is an answer too.
ANSWERS = {**VALID_ANSWERS, "lkt_reference": "LKT-ABC234"}


def test_only_the_interface_intents_go_without_sources() -> None:
    flows = project_flow_set()
    assert {i.id for i in flows.intents.values() if i.interface} == INTERFACE
    for intent in flows.intents.values():
        assert intent.interface or intent.sources, intent.id


def test_an_intent_without_sources_is_refused_with_file_and_line() -> None:
    sources = read_flow_sources(FLOWS_DIR)
    entry = '    sources:\n      - "cnnindonesia.com, 20 Agu 2024 (mengutip KemenPANRB)"\n'
    assert entry in sources["dinkes.yaml"]
    broken = dict(sources, **{"dinkes.yaml": sources["dinkes.yaml"].replace(entry, "")})
    with pytest.raises(FlowSetError) as caught:
        build_flow_set(broken, KNOWN)
    problems = [e for e in caught.value.errors if "dinkes.surat_sehat.sources" in e.message]
    line = broken["dinkes.yaml"].splitlines().index("  - id: dinkes.surat_sehat") + 1
    assert [(e.path, e.line) for e in problems] == [("dinkes.yaml", line)], caught.value.errors


@module_loop
async def test_every_reachable_answer_carries_provenance(
    loket: Loket, module_clock: FakeClock
) -> None:
    engine = loket.runtime.current()
    ended: dict[str, int] = {}
    failures: list[str] = []

    def visit(turn: Turn, moves: tuple[Move, ...]) -> None:
        state = turn.state
        ran = any(kind == "step" for kind, _ in turn.transitions)
        intent = engine.flows.intents.get(state.intent or "")
        if not ran or state.step is not None or intent is None or intent.interface:
            return
        text = turn.messages[-1].text
        ended[intent.id] = ended.get(intent.id, 0) + 1
        if "Sumber: " not in text or UNVERIFIED not in text or "Informasi dari" in text:
            failures.append(f"{intent.id} after {moves}:\n{text}")
        if not all(source in text for source in intent.sources):
            failures.append(f"{intent.id}: sources missing:\n{text}")

    citizen = Conversation(loket)  # some actions store things for a stored citizen
    await citizen.command("start")
    user_id = str(await citizen.user_id())
    starts = [Inbound(kind="command", command="start")] + [
        Inbound(kind="command", command="start", argument=i.split(".", 1)[1])
        for i in sorted(engine.flows.intents)
    ]
    for start in starts:  # from the menu, then from each intent's own deep link
        await walk(
            engine,
            now=module_clock(),
            start=start,
            user_id=user_id,
            answers=ANSWERS,
            visit=visit,
        )
    assert not failures, "\n\n".join(failures[:5])
    # Every sourced intent has at least one answer reached (so none escaped the check).
    sourced = {i.id for i in engine.flows.intents.values() if not i.interface}
    assert sourced <= set(ended), sorted(sourced - set(ended))


@pytest.mark.asyncio
async def test_a_verified_answer_names_the_opd_and_date_until_it_is_overdue(
    tmp_path: Path,
) -> None:
    clock = FakeClock(dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC))  # 10.00 WIT
    async with running_loket(tmp_path / "db.sqlite3", clock=clock) as loket:
        flows = loket.runtime.current().flows
        review = new_review("disdukcapil", clock(), loket.region)
        assert review == Review("disdukcapil", "2026-12-04", "2027-06-02")
        intent = flows.intents["disdukcapil.ktp_baru"]
        digest = answer_digest(flows.steps, flows.intents, intent)
        reviewed = with_review(flows.sources, intent, dataclasses.replace(review, answer=digest))
        loket.reload_flows(reviewed)
        chat = Conversation(loket)
        await chat.send("syarat bikin ktp baru")
        assert "Diperiksa oleh Disdukcapil pada 4 Desember 2026." in chat.last_text
        assert UNVERIFIED not in chat.last_text
        assert "lewat jadwal" not in chat.last_text
        clock.advance(days=181)
        await chat.send("syarat bikin ktp baru")
        assert "Diperiksa oleh Disdukcapil pada 4 Desember 2026." in chat.last_text
        assert "Sudah lewat jadwal pemeriksaan ulang (2 Juni 2027)" in chat.last_text
        # Another intent of the same OPD is still plainly unverified.
        await chat.send("syarat kk baru")
        assert "Belum diverifikasi oleh Disdukcapil" in chat.last_text
        # Editing the confirmed answer afterwards voids the review: the new wording was
        # never checked. Editing another answer does not.
        other = reviewed["disdukcapil.yaml"].replace(
            "Pisah KK dari orang tua", "Pisah KK dari orang tua Anda", 1
        )
        assert other != reviewed["disdukcapil.yaml"]
        flows = loket.reload_flows({**reviewed, "disdukcapil.yaml": other})
        assert flows.intents["disdukcapil.ktp_baru"].review is not None
        edited = reviewed["disdukcapil.yaml"].replace(
            "KTP-el berlaku seumur hidup.", "KTP-el berlaku seumur hidup, tanpa diperpanjang.", 1
        )
        assert edited != reviewed["disdukcapil.yaml"]
        flows = loket.reload_flows({**reviewed, "disdukcapil.yaml": edited})
        assert flows.intents["disdukcapil.ktp_baru"].review_stale
        await chat.send("syarat bikin ktp baru")
        assert "Belum diverifikasi oleh Disdukcapil" in chat.last_text
        assert "Diperiksa oleh" not in chat.last_text
