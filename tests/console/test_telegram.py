"""The console's Telegram side: a .yaml upload from an admin (summary, confirm, published),
a broken upload that changes nothing, /versi and /kembalikan, and citizens who see none of it.
"""

from __future__ import annotations

import pytest

from bot.flows.loader import FLOWS_DIR
from tests.console.support import ADMIN_ID, ConsoleDesk, send_document

pytestmark = pytest.mark.asyncio(loop_scope="module")

OLD_GREETING = "Halo! Saya Loket, asisten layanan publik"
NEW_GREETING = "Selamat datang di Loket versi Telegram"
UMUM = (FLOWS_DIR / "umum.yaml").read_text(encoding="utf-8")


async def test_an_admin_uploads_a_flow_confirms_and_citizens_get_it(desk: ConsoleDesk) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    warga = desk.citizen(5001, "Yosina")
    assert OLD_GREETING in (await warga.send("/start")).text

    edited = UMUM.replace(OLD_GREETING, NEW_GREETING, 1).encode()
    reply = await send_document(admin, edited, "umum.yaml")
    assert "umum.yaml valid" in reply.text
    assert "Langkah diubah: umum:menu" in reply.text
    assert reply.buttons == ["Terbitkan", "Batal"]
    assert OLD_GREETING in (await warga.send("/start")).text  # not before the confirm

    reply = await admin.click("Terbitkan")
    assert "Diterbitkan sebagai versi 1" in reply.text
    assert NEW_GREETING in (await warga.send("/start")).text

    reply = await admin.send("/versi")
    assert "1." in reply.text and "Unggahan umum.yaml" in reply.text

    # Rolled back to the files' text by uploading them, then back to version 1 by number.
    await send_document(admin, UMUM.encode(), "umum.yaml")
    assert "versi 2" in (await admin.click("Terbitkan")).text
    assert OLD_GREETING in (await warga.send("/start")).text
    reply = await admin.send("/kembalikan 1")
    assert "versi 3" in reply.text
    assert NEW_GREETING in (await warga.send("/start")).text

    # A restart loads the newest published version, not the files.
    await desk.restart()
    assert NEW_GREETING in (await warga.send("/start")).text


async def test_a_broken_upload_changes_nothing(desk: ConsoleDesk) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    warga = desk.citizen(5001, "Yosina")
    broken = UMUM.replace("type: choice", "type: chioce", 1)
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if "chioce" in text)
    reply = await send_document(admin, broken.encode(), "umum.yaml")
    assert "tidak valid; tidak ada yang berubah" in reply.text
    assert f"umum.yaml:{line}:" in reply.text
    assert reply.buttons == []
    assert desk.console is not None and await desk.console.versions.list() == []
    assert OLD_GREETING in (await warga.send("/start")).text
    # Nothing is waiting to be confirmed either.
    pressed, _ = await admin.press(reply.messages[-1].message_id, "flw:ok", check=False)
    assert "Tidak ada unggahan" in pressed.text


async def test_citizens_get_the_ordinary_answers(desk: ConsoleDesk) -> None:
    warga = desk.citizen(5001, "Yosina")
    unknown = (await warga.send("/tidakada")).text
    for command in ("/admin", "/versi", "/kembalikan 1"):
        assert (await warga.send(command)).text == unknown
    ordinary = await send_document(warga, b"%PDF-1.4", "surat.pdf")
    reply = await send_document(warga, UMUM.encode(), "umum.yaml")
    assert reply.text == ordinary.text and "Terbitkan" not in reply.buttons
    assert desk.console is not None and await desk.console.versions.list() == []


async def test_a_conversation_at_a_step_that_disappears_restarts_safely(
    desk: ConsoleDesk,
) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    warga = desk.citizen(5001, "Yosina")
    await warga.send("/start")
    waiting = await warga.click("Lainnya")  # now waiting at umum:lainnya
    assert "Layanan lain" in waiting.text
    renamed = UMUM.replace("goto: lainnya}", "goto: layanan_lain}", 1).replace(
        "\n  lainnya:\n", "\n  layanan_lain:\n", 1
    )
    reply = await send_document(admin, renamed.encode(), "umum.yaml")
    assert "Langkah dihapus: umum:lainnya" in reply.text
    assert "Langkah ditambah: umum:layanan_lain" in reply.text
    await admin.click("Terbitkan")
    # The citizen answers the old question: told the service changed, back at the start.
    reply = await warga.send("pengaduan")
    assert "baru saja diperbarui" in reply.text
    assert desk.tracker is not None and desk.tracker.errors == []
