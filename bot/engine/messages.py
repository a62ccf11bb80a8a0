"""What flows between a channel and the engine. Plain data, no channel types.

A channel (Telegram, the terminal, the web chat, the admin preview) turns what the citizen did
into an ``Inbound`` and shows each ``Outbound`` as it can: Telegram as HTML with an inline
keyboard, the terminal as numbered lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

InboundKind = Literal["text", "button", "command", "unsupported"]


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing the citizen did.

    ``text`` for typed words; ``payload`` for a pressed button (the engine's own opaque
    string, checked against what it offered); ``command`` and ``argument`` for /start ktp_baru.
    ``unsupported`` covers photos, stickers, voice notes and the like. ``forwarded``: the
    citizen forwarded someone else's message (the hoax check answers those). ``attachment``:
    the channel's file id of a photo or document (passed to an officer's ticket).
    """

    kind: InboundKind
    text: str = ""
    payload: str = ""
    command: str = ""
    argument: str = ""
    language_hint: str | None = None
    forwarded: bool = False
    # A photo or document the channel received (its own file id), for an open ticket.
    attachment: str = ""
    attachment_kind: str = ""  # photo | document


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to the citizen: an optional bold title, plain text and rows of buttons.

    Text is plain (never markup): channels escape it, so a value typed by a citizen or sent
    by an agency system can never inject formatting.
    """

    text: str
    title: str | None = None
    buttons: tuple[tuple[Button, ...], ...] = field(default_factory=tuple)

    @property
    def flat_buttons(self) -> tuple[Button, ...]:
        return tuple(button for row in self.buttons for button in row)
