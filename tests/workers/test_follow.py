"""A second worker follows what the first one changed in memory: the published flow version
and a staff member's draft waiting for typed text. Two Lokets on one database file stand for
two workers (the follower itself does not depend on the database kind)."""

from __future__ import annotations

from pathlib import Path

from bot.broadcast.compose import Actor, Composer
from bot.flows.versions import FlowVersions
from bot.staff.roles import STAFF, Grant, RoleSet
from bot.storage import repo
from bot.workers.follow import SharedStateFollower
from tests.support.app import running_loket


def composer_for(loket) -> Composer:  # type: ignore[no-untyped-def]
    return Composer(loket.sessions, loket.region, loket.translator, "telegram")


async def test_a_version_published_by_one_worker_is_loaded_by_the_other(tmp_path: Path) -> None:
    database = tmp_path / "loket.sqlite3"
    async with (
        running_loket(database, sandbox=False) as first,
        running_loket(database, sandbox=False) as second,
    ):
        follower = SharedStateFollower(second, None)
        assert not await follower.check_once()  # nothing published yet
        sources = dict(first.runtime.current().flows.sources)
        sources["umum.yaml"] = sources["umum.yaml"].replace(
            "Halo! Saya Loket", "Selamat datang! Saya Loket", 1
        )
        await FlowVersions(first).publish(sources, author_user_id=None, message="sapaan baru")
        published = first.runtime.current().flows.version
        assert second.runtime.current().flows.version != published
        assert await follower.check_once()
        assert second.runtime.current().flows.version == published
        assert not await follower.check_once()  # already running it


async def test_a_draft_started_on_one_worker_takes_typed_text_on_the_other(
    tmp_path: Path,
) -> None:
    database = tmp_path / "loket.sqlite3"
    async with (
        running_loket(database, sandbox=False) as first,
        running_loket(database, sandbox=False) as second,
    ):
        async with first.sessions() as session, session.begin():
            user, _ = await repo.get_or_create_user(session, "telegram", "9002", "id")
        actor = Actor(user.id, "9002", RoleSet(frozenset({Grant(STAFF, "dinkes")})))
        here, there = composer_for(first), composer_for(second)
        reply = await here.command(actor, "")
        assert reply is not None and "Kirim teks pengumuman" in reply[0].html
        assert "9002" not in there.awaiting
        await SharedStateFollower(second, there).check_once()
        assert "9002" in there.awaiting
        answer = await there.message(actor, "Info kesehatan.", "Info kesehatan.")
        assert answer is not None and "Kepada siapa?" in answer[0].html
        # Both drop the id once the draft no longer waits for text (two refreshes in a row).
        await here.refresh_awaiting()
        await here.refresh_awaiting()
        assert "9002" not in here.awaiting
