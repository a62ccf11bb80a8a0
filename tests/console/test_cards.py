"""Cards that fit a phone (issue 14, item 5): the first card of every service answer, as the
local Bot API's web chat shows it in Chromium at 390x844, is no taller than the screen, and
its section buttons are there. Screenshots of each first card go to test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.console.support import ConsoleDesk
from tests.support.app import project_flow_set

module_loop = pytest.mark.asyncio(loop_scope="module")
WIDTH, HEIGHT = 390, 844
SECTIONS = ["Syarat", "Biaya dan waktu", "Tempat dan jam", "Bisa diwakilkan?", "Dasar hukum"]


def service_intents() -> list[tuple[str, str]]:
    """(intent id, card title) of every intent whose answer is a service card."""
    flows = project_flow_set()
    found = []
    for intent in sorted(flows.intents.values(), key=lambda i: i.id):
        step = flows.steps[intent.start]
        if step.type == "service" and step.service is not None:
            found.append((intent.id, step.service.title["id"]))
    return found


SERVICES = service_intents()


def test_there_are_service_cards_to_measure() -> None:
    assert len(SERVICES) >= 20, SERVICES


@module_loop
async def test_every_first_card_fits_one_phone_screen(
    desk: ConsoleDesk, browser: Any, artifacts: Path
) -> None:
    context = await browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    context.set_default_timeout(10_000)
    page = await context.new_page()
    heights: dict[str, float] = {}
    try:
        await page.goto(desk.api.base_url + "/")
        for intent, title in SERVICES:
            bubbles = page.locator(".row.bot .bubble", has_text=title)
            before = await bubbles.count()
            await page.fill("#input", f"/start {intent.split('.', 1)[1]}")
            await page.press("#input", "Enter")
            await bubbles.nth(before).wait_for()
            bubble = bubbles.nth(before)
            await bubble.scroll_into_view_if_needed()
            box = await bubble.bounding_box()
            assert box is not None
            heights[intent] = box["height"]
            # The section buttons and the provenance close the answer: under the card, or
            # under what follows it (the open trainings after the training card).
            last = page.locator(".row.bot").last
            await last.locator(".kbtn", has_text="Dasar hukum").wait_for()
            text = await last.locator(".bubble").inner_text()
            assert "Sumber:" in text and "diverifikasi" in text, text
            labels = await last.locator(".kbtn").all_inner_texts()
            assert all(label in labels for label in SECTIONS), (intent, labels)
            row = bubble.locator("xpath=..")
            await row.screenshot(path=str(artifacts / f"card-{intent}.png"))
        too_tall = {i: h for i, h in heights.items() if h > HEIGHT}
        assert not too_tall, too_tall
        print(f"first-card bubble heights at {WIDTH}x{HEIGHT}: max {max(heights.values()):.0f}px")
    finally:
        await context.close()
