"""The admin console in a real browser (Debian's Chromium through Playwright).

An admin signs in with the link the bot sent (read from the local Bot API's record), breaks a
flow and sees the error at its line with nothing published, fixes it, previews it, publishes
it; a citizen chatting through the local Bot API gets the new text at once; a rollback brings
the old text back. The sign-in link works once, a form without its CSRF token is refused and
a staff session cannot open the flow editor. Every page is screenshotted into test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.console.app import COOKIE
from bot.storage import repo
from tests.console.support import ADMIN_ID, STAFF_ID, ConsoleDesk, sign_in_link

pytestmark = pytest.mark.asyncio(loop_scope="module")

OLD_GREETING = "Halo! Saya Loket, asisten layanan publik"
NEW_GREETING = "Selamat datang di Loket versi uji"
TIMEOUT_MS = 10_000


async def _signed_in_page(browser: Any, link: str) -> tuple[Any, Any]:
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(link)
    await page.click("#masuk")
    await page.wait_for_url("**/konsol/")
    return context, page


async def _shot(page: Any, artifacts: Path, name: str) -> None:
    await page.screenshot(path=str(artifacts / f"console-{name}.png"), full_page=True)


async def _line_of(content: str, needle: str) -> int:
    return next(i for i, line in enumerate(content.splitlines(), 1) if needle in line)


async def test_admin_edits_previews_publishes_and_rolls_back(
    desk: ConsoleDesk, browser: Any, artifacts: Path
) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    warga = desk.citizen(5001, "Yosina")
    assert OLD_GREETING in (await warga.send("/start")).text

    link = await sign_in_link(admin)
    context, page = await _signed_in_page(browser, link)
    try:
        await _shot(page, artifacts, "home")
        cookie = next(c for c in await context.cookies() if c["name"] == COOKIE)
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"

        await page.click("text=Alur")
        await page.wait_for_url("**/konsol/alur")
        await _shot(page, artifacts, "flows")
        await page.click("text=umum.yaml")
        await page.wait_for_url("**/alur/edit?file=umum.yaml")
        original = await page.input_value("#source")

        # 1. A broken flow: the error is shown at its line; nothing is published.
        broken_line = await _line_of(original, "type: choice")
        broken = original.replace("type: choice", "type: chioce", 1)
        await page.fill("#source", broken)
        await page.click("#validate")
        errors = page.locator("#errors")
        await errors.wait_for()
        assert f"umum.yaml, baris {broken_line}" in await errors.inner_text()
        await _shot(page, artifacts, "flow-error")
        assert await desk.console.versions.list() == []  # type: ignore[union-attr]
        assert OLD_GREETING in (await warga.send("/start")).text

        # 2. Fixed and changed: the preview chat runs the edited text through the engine.
        edited = original.replace(OLD_GREETING, NEW_GREETING, 1)
        await page.fill("#source", edited)
        await page.click("#validate")
        await page.locator("#notice").wait_for()
        await page.fill("#preview-text", "menu")
        await page.click("#preview-send")
        await page.locator("#preview-log .bubble.bot", has_text=NEW_GREETING).wait_for()
        await _shot(page, artifacts, "flow-preview")
        assert OLD_GREETING in (await warga.send("/start")).text  # preview published nothing

        # 3. Published: a new version with its diff; the citizen gets the new text at once.
        await page.fill("#message", "Sapaan baru")
        await page.click("#publish")
        await page.wait_for_url("**/alur/versi/1")
        diff = await page.inner_text("#diff")
        assert f'+      id: "{NEW_GREETING}' in diff or NEW_GREETING in diff
        await _shot(page, artifacts, "version")
        assert NEW_GREETING in (await warga.send("/start")).text

        # 4. Rollback to the files' text: publish a second version, then roll back to it.
        await page.goto(desk.url + "/alur/edit?file=umum.yaml")
        await page.fill("#source", original)
        await page.fill("#message", "Sapaan lama")
        await page.click("#publish")
        await page.wait_for_url("**/alur/versi/2")
        assert OLD_GREETING in (await warga.send("/start")).text
        await page.goto(desk.url + "/alur/versi/1")
        await page.click("#rollback")  # asks first (test_usable.py covers the refusal)
        await page.click("#confirm")
        await page.wait_for_url("**/alur/versi/3")
        assert NEW_GREETING in (await warga.send("/start")).text
        await page.goto(desk.url + "/alur/versi")
        assert "Kembali ke versi 1" in await page.inner_text("main")
        await _shot(page, artifacts, "versions")

        await page.goto(desk.url + "/analitik")
        await page.locator("svg").first.wait_for()
        await _shot(page, artifacts, "analytics")
        await page.goto(desk.url + "/pengumuman")
        await _shot(page, artifacts, "announcements")
    finally:
        await context.close()

    # The same link a second time: refused, and no session is opened.
    second = await browser.new_context()
    try:
        retry = await second.new_page()
        await retry.goto(link)
        await retry.click("#masuk")
        assert "Tautan tidak berlaku" in await retry.inner_text("h1")
        await _shot(retry, artifacts, "link-reused")
        assert not any(c["name"] == COOKIE for c in await second.cookies())
    finally:
        await second.close()


async def test_a_form_without_its_csrf_token_is_refused(
    desk: ConsoleDesk, browser: Any, artifacts: Path
) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    context, page = await _signed_in_page(browser, await sign_in_link(admin))
    try:
        cookie = next(c for c in await context.cookies() if c["name"] == COOKIE)
        headers = {"Cookie": f"{COOKIE}={cookie['value']}"}
        async with aiohttp.ClientSession() as http:
            url = desk.url + "/alur/versi/1/kembalikan"
            async with http.post(url, data={"x": "1"}, headers=headers) as response:
                assert response.status == 403
                assert "CSRF" in await response.text()
            async with http.post(url, data={"csrf": "wrong"}, headers=headers) as response:
                assert response.status == 403
            # The same session's pages still work: the refusal was the token, not the cookie.
            async with http.get(desk.url + "/alur/versi", headers=headers) as response:
                assert response.status == 200
        await page.goto(desk.url + "/alur/versi")
        await _shot(page, artifacts, "versions-empty")
    finally:
        await context.close()


async def test_staff_see_their_pages_but_not_the_flow_editor(
    desk: ConsoleDesk, browser: Any, artifacts: Path
) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    await admin.send(f"/peran beri {STAFF_ID} staf dinkes")
    staff = desk.citizen(STAFF_ID, "Staf Dinkes")
    context, page = await _signed_in_page(browser, await sign_in_link(staff))
    try:
        assert "staf dinkes" in await page.inner_text("main")
        assert await page.locator("nav >> text=Alur").count() == 0
        response = await page.goto(desk.url + "/alur/edit?file=umum.yaml")
        assert response is not None and response.status == 403
        await _shot(page, artifacts, "staff-refused")
        response = await page.goto(desk.url + "/alur/versi")
        assert response is not None and response.status == 403
        response = await page.goto(desk.url + "/analitik")
        assert response is not None and response.status == 200
        assert "belum dimengerti" not in await page.inner_text("main")  # admins only
        response = await page.goto(desk.url + "/pengumuman")
        assert response is not None and response.status == 200
        await page.fill("#announcement-text", "Imunisasi gratis hari Sabtu di Puskesmas Timika.")
        await page.click("text=Pratinjau")
        assert "Pratinjau untuk 0 penerima" in await page.inner_text("#notice")
        await page.click("#send")
        assert "diantrekan untuk 0 penerima" in await page.inner_text("#notice")
        row = page.locator("tr", has_text="Imunisasi gratis")
        assert "terjadwal" in await row.inner_text()
        await _shot(page, artifacts, "staff-announcements")
        await row.locator("button", has_text="Batalkan").click()
        await page.locator("#notice", has_text="dibatalkan").wait_for()
        assert "dibatalkan" in await page.locator("tr", has_text="Imunisasi gratis").inner_text()
    finally:
        await context.close()
    # Without any session nothing is reachable.
    async with aiohttp.ClientSession() as http, http.get(desk.url + "/alur") as response:
        assert response.status == 401


async def test_an_unmatched_question_becomes_an_example_in_one_click(
    desk: ConsoleDesk, browser: Any, artifacts: Path
) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    warga = desk.citizen(5001, "Yosina")
    first = await warga.send("kapan kapal pelni berangkat ke timika")
    await warga.send("kapal pelni untuk nik 9171012345678901 ada?")
    context, page = await _signed_in_page(browser, await sign_in_link(admin))
    try:
        await page.goto(desk.url + "/analitik")
        await page.locator("tr", has_text="untuk nik").wait_for()
        assert "9171012345678901" not in await page.inner_text("main")  # stored masked
        row = page.locator("tr", has_text="kapan kapal pelni")
        await row.locator("select").select_option("umum.petugas")
        await row.locator("button").click()
        await page.wait_for_url("**/alur/versi/1")
        assert "Contoh baru untuk umum.petugas" in await page.inner_text("#version-info")
        assert "kapan kapal pelni" in await page.inner_text("#diff")
        await _shot(page, artifacts, "example-added")
    finally:
        await context.close()
    second = await warga.send("kapan kapal pelni berangkat ke timika")
    # Understood now: the officer intent is answered, or offered among the closest ones.
    assert second.text != first.text
    offered = " ".join([second.text, *second.buttons]).lower()
    assert "petugas" in offered, offered
    response_csv = None
    async with aiohttp.ClientSession() as http, http.get(desk.url + "/analitik.csv") as response:
        response_csv = response.status
    assert response_csv == 401  # the CSV needs a session like every page


async def test_staff_send_from_the_console_and_citizens_get_exactly_the_preview(
    sending_desk: ConsoleDesk, browser: Any, artifacts: Path
) -> None:
    desk = sending_desk
    admin = desk.citizen(ADMIN_ID, "Admin")
    await admin.send(f"/peran beri {STAFF_ID} staf dinkes")
    warga = desk.citizen(5101, "Yosina")
    await warga.send("/start")
    assert desk.loket is not None
    async with desk.loket.sessions() as session, session.begin():
        user = await repo.find_user(session, "telegram", str(warga.user_id))
        assert user is not None
        await repo.save_subscription(session, user.id, "94.04.01", ["dinkes"])
    staff = desk.citizen(STAFF_ID, "Staf Dinkes")
    context, page = await _signed_in_page(browser, await sign_in_link(staff))
    text = "Vaksin <gratis> & aman di Puskesmas Timika, Sabtu 08.00."
    try:
        await page.goto(desk.url + "/pengumuman")
        await page.fill("#announcement-text", text)
        await page.select_option("select[name=district]", ["94.04.01"])
        await page.click("text=Pratinjau")
        notice = await page.inner_text("#notice")
        assert "Pratinjau untuk 1 penerima" in notice
        assert text in notice and "Kode pengumuman: MMK-····" in notice
        await _shot(page, artifacts, "announcement-preview")
        await page.fill("#announcement-text", text)
        await page.select_option("select[name=district]", ["94.04.01"])
        await page.click("#send")
        assert "diantrekan untuk 1 penerima" in await page.inner_text("#notice")
        signal = desk.api.bot().signal
        assert await signal.wait_for(
            lambda: any("Kode pengumuman" in m.visible_text for m in warga.bot_messages()), 30.0
        )
        received = next(m for m in warga.bot_messages() if "Kode pengumuman" in m.visible_text)
        assert received.visible_text.startswith(text)  # escaped for Telegram, shown as typed
        # A time in the past is explained, nothing queued.
        await page.fill("#announcement-text", "Terlambat.")
        await page.fill("input[name=send_at]", "2020-01-01T08:00")
        await page.click("#send")
        assert "sudah lewat" in await page.inner_text("#notice")
    finally:
        await context.close()
