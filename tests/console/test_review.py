"""The OPD review queue in a real browser (issue 14): staff of Disdukcapil see their OPD's
answers with the sources, press "Sudah benar", and a citizen chatting through the local Bot
API then reads "Diperiksa oleh Disdukcapil pada <tanggal>"; 181 days later (the injected
clock) the citizen's answer says it is overdue and the console reminds the staff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.console.conftest import running_desk
from tests.console.support import ADMIN_ID, STAFF_ID, ConsoleDesk, sign_in_link
from tests.support.app import FakeClock

pytestmark = pytest.mark.asyncio(loop_scope="module")
TIMEOUT_MS = 10_000
START = dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC)  # Friday 10.00 WIT
KTP = '[data-intent="disdukcapil.ktp_baru"]'


@pytest_asyncio.fixture(loop_scope="module")
async def desk(tmp_path: Path) -> AsyncIterator[ConsoleDesk]:
    """The console desk on a fake clock: the review date and the due date come from it."""
    async with running_desk(tmp_path, clock=FakeClock(START)) as running:
        yield running


async def _signed_in(browser: Any, link: str) -> tuple[Any, Any]:
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(link)
    await page.click("#masuk")
    await page.wait_for_url("**/konsol/")
    return context, page


async def test_staff_verify_an_answer_and_citizens_see_it_until_overdue(
    desk: ConsoleDesk, browser: Any, artifacts: Path
) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    await admin.send(f"/peran beri {STAFF_ID} staf disdukcapil")
    staff = desk.citizen(STAFF_ID, "Staf Disdukcapil")
    warga = desk.citizen(5201, "Yosina")
    before = (await warga.send("syarat bikin ktp baru")).text
    assert "Belum diverifikasi oleh Disdukcapil" in before, before
    assert "Sumber: UU 23/2006 jo. UU 24/2013 Pasal 79A" in before

    context, page = await _signed_in(browser, await sign_in_link(staff))
    try:
        await page.click("text=Periksa jawaban")
        await page.wait_for_url("**/konsol/periksa")
        # Only Disdukcapil's answers, each with its sources and the answer citizens read.
        intents = await page.locator("section.review").evaluate_all(
            "els => els.map(e => e.dataset.intent)"
        )
        assert intents and all(i.startswith("disdukcapil.") for i in intents), intents
        card = page.locator(KTP)
        assert "Belum diverifikasi" in await card.locator(".status").inner_text()
        assert "Perpres 96/2018 Pasal 15" in await card.inner_text()
        await page.screenshot(path=str(artifacts / "review-queue.png"), full_page=False)

        await card.locator("button.benar").click()
        await page.locator("#notice").wait_for()
        status = await page.locator(KTP).locator(".status").inner_text()
        assert "Sudah diverifikasi: diperiksa 4 Desember 2026" in status, status
        assert "staf disdukcapil (Telegram" in status  # who, as staff know each other
        assert "periksa lagi sebelum 2 Juni 2027" in status
        await page.screenshot(path=str(artifacts / "review-verified.png"), full_page=False)

        # Stored as the next flow version, by this staff member.
        versions = await desk.console.versions.list()  # type: ignore[union-attr]
        assert versions[0].message.startswith("Diperiksa: disdukcapil.ktp_baru")
        flows = desk.console.versions.current  # type: ignore[union-attr]
        assert flows.intents["disdukcapil.ktp_baru"].review is not None

        after = (await warga.send("syarat bikin ktp baru")).text
        assert "Diperiksa oleh Disdukcapil pada 4 Desember 2026." in after, after
        assert "Belum diverifikasi" not in after and "lewat jadwal" not in after

        # "Perlu diubah" opens the editor on the OPD's own flow file.
        await page.locator(KTP).locator("a.ubah").click()
        await page.wait_for_url("**/alur/edit?file=disdukcapil.yaml*")
        assert "disdukcapil.ktp_baru" in await page.input_value("#source")
    finally:
        await context.close()

    assert desk.clock is not None
    desk.clock.advance(days=181)
    overdue = (await warga.send("syarat bikin ktp baru")).text
    assert "Sudah lewat jadwal pemeriksaan ulang (2 Juni 2027)" in overdue, overdue
    context, page = await _signed_in(browser, await sign_in_link(staff))
    try:
        reminder = await page.inner_text("#review-due")
        assert "1 jawaban sudah lewat jadwal pemeriksaan ulang" in reminder
        await page.click("#review-due >> text=Periksa sekarang")
        await page.wait_for_url("**/konsol/periksa")
        first = page.locator("section.review").first
        assert await first.get_attribute("data-intent") == "disdukcapil.ktp_baru"
        assert "Lewat jadwal" in await first.locator(".status").inner_text()
        await page.screenshot(path=str(artifacts / "review-overdue.png"), full_page=False)
    finally:
        await context.close()


async def test_staff_cannot_verify_another_opds_answer(desk: ConsoleDesk, browser: Any) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    await admin.send(f"/peran beri {STAFF_ID} staf dinkes")
    staff = desk.citizen(STAFF_ID, "Staf Dinkes")
    context, page = await _signed_in(browser, await sign_in_link(staff))
    try:
        await page.goto(desk.url + "/periksa")
        assert await page.locator(KTP).count() == 0
        token = await page.get_attribute('meta[name="csrf-token"]', "content")
        response = await page.request.post(
            desk.url + "/periksa", form={"csrf": token or "", "intent": "disdukcapil.ktp_baru"}
        )
        assert response.status == 403
        assert await desk.console.versions.list() == []  # type: ignore[union-attr]
        response = await page.goto(desk.url + "/alur/edit?file=disdukcapil.yaml")
        assert response is not None and response.status == 403
    finally:
        await context.close()
