"""Wires the console for ``loket run``: one FlowVersions, one ConsoleAuth, the web app and
the Telegram commands, sharing them (so a publish from either side is serialised)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.console.app import BASE, Console
from bot.console.auth import ConsoleAuth
from bot.console.commands import FlowCommands
from bot.flows.versions import FlowVersions


@dataclass(slots=True)
class ConsoleService:
    console: Console
    commands: FlowCommands
    # Where the browser reaches the server (``http://127.0.0.1:8080``): CONSOLE_BASE_URL, or
    # learnt once the web server is listening (``set_origin``).
    origin: str = ""
    public_url: str | None = field(default=None)

    @classmethod
    def for_loket(
        cls,
        loket: Any,
        *,
        public_url: str | None = None,
        wake_broadcasts: Callable[[], None] | None = None,
    ) -> ConsoleService:
        versions = FlowVersions(loket)
        auth = ConsoleAuth(loket.sessions)
        console = Console(
            loket,
            versions,
            auth,
            secure_cookie=bool(public_url and public_url.startswith("https://")),
            wake_broadcasts=wake_broadcasts,
        )
        service = cls(
            console, FlowCommands(versions, auth, loket.staff, lambda: ""), "", public_url
        )
        service.commands.console_url = service.url
        return service

    @property
    def versions(self) -> FlowVersions:
        return self.console.versions

    def url(self) -> str:
        """The console's address for the sign-in links."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"{self.origin.rstrip('/')}{BASE}"

    def set_origin(self, origin: str) -> None:
        self.origin = origin

    def mount(self, app: web.Application) -> None:
        self.console.mount(app)
