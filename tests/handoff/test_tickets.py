"""A whole handoff at the front desk, on SQLite and PostgreSQL: the officer request opens a
ticket, the citizen's messages go to it, the officer's reply and close reach the citizen
once each through the outbox, "kembali ke bot" and the close return them to the bot, the
status lookup answers with the ticket's state, /hapusdata empties it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from bot.app import Loket
from bot.engine.messages import Inbound, Outbound
from bot.export import export_user
from bot.handoff import store
from bot.handoff.service import Handoff, ReplyLoop
from bot.notify.delivery import DeliveryResult
from bot.storage import repo
from bot.storage.models import Ticket, TicketOutbox
from tests.support.conversation import Conversation

pytestmark = pytest.mark.asyncio(loop_scope="module")
NIK = "9109012345678901"


class Inbox:
    """A channel that records what it was given to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Outbound]] = []

    async def __call__(self, channel: str, external_id: str, message: Outbound) -> DeliveryResult:
        self.sent.append((external_id, message))
        return DeliveryResult.DELIVERED


async def ask(chat: Conversation, question: str) -> str:
    await chat.send("menu")
    await chat.click("Lainnya")
    await chat.click("Bicara dengan petugas")
    await chat.click("Kependudukan (Disdukcapil)")
    await chat.send(question)
    await chat.click("Balas di chat ini")
    assert "Bolehkah petugas melihat" in chat.last_text
    await chat.click("Ya, boleh")
    text = chat.last_text
    assert "Nomor referensi: LKT-" in text
    return text.split("Nomor referensi: ")[1][:10]


async def ticket(loket: Loket, number: str) -> Ticket:
    async with loket.sessions() as session:
        found = await store.by_number(session, number)
    assert found is not None
    return found


async def test_a_whole_handoff(loket: Loket) -> None:
    chat = Conversation(loket, channel="test")
    number = await ask(chat, f"Nama ibu di akta anak saya salah, NIK saya {NIK}")
    assert "kembali ke bot" in chat.last_text  # how to leave, said plainly
    assert "belum kami pastikan" in chat.last_text  # Mimika's hours are unconfirmed
    row = await ticket(loket, number)
    assert (row.opd, row.status, row.consent, row.kind, row.unread) == (
        "disdukcapil",
        "open",
        True,
        "request",
        1,
    )

    # While the ticket is open, text and a photo go to it, not to the NLU.
    await chat.send("syarat KTP baru")  # would start a flow with the bot
    assert f"Terkirim ke petugas ({number})" in chat.last_text
    await chat.handle(
        Inbound(kind="unsupported", text="foto KK", attachment="FILE-1", attachment_kind="photo")
    )
    assert "Terkirim ke petugas" in chat.last_text
    async with loket.sessions() as session:
        messages = await store.messages(session, row.id)
    assert [(m.author, m.text, m.file_id) for m in messages] == [
        ("citizen", f"Nama ibu di akta anak saya salah, NIK saya {NIK}", None),
        ("citizen", "syarat KTP baru", None),
        ("citizen", "foto KK", "FILE-1"),
    ]

    # The officer claims and replies; two reply loops (two workers) send it once.
    handoff: Handoff = loket.handoff
    officer_id = row.user_id  # any stored user will do for the store's officer column
    assert officer_id is not None
    async with loket.sessions() as session, session.begin():
        found = await session.get(Ticket, row.id)
        assert found is not None
        await store.claim(session, found, officer_id, loket.clock())
        await store.reply(
            session, found, officer_id, "Silakan bawa KK asli ke MPP.", loket.clock()
        )
    channel = Inbox()
    first = ReplyLoop(handoff, loket.frontdesk, {"test": channel}, name="a")
    second = ReplyLoop(handoff, loket.frontdesk, {"test": channel}, name="b")
    sent = sum(await _both(first, second))
    assert sent == 1 and len(channel.sent) == 1
    to, message = channel.sent[0]
    assert to == chat.user and "Silakan bawa KK asli ke MPP." in message.text
    assert number in message.text
    assert (await ticket(loket, number)).status == "answered"
    assert (await ticket(loket, number)).first_response_at is not None

    # The status lookup answers with the ticket's state, even mid-ticket.
    await chat.send("cek status pengaduan")
    await chat.send(number)
    assert "sudah dijawab petugas" in chat.last_text

    # "kembali ke bot": the NLU again; "Balas petugas" goes back to the ticket.
    await chat.press(f"h:open:{number}")
    assert "tulis balasan" in chat.last_text
    await chat.send("kembali ke bot")
    assert "kembali dilayani bot" in chat.last_text and number in chat.last_text
    await chat.send("syarat KTP baru")
    assert "Terkirim ke petugas" not in chat.last_text
    await chat.press(f"h:open:{number}")
    await chat.send("Terima kasih, besok saya datang.")
    assert "Terkirim ke petugas" in chat.last_text

    # The officer closes: the citizen is told once and is back with the bot.
    async with loket.sessions() as session, session.begin():
        found = await session.get(Ticket, row.id)
        assert found is not None
        await store.close(session, found, officer_id, "terjawab", loket.clock())
    assert sum(await _both(first, second)) == 1
    assert "menutup tiket" in channel.sent[-1][1].text
    await chat.send("syarat KTP baru")
    assert "Terkirim ke petugas" not in chat.last_text
    await chat.send("cek status pengaduan")
    await chat.send(number)
    assert "selesai ditindaklanjuti" in chat.last_text
    async with loket.sessions() as session:
        states = (await session.scalars(select(TicketOutbox.state))).all()
    assert states and set(states) == {"sent"}


async def _both(first: ReplyLoop, second: ReplyLoop) -> tuple[int, int]:
    import asyncio

    a, b = await asyncio.gather(first.deliver_pending(), second.deliver_pending())
    return a, b


async def test_export_and_erasure(loket: Loket) -> None:
    chat = Conversation(loket, channel="test")
    number = await ask(chat, "Apakah akta bisa diurus online?")
    await chat.send(f"NIK saya {NIK}")
    export = await export_user(loket.sessions, "test", chat.user)
    assert export is not None
    [exported] = export["tables"]["tickets"]
    assert exported["number"] == number
    assert [m["text"] for m in exported["messages"]] == [
        "Apakah akta bisa diurus online?",
        f"NIK saya {NIK}",
    ]
    await chat.command("hapusdata")
    await chat.click("Ya, hapus")
    row = await ticket(loket, number)
    assert row.user_id is None and row.erased_at is not None
    async with loket.sessions() as session:
        assert await store.messages(session, row.id) == []


async def test_on_duty_or_when_the_office_opens() -> None:
    from bot.i18n import Translator
    from bot.region import default_region_path, load_region

    region = load_region(default_region_path())
    office_key = region.opds["disdukcapil"].office
    confirmed = dataclasses.replace(region.offices[office_key], hours_confirmed=True)
    region = dataclasses.replace(region, offices={**region.offices, office_key: confirmed})
    handoff = Handoff(None, region, Translator.load(), clock=lambda: dt.datetime.now(dt.UTC))  # type: ignore[arg-type]
    tuesday_ten = dt.datetime(2026, 12, 1, 10, tzinfo=region.timezone)
    assert "sedang bertugas sekarang" in handoff.duty_text("disdukcapil", tuesday_ten, "id")
    friday_evening = dt.datetime(2026, 12, 4, 19, tzinfo=region.timezone)
    text = handoff.duty_text("disdukcapil", friday_evening, "id")
    assert "tutup" in text and "Senin, 7 Desember 2026 pukul 08.00 WIT" in text
    christmas_eve = dt.datetime(2026, 12, 23, 16, tzinfo=region.timezone)
    assert "Senin, 28 Desember 2026" in handoff.duty_text("disdukcapil", christmas_eve, "id")
    assert "Monday 7 December 2026 at 08.00 WIT" in handoff.duty_text(
        "disdukcapil", friday_evening, "en"
    )


async def test_retention_removes_old_closed_and_abandoned_tickets(loket: Loket) -> None:
    from bot.retention import apply_retention

    chat = Conversation(loket, channel="test")
    await chat.send("menu")
    async with loket.sessions() as session:
        user = await repo.find_user(session, "test", chat.user)
    assert user is not None
    now = loket.clock()
    old, recent = now - dt.timedelta(days=100), now - dt.timedelta(days=10)
    async with loket.sessions() as session, session.begin():
        for number, created, closed in (
            ("LKT-RETA22", old, old),  # closed long ago: goes
            ("LKT-RETB22", old, None),  # open, untouched for 100 days (abandoned): goes
            ("LKT-RETC22", old, recent),  # closed ten days ago: kept
            ("LKT-RETD22", recent, None),  # open and recent: kept
        ):
            ticket = await store.open_ticket(
                session,
                number=number,
                user_id=user.id,
                opd="dinkes",
                kind="request",
                consent=False,
                message="pertanyaan",
                now=created,
            )
            if closed is not None:
                await store.close(session, ticket, user.id, "terjawab", closed)
    report = await apply_retention(loket.sessions, now=now, days=90)
    assert report.tickets == 2
    async with loket.sessions() as session:
        left = set(
            (
                await session.scalars(select(Ticket.number).where(Ticket.number.like("LKT-RET%")))
            ).all()
        )
    assert left == {"LKT-RETC22", "LKT-RETD22"}


async def test_a_complaint_is_a_ticket_that_keeps_the_formal_routes(loket: Loket) -> None:
    chat = Conversation(loket, channel="test")
    await chat.send("menu")
    await chat.click("Lainnya")
    await chat.click("Pengaduan")
    await chat.click("Kesehatan")
    await chat.send("Puskesmas tutup pada jam buka, kami menunggu dua jam")
    text = chat.last_text
    assert "Nomor referensi: LKT-" in text
    assert "SP4N-LAPOR!" in text and "Ombudsman" in text  # the formal routes stay
    number = text.split("Nomor referensi: ")[1][:10]
    assert f'"cek pengaduan {number}"' in text  # the ticket told, and how to follow it
    row = await ticket(loket, number)
    assert (row.kind, row.opd, row.status) == ("complaint", "dinkes", "open")
    # Not attached: the citizen's next message is for the bot again.
    await chat.send("syarat KTP baru")
    assert "Terkirim ke petugas" not in chat.last_text
    async with loket.sessions() as session, session.begin():
        found = await session.get(Ticket, row.id)
        assert found is not None
        await store.categorise(session, found, "lambat", found.user_id or 0, loket.clock())
    assert (await ticket(loket, number)).category == "lambat"
