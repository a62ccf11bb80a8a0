"""``loket export-user``: a citizen's data as JSON, from every table that holds some, and
nothing of anyone else — built by chatting through the real front desk, not by inserting."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Loket
from bot.cli import main as cli_main
from bot.engine.messages import Inbound
from bot.export import EXPORT_FORMAT, export_user
from bot.storage import repo
from bot.storage.models import Role, Subscription
from tests.support.app import FakeClock, running_loket

CHANNEL = "telegram"


@pytest.fixture
async def loket(database_url: str) -> AsyncIterator[Loket]:
    async with running_loket(database_url, clock=FakeClock(), sandbox=False) as app:
        yield app


async def _chat(loket: Loket, external_id: str, *texts: str) -> None:
    for text in texts:
        kind = "command" if text.startswith("/") else "text"
        event = (
            Inbound(kind="command", command=text[1:], language_hint="id")
            if kind == "command"
            else Inbound(kind="text", text=text, language_hint="id")
        )
        await loket.frontdesk.handle(CHANNEL, external_id, event)


async def _user_id(loket: Loket, external_id: str) -> int:
    async with loket.sessions() as session:
        user = await repo.find_user(session, CHANNEL, external_id)
        assert user is not None
        return user.id


async def test_the_export_holds_the_citizens_rows_and_nobody_elses(loket: Loket) -> None:
    await _chat(loket, "1111", "/start", "syarat ktp")
    await _chat(loket, "2222", "/start", "syarat akta")
    mine, theirs = await _user_id(loket, "1111"), await _user_id(loket, "2222")
    async with loket.sessions() as session, session.begin():
        session.add(Subscription(user_id=mine, district="mimika-baru", topics="kesehatan"))
        session.add(Subscription(user_id=theirs, district="kuala-kencana", topics="pajak"))
        session.add(Role(user_id=theirs, role="admin"))
        await repo.record_unmatched(session, mine, "pertanyaan aneh 1111", "id")
        await repo.record_unmatched(session, theirs, "qwerty pertanyaan lain 2222", "id")

    export = await export_user(loket.sessions, CHANNEL, "1111")

    assert export is not None
    assert export["format"] == EXPORT_FORMAT and export["external_id"] == "1111"
    tables: dict[str, list[dict[str, Any]]] = export["tables"]
    assert [row["external_id"] for row in tables["users"]] == ["1111"]
    assert tables["events"] and tables["conversations"]
    assert [row["text"] for row in tables["unmatched_questions"]] == ["pertanyaan aneh 1111"]
    assert tables["subscriptions"][0]["district"] == "mimika-baru"
    assert tables["roles"] == []
    # Every row with a user id is this citizen's; nothing of the other one is anywhere.
    for name, rows in tables.items():
        for row in rows:
            if "user_id" in row:
                assert row["user_id"] == mine, name
    text = json.dumps(export)
    assert "2222" not in text and "kuala-kencana" not in text and "qwerty" not in text
    # Every table /hapusdata erases from is in the export (even when empty).
    assert {t.__tablename__ for t in repo.USER_TABLES} <= set(tables)
    assert isinstance(tables["events"][0]["at"], str)  # JSON-ready timestamps


async def test_an_unknown_citizen_has_no_export(loket: Loket) -> None:
    assert await export_user(loket.sessions, CHANNEL, "404") is None


async def test_loket_export_user_prints_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    async with running_loket(url, sandbox=False) as app:
        await _chat(app, "3333", "/start")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    argv = ["export-user", "--channel", "telegram", "--id", "3333"]
    assert await asyncio.to_thread(cli_main, argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["tables"]["users"][0]["external_id"] == "3333"
    out = tmp_path / "export.json"
    assert await asyncio.to_thread(cli_main, [*argv, "--output", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["external_id"] == "3333"
    assert await asyncio.to_thread(cli_main, ["export-user", "--id", "404"]) == 1
    assert "No data stored" in capsys.readouterr().err
