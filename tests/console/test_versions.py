"""Flow versions, sign-in links and analytics against a real Loket (SQLite file, no browser)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.console import analytics
from bot.console.auth import ConsoleAuth
from bot.flows.loader import FlowSetError, build_flow_set
from bot.flows.versions import (
    MAX_SET_BYTES,
    FlowVersions,
    SourcesRefused,
    add_example,
    check_sources,
    summarise,
)
from bot.staff.roles import TELEGRAM, Grant, grant_role
from bot.storage import repo
from bot.storage.models import AuditLog, Event, FlowVersion, UnmatchedQuestion
from tests.support.app import FakeClock, count, offline_known, project_flow_set, running_loket

OLD = "Halo! Saya Loket, asisten layanan publik"
NEW = "Selamat siang dari Loket"


def _edited(sources: dict[str, str]) -> dict[str, str]:
    edited = dict(sources)
    edited["umum.yaml"] = edited["umum.yaml"].replace(OLD, NEW, 1)
    return edited


def test_the_summary_names_what_changed() -> None:
    old = project_flow_set()
    new = build_flow_set(_edited(old.sources), offline_known())
    summary = summarise(old, new)
    assert summary.steps_changed == ("umum:menu",)
    assert summary.flows_changed == ("umum",)
    assert not summary.steps_added and not summary.intents_added and not summary.flows_removed
    assert summarise(old, old).empty
    assert summary.lines() == ["Alur diubah: umum", "Langkah diubah: umum:menu"]


def test_an_added_example_keeps_the_file_loadable() -> None:
    flows = project_flow_set()
    sources = add_example(flows.sources, "id", "umum.petugas", 'ada "kutip" dan: titik dua')
    new = build_flow_set(sources, offline_known())
    assert 'ada "kutip" dan: titik dua' in new.nlu["id"]["umum.petugas"].examples
    assert summarise(flows, new).intents_changed == ("umum.petugas",)
    # An intent without an entry in that language gets one; "examples: []" gets its first.
    text = "a.b:\n  examples: []\n  keywords: [x]\n"
    added = add_example({"nlu/en.yaml": text}, "en", "c.d", "hello")
    added = add_example(added, "en", "a.b", "first")
    assert yaml.safe_load(added["nlu/en.yaml"]) == {
        "a.b": {"examples": ["first"], "keywords": ["x"]},
        "c.d": {"examples": ["hello"]},
    }


def test_odd_file_names_and_oversized_sets_are_refused_before_parsing() -> None:
    with pytest.raises(SourcesRefused, match="file name"):
        check_sources({"../etc/passwd.yaml": "a: 1"})
    with pytest.raises(SourcesRefused, match="larger than"):
        check_sources({f"f{i}.yaml": "x" * (MAX_SET_BYTES // 4) for i in range(5)})


async def test_publish_rollback_and_the_next_start_loads_the_latest(tmp_path: Path) -> None:
    db = tmp_path / "loket.sqlite3"
    async with running_loket(db, sandbox=False) as loket:
        versions = FlowVersions(loket)
        files = dict(versions.current.sources)
        broken = dict(files)
        broken["umum.yaml"] = files["umum.yaml"].replace("type: choice", "type: chioce", 1)
        with pytest.raises(FlowSetError):
            await versions.publish(broken, author_user_id=None, message="rusak")
        assert await count(loket, FlowVersion) == 0
        assert versions.current.sources == files

        first = await versions.publish(_edited(files), author_user_id=None, message="baru")
        assert first.number == 1 and versions.current.sources["umum.yaml"] != files["umum.yaml"]
        assert NEW in await versions.diff_of(1)
        assert await count(loket, AuditLog, AuditLog.action == "flow.publish") == 1
        second = await versions.publish(files, author_user_id=None, message="lama")
        assert second.summary.steps_changed == ("umum:menu",)
        third = await versions.rollback(1, author_user_id=None)
        assert third.number == 3 and third.message == "Kembali ke versi 1"
        assert [v.number for v in await versions.list()] == [3, 2, 1]
        with pytest.raises(LookupError):
            await versions.rollback(99, author_user_id=None)
    async with running_loket(db, sandbox=False) as loket:
        assert NEW in loket.runtime.current().flows.sources["umum.yaml"]


async def _user(loket: object, telegram_id: str, *, staff: str | None = None) -> int:
    async with loket.sessions() as session, session.begin():  # type: ignore[attr-defined]
        user, _ = await repo.get_or_create_user(session, TELEGRAM, telegram_id, "id")
        if staff is not None:
            await grant_role(session, None, user.id, Grant("staff", staff), action="role.grant")
        return user.id


async def test_a_sign_in_link_works_once_and_only_for_minutes(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_loket(tmp_path / "loket.sqlite3", sandbox=False) as loket:
        auth = ConsoleAuth(loket.sessions, clock=clock)
        staff = await _user(loket, "777", staff="dinkes")
        token = await auth.issue_link_token(staff)
        redeemed = await auth.redeem(token)
        assert redeemed is not None
        cookie, session = redeemed
        assert session.roles.opds == ["dinkes"] and not session.roles.is_admin
        assert await auth.redeem(token) is None  # second use
        assert (await auth.session_of(cookie)) is not None
        clock.advance(hours=9)  # sessions expire
        assert await auth.session_of(cookie) is None

        late = await auth.issue_link_token(staff)
        clock.advance(minutes=11)
        assert await auth.redeem(late) is None  # expired link

        citizen = await _user(loket, "888")
        assert await auth.redeem(await auth.issue_link_token(citizen)) is None


async def test_analytics_counts_what_was_recorded(tmp_path: Path) -> None:
    now = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    async with running_loket(tmp_path / "loket.sqlite3", sandbox=False) as loket:
        user = await _user(loket, "5001")
        async with loket.sessions() as session, session.begin():
            session.add_all(
                [
                    Event(user_id=user, at=now, kind="match", intent=None, detail={}),
                    Event(user_id=user, at=now, kind="intent", intent="dinkes.imunisasi"),
                    Event(user_id=user, at=now, kind="intent", intent="dinkes.imunisasi"),
                    Event(user_id=user, at=now, kind="intent", intent="bapenda.pbb"),
                    Event(
                        user_id=user,
                        at=now,
                        kind="expired",
                        detail={"waiting": "dinkes:pilih_puskesmas"},
                    ),
                    Event(
                        user_id=user,
                        at=now,
                        kind="action",
                        detail={"action": "disdukcapil.application_status", "outcome": "ok"},
                    ),
                    Event(
                        user_id=user,
                        at=now,
                        kind="action",
                        detail={
                            "action": "disdukcapil.application_status",
                            "outcome": "unavailable",
                        },
                    ),
                    UnmatchedQuestion(user_id=user, at=now, locale="id", text="Jadwal kapal"),
                    UnmatchedQuestion(user_id=user, at=now, locale="id", text="jadwal kapal"),
                ]
            )
        async with loket.sessions() as session:
            report = await analytics.build_report(session, now=now + dt.timedelta(hours=1))
            mine = await analytics.build_report(
                session, now=now + dt.timedelta(hours=1), opds=["dinkes"]
            )
    assert report.days[-1] == ("2026-12-01", 1)
    assert report.intents == [("dinkes.imunisasi", 2), ("bapenda.pbb", 1)]
    assert report.unmatched == [("jadwal kapal", "id", 2)]
    assert report.abandoned == [("dinkes", "pilih_puskesmas", 1)]
    assert report.status_checks == [("disdukcapil", 2, 1)]
    assert mine.intents == [("dinkes.imunisasi", 2)]
    assert mine.unmatched == [] and mine.status_checks == []
    csv_text = analytics.to_csv(report)
    assert "unmatched,jadwal kapal,id,2," in csv_text
    assert "status_checks,disdukcapil,,2,1" in csv_text
    svg = analytics.bar_chart(report.days)
    assert svg.startswith("<svg") and "<rect" in svg
