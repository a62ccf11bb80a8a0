"""Every typed client method against the sandbox, over real loopback HTTP."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import TypeVar

import pytest
from opd_testkit import SANDBOX_TODAY

from integrations import BadRequest, NotFound, OpdClients
from integrations.shapes import WIT

T = TypeVar("T")


def _require(value: T | None) -> T:
    assert value is not None
    return value


@pytest.mark.parametrize(
    ("number", "status"),
    [
        ("9404-2026-000101", "received"),
        ("9404-2026-000102", "in_process"),
        ("9404-2026-000103", "completed"),
        ("9404-2026-000104", "ready_for_pickup"),
        ("9404-2026-000105", "rejected"),
    ],
)
async def test_application_every_status(clients: OpdClients, number: str, status: str) -> None:
    app = await _require(clients.disdukcapil).application(number)
    assert app.number == number
    assert app.status == status
    assert app.updated_at.tzinfo is not None
    assert app.updated_at.utcoffset() == WIT.utcoffset(None)
    if status == "ready_for_pickup":
        assert app.pickup_location
    if status == "rejected":
        assert app.note


async def test_application_not_found_and_bad_number(clients: OpdClients) -> None:
    client = _require(clients.disdukcapil)
    with pytest.raises(NotFound):
        await client.application("9404-2026-999999")
    with pytest.raises(BadRequest):
        await client.application("ab")


async def test_mobile_services_some_and_none(clients: OpdClients) -> None:
    client = _require(clients.disdukcapil)
    visits = await client.mobile_services("94.04.01")
    assert len(visits) == 3  # the OPD lists yesterday's visit too; the action leaves it out
    assert visits[1].date == SANDBOX_TODAY
    assert visits[0].start_time == time(9, 0)
    assert "Perekaman KTP-el" in visits[0].services
    assert [v.date for v in visits] == sorted(v.date for v in visits)
    assert await client.mobile_services("94.04.02") == ()


@pytest.mark.parametrize(
    ("number", "status", "valid_until"),
    [
        ("AK1-2026-000201", "in_process", None),
        ("AK1-2026-000202", "active", date(2028, 2, 14)),
        ("AK1-2024-000203", "expired", date(2026, 1, 31)),
        ("AK1-2026-000204", "rejected", None),
    ],
)
async def test_ak1_every_status(
    clients: OpdClients, number: str, status: str, valid_until: date | None
) -> None:
    card = await _require(clients.disnakertrans).ak1(number)
    assert (card.number, card.status, card.valid_until) == (number, status, valid_until)


async def test_ak1_not_found(clients: OpdClients) -> None:
    with pytest.raises(NotFound):
        await _require(clients.disnakertrans).ak1("AK1-0000-000000")


async def test_vacancies_and_trainings(clients: OpdClients) -> None:
    client = _require(clients.disnakertrans)
    everything = await client.vacancies("")
    assert len(everything) == 5
    barista = await client.vacancies("barista")
    assert [v.title for v in barista] == ["Barista"]
    assert await client.vacancies("astronaut") == ()
    assert any(v.district is None for v in everything)
    trainings = await client.trainings()
    assert len(trainings) == 3
    assert {t.seats_left for t in trainings} == {12, 0, 5}


async def test_facilities_and_schedule(clients: OpdClients) -> None:
    client = _require(clients.dinkes)
    town = await client.facilities("94.04.01")
    assert {f.name for f in town} >= {"Puskesmas Timika", "Puskesmas Pasar Sentral"}
    assert {f.type for f in town} == {"puskesmas", "pustu"}
    assert await client.facilities("94.04.15") == ()
    sessions = await client.immunization_schedule("PKM-01-2")
    assert [s.date for s in sessions] == [
        SANDBOX_TODAY + timedelta(days=5),
        SANDBOX_TODAY + timedelta(days=12),
    ]
    assert "MR" in sessions[1].vaccines
    assert await client.immunization_schedule("PKM-02-1") == ()
    with pytest.raises(NotFound):
        await client.immunization_schedule("NO-SUCH")


async def test_pbb_paid_unpaid_and_missing(clients: OpdClients) -> None:
    client = _require(clients.bapenda)
    unpaid = await client.pbb_bill("941201000100100010", 2026)
    assert (unpaid.status, unpaid.principal, unpaid.penalty, unpaid.total) == (
        "unpaid",
        1150000,
        100000,
        1250000,
    )
    assert unpaid.taxpayer_name == "B*** S******"
    paid = await client.pbb_bill("941201000100100010", 2025)
    assert paid.status == "paid"
    with pytest.raises(NotFound):
        await client.pbb_bill("941201000100100010", 2019)
    with pytest.raises(BadRequest):
        await client.pbb_bill("94.12.010", 2026)
