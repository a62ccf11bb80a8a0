"""Chat with the bot in a terminal: the same engine and storage, buttons shown as numbers."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TextIO

from bot.engine.messages import Button, Inbound, Outbound
from bot.frontdesk import FrontDesk

QUIT_WORDS = {"/keluar", "/quit", "/exit"}


def render_for_terminal(messages: list[Outbound]) -> tuple[str, list[Button]]:
    """Text of the replies with every button numbered across the whole reply."""
    lines: list[str] = []
    buttons: list[Button] = []
    for message in messages:
        if message.title:
            lines.append(message.title.upper())
        lines.append(message.text)
        for row in message.buttons:
            for button in row:
                buttons.append(button)
                lines.append(f"  [{len(buttons)}] {button.label}")
        lines.append("")
    return "\n".join(lines), buttons


def to_event(line: str, buttons: list[Button]) -> Inbound:
    """A typed number or a button's exact words press that button; a /command is a command."""
    text = line.strip()
    if text.isdecimal() and 1 <= int(text) <= len(buttons):
        return Inbound(kind="button", payload=buttons[int(text) - 1].payload)
    for button in buttons:
        if text.casefold() == button.label.casefold():
            return Inbound(kind="button", payload=button.payload)
    if text.startswith("/") and len(text) > 1:
        command, _, argument = text[1:].partition(" ")
        return Inbound(kind="command", command=command.split("@")[0], argument=argument.strip())
    return Inbound(kind="text", text=line)


async def chat(
    frontdesk: FrontDesk,
    *,
    user: str = "terminal",
    stdin: TextIO = sys.stdin,
    write: Callable[[str], None] = print,
) -> None:
    """Runs until end of input or /keluar. Input is read in a thread so the loop stays free."""
    write(
        "Loket — ketik pertanyaan Anda, nomor tombol untuk memilih, atau /keluar untuk berhenti.\n"
    )
    text, buttons = render_for_terminal(
        await frontdesk.handle("terminal", user, Inbound(kind="command", command="start"))
    )
    write(text)
    while True:
        line = await asyncio.to_thread(stdin.readline)
        if not line or line.strip() in QUIT_WORDS:
            return
        messages = await frontdesk.handle("terminal", user, to_event(line.rstrip("\n"), buttons))
        text, buttons = render_for_terminal(messages)
        write(text)
