"""A citizen talking to the front desk, so tests read like conversations:

    chat = Conversation(loket)
    await chat.send("syarat ktp baru")
    assert "Tempat:" in chat.last_text
    await chat.click("Menu utama")

Each turn goes through ``FrontDesk.handle`` (one transaction, the real engine and storage).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from bot.app import Loket
from bot.engine.messages import Button, Inbound, Outbound
from bot.engine.state import ConversationState
from bot.flows.testing import reply_text
from bot.storage import repo
from bot.storage.models import User

GENERIC_ERROR = "terjadi kendala"
_ids = itertools.count(1)


class Conversation:
    """One citizen on one channel. ``loket`` may be swapped (a restart) between turns."""

    def __init__(
        self,
        loket: Loket,
        user: str | None = None,
        *,
        channel: str = "test",
        locale: str | None = None,
    ) -> None:
        self.loket = loket
        self.user = user or f"citizen-{next(_ids)}"
        self.channel = channel
        self.locale = locale  # the channel's language hint (Telegram's language_code)
        self.replies: list[Outbound] = []

    # -- what the citizen does -----------------------------------------------------------

    async def handle(self, event: Inbound) -> list[Outbound]:
        self.replies = await self.loket.frontdesk.handle(self.channel, self.user, event)
        return self.replies

    async def send(self, text: str) -> list[Outbound]:
        return await self.handle(Inbound(kind="text", text=text, language_hint=self.locale))

    async def press(self, payload: str) -> list[Outbound]:
        """Presses a button by its payload, offered or not (a forged or stale button)."""
        return await self.handle(
            Inbound(kind="button", payload=payload, language_hint=self.locale)
        )

    async def click(self, label: str) -> list[Outbound]:
        """Presses the offered button with this label (exact, else case-insensitive)."""
        return await self.press(self.button(label).payload)

    async def command(self, name: str, argument: str = "") -> list[Outbound]:
        return await self.handle(
            Inbound(kind="command", command=name, argument=argument, language_hint=self.locale)
        )

    async def play(self, moves: Iterable[tuple[str, str]]) -> list[Outbound]:
        """Replays moves recorded by ``tests.support.walk``: command, click or send."""
        for kind, value in moves:
            if kind == "command":
                await self.command(value)
            elif kind == "click":
                await self.click(value)
            else:
                await self.send(value)
        return self.replies

    async def unsupported(self) -> list[Outbound]:
        return await self.handle(Inbound(kind="unsupported", language_hint=self.locale))

    # -- what the citizen sees -----------------------------------------------------------

    @property
    def last_text(self) -> str:
        return reply_text(self.replies)

    @property
    def offered(self) -> list[Button]:
        return [button for message in self.replies for button in message.flat_buttons]

    @property
    def buttons(self) -> list[str]:
        return [button.label for button in self.offered]

    @property
    def payloads(self) -> list[str]:
        return [button.payload for button in self.offered]

    def button(self, label: str) -> Button:
        offered = self.offered
        found = next((b for b in offered if b.label == label), None) or next(
            (b for b in offered if b.label.casefold() == label.casefold()), None
        )
        if found is None:
            raise AssertionError(f"no button {label!r}; offered: {[b.label for b in offered]}")
        return found

    def assert_sane(self) -> None:
        """The last reply is something a citizen can act on: text, and no generic error."""
        assert self.replies, "no reply at all"
        for message in self.replies:
            assert message.text.strip(), f"an empty message in {self.replies!r}"
        assert GENERIC_ERROR not in self.last_text.casefold(), self.last_text

    # -- what was stored -----------------------------------------------------------------

    async def user_row(self) -> User | None:
        async with self.loket.sessions() as session:
            return await repo.find_user(session, self.channel, self.user)

    async def user_id(self) -> int:
        user = await self.user_row()
        assert user is not None, f"{self.user} is not stored"
        return user.id

    async def state(self) -> ConversationState:
        async with self.loket.sessions() as session:
            user = await repo.find_user(session, self.channel, self.user)
            assert user is not None, f"{self.user} is not stored"
            state = await repo.load_state(session, user.id)
        assert state is not None, f"{self.user} has no conversation"
        return state

    async def put_state(self, state: ConversationState) -> None:
        """Stores a conversation state directly (for steps no button path reaches)."""
        if await self.user_row() is None:
            await self.command("start")
        async with self.loket.sessions() as session, session.begin():
            user = await repo.find_user(session, self.channel, self.user)
            assert user is not None
            await repo.save_state(session, user.id, state)

    async def counts(self) -> dict[str, Any]:
        user_id = await self.user_id()
        async with self.loket.sessions() as session:
            return await repo.count_rows_for_user(session, user_id)
