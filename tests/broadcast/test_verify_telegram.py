"""The hoax check through python-telegram-bot and the local Bot API (issue 12).

Most hoaxes travel by copy-paste: someone copies an official announcement, changes the amount
or adds "bayar 50 ribu", and posts it with the real code. Here the bot really sends the
announcement to a citizen's chat; the citizen's copy is what Telegram shows them (the text
after HTML parsing), changed the way a hoax is, then pasted, forwarded, or put under a photo.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from telegram.constants import ParseMode

from bot.botapi import simulate
from bot.broadcast.message import render_announcement
from bot.broadcast.store import create_announcement
from tests.telegram import conftest as telegram
from tests.telegram.support import Citizen, Desk, Reply

# The fixtures of tests/telegram (a conftest is only seen below its own folder).
limits = telegram.limits
api = telegram.api
agencies = telegram.agencies
settings = telegram.settings
polling = telegram.polling
desk = telegram.desk
warga = telegram.warga

OFFICIAL_HTML = (
    "<b>Imunisasi campak GRATIS</b> untuk balita di Puskesmas Timika Jaya.\n\n"
    "Sabtu 7 Desember pukul 08.00 WIT. Tidak ada biaya apa pun &amp; tidak ada pungutan."
)
OFFICIAL_SEEN = (
    "Imunisasi campak GRATIS untuk balita di Puskesmas Timika Jaya.\n\n"
    "Sabtu 7 Desember pukul 08.00 WIT. Tidak ada biaya apa pun & tidak ada pungutan."
)
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2219bc40000000049454e44ae426082"
)


async def publish(desk: Desk, text_html: str = OFFICIAL_HTML) -> str:
    """An announcement as the sender leaves it once it went out; returns its reference."""
    assert desk.loket is not None
    async with desk.loket.sessions() as session, session.begin():
        announcement = await create_announcement(session, opd="dinkes", text=text_html)
        announcement.status = "done"
        announcement.started_at = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)
        return announcement.reference


async def receive(desk: Desk, citizen: Citizen, reference: str, *, photo: bool = False) -> str:
    """The bot sends the announcement to the citizen; returns what the citizen sees."""
    assert desk.application is not None and desk.loket is not None
    rendered = render_announcement(desk.loket.translator, "id", OFFICIAL_HTML, reference)
    bot = desk.application.bot
    if photo:
        sent = await bot.send_photo(
            citizen.chat_id, TINY_PNG, caption=rendered, parse_mode=ParseMode.HTML
        )
        assert sent.caption is not None
        return sent.caption
    message = await bot.send_message(citizen.chat_id, rendered, parse_mode=ParseMode.HTML)
    assert message.text is not None
    return message.text


async def act(citizen: Citizen, queue: Callable[[], dict[str, Any]]) -> Reply:
    """The citizen does something the Citizen helper has no verb for; waits for the answer."""
    return await citizen._exchange(lambda: citizen._queued(queue()))


def assert_different(reply: Reply, added: str) -> None:
    text = reply.text
    assert "teks ini BERBEDA dari pengumuman resmi" in text, text
    assert added in text  # what differs
    assert OFFICIAL_SEEN in text  # the official text
    assert "Jangan membayar atau mentransfer uang" in text
    assert "ASLI" not in text


async def test_a_pasted_tampered_copy_is_called_different(desk: Desk, warga: Citizen) -> None:
    reference = await publish(desk)
    seen = await receive(desk, warga, reference)
    assert seen.startswith(OFFICIAL_SEEN) and reference in seen
    tampered = seen.replace("Jaya.", "Jaya. Bayar 50 ribu ke petugas.").replace("GRATIS ", "")
    reply = await warga.send(tampered)
    assert_different(reply, "Bayar 50 ribu ke petugas.")
    assert "GRATIS" in reply.text.split("Isi resmi:")[0]  # the removed word is named too
    assert len(reply.messages) == 1

    # The citizen's conversation is untouched by the check: the menu still works.
    assert (await warga.send("/menu")).buttons


async def test_a_forwarded_tampered_copy_is_called_different(desk: Desk, warga: Citizen) -> None:
    reference = await publish(desk)
    seen = await receive(desk, warga, reference)
    tampered = seen.replace("08.00", "07.00").replace("pungutan.", "pungutan. Transfer Rp50.000.")
    reply = await act(warga, lambda: warga.api.forward_text(warga.user_id, tampered))
    assert_different(reply, "Transfer Rp50.000.")
    assert "08.00" in reply.text and "07.00" in reply.text  # the changed time, both ways

    # The same for a citizen who reads Loket in English.
    tourist = desk.citizen(5002, "Maria", language_code="en")
    reply = await act(tourist, lambda: tourist.api.forward_text(tourist.user_id, tampered))
    assert "this text is DIFFERENT from the official announcement" in reply.text
    assert "Do not pay or transfer money" in reply.text and OFFICIAL_SEEN in reply.text


async def test_a_tampered_photo_caption_is_called_different(desk: Desk, warga: Citizen) -> None:
    reference = await publish(desk)
    caption = await receive(desk, warga, reference, photo=True)
    tampered = caption.replace("GRATIS", "GRATIS, bayar 50 ribu")
    state = warga.api.bot()
    forward = {"type": "hidden_user", "sender_user_name": "Grup Warga", "date": 1_700_000_000}

    def forwarded_photo() -> dict[str, Any]:
        extra = {**simulate.photo_extra(state, None), "forward_origin": forward}
        return simulate.user_message(
            state, warga.user_id, kind="photo", caption=tampered, extra=extra
        )

    assert_different(await act(warga, forwarded_photo), "bayar 50 ribu")
    # Saved and sent again as a new photo (not forwarded): the caption is checked too.
    assert_different(await warga.send_photo(caption=tampered), "bayar 50 ribu")
    # A photo whose caption carries no code is still answered as before.
    reply = await warga.send_photo(caption="foto KTP saya")
    assert "hanya bisa membaca pesan teks" in reply.text


async def test_a_genuine_copy_with_extra_whitespace_and_emoji_is_genuine(
    desk: Desk, warga: Citizen
) -> None:
    reference = await publish(desk)
    seen = await receive(desk, warga, reference)
    copy = "📢📢\n" + seen.replace(" ", "  ").replace("GRATIS", "GRATIS 🎉✅") + "\n\n🙏"
    reply = await warga.send(copy)
    assert f"Pengumuman {reference} ASLI" in reply.text
    assert "BERBEDA" not in reply.text

    reply = await act(warga, lambda: warga.api.forward_text(warga.user_id, f"  {seen}\n\n "))
    assert f"Pengumuman {reference} ASLI" in reply.text

    caption = await receive(desk, warga, reference, photo=True)
    reply = await warga.send_photo(caption=f"❗❗ {caption}")
    assert f"Pengumuman {reference} ASLI" in reply.text
