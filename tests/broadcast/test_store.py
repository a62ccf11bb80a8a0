"""The queue: reference codes, bulk enqueue (deduplicated, inactive citizens left out), cancel."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.broadcast import store
from bot.broadcast.message import render_announcement
from bot.i18n import Translator
from bot.storage.db import sessions
from bot.storage.models import Announcement
from tests.broadcast.conftest import add_citizens, new_announcement


def test_reference_codes_are_short_and_unambiguous() -> None:
    codes = {store.new_reference() for _ in range(200)}
    assert len(codes) > 190
    for code in codes:
        assert re.fullmatch(r"MMK-[346789ABCDEFGHJKMNPQRTUVWXY]{4}", code)
    assert store.normalise_reference(" mmk 7k3q. ") == "MMK-7K3Q"
    assert store.normalise_reference("7K3Q") == "MMK-7K3Q"


async def test_bulk_enqueue_writes_one_row_per_recipient(engine: AsyncEngine) -> None:
    recipients = await add_citizens(engine, 12_000)
    announcement_id, reference = await new_announcement(engine, recipients)
    # The same citizens again (a segment overlapping another): nobody is queued twice.
    assert await store.enqueue(engine, announcement_id, recipients[:500]) == 12_000
    async with sessions(engine)() as session:
        assert await store.status_counts(session, announcement_id) == {"pending": 12_000}
        announcement = await store.find_by_reference(session, reference.lower())
        assert announcement is not None
        assert announcement.id == announcement_id
        assert announcement.recipients == 12_000
        assert announcement.status == "scheduled"


async def test_inactive_citizens_are_not_queued(engine: AsyncEngine) -> None:
    recipients = await add_citizens(engine, 5)
    async with sessions(engine)() as session, session.begin():
        await store.mark_inactive(session, recipients[1].user_id, "bot was blocked by the user")
    announcement_id, _ = await new_announcement(engine, recipients)
    async with sessions(engine)() as session:
        assert await store.status_counts(session, announcement_id) == {"pending": 4}
    async with sessions(engine)() as session, session.begin():
        await store.reactivate(session, recipients[1].user_id)
    second, _ = await new_announcement(engine, recipients)
    async with sessions(engine)() as session:
        assert await store.status_counts(session, second) == {"pending": 5}


async def test_cancel_only_an_unfinished_announcement(engine: AsyncEngine) -> None:
    announcement_id, _ = await new_announcement(engine, await add_citizens(engine, 2))
    async with sessions(engine)() as session, session.begin():
        assert await store.cancel(session, announcement_id)
    async with sessions(engine)() as session, session.begin():
        assert not await store.cancel(session, announcement_id)
        status = await session.scalar(
            select(Announcement.status).where(Announcement.id == announcement_id)
        )
        assert status == "cancelled"


async def test_text_length_is_checked(engine: AsyncEngine) -> None:
    async with sessions(engine)() as session, session.begin():
        for text in ("", "   ", "x" * (store.MAX_TEXT_LENGTH + 1)):
            try:
                await store.create_announcement(session, opd="dinkes", text=text)
            except ValueError:
                continue
            raise AssertionError(f"accepted {len(text)} characters")


def test_footer_carries_the_reference_in_the_recipients_language() -> None:
    translator = Translator.load()
    text = render_announcement(translator, "id", "<b>Vaksinasi</b> besok", "MMK-7K3Q")
    assert text.startswith("<b>Vaksinasi</b> besok\n\n<i>Kode pengumuman: MMK-7K3Q.")
    assert "memastikan pengumuman ini asli" in text
    assert len(text) < 4096
