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
        if not part.isdecimal():
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
    # Announcements (bot/broadcast): messages per second overall; above 30 needs Telegram's
    # paid broadcasts (BROADCAST_PAID=1, up to 1,000/s).
    broadcast_rate: float = 30.0
    broadcast_paid: bool = False
    # Observability and data protection (issue 7, bot/observability, bot/retention.py):
    # LOG_FORMAT json|text, LOG_LEVEL, RETENTION_DAYS (conversation records, default 90).
    log_format: str = "text"
    log_level: str = "INFO"
    retention_days: int = 90
    # Admin console (issue 6, bot/console): the address sign-in links point to, when the
    # browser reaches Loket through a proxy (https://loket.example.go.id/konsol); by default
    # the console is served on Loket's own web server at http://<host>:<port>/konsol.
    console_base_url: str | None = None
    # WhatsApp Cloud API (issue 16, bot/whatsapp, docs/whatsapp.md): served next to Telegram
    # at /whatsapp/webhook when a phone number id or token is set; without an app secret
    # `loket run` refuses to start (the webhook's signature check never fails open).
    whatsapp_phone_number_id: str | None = None
    whatsapp_access_token: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_api_base_url: str | None = None
    # Announcements per second through the business number (Meta's default throughput).
    whatsapp_rate: float = 80.0
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
            broadcast_rate=float(env.get("BROADCAST_RATE") or 30),
            broadcast_paid=env.get("BROADCAST_PAID", "").strip().lower() in ("1", "true", "yes"),
            log_format=(env.get("LOG_FORMAT") or "text").strip().lower(),
            log_level=(env.get("LOG_LEVEL") or "INFO").strip().upper(),
            retention_days=_int(env, "RETENTION_DAYS", 90),
            console_base_url=env.get("CONSOLE_BASE_URL") or None,
            whatsapp_phone_number_id=env.get("WHATSAPP_PHONE_NUMBER_ID") or None,
            whatsapp_access_token=env.get("WHATSAPP_ACCESS_TOKEN") or None,
            whatsapp_app_secret=env.get("WHATSAPP_APP_SECRET") or None,
            whatsapp_verify_token=env.get("WHATSAPP_VERIFY_TOKEN") or None,
            whatsapp_api_base_url=env.get("WHATSAPP_API_BASE_URL") or None,
            whatsapp_rate=float(env.get("WHATSAPP_RATE") or 80.0),
            env=env,
        )
