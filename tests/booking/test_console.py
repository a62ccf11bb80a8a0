"""The officers' day list, check-in, no-show marking, the rates and the quota editor in a real
browser (Debian's Chromium through Playwright), with citizens booking over Telegram (PTB
against the local Bot API) on a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.booking.test_telegram import book_on_telegram, wit
from tests.console.conftest import (  # noqa: F401 - fixtures
    artifacts,
    browser,
    chromium,
    running_desk,
)
from tests.console.support import ADMIN_ID, STAFF_ID, ConsoleDesk, sign_in_link
from tests.support.app import FakeClock

pytestmark = pytest.mark.asyncio(loop_scope="module")
TIMEOUT_MS = 10_000


@pytest_asyncio.fixture(loop_scope="module")
async def desk(tmp_path: Path) -> AsyncIterator[ConsoleDesk]:
    """The console desk on a fake clock (Tuesday 1 December 2026, 10.00 WIT)."""
    async with running_desk(tmp_path, clock=FakeClock()) as running:
        yield running


async def _signed_in(browser: Any, link: str) -> tuple[Any, Any]:  # noqa: F811
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(link)
    await page.click("#masuk")
    await page.wait_for_url("**/konsol/")
    return context, page


async def test_day_list_check_in_no_show_rates_and_print(
    desk: ConsoleDesk,
    browser: Any,  # noqa: F811
    artifacts: Path,  # noqa: F811
) -> None:
    first = desk.citizen(770011, "Yosina")
    second = desk.citizen(770022, "Markus")
    code = await book_on_telegram(first, "Rabu, 2 Desember 2026", "Pukul 08.00-10.00")
    await book_on_telegram(second, "Rabu, 2 Desember 2026", "Pukul 08.00-10.00")
    assert desk.clock is not None
    desk.clock.now = wit(2, 8, 5)  # the day itself, 08.05 WIT
    admin = desk.citizen(ADMIN_ID, "Admin")
    context, page = await _signed_in(browser, await sign_in_link(admin))
    try:
        await page.click("#antrean")
        await page.wait_for_url("**/konsol/antrean")
        assert "disdukcapil: 2026-12-02" in await page.inner_text("#day")
        rows = page.locator("#sesi-0800-1000 tbody tr")
        assert await rows.count() == 2
        listed = await page.inner_text("#sesi-0800-1000")
        assert code in listed
        assert "telegram ··11" in listed and "770011" not in listed  # masked chat ids
        assert "terdaftar" in listed

        await page.fill("#kode", code.removeprefix("ANT-").lower())  # typed loosely
        await page.click("#hadir")
        await page.locator("#notice", has_text="Hadir").wait_for()
        assert f"Hadir: {code}, nomor 1" in await page.inner_text("#notice")
        first_row = page.locator("#sesi-0800-1000 tbody tr", has_text=code)
        assert "hadir" in await first_row.inner_text()
        await page.fill("#kode", code)
        await page.click("#hadir")
        assert "sudah tercatat hadir" in await page.inner_text("#notice")

        second_row = page.locator("#sesi-0800-1000 tbody tr", has_text="telegram ··22")
        await second_row.locator("button", has_text="Tidak datang").click()
        await page.locator("#notice", has_text="ditandai tidak datang").wait_for()
        assert (
            "tidak datang"
            in await page.locator(
                "#sesi-0800-1000 tbody tr", has_text="telegram ··22"
            ).inner_text()
        )
        rates = await page.inner_text("#rates")
        kk = next(line for line in rates.splitlines() if "disdukcapil.kk_baru" in line)
        assert kk.split("\t")[2:] == ["2", "0.5%", "50%"], kk  # 2 of 440 seats; 1 of 2 came
        await page.screenshot(path=str(artifacts / "booking-day.png"), full_page=True)

        await page.emulate_media(media="print")
        assert not await page.locator("#check-in").is_visible()
        assert not await page.locator("nav").is_visible()
        assert await page.locator("#sesi-0800-1000").is_visible()
        await page.screenshot(path=str(artifacts / "booking-day-print.png"), full_page=True)
        await page.emulate_media(media="screen")
    finally:
        await context.close()


async def test_quota_editor_rejects_bad_input_and_staff_see_only_their_offices(
    desk: ConsoleDesk,
    browser: Any,  # noqa: F811
    artifacts: Path,  # noqa: F811
) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    context, page = await _signed_in(browser, await sign_in_link(admin))
    try:
        await page.goto(desk.url + "/antrean/kuota")
        current = await page.input_value("#quota-yaml")
        assert "disdukcapil.ktp_baru" in current
        bad = current.replace("quota: 40", "quota: 0", 1)
        await page.fill("#quota-yaml", bad)
        await page.click("#check-quota")
        errors = await page.inner_text("#quota-errors")
        line = next(i for i, text in enumerate(bad.splitlines(), 1) if "quota: 0" in text)
        assert "Kuota ditolak, tidak ada yang diubah." in errors
        assert f"baris {line}:" in errors and "a whole number from 1 to 1000" in errors
        await page.screenshot(path=str(artifacts / "booking-quota-refused.png"), full_page=True)
        saturday = (
            "queues:\n  offices:\n    disdukcapil:\n      disdukcapil.ktp_baru:\n"
            "        days: [sat]\n        sessions:\n"
            '          - {time: "08:00-10:00", quota: 5}\n'
        )
        await page.fill("#quota-yaml", saturday)
        await page.click("#check-quota")
        assert "outside the office's hours" in await page.inner_text("#quota-errors")
        await page.fill("#quota-yaml", current)
        await page.click("#check-quota")
        assert "Kuota sah: 5 layanan" in await page.inner_text("#quota-ok")
        # Applied: KK baru's 08.00 session (the first "quota: 10") now has 3 seats.
        lowered = current.replace("quota: 10", "quota: 3", 1)
        await page.fill("#quota-yaml", lowered)
        await page.click("#apply-quota")
        assert "Kuota diterapkan: 5 layanan" in await page.inner_text("#quota-ok")
    finally:
        await context.close()
    citizen = desk.citizen(770033, "Yakobus")
    await citizen.send("syarat kk baru")
    await citizen.click("Ambil nomor antrean")
    reply = await citizen.click("Rabu, 2 Desember 2026")
    assert "Pukul 08.00-10.00: sisa 3 nomor" in reply.text
    await desk.restart()  # the stored version replaces the region file's block at start
    assert desk.loket is not None
    queue = desk.loket.region.queues.get("disdukcapil", "disdukcapil.kk_baru")
    assert queue is not None and queue.sessions[0].quota == 3
    await admin.send(f"/peran beri {STAFF_ID} staf dinkes")
    staff = desk.citizen(STAFF_ID, "Staf Dinkes")
    context, page = await _signed_in(browser, await sign_in_link(staff))
    try:
        response = await page.goto(desk.url + "/antrean")
        assert response is not None and response.status == 403
        response = await page.goto(desk.url + "/antrean/kuota")
        assert response is not None and response.status == 403
    finally:
        await context.close()
