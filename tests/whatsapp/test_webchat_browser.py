"""The local mode's WhatsApp web chat page in a real browser (Debian's Chromium through
Playwright), wired as ``loket run`` wires it: the page, the Cloud API stand-in and Loket's
webhook on one server. A newcomer presses "Mulai", gets the main menu as a WhatsApp list,
opens it, picks a row and reads the answer; every reply went through the signed webhook
and the Graph API stand-in's checks."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from bot.whatsapp.local import LOCAL_SETTINGS, LocalWhatsApp, WhatsAppSide
from tests.console.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.support.app import running_loket

TIMEOUT_MS = 10_000


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("LOKET_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


async def test_a_message_through_the_whatsapp_page_gets_its_reply(
    tmp_path: Path, browser: Any
) -> None:
    async with running_loket(tmp_path / "loket.sqlite3") as loket:
        app = web.Application()
        local = LocalWhatsApp(app)
        side = WhatsAppSide(loket, LOCAL_SETTINGS, app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        origin = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            page_url = await local.attach(origin, side)
            async with side.running():
                context = await browser.new_context()
                context.set_default_timeout(TIMEOUT_MS)
                page = await context.new_page()
                await page.goto(page_url)
                assert "WhatsApp" in await page.title()
                await page.click("#start")
                menu = page.locator(".bubble", has_text="Halo! Saya Loket")
                await menu.wait_for()
                await page.click("text=☰ Pilih")
                await page.click("#sheet-rows button[data-id] >> text=Kependudukan")
                answer = page.locator(".row.bot .bubble", has_text="Disdukcapil")
                await answer.wait_for()
                # the citizen's own choice shows on the right, as on a phone
                assert await page.locator(".row.user .bubble").count() == 2
                ARTIFACTS.mkdir(exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "whatsapp-webchat.png"), full_page=True)
                await context.close()
                await side.service.idle()
        finally:
            await local.stop()
            await runner.cleanup()
    assert local.api.refusals == []
    assert [s.kind for s in local.api.sent][:1] == ["list"]
