"""Settings from the environment (and an optional .env file), read once at start-up."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.flows.loader import FLOWS_DIR
from bot.region import default_region_path
from bot.storage.db import DEFAULT_DATABASE_URL


def _ids(env: Mapping[str, str], name: str) -> tuple[int, ...]:
    """A comma-separated list of Telegram user ids (blanks ignored)."""
    found = []
    for part in env.get(name, "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"{name}: {part!r} is not a Telegram user id")
        found.append(int(part))
    return tuple(dict.fromkeys(found))


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    return int(value) if value else default


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    flows_dir: Path = FLOWS_DIR
    region_file: Path = field(default_factory=default_region_path)
    conversation_timeout: dt.timedelta = dt.timedelta(minutes=30)
    telegram_token: str | None = None
    telegram_api_base_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    flood_messages: int = 8
    flood_window_seconds: int = 10
    callback_secret: str = ""
    # Telegram user ids that are admins (bot/staff): seeded at start-up, see docs/staff.md.
    admin_telegram_ids: tuple[int, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            flows_dir=Path(env["LOKET_FLOWS_DIR"]) if env.get("LOKET_FLOWS_DIR") else FLOWS_DIR,
            region_file=Path(env["LOKET_REGION_FILE"])
            if env.get("LOKET_REGION_FILE")
            else default_region_path(),
            conversation_timeout=dt.timedelta(
                minutes=_int(env, "CONVERSATION_TIMEOUT_MINUTES", 30)
            ),
            telegram_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
            webhook_url=env.get("WEBHOOK_URL") or None,
            webhook_secret=env.get("WEBHOOK_SECRET") or None,
            listen_host=env.get("LOKET_HOST") or "127.0.0.1",
            listen_port=_int(env, "LOKET_PORT", 8080),
            flood_messages=_int(env, "FLOOD_MAX_MESSAGES", 8),
            flood_window_seconds=_int(env, "FLOOD_WINDOW_SECONDS", 10),
            callback_secret=env.get("CALLBACK_SECRET", ""),
            admin_telegram_ids=_ids(env, "ADMIN_TELEGRAM_IDS"),
            env=env,
        )
