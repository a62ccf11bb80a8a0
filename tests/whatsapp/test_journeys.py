"""Whole journeys through the WhatsApp adapter against the local Cloud API stand-in, over
HTTP both ways. Every message Loket sends is checked by the stand-in against WhatsApp's
limits; the fixture fails a test with any refused send."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.storage.models import Subscription, User, WhatsAppInbound, WhatsAppMenu
from bot.whatsapp.render import MORE_PREFIX
from tests.whatsapp.support import WaCitizen, WaDesk

NAVIGATION = ("n:", MORE_PREFIX)


def choices(sent: object) -> list[tuple[str, str]]:
    return [o for o in sent.options if not o[1].startswith(NAVIGATION)]  # type: ignore[attr-defined]


async def test_a_service_answer_arrives_with_its_options(warga: WaCitizen) -> None:
    menu = await warga.send("/start")
    assert menu[-1].kind == "list"
    assert "Kependudukan" in [title for title, _ in menu[-1].options]
    services = await warga.choose("Kependudukan")
    assert "Disdukcapil" in services[-1].text
    answer = await warga.choose("KTP-el baru")
    assert answer, "no answer"
    assert "KTP" in " ".join(s.text for s in answer)
    assert answer[-1].kind in ("button", "list") and answer[-1].options


async def test_more_than_ten_options_are_paged_with_lainnya(warga: WaCitizen) -> None:
    await warga.send("/start")
    first = (await warga.choose("Kependudukan"))[-1]
    assert len(first.options) == 10
    assert first.options[-1] == ("Lainnya", f"{MORE_PREFIX}1")
    second = await warga.choose("Lainnya")
    assert len(second) == 1 and second[0].kind == "list"
    page_two = choices(second[0])
    assert page_two and not set(page_two) & set(choices(first))
    # an option of the second page is accepted by the engine like any offered button
    answer = await warga.choose(page_two[-1][0])
    assert answer and "tidak berlaku" not in answer[0].text.lower()


async def test_the_18_distrik_are_offered_across_pages(warga: WaCitizen) -> None:
    await warga.send("/start")
    await warga.choose("Kesehatan")
    page = (await warga.choose("Puskesmas & faskes"))[-1]
    distrik: list[str] = []
    while True:
        distrik += [title for title, _ in choices(page)]
        more = [o for o in page.options if o[1].startswith(MORE_PREFIX)]
        if not more:
            break
        page = (await warga.choose(more[0][0]))[-1]
    assert len(distrik) == 18 and len(set(distrik)) == 18, distrik
    answer = await warga.choose(distrik[-1])
    assert "Distrik" in " ".join(s.text for s in answer) or "puskesmas" in answer[0].text.lower()


async def test_a_status_check(warga: WaCitizen) -> None:
    ask = await warga.send("cek status permohonan")
    assert "nomor permohonan" in ask[-1].text.lower()
    answer = await warga.send("9404-2026-000101")
    assert "9404-2026-000101" in " ".join(s.text for s in answer)


async def test_a_subscription_is_saved(desk: WaDesk, warga: WaCitizen) -> None:
    replies = await warga.send("langganan pengumuman")
    replies = await warga.choose("Atur langganan")
    for _ in range(8):  # distrik, topics, confirmation: always the first choice
        async with desk.loket.sessions() as session:
            if await session.scalar(select(func.count()).select_from(Subscription)):
                break
        options = choices(replies[-1])
        assert options, [s.text for s in replies]
        replies = await warga.choose(options[0][0])
    async with desk.loket.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Subscription)) == 1


async def test_hapusdata_erases_the_number_and_everything_kept(
    desk: WaDesk, warga: WaCitizen
) -> None:
    await warga.send("/start")
    await warga.choose("Kependudukan")  # a paged menu is kept for the citizen
    async with desk.loket.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WhatsAppMenu)) == 1
    await warga.send("/hapusdata")
    done = await warga.choose("Ya, hapus")
    assert "dihapus" in done[-1].text
    async with desk.loket.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
        assert await session.scalar(select(func.count()).select_from(WhatsAppMenu)) == 0
        inbound = await session.scalars(select(WhatsAppInbound.payload))
        assert not [p for p in inbound if warga.address in p]


async def test_a_citizen_with_a_username_and_no_number(desk: WaDesk) -> None:
    citizen = desk.citizen(None, user_id="ID.13491208655302741918")
    replies = await citizen.send("/start")
    assert replies and replies[-1].kind == "list"
    assert desk.api.sent[-1].body["recipient"] == "ID.13491208655302741918"
    assert "to" not in desk.api.sent[-1].body
    async with desk.loket.sessions() as session:
        ids = (await session.scalars(select(User.external_id))).all()
    assert ids == ["ID.13491208655302741918"]


async def test_a_pasted_announcement_code_is_checked(warga: WaCitizen) -> None:
    replies = await warga.send("Pengumuman palsu? Kode MMK-ZZZZ", forwarded=True)
    assert replies and "MMK-ZZZZ" in replies[0].text
