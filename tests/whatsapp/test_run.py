"""``loket run`` with WhatsApp configured but no app secret refuses to start (fail closed):
a webhook whose signature cannot be checked is never served."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.runner import run
from bot.settings import Settings


async def test_no_app_secret_no_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "loket.sqlite3"
    settings = Settings.from_env(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "WHATSAPP_PHONE_NUMBER_ID": "100000000000016",
            "WHATSAPP_ACCESS_TOKEN": "token",
            "WHATSAPP_VERIFY_TOKEN": "verify",
        }
    )
    assert await run(settings, port=0) == 2
    out = capsys.readouterr().out
    assert "WHATSAPP_APP_SECRET is missing" in out
    assert not database.exists()  # refused before anything was opened
