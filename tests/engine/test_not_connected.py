"""Sample data stays sample (issue 14): an agency whose system is not connected gets an
honest answer with the office's real contacts, never the sandbox's invented data."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.local import needs_sandbox, sandbox_wanted
from tests.support.app import running_loket
from tests.support.conversation import Conversation


@pytest.mark.parametrize(
    ("token", "env", "wanted"),
    [
        (None, {}, True),  # the local mode: the sandbox is the agencies
        ("123:ABC", {}, False),  # Telegram mode: never the sandbox
        (None, {"BAPENDA_API_URL": "https://pajak.example.go.id"}, False),
    ],
)
def test_sandbox_only_in_the_local_mode(
    token: str | None, env: dict[str, str], wanted: bool
) -> None:
    assert sandbox_wanted(env, telegram=token is not None) is wanted
    assert needs_sandbox(env) is (not env)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("moves", "agency"),
    [
        (["cek status permohonan ktp", "9404-2026-000101"], "Disdukcapil"),
        (["status ak1", "AK1-2026-000123"], "Disnakertrans"),
        (["jadwal imunisasi", "Mimika Baru"], "Dinkes"),
        (["cek tagihan pbb", "94.12.010.001.001-0001.0", "2026"], "Bapenda"),
    ],
)
async def test_unconnected_agency_answers_honestly(
    tmp_path: Path, moves: list[str], agency: str
) -> None:
    async with running_loket(tmp_path / "db.sqlite3", sandbox=False) as loket:
        chat = Conversation(loket)
        for text in moves:
            await chat.send(text)
            if "belum tersedia" in chat.last_text:
                break
        text = chat.last_text
        assert f"belum tersedia untuk {agency}" in text, text
        assert "terjadi kendala" not in text
        assert "sedang tidak dapat dihubungi" not in text  # not an outage: never connected
        assert "0813-2229-9266" not in text  # the unverified WhatsApp number
        assert "+62-000" not in text and "contoh" not in text.lower()


@pytest.mark.asyncio
async def test_sandbox_answers_say_they_are_example_data(tmp_path: Path) -> None:
    """In the local mode the sandbox answers status checks; each such answer says so, and an
    answer written in the flows (no agency data) does not."""
    async with running_loket(tmp_path / "db.sqlite3") as loket:
        chat = Conversation(loket)
        await chat.send("cek status permohonan ktp")
        await chat.send("9404-2026-000101")
        assert "Contoh data (sandbox)" in chat.last_text, chat.last_text
        await chat.send("jadwal jemput bola")
        await chat.send("Mimika Baru")
        assert "Contoh data (sandbox)" in chat.last_text, chat.last_text
        await chat.send("syarat bikin ktp baru")
        assert "Contoh data" not in chat.last_text


def test_only_the_sandbox_token_marks_example_data() -> None:
    from bot.local import sandbox_env, sandbox_opds
    from integrations.sandbox import SANDBOX_TOKEN

    assert sandbox_opds(sandbox_env("http://127.0.0.1:1")) == {
        "disdukcapil",
        "disnakertrans",
        "dinkes",
        "bapenda",
    }
    real = {"DINKES_API_URL": "https://dinkes.example.go.id", "DINKES_API_TOKEN": "rahasia"}
    assert sandbox_opds(real) == frozenset()
    assert sandbox_opds({"BAPENDA_API_TOKEN": SANDBOX_TOKEN}) == {"bapenda"}
