"""Inline buttons: signed callback_data, forged and stale presses."""

from __future__ import annotations

from bot.telegram import callbacks
from tests.telegram.support import Citizen, Desk

INVALID_BUTTON = "Tombol ini tidak berlaku. Silakan buka /menu."


async def _state_of(desk: Desk, citizen: Citizen) -> dict[str, object]:
    from bot.storage import repo
    from bot.telegram.channel import CHANNEL

    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        user = await repo.find_user(session, CHANNEL, str(citizen.user_id))
        assert user is not None
        state = await repo.load_state(session, user.id)
        assert state is not None
        return {"step": state.step, "offered": list(state.offered), "intent": state.intent}


async def test_callback_data_is_signed_and_short(warga: Citizen) -> None:
    reply = await warga.send("/menu")
    (menu,) = reply.messages
    for data in menu.callback_data:
        payload, _, mac = data.rpartition("|")
        assert payload.startswith("o:")
        assert len(mac) == 11
        assert len(data.encode()) <= callbacks.MAX_CALLBACK_BYTES


async def test_tampered_callback_data_gets_a_polite_alert(desk: Desk, warga: Citizen) -> None:
    reply = await warga.send("/menu")
    (menu,) = reply.messages
    genuine = menu.callback_data[0]
    payload, _, mac = genuine.rpartition("|")
    before = await _state_of(desk, warga)

    for forged in (
        f"{payload}|{'A' * len(mac)}",  # wrong MAC
        f"i:disdukcapil.ktp_baru|{mac}",  # another payload under a real MAC
        "i:disdukcapil.ktp_baru",  # no MAC at all
        "",  # empty data
    ):
        reply, answer = await warga.press(menu.message_id, forged, check=False)
        assert answer.text == INVALID_BUTTON, forged
        assert not reply, forged
    assert await _state_of(desk, warga) == before
    reply = await warga.click("Kependudukan (Disdukcapil)")
    assert reply.text.startswith("Layanan kependudukan")


async def test_another_citizens_callback_data_is_refused(
    desk: Desk, warga: Citizen, tetangga: Citizen
) -> None:
    """A malicious client copies Yosina's callback_data into Markus's press."""
    await warga.send("/menu")
    await warga.click("Kependudukan (Disdukcapil)")
    _, stolen = warga.find_button("Cek status permohonan")
    warga_before = await _state_of(desk, warga)

    menu = (await tetangga.send("/menu")).messages[0]
    tetangga_before = await _state_of(desk, tetangga)
    reply, answer = await tetangga.press(menu.message_id, stolen, check=False)
    assert answer.text == INVALID_BUTTON
    assert not reply
    assert await _state_of(desk, warga) == warga_before
    assert await _state_of(desk, tetangga) == tetangga_before

    # Yosina's own button still works and leads where it should.
    reply = await warga.click("Cek status permohonan")
    assert reply.text.startswith("Tulis nomor permohonan Anda")


async def test_stale_button_is_explained_and_the_current_question_repeated(
    warga: Citizen,
) -> None:
    await warga.send("/menu")
    old_message, old_data = warga.find_button("Kesehatan")
    await warga.click("Kependudukan (Disdukcapil)")
    await warga.click("Cek status permohonan")

    reply, answer = await warga.press(old_message.message_id, old_data)
    assert answer.text is None  # the button was ours: no alert, the chat explains
    assert "Tombol itu sudah tidak berlaku" in reply.text
    assert "Tulis nomor permohonan Anda" in reply.text  # the open question again

    reply = await warga.send("9404-2026-000104")
    assert "Status: Siap diambil" in reply.text
    assert "Dokumen Anda siap diambil" in reply.text


async def test_buttons_survive_a_restart(desk: Desk, warga: Citizen) -> None:
    """The MAC key comes from CALLBACK_SECRET, so a button shown before a restart works."""
    await warga.send("/menu")
    await desk.restart()
    reply = await warga.click("Pajak Daerah")
    assert reply.text.startswith("Pajak daerah (Bapenda). Pilih layanan")
    assert "Cek tagihan PBB" in reply.buttons
