"""Whole journeys through the WhatsApp adapter against the local Cloud API stand-in."""

from __future__ import annotations

from tests.whatsapp.support import WaCitizen, WaDesk


async def test_start_shows_the_menu_within_whatsapp_limits(desk: WaDesk, warga: WaCitizen) -> None:
    replies = await warga.send("/start")
    assert replies, "no reply"
    assert replies[-1].kind in ("button", "list")
    for sent in replies:
        print(sent.kind, sent.text[:80], sent.options)
