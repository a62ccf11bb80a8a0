"""Every registered action against the sandbox: outcomes, localised text, plain data."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from opd_testkit import DISTRICTS, SANDBOX_TODAY, make_settings, wit

from bot.i18n import Translator
from bot.registry import ActionCall, ActionResult, Registry
from integrations import OpdClients
from integrations.actions import register_actions
from integrations.settings import OPD_NAMES


class FakeClock:
    """The injected clock the actions read; tests move it."""

    def __init__(self) -> None:
        self.moment = wit(SANDBOX_TODAY, 8)

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def registry(clients: OpdClients, translator: Translator, clock: FakeClock) -> Registry:
    registry = Registry()
    register_actions(registry, clients, translator, DISTRICTS, now=clock)
    return registry


def day_text(offset: int, locale: str = "id") -> str:
    """How the sandbox's schedule day ``offset`` days from its today is written."""
    from integrations.formatting import long_date

    return long_date(SANDBOX_TODAY + timedelta(days=offset), locale)


async def run(registry: Registry, name: str, locale: str = "id", **params: Any) -> ActionResult:
    result = await registry.action(name)(ActionCall(params=params, user_id="u1", locale=locale))
    # Data is persisted with the conversation state: it must survive a JSON round trip.
    assert json.loads(json.dumps(result.data)) == dict(result.data)
    return result


def test_all_actions_registered(registry: Registry) -> None:
    assert registry.action_names == {
        "disdukcapil.application_status",
        "disdukcapil.mobile_services",
        "disnakertrans.ak1_status",
        "disnakertrans.vacancies",
        "disnakertrans.trainings",
        "dinkes.facilities",
        "dinkes.immunization_schedule",
        "bapenda.pbb_bill",
    }


@pytest.mark.parametrize(
    ("number", "status", "status_text", "expected"),
    [
        ("9404-2026-000101", "received", "Diterima, menunggu diproses", "KTP-el baru"),
        ("9404-2026-000102", "in_process", "Sedang diproses", "Catatan: Menunggu verifikasi"),
        ("9404-2026-000103", "completed", "Selesai", "Akta Kelahiran"),
        ("9404-2026-000104", "ready_for_pickup", "Siap diambil", "dapat diambil di: Loket"),
        ("9404-2026-000105", "rejected", "Ditolak", "Alasan: Surat keterangan kematian"),
    ],
)
async def test_application_status_every_status(
    registry: Registry, number: str, status: str, status_text: str, expected: str
) -> None:
    result = await run(registry, "disdukcapil.application_status", number=f"  {number.lower()} ")
    assert result.outcome == "ok"
    data = result.data
    assert (data["number"], data["status"], data["status_text"]) == (number, status, status_text)
    assert f"Status: {status_text}" in data["text"]
    assert expected in data["text"]
    assert set(data) >= {"service", "updated_at_text", "note", "pickup_location", "text"}


async def test_application_status_dates_in_wit(registry: Registry) -> None:
    result = await run(registry, "disdukcapil.application_status", number="9404-2026-000104")
    assert result.data["updated_at_text"] == "23 November 2026, pukul 08.45 WIT"
    english = await run(
        registry, "disdukcapil.application_status", locale="en", number="9404-2026-000104"
    )
    assert english.data["status_text"] == "Ready for pickup"
    assert english.data["updated_at_text"] == "23 November 2026, 08:45 WIT"


async def test_application_not_found(registry: Registry) -> None:
    result = await run(registry, "disdukcapil.application_status", number="9404-2026-999999")
    assert result.outcome == "not_found"


async def test_missing_param_is_invalid(registry: Registry) -> None:
    result = await run(registry, "disdukcapil.application_status")
    assert (result.outcome, result.data["reason"]) == ("invalid", "bad_param")


async def test_mobile_services(registry: Registry) -> None:
    result = await run(registry, "disdukcapil.mobile_services", district="94.04.01")
    assert result.outcome == "ok"
    assert (result.data["district_name"], result.data["count"]) == ("Mimika Baru", 2)
    assert f"{day_text(0)}, 09.00–11.00 WIT, di Kantor Kelurahan Kwamki" in result.data["text"]
    assert "Kadun Jaya" not in result.data["text"]  # yesterday's visit, still listed by the OPD
    none = await run(registry, "disdukcapil.mobile_services", district="94.04.18")
    assert none.data["count"] == 0
    assert none.data["text"] == (
        "Belum ada jadwal layanan jemput bola Disdukcapil di Distrik Alama."
    )
    english = await run(registry, "disdukcapil.mobile_services", locale="en", district="94.04.01")
    assert f"{day_text(0, 'en')}, 09:00–11:00 WIT" in english.data["text"]


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (wit(SANDBOX_TODAY, 10, 59), True),
        (wit(SANDBOX_TODAY, 11, 0), False),
        (wit(SANDBOX_TODAY, 11, 30), False),
        # 02.30 UTC is 11.30 WIT: the clock's zone must not matter, WIT is what counts.
        (
            datetime.combine(SANDBOX_TODAY, datetime.min.time(), tzinfo=UTC)
            + timedelta(hours=2.5),
            False,
        ),
        # 23.30 UTC the day before is 08.30 WIT today: the visit has not started yet.
        (wit(SANDBOX_TODAY, 8, 30).astimezone(UTC), True),
    ],
)
async def test_mobile_service_that_ended_today_is_not_upcoming(
    registry: Registry, clock: FakeClock, moment: datetime, shown: bool
) -> None:
    """Kwamki's visit today ends at 11.00 WIT: from then on it is no longer offered."""
    clock.moment = moment
    result = await run(registry, "disdukcapil.mobile_services", district="94.04.01")
    assert ("Kantor Kelurahan Kwamki" in result.data["text"]) is shown
    assert result.data["count"] == (2 if shown else 1)
    assert "Kampung Nayaro" in result.data["text"]


@pytest.mark.parametrize(
    ("number", "status", "status_text", "valid_text"),
    [
        ("AK1-2026-000201", "in_process", "Sedang diproses", None),
        ("AK1-2026-000202", "active", "Aktif", "14 Februari 2028"),
        ("AK1-2024-000203", "expired", "Sudah tidak berlaku", "31 Januari 2026"),
        ("AK1-2026-000204", "rejected", "Ditolak", None),
    ],
)
async def test_ak1_every_status(
    registry: Registry, number: str, status: str, status_text: str, valid_text: str | None
) -> None:
    result = await run(registry, "disnakertrans.ak1_status", number=number.lower())
    assert result.outcome == "ok"
    assert result.data["status"] == status
    assert result.data["status_text"] == status_text
    assert result.data["valid_until_text"] == valid_text
    if status == "active":
        assert "Berlaku sampai: 14 Februari 2028" in result.data["text"]
    if status == "expired":
        assert "Masa berlaku berakhir: 31 Januari 2026" in result.data["text"]


async def test_vacancies(registry: Registry) -> None:
    everything = await run(registry, "disnakertrans.vacancies", q="")
    assert everything.data["count"] == 5
    assert everything.data["text"].startswith("Lowongan kerja yang dibuka:")
    assert (
        "Barista, Kedai Kopi Contoh Timika (Distrik Mimika Baru), ditutup 12 Desember 2026"
        in (everything.data["text"])
    )
    assert "Satpam, PT Contoh Jaga Aman, ditutup 18 Desember 2026" in everything.data["text"]
    found = await run(registry, "disnakertrans.vacancies", q="operator")
    assert found.data["count"] == 1
    assert found.data["text"].startswith("Lowongan kerja untuk “operator”:")
    none = await run(registry, "disnakertrans.vacancies", q="astronot")
    assert none.data == {
        "q": "astronot",
        "count": 0,
        "text": "Belum ada lowongan kerja yang cocok dengan “astronot”.",
    }


async def test_trainings(registry: Registry) -> None:
    result = await run(registry, "disnakertrans.trainings")
    assert result.data["count"] == 3
    text = result.data["text"]
    assert (
        "Pelatihan Barista, Aula Disnakertrans Mimika, mulai 11 Januari 2027, sisa 12 kursi"
        in (text)
    )
    assert "Pelatihan Las (Welder), Aula Disnakertrans Mimika, mulai 18 Januari 2027, kuota" in (
        text
    )


async def test_facilities(registry: Registry) -> None:
    result = await run(registry, "dinkes.facilities", district="94.04.13")
    assert result.data["count"] == 2
    text = result.data["text"]
    assert text.startswith("Fasilitas kesehatan di Distrik Kwamki Narama:")
    assert "• Puskesmas Kwamki Narama (Puskesmas)" in text
    assert "Jl. Mambruk, Kel. Harapan" in text
    assert "Jam layanan: " in text
    pustu = await run(registry, "dinkes.facilities", district="94.04.01")
    assert "Pustu Nayaro (Puskesmas pembantu)" in pustu.data["text"]
    assert "Telepon: +62-000-0000-0101" in pustu.data["text"]
    none = await run(registry, "dinkes.facilities", district="94.04.15")
    assert none.data["count"] == 0
    assert "Distrik Iwaka" in none.data["text"]


async def test_immunization_schedule(registry: Registry) -> None:
    result = await run(registry, "dinkes.immunization_schedule", district="94.04.01")
    assert result.outcome == "ok"
    # The session two days ago at Posyandu Mawar is over and not listed.
    assert result.data["count"] == 2
    lines = result.data["text"].splitlines()
    assert lines[0] == "Jadwal imunisasi di Distrik Mimika Baru:"
    # Held in the puskesmas itself: its name once, not "Puskesmas Pasar Sentral" twice.
    assert lines[1] == (
        f"• {day_text(5)}, Puskesmas Pasar Sentral: DPT-HB-Hib 1, OPV 1, PCV 1, Rotavirus 1"
    )
    assert lines[2].startswith(f"• {day_text(12)}, Puskesmas Pasar Sentral, Posyandu Melati")
    assert "Posyandu Mawar" not in result.data["text"]
    none = await run(registry, "dinkes.immunization_schedule", district="94.04.02")
    assert none.data["count"] == 0
    assert "Belum ada jadwal imunisasi di Distrik Agimuga." in none.data["text"]
    no_facility = await run(registry, "dinkes.immunization_schedule", district="94.04.15")
    assert no_facility.outcome == "ok"
    assert no_facility.data["count"] == 0


async def test_pbb_unpaid_and_paid(registry: Registry) -> None:
    result = await run(registry, "bapenda.pbb_bill", nop="941201000100100010", year="2026")
    assert result.outcome == "ok"
    data = result.data
    assert data["nop_masked"] == "94.12.***.***.***-0001.0"
    assert (data["principal_text"], data["penalty_text"], data["total_text"]) == (
        "Rp1.150.000",
        "Rp100.000",
        "Rp1.250.000",
    )
    assert data["due_date_text"] == "31 Agustus 2026"
    assert data["status"] == "unpaid"
    assert data["taxpayer_name"] == "B*** S******"
    assert "Status: Belum lunas" in data["text"]
    assert "941201000100100010" not in json.dumps(data)
    paid = await run(registry, "bapenda.pbb_bill", nop="94.12.010.001.001-0002.0", year=2026)
    assert (paid.data["status"], paid.data["total_text"]) == ("paid", "Rp450.000")
    assert "Status: Lunas" in paid.data["text"]
    english = await run(
        registry, "bapenda.pbb_bill", locale="en", nop="941201000100100010", year="2026"
    )
    assert english.data["due_date_text"] == "31 August 2026"
    assert english.data["total_text"] == "Rp1.250.000"
    assert english.data["text"].startswith("PBB-P2 tax bill for 2026")
    assert "Status: Not paid" in english.data["text"]


@pytest.mark.parametrize(
    ("moment", "overdue"),
    [
        (wit(date(2026, 8, 31), 23, 59), False),
        (wit(date(2026, 9, 1), 0, 1), True),
        (wit(date(2026, 12, 4), 10), True),
    ],
)
async def test_pbb_unpaid_says_whether_it_is_overdue(
    registry: Registry, clock: FakeClock, moment: datetime, overdue: bool
) -> None:
    """After the due date (31 August 2026, WIT) the bill is overdue and the penalty is named."""
    clock.moment = moment
    result = await run(registry, "bapenda.pbb_bill", nop="941201000100100010", year="2026")
    data = result.data
    assert data["overdue"] is overdue
    if overdue:
        assert "Bayar sebelum" not in data["due_text"]
        assert "sudah lewat jatuh tempo (31 Agustus 2026)" in data["due_text"]
        assert "1% per bulan" in data["due_text"] and "24 bulan" in data["due_text"]
        assert "UU 1/2022" in data["due_text"]
        assert "Rp100.000" in data["due_text"]
    else:
        assert data["due_text"].startswith("Bayar sebelum jatuh tempo, 31 Agustus 2026.")
        assert "1% per bulan" in data["due_text"]
    paid = await run(registry, "bapenda.pbb_bill", nop="94.12.010.001.001-0002.0", year=2026)
    assert (paid.data["overdue"], paid.data["due_text"]) == (False, "")


async def test_pbb_outcomes(registry: Registry) -> None:
    missing = await run(registry, "bapenda.pbb_bill", nop="941201000100100010", year="2019")
    assert missing.outcome == "not_found"
    short = await run(registry, "bapenda.pbb_bill", nop="9412", year="2026")
    assert (short.outcome, short.data["reason"]) == ("invalid", "bad_request")
    bad_year = await run(registry, "bapenda.pbb_bill", nop="941201000100100010", year="dua")
    assert (bad_year.outcome, bad_year.data["reason"]) == ("invalid", "bad_param")


async def test_unconfigured_opd_is_unavailable(translator: Translator) -> None:
    registry = Registry()
    register_actions(registry, OpdClients(), translator, DISTRICTS, now=FakeClock())
    result = await run(registry, "bapenda.pbb_bill", nop="941201000100100010", year="2026")
    assert result.outcome == "unavailable"
    assert result.data == {"opd": "bapenda", "reason": "not_configured"}


@pytest.fixture
async def broken_registry(sandbox_factory: Any, translator: Translator) -> AsyncIterator[Registry]:
    from integrations.sandbox import FaultConfig

    async for sb in sandbox_factory(faults=FaultConfig(malformed=True)):
        settings = make_settings({opd: sb.url(opd) for opd in OPD_NAMES})
        async with OpdClients.open(settings, rng=random.Random(2)) as clients:
            registry = Registry()
            register_actions(registry, clients, translator, DISTRICTS, now=FakeClock())
            yield registry


async def test_every_action_maps_malformed_reply_to_invalid(broken_registry: Registry) -> None:
    calls: dict[str, dict[str, Any]] = {
        "disdukcapil.application_status": {"number": "9404-2026-000101"},
        "disdukcapil.mobile_services": {"district": "94.04.01"},
        "disnakertrans.ak1_status": {"number": "AK1-2026-000202"},
        "disnakertrans.vacancies": {"q": ""},
        "disnakertrans.trainings": {},
        "dinkes.facilities": {"district": "94.04.01"},
        "dinkes.immunization_schedule": {"district": "94.04.01"},
        "bapenda.pbb_bill": {"nop": "941201000100100010", "year": "2026"},
    }
    for name, params in calls.items():
        result = await run(broken_registry, name, **params)
        assert (result.outcome, result.data["reason"]) == ("invalid", "malformed_json"), name
