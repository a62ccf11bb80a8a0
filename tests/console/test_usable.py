"""The console as admins use it (issue 12, item 10), in Chromium at 390×844 and at 1280×800.

Each test stands for a defect found by trying the console as a new admin would: pages wider
than a phone with "Keluar" off-screen, an editor without line numbers that soft-wraps YAML,
English validation messages (and nine follow-on errors for one syntax error), raw UTC times and
internal author ids, a publish without a message and a rollback without confirmation, no way
back to the shipped ``flows/``, and the analytics page's "Jadikan contoh" (a preselected
intent, masked strings becoming examples) and "Cek status per OPD" without Bapenda. Every page
is screenshotted at both sizes into test-artifacts/ (``console-<page>-<size>.png``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.console.app import COOKIE
from bot.flows.loader import read_flow_sources
from bot.storage import repo
from bot.storage.models import AuditLog, Event, FlowVersion, UnmatchedQuestion
from tests.console.support import ADMIN_ID, ConsoleDesk, sign_in_link

pytestmark = pytest.mark.asyncio(loop_scope="module")

TIMEOUT_MS = 10_000
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 800)}
OLD_GREETING = "Halo! Saya Loket, asisten layanan publik"
NEW_GREETING = "Selamat datang di Loket versi uji"
MONTHS = "Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|November|Desember"
WIT_TIME = re.compile(rf"\b\d{{1,2}} (?:{MONTHS}) \d{{4}} \d{{2}}\.\d{{2}} WIT\b")
MASKED = "cek 94**-****-****05"
size = pytest.mark.parametrize("viewport", list(VIEWPORTS))


async def _signed_in(browser: Any, desk: ConsoleDesk, viewport: str) -> tuple[Any, Any]:
    width, height = VIEWPORTS[viewport]
    context = await browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(await sign_in_link(desk.citizen(ADMIN_ID, "Admin")))
    await page.click("#masuk")
    await page.wait_for_url("**/konsol/")
    return context, page


async def _shot(page: Any, artifacts: Path, name: str, viewport: str) -> None:
    await page.screenshot(path=str(artifacts / f"console-{name}-{viewport}.png"), full_page=True)


async def _fits(page: Any) -> None:
    """Nothing wider than the window, and "Keluar" inside it (so it can be tapped)."""
    widths = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url}: page {widths[0]} px wide in {widths[1]} px"
    box = await page.locator("#keluar").bounding_box()
    assert box is not None, page.url
    inner = await page.evaluate("() => window.innerWidth")
    assert box["x"] >= 0 and box["x"] + box["width"] <= inner, (page.url, box)


async def _publish_via_editor(page: Any, desk: ConsoleDesk, message: str) -> None:
    await page.goto(desk.url + "/alur/edit?file=umum.yaml")
    original = await page.input_value("#source")
    await page.fill("#source", original.replace(OLD_GREETING, NEW_GREETING, 1))
    await page.fill("#message", message)
    await page.click("#publish")
    await page.wait_for_url(re.compile(r".*/alur/versi/\d+$"))


async def _seed_analytics(desk: ConsoleDesk) -> None:
    """Messages of citizens with status checks at three OPDs and two unmatched questions."""
    assert desk.loket is not None and desk.console is not None
    now = desk.console.console.clock() - dt.timedelta(hours=1)
    async with desk.loket.sessions() as db, db.begin():
        user, _ = await repo.get_or_create_user(db, "telegram", "5999", "id")
        uid = user.id
        for action, outcome in (
            ("bapenda.pbb_bill", "ok"),
            ("bapenda.pbb_bill", "unavailable"),
            ("disdukcapil.application_status", "ok"),
            ("disnakertrans.ak1_status", "not_found"),
        ):
            db.add(
                Event(
                    user_id=uid,
                    at=now,
                    kind="action",
                    intent=None,
                    detail={
                        "action": action,
                        "outcome": outcome,
                    },
                )
            )
        for name in ("bapenda.pbb", "disdukcapil.status_permohonan_yang_panjang_sekali"):
            db.add(Event(user_id=uid, at=now, kind="intent", intent=name))
        db.add(UnmatchedQuestion(user_id=uid, at=now, locale="id", text="kapan kapal pelni"))
        db.add(UnmatchedQuestion(user_id=uid, at=now, locale="id", text=MASKED))


@size
async def test_every_page_fits_the_window_and_keluar_is_reachable(
    desk: ConsoleDesk, browser: Any, artifacts: Path, viewport: str
) -> None:
    await _seed_analytics(desk)
    context, page = await _signed_in(browser, desk, viewport)
    try:
        await _publish_via_editor(page, desk, "Sapaan baru untuk uji tampilan")
        pages = {
            "home": "/",
            "flows": "/alur",
            "editor": "/alur/edit?file=umum.yaml",
            "versions": "/alur/versi",
            "version": "/alur/versi/1",
            "rollback-confirm": "/alur/versi/1/kembalikan",
            "restore-confirm": "/alur/bawaan",
            "analytics": "/analitik",
            "announcements": "/pengumuman",
        }
        for name, path in pages.items():
            response = await page.goto(desk.url + path)
            assert response is not None and response.status == 200, (path, response)
            await _fits(page)
            await _shot(page, artifacts, name, viewport)
        # An editor with errors (long lines in the list) fits too.
        await page.goto(desk.url + "/alur/edit?file=umum.yaml")
        text = await page.input_value("#source")
        await page.fill("#source", text.replace("type: choice", "type: chioce", 1))
        await page.click("#validate")
        await page.locator("#errors").wait_for()
        await _fits(page)
        await _shot(page, artifacts, "flow-error", viewport)
        # "Keluar" works where it is: tapped, the session ends.
        await page.click("#keluar")
        await page.wait_for_url("**/konsol/masuk")
        await _shot(page, artifacts, "signed-out", viewport)
        response = await page.goto(desk.url + "/")
        assert response is not None and response.status == 401
    finally:
        await context.close()


@size
async def test_the_editor_numbers_its_lines_and_does_not_wrap(
    desk: ConsoleDesk, browser: Any, artifacts: Path, viewport: str
) -> None:
    context, page = await _signed_in(browser, desk, viewport)
    try:
        await page.goto(desk.url + "/alur/edit?file=umum.yaml")
        source = page.locator("#source")
        assert await source.get_attribute("wrap") == "off"
        assert await source.evaluate("e => getComputedStyle(e).whiteSpace") == "pre"
        content = await source.input_value()
        gutter = page.locator("#gutter")
        numbers = (await gutter.inner_text()).split()
        rows = content.count("\n") + 1  # a final newline starts a last, empty row
        assert numbers == [str(n) for n in range(1, rows + 1)]
        # Typing two lines renumbers; scrolling the text scrolls the numbers with it.
        await source.evaluate(
            "e => { e.value = e.value + '\\n# a\\n# b'; e.dispatchEvent(new Event('input')); }"
        )
        numbers = (await gutter.inner_text()).split()
        assert numbers[-1] == str(rows + 2)
        await source.evaluate("e => { e.scrollTop = 400; e.dispatchEvent(new Event('scroll')); }")
        assert await gutter.evaluate("g => g.scrollTop") == await source.evaluate(
            "e => e.scrollTop"
        )
        # The gutter's lines line up with the text's: the same line height.
        heights = await page.evaluate(
            "() => [getComputedStyle(document.getElementById('gutter')).lineHeight, "
            "getComputedStyle(document.getElementById('source')).lineHeight]"
        )
        assert heights[0] == heights[1]
        # A long line scrolls sideways inside the editor instead of wrapping.
        await source.evaluate(
            "e => { e.value = '# ' + 'x'.repeat(400) + '\\n' + e.value; "
            "e.dispatchEvent(new Event('input')); }"
        )
        assert await source.evaluate("e => e.scrollWidth > e.clientWidth")
        await _shot(page, artifacts, "editor-gutter", viewport)
    finally:
        await context.close()


@size
async def test_validation_is_in_indonesian_and_one_syntax_error_is_one_error(
    desk: ConsoleDesk, browser: Any, artifacts: Path, viewport: str
) -> None:
    context, page = await _signed_in(browser, desk, viewport)
    try:
        await page.goto(desk.url + "/alur/edit?file=umum.yaml")
        original = await page.input_value("#source")
        lines = original.splitlines()
        at = next(i for i, line in enumerate(lines) if "type: choice" in line)
        # An unknown step type: the message is Indonesian, with file and line.
        await page.fill("#source", original.replace("type: choice", "type: chioce", 1))
        await page.click("#validate")
        text = await page.locator("#errors").inner_text()
        assert f"umum.yaml, baris {at + 1}" in text
        assert "jenis tidak dikenal 'chioce'" in text, text
        for english in ("unknown type", "unreachable", "goes to unknown", "expected"):
            assert english not in text, text
        # One broken indentation (a YAML syntax error): one error, no follow-on errors in
        # nlu/id.yaml, nlu/en.yaml or the steps of other files.
        broken = [*lines[:at], "   " + lines[at] + ": [", *lines[at + 1 :]]
        await page.fill("#source", "\n".join(broken))
        await page.click("#validate")
        items = page.locator("#errors li")
        await items.first.wait_for()
        shown = await items.all_inner_texts()
        assert len(shown) == 1, shown
        assert shown[0].startswith("umum.yaml, baris") and "YAML" in shown[0], shown
        await _shot(page, artifacts, "flow-syntax-error", viewport)
        assert await desk.console.versions.list() == []  # type: ignore[union-attr]
    finally:
        await context.close()


@size
async def test_times_are_wit_in_indonesian_and_authors_are_people_not_ids(
    desk: ConsoleDesk, browser: Any, artifacts: Path, viewport: str
) -> None:
    context, page = await _signed_in(browser, desk, viewport)
    try:
        await _publish_via_editor(page, desk, "Sapaan baru")
        assert desk.loket is not None
        async with desk.loket.sessions() as db:
            row = await db.scalar(select(FlowVersion).where(FlowVersion.number == 1))
            assert row is not None
            stored = row.created_at
            author_id = row.author_user_id
        stamp = stored if stored.tzinfo else stored.replace(tzinfo=dt.UTC)
        wit = stamp.astimezone(dt.timezone(dt.timedelta(hours=9)))
        expected = f"{wit.day} {MONTHS.split('|')[wit.month - 1]} {wit.year} {wit:%H.%M} WIT"
        for path, where in (("/alur/versi/1", "#version-info"), ("/alur/versi", "main table")):
            await page.goto(desk.url + path)
            text = await page.locator(where).first.inner_text()
            assert expected in text, (path, text)
            assert WIT_TIME.search(text)
            assert stamp.isoformat()[:16] not in text and "UTC" not in text, text
            assert "(id)" not in text and f"penulis {author_id}" not in text, text
            assert "admin" in text.lower() and str(ADMIN_ID) in text, text
        await _shot(page, artifacts, "version-wit", viewport)
    finally:
        await context.close()


@size
async def test_publishing_needs_a_message_and_rollback_a_confirmation(
    desk: ConsoleDesk, browser: Any, artifacts: Path, viewport: str
) -> None:
    context, page = await _signed_in(browser, desk, viewport)
    versions = desk.console.versions  # type: ignore[union-attr]
    try:
        await page.goto(desk.url + "/alur/edit?file=umum.yaml")
        original = await page.input_value("#source")
        await page.fill("#source", original.replace(OLD_GREETING, NEW_GREETING, 1))
        assert await page.locator("#message").get_attribute("required") is not None
        # Without the browser's check (an old browser, a script): the server refuses too.
        await page.locator("#message").evaluate("e => e.removeAttribute('required')")
        await page.fill("#message", "   ")
        await page.click("#publish")
        notice = page.locator("#errors")
        await notice.wait_for()
        assert "Tulis pesan perubahan" in await notice.inner_text()
        assert NEW_GREETING in await page.input_value("#source")  # the edit is kept
        await _shot(page, artifacts, "publish-without-message", viewport)
        assert await versions.list() == []
        await page.fill("#message", "Sapaan baru")
        await page.click("#publish")
        await page.wait_for_url("**/alur/versi/1")

        # Rollback: the button leads to a confirmation; only its confirm button publishes.
        await page.click("#rollback")
        await page.wait_for_url("**/alur/versi/1/kembalikan")
        assert "Yakin" in await page.inner_text("main")
        await _shot(page, artifacts, "rollback-confirm", viewport)
        assert len(await versions.list()) == 1
        await page.click("#confirm")
        await page.wait_for_url("**/alur/versi/2")
        assert "Kembali ke versi 1" in await page.inner_text("#version-info")

        # Server side: a POST without the confirmation field publishes nothing.
        cookie = next(c for c in await context.cookies() if c["name"] == COOKIE)
        csrf = await page.get_attribute('meta[name="csrf-token"]', "content")
        headers = {"Cookie": f"{COOKIE}={cookie['value']}"}
        async with aiohttp.ClientSession() as http:
            async with http.post(
                desk.url + "/alur/versi/1/kembalikan", data={"csrf": csrf}, headers=headers
            ) as response:
                assert response.status == 200
                assert "Yakin" in await response.text()
            async with http.post(
                desk.url + "/alur/edit?file=umum.yaml",
                data={"csrf": csrf, "do": "terbitkan", "message": "", "content": original},
                headers=headers,
            ) as response:
                assert response.status == 422
                assert "Tulis pesan perubahan" in await response.text()
        assert len(await versions.list()) == 2
    finally:
        await context.close()


@size
async def test_the_shipped_flows_can_be_restored_as_a_new_version(
    desk: ConsoleDesk, browser: Any, artifacts: Path, viewport: str
) -> None:
    admin = desk.citizen(ADMIN_ID, "Admin")
    warga = desk.citizen(5001, "Yosina")
    context, page = await _signed_in(browser, desk, viewport)
    try:
        await _publish_via_editor(page, desk, "Sapaan baru")
        assert NEW_GREETING in (await warga.send("/start")).text
        await page.goto(desk.url + "/alur/versi")
        await page.click("#restore-shipped")
        await page.wait_for_url("**/alur/bawaan")
        assert "Yakin" in await page.inner_text("main")
        await _shot(page, artifacts, "restore-confirm-page", viewport)
        await page.click("#confirm")
        await page.wait_for_url("**/alur/versi/2")
        assert "versi bawaan" in await page.inner_text("#version-info")
        assert OLD_GREETING in (await warga.send("/start")).text
        assert desk.loket is not None
        shipped = read_flow_sources(desk.loket.settings.flows_dir)
        assert await desk.console.versions.sources_of(2) == shipped  # type: ignore[union-attr]
        async with desk.loket.sessions() as db:
            actions = list(await db.scalars(select(AuditLog.action)))
        assert "flow.restore_shipped" in actions, actions
    finally:
        await context.close()
    del admin


@size
async def test_make_example_asks_for_the_intent_and_refuses_masked_text(
    desk: ConsoleDesk, browser: Any, artifacts: Path, viewport: str
) -> None:
    await _seed_analytics(desk)
    context, page = await _signed_in(browser, desk, viewport)
    versions = desk.console.versions  # type: ignore[union-attr]
    try:
        await page.goto(desk.url + "/analitik")
        row = page.locator("tr", has_text="kapan kapal pelni")
        select_ = row.locator("select")
        assert await select_.input_value() == ""  # nothing preselected
        assert "pilih layanan" in (await select_.locator("option").first.inner_text()).lower()
        assert await select_.get_attribute("required") is not None
        await row.locator("button").click()  # the browser refuses the empty choice
        assert not await select_.evaluate("s => s.checkValidity()")
        assert page.url.endswith("/analitik")
        # A masked question is not offered as an example, and says why.
        masked = page.locator("tr", has_text=MASKED)
        assert await masked.locator("button").count() == 0
        assert "disamarkan" in await masked.inner_text()
        await _shot(page, artifacts, "analytics-examples", viewport)

        cookie = next(c for c in await context.cookies() if c["name"] == COOKIE)
        csrf = await page.get_attribute('meta[name="csrf-token"]', "content")
        headers = {"Cookie": f"{COOKIE}={cookie['value']}"}
        url = desk.url + "/analitik/contoh"
        async with aiohttp.ClientSession() as http:
            for text, intent in ((MASKED, "bapenda.pbb"), ("kapan kapal pelni", "")):
                form = {"csrf": csrf, "text": text, "locale": "id", "intent": intent}
                async with http.post(url, data=form, headers=headers) as response:
                    assert response.status == 400, text
                    body = await response.text()
                    assert ("disamarkan" if intent else "Pilih layanan") in body, body
        assert await versions.list() == []
        assert "****" not in versions.current.sources["nlu/id.yaml"]

        await select_.select_option("umum.petugas")
        await row.locator("button").click()
        await page.wait_for_url("**/alur/versi/1")
        assert "kapan kapal pelni" in await page.inner_text("#diff")
    finally:
        await context.close()


@size
async def test_status_checks_per_opd_include_bapenda(
    desk: ConsoleDesk, browser: Any, artifacts: Path, viewport: str
) -> None:
    await _seed_analytics(desk)
    context, page = await _signed_in(browser, desk, viewport)
    try:
        await page.goto(desk.url + "/analitik")
        table = page.locator("#status-checks")
        rows = {
            (await r.locator("td").first.inner_text()): await r.inner_text()
            for r in await table.locator("tbody tr").all()
        }
        assert set(rows) == {"bapenda", "disdukcapil", "disnakertrans"}, rows
        assert re.search(r"bapenda\s+2\s+1\s+50%", rows["bapenda"]), rows["bapenda"]
        await _shot(page, artifacts, "analytics-status", viewport)
    finally:
        await context.close()
