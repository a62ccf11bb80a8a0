"""The done-when test of issue 15: a whole handoff through PTB and the local Bot API and the
officer inbox in Chromium at once.

A citizen asks for a Disdukcapil officer in Telegram; the officer, signed in to the console,
sees the ticket appear live (server-sent events, no reload), sees the NIK masked until they
reveal it (audited), replies; the citizen receives the reply in the chat (the outbox loop as
``loket run`` runs it), writes back, which the officer sees live; the officer closes; the
citizen is back with the bot and looks the ticket up. Screenshots of the inbox at 1280x800
and 390x844 go to test-artifacts/.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select
from telegram.request import BaseRequest

from bot.console.inbox import telegram_files
from bot.handoff.service import ReplyLoop, running_replies
from bot.storage.models import AuditLog
from bot.telegram.channel import CHANNEL
from bot.telegram.notify import TelegramDeliver
from tests.console.conftest import running_desk
from tests.console.support import ADMIN_ID, STAFF_ID, ConsoleDesk, sign_in_link

pytestmark = pytest.mark.asyncio(loop_scope="module")
NIK = "9109012345678901"
TIMEOUT_MS = 10_000


class HandoffDesk(ConsoleDesk):
    """The console desk with the officer-reply loop running, as ``loket run`` runs it."""

    replies: ReplyLoop | None = None

    async def start(self, *, request: BaseRequest | None = None, polling: bool = True) -> None:
        await super().start(request=request, polling=polling)
        assert self.loket is not None and self.application is not None and self._stack
        deliver = TelegramDeliver.for_channel(self.application.bot, self.channel_settings())
        loop = await self._stack.enter_async_context(
            running_replies(self.loket, {CHANNEL: deliver})
        )
        self.replies = loop
        assert self.console is not None
        self.console.console.fetch_file = telegram_files(self.application.bot)


@pytest_asyncio.fixture(loop_scope="module")
async def desk(tmp_path: Path) -> AsyncIterator[HandoffDesk]:
    async with running_desk(tmp_path, desk_class=HandoffDesk) as running:
        yield running


@contextlib.asynccontextmanager
async def officer_page(browser: Any, link: str) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = await context.new_page()
        await page.goto(link)
        await page.click("#masuk")
        await page.wait_for_url("**/konsol/")
        yield page
    finally:
        await context.close()


async def test_a_whole_handoff_citizen_in_telegram_officer_in_the_browser(
    desk: HandoffDesk,
    browser: Any,
    artifacts: Path,
) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    await admin.send(f"/peran beri {STAFF_ID} staf disdukcapil")
    officer = desk.citizen(STAFF_ID, "Staf Disdukcapil")
    warga = desk.citizen(5101, "Yosina")
    async with officer_page(browser, await sign_in_link(officer)) as page:
        await page.click("nav >> text=Kotak masuk")
        await page.wait_for_url("**/konsol/inbox")
        assert "Tidak ada tiket terbuka" in await page.inner_text("#live")
        await page.wait_for_function("document.getElementById('live').dataset.stream === 'open'")

        # 1. The citizen asks; the ticket appears in the open page without a reload.
        await warga.send("mau bicara dengan petugas")
        await warga.click("Kependudukan (Disdukcapil)")
        await warga.send(f"Nama ibu di akta anak saya salah. NIK saya {NIK}")
        await warga.click("Balas di chat ini")
        reply = await warga.click("Ya, boleh")
        assert "Nomor referensi: LKT-" in reply.text and "kembali ke bot" in reply.text
        number = reply.text.split("Nomor referensi: ")[1][:10]
        item = page.locator(f'li[data-number="{number}"]')
        await item.wait_for()
        assert NIK not in await item.inner_text()  # masked in the list
        assert "1" in await item.locator(".unread").inner_text()

        # 2. A photo of the KK goes to the ticket, not to the bot.
        reply = await warga.send_photo(caption="foto KK")
        assert f"Terkirim ke petugas ({number})" in reply.text
        await page.locator(f'li[data-number="{number}"] >> text=foto KK').wait_for()

        # 3. The officer opens it: NIK masked until revealed, the reveal audited.
        await item.locator("a").click()
        await page.wait_for_url("**/konsol/inbox?t=*")
        ticket_url = page.url
        thread = page.locator("#thread")
        assert NIK not in await thread.inner_text() and "[photo:" in await thread.inner_text()
        # The photo itself, fetched from the Bot API for the officer (and audited).
        href = await thread.locator("a.file").get_attribute("href")
        assert href is not None
        photo = await page.request.get(desk.url.removesuffix("/konsol") + href)
        assert photo.status == 200 and photo.headers["content-type"] == "image/png"
        assert (await photo.body()).startswith(b"\x89PNG")  # the simulated 1x1 PNG
        await page.screenshot(path=str(artifacts / "inbox-1280x800.png"))  # NIK still masked
        await page.click("#reveal")
        await page.wait_for_url("**/konsol/inbox?t=*")
        assert NIK in await page.locator("#thread").inner_text()
        assert desk.loket is not None
        async with desk.loket.sessions() as session:
            audits = (
                await session.scalars(select(AuditLog).where(AuditLog.action == "ticket.reveal"))
            ).all()
        assert [a.target for a in audits] == [f"ticket:{number}"]
        async with desk.loket.sessions() as session:
            views = (
                await session.scalars(select(AuditLog).where(AuditLog.action == "ticket.file"))
            ).all()
        assert [a.target for a in views] == [f"ticket:{number}"]

        # 4. The officer replies; the citizen receives it in the chat, once.
        await page.click("#claim")
        await page.wait_for_url("**/konsol/inbox?t=*")
        mark = warga.mark()
        await page.fill("#reply-text", "Silakan bawa KK asli ke MPP hari Senin.")
        await page.click("#send-reply")
        [received] = (await desk.api.wait_for_messages(warga.chat_id, mark + 1))[mark:]
        assert "Balasan petugas Disdukcapil" in received.text
        assert "Silakan bawa KK asli ke MPP hari Senin." in received.text

        # 5. The citizen writes back (still in the ticket); the officer sees it live.
        reply = await warga.send("Baik, terima kasih banyak")
        assert "Terkirim ke petugas" in reply.text
        await page.locator("#thread >> text=Baik, terima kasih banyak").wait_for()
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=str(artifacts / "inbox-390x844.png"), full_page=True)
        await page.set_viewport_size({"width": 1280, "height": 800})

        # 6. The officer closes; the citizen is told and is back with the bot.
        mark = warga.mark()
        await page.select_option("#outcome", "terjawab")
        await page.click("#close")
        await page.wait_for_url("**/konsol/inbox?t=*")
        [closed] = (await desk.api.wait_for_messages(warga.chat_id, mark + 1))[mark:]
        assert "menutup tiket" in closed.text and number in closed.text
        await page.locator(f'li[data-number="{number}"]').wait_for(state="detached")

        # 7. Back with the bot, the citizen looks the ticket up.
        reply = await warga.send("syarat KTP baru")
        assert "Terkirim ke petugas" not in reply.text and "KTP" in reply.text
        await warga.send("cek status pengaduan")
        reply = await warga.send(number)
        assert number in reply.text and "selesai ditindaklanjuti" in reply.text
        assert desk.replies is not None and desk.replies.sent == 2

        # 8. The analytics page counts it (answered, closed: not abandoned).
        await page.click("#ticket-analytics")
        await page.wait_for_url("**/konsol/inbox/analitik")
        stats = await page.inner_text("#handoff-stats")
        assert "Disdukcapil" in stats
        await page.screenshot(path=str(artifacts / "inbox-analytics.png"), full_page=True)

        # 9. The citizen erases their data: the officer sees why the messages are gone.
        await warga.send("/hapusdata")
        reply = await warga.click("Ya, hapus")
        assert "dihapus" in reply.text
        await page.goto(ticket_url)
        thread = await page.inner_text("#thread")
        assert "data dihapus atas permintaan warga" in thread
        assert "Nama ibu" not in thread and "Baik, terima kasih" not in thread


async def test_canned_answer_note_and_transfer(desk: HandoffDesk, browser: Any) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    await admin.send(f"/peran beri {STAFF_ID} staf disdukcapil")
    officer = desk.citizen(STAFF_ID, "Staf Disdukcapil")
    warga = desk.citizen(5102, "Markus")
    await warga.send("mau bicara dengan petugas")
    await warga.click("Kependudukan (Disdukcapil)")
    await warga.send("Puskesmas di distrik kami buka jam berapa?")  # a Dinkes question
    await warga.click("Balas di chat ini")
    reply = await warga.click("Tidak")
    number = reply.text.split("Nomor referensi: ")[1][:10]
    async with officer_page(browser, await sign_in_link(officer)) as page:
        await page.goto(desk.url + "/inbox")
        await page.locator(f'li[data-number="{number}"] a').click()
        await page.wait_for_url("**/konsol/inbox?t=*")
        assert "tidak mengizinkan" in await page.inner_text("#thread")  # no consent given

        # A canned answer of the OPD, sent as it is.
        mark = warga.mark()
        await page.select_option("#canned", label="Perlu nomor permohonan")
        await page.click("#send-reply")
        [received] = (await desk.api.wait_for_messages(warga.chat_id, mark + 1))[mark:]
        assert "Mohon kirim nomor permohonan Anda" in received.text

        # An internal note is shown to officers, never sent to the citizen.
        mark = warga.mark()
        await page.fill("#note-text", "Sebenarnya pertanyaan untuk Dinkes")
        await page.click("#add-note")
        await page.wait_for_url("**/konsol/inbox?t=*")
        assert "Sebenarnya pertanyaan untuk Dinkes" in await page.inner_text("#thread")

        # Moved to Dinkes, not closed: gone from this officer's list, open in Dinkes'.
        await page.select_option("#to-opd", "dinkes")
        await page.click("#transfer")
        await page.wait_for_url("**/konsol/inbox?t=*")
        assert await page.locator(f'li[data-number="{number}"]').count() == 0
        assert warga.mark() == mark  # the citizen got nothing from the note or the move
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        from bot.handoff import store

        moved = await store.by_number(session, number)
    assert moved is not None and (moved.opd, moved.status) == ("dinkes", "open")
