"""/langganan and /berhenti through python-telegram-bot and the local Bot API."""

from __future__ import annotations

from bot.staff.audience import subscribers
from bot.storage import repo
from bot.telegram.channel import CHANNEL
from tests.telegram.support import Citizen, Desk


async def subscription(desk: Desk, telegram_id: int) -> tuple[str, str] | None:
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        user = await repo.find_user(session, CHANNEL, str(telegram_id))
        assert user is not None
        row = await repo.get_subscription(session, user.id)
        return None if row is None else (row.district, row.topics)


async def test_langganan_shows_and_changes_berhenti_stops(desk: Desk, warga: Citizen) -> None:
    reply = await warga.send("/langganan")
    assert "Dengan berlangganan" in reply.text
    assert reply.choice_buttons == [
        "Atur langganan",
        "Lihat langganan saya",
        "Permohonan yang saya pantau",
    ]
    reply = await warga.click("Lihat langganan saya")
    assert "belum berlangganan" in reply.text

    await warga.send("/langganan")
    await warga.click("Atur langganan")
    await warga.click("Wania")
    reply = await warga.click("Kesehatan")
    assert "Langganan Anda tersimpan" in reply.text and "/berhenti" in reply.text
    assert await subscription(desk, warga.user_id) == ("94.04.16", "dinkes")  # Wania

    await warga.send("/langganan")
    reply = await warga.click("Lihat langganan saya")
    assert "Distrik Wania" in reply.text and "Kesehatan" in reply.text
    assert "Berhenti berlangganan" in reply.choice_buttons

    # Changing it: set it up again.
    await warga.click("Atur langganan")
    await warga.click("Wania")
    await warga.click("Semua topik")
    _district, topics = await subscription(desk, warga.user_id) or ("", "")
    assert topics.split(",") == sorted(
        ["bapenda", "dinkes", "disdukcapil", "disnakertrans", "jemput_bola"]
    )

    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        found = await subscribers(session, channel=CHANNEL, district="94.04.16", topic="dinkes")
        assert [r.chat_id for r in found] == [str(warga.user_id)]
        assert await subscribers(session, channel=CHANNEL, district="94.04.01") == []
        assert await subscribers(session, channel=CHANNEL, topic="jemput") == []

    reply = await warga.send("/berhenti")
    assert "tidak akan menerima pengumuman lagi" in reply.text
    # Removed before the reply was sent (the reply is only sent after the commit), so no
    # announcement queued from now on can select the citizen.
    assert await subscription(desk, warga.user_id) is None
    async with desk.loket.sessions() as session:
        assert await subscribers(session, channel=CHANNEL) == []

    await warga.send("/langganan")
    reply = await warga.click("Lihat langganan saya")
    assert "belum berlangganan" in reply.text


async def test_berhenti_button_and_without_subscription(desk: Desk, warga: Citizen) -> None:
    reply = await warga.send("/berhenti")  # nothing to stop: same calm confirmation
    assert "tidak akan menerima pengumuman lagi" in reply.text
    await warga.send("/langganan")
    await warga.click("Atur langganan")
    await warga.click("Wania")
    await warga.click("Pajak daerah")
    await warga.send("/langganan")
    await warga.click("Lihat langganan saya")
    reply = await warga.click("Berhenti berlangganan")
    assert "tidak akan menerima pengumuman lagi" in reply.text
    assert await subscription(desk, warga.user_id) is None
