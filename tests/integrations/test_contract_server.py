"""The adapters against a second, minimal server written here from the contract alone.

It does not import the sandbox, so if the sandbox and the adapters drifted together away from
the contract, these tests would still catch it. The same server counts hits and can fail on
command, which is how retries and the circuit breaker are checked.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pytest
from aiohttp import web
from opd_testkit import FakeClock, make_settings

from integrations import BadRequest, InvalidReply, NotFound, OpdClients, Unavailable
from integrations.settings import OPD_NAMES

TOKEN = "contract-token"


@dataclass
class Control:
    """What the server does next: ``fail_next`` answers 500 that many times first."""

    fail_next: int = 0
    status_next: int = 500
    down: bool = False
    down_only: str = ""
    hits: dict[str, int] = field(default_factory=dict)


def err(status: int, code: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": code}}, status=status)


def contract_app(control: Control) -> web.Application:
    @web.middleware
    async def gate(request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
        control.hits[request.path] = control.hits.get(request.path, 0) + 1
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return err(401, "unauthorized")
        if control.down and request.path.startswith(control.down_only):
            return err(503, "maintenance")
        if control.fail_next > 0:
            control.fail_next -= 1
            return err(control.status_next, "boom")
        return await handler(request)

    async def application(request: web.Request) -> web.Response:
        number = request.match_info["number"]
        if number != "ABC-123456":
            return err(404, "not_found")
        return web.json_response(
            {
                "number": "ABC-123456",
                "service": "Kartu Keluarga",
                "status": "ready_for_pickup",
                "updated_at": "2027-03-01T00:30:00Z",
                "note": None,
                "pickup_location": "Kantor Distrik Kuala Kencana",
            }
        )

    async def mobile(request: web.Request) -> web.Response:
        if request.query.get("district") != "94.04.09":
            return web.json_response([])
        return web.json_response(
            [
                {
                    "date": "2027-03-10",
                    "district": "94.04.09",
                    "location": "Balai Kampung",
                    "services": ["KIA"],
                    "start_time": "08:00",
                    "end_time": "11:30",
                }
            ]
        )

    async def ak1(request: web.Request) -> web.Response:
        if request.match_info["number"] == "0000-BAD":
            return err(400, "invalid_number")
        return web.json_response(
            {"number": request.match_info["number"], "status": "active", "valid_until": None}
        )

    async def vacancies(request: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "title": "Guru",
                    "employer": "Yayasan X",
                    "district": None,
                    "closes_on": "2027-04-01",
                }
            ]
            if request.query.get("q") == "guru"
            else []
        )

    async def trainings(request: web.Request) -> web.Response:
        return web.json_response(
            [{"title": "Menjahit", "place": "Aula", "starts_on": "2027-05-02", "seats_left": 3}]
        )

    async def facilities(request: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "code": "F1",
                    "name": "Puskesmas Contoh",
                    "type": "puskesmas",
                    "district": request.query["district"],
                    "address": "Jl. Satu",
                    "hours": None,
                    "phone": None,
                    "services": [],
                }
            ]
        )

    async def schedule(request: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "date": "2027-06-01",
                    "facility": request.query["facility"],
                    "vaccines": ["BCG"],
                    "location": "Posyandu",
                }
            ]
        )

    async def pbb(request: web.Request) -> web.Response:
        nop, year = request.match_info["nop"], int(request.query["year"])
        if nop == "999999999999999999":
            # A server bug: answers with somebody else's bill.
            nop = "111111111111111111"
        return web.json_response(
            {
                "nop": nop,
                "year": year,
                "taxpayer_name": "A*** B***",
                "object_address": "Jl. Dua",
                "principal": 10,
                "penalty": 0,
                "total": 10,
                "due_date": "2027-08-31",
                "status": "paid",
            }
        )

    app = web.Application(middlewares=[gate])
    app.router.add_get("/dukcapil-api/v1/applications/{number}", application)
    app.router.add_get("/dukcapil-api/v1/mobile-services", mobile)
    app.router.add_get("/naker/v1/ak1/{number}", ak1)
    app.router.add_get("/naker/v1/vacancies", vacancies)
    app.router.add_get("/naker/v1/trainings", trainings)
    app.router.add_get("/kesehatan/v1/facilities", facilities)
    app.router.add_get("/kesehatan/v1/immunization-schedule", schedule)
    app.router.add_get("/pajak/v1/pbb/{nop}", pbb)
    return app


PREFIX = {
    "disdukcapil": "dukcapil-api",
    "disnakertrans": "naker",
    "dinkes": "kesehatan",
    "bapenda": "pajak",
}


@dataclass
class Served:
    control: Control
    root: str


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    control = Control()
    runner = web.AppRunner(contract_app(control), shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Served(control, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


def settings_for(served: Served, **overrides: float | int):  # type: ignore[no-untyped-def]
    urls = {opd: f"{served.root}/{PREFIX[opd]}" for opd in OPD_NAMES}
    return make_settings(urls, {opd: TOKEN for opd in OPD_NAMES}, **overrides)


async def test_every_method_matches_the_contract(served: Served) -> None:
    async with OpdClients.open(settings_for(served)) as clients:
        assert clients.disdukcapil and clients.disnakertrans and clients.dinkes
        assert clients.bapenda
        app = await clients.disdukcapil.application("ABC-123456")
        assert app.status == "ready_for_pickup"
        assert app.updated_at == datetime(2027, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=9)))
        assert app.note is None
        visits = await clients.disdukcapil.mobile_services("94.04.09")
        assert visits[0].end_time.minute == 30
        assert (await clients.disnakertrans.ak1("XYZ-0001")).valid_until is None
        assert (await clients.disnakertrans.vacancies("guru"))[0].employer == "Yayasan X"
        assert (await clients.disnakertrans.trainings())[0].seats_left == 3
        facility = (await clients.dinkes.facilities("94.04.05"))[0]
        assert (facility.district, facility.hours, facility.services) == ("94.04.05", None, ())
        assert (await clients.dinkes.immunization_schedule("F1"))[0].date == date(2027, 6, 1)
        assert (await clients.bapenda.pbb_bill("123456789012345678", 2027)).total == 10


async def test_error_statuses(served: Served) -> None:
    async with OpdClients.open(settings_for(served)) as clients:
        assert clients.disdukcapil and clients.disnakertrans and clients.bapenda
        with pytest.raises(NotFound):
            await clients.disdukcapil.application("NOPE-000")
        with pytest.raises(BadRequest):
            await clients.disnakertrans.ak1("0000-BAD")
        with pytest.raises(InvalidReply, match="another NOP"):
            await clients.bapenda.pbb_bill("999999999999999999", 2027)


async def test_number_is_path_encoded(served: Served) -> None:
    async with OpdClients.open(settings_for(served)) as clients:
        assert clients.disdukcapil
        with pytest.raises(NotFound):
            await clients.disdukcapil.application("../../naker/v1/trainings")
    assert "/naker/v1/trainings" not in served.control.hits


async def test_transient_500_is_retried_then_succeeds(served: Served) -> None:
    served.control.fail_next = 2
    async with OpdClients.open(settings_for(served), rng=random.Random(5)) as clients:
        assert clients.disnakertrans
        assert len(await clients.disnakertrans.trainings()) == 1
    assert served.control.hits["/naker/v1/trainings"] == 3


async def test_persistent_500_stops_after_two_retries(served: Served) -> None:
    served.control.down = True
    async with OpdClients.open(settings_for(served), rng=random.Random(6)) as clients:
        assert clients.disnakertrans
        with pytest.raises(Unavailable, match="server_error"):
            await clients.disnakertrans.trainings()
    assert served.control.hits["/naker/v1/trainings"] == 3


@pytest.mark.parametrize("status", [400, 401, 404, 429])
async def test_4xx_is_never_retried(served: Served, status: int) -> None:
    served.control.fail_next, served.control.status_next = 1, status
    async with OpdClients.open(settings_for(served)) as clients:
        assert clients.disnakertrans
        with pytest.raises((BadRequest, Unavailable, NotFound)):
            await clients.disnakertrans.trainings()
    assert served.control.hits["/naker/v1/trainings"] == 1


async def test_circuit_opens_then_closes_when_backend_recovers(served: Served) -> None:
    clock = FakeClock()
    settings = settings_for(served, max_retries=0, breaker_threshold=3, breaker_cooldown=30.0)
    async with OpdClients.open(settings, clock=clock) as clients:
        assert clients.dinkes and clients.bapenda
        breaker = clients.dinkes.http.breaker
        served.control.down, served.control.down_only = True, "/kesehatan/"
        for _ in range(3):
            with pytest.raises(Unavailable, match="server_error"):
                await clients.dinkes.facilities("94.04.01")
        assert breaker.state == "open"
        hits = served.control.hits["/kesehatan/v1/facilities"]
        # Open: refused at once, the backend is not even asked.
        with pytest.raises(Unavailable, match="circuit_open"):
            await clients.dinkes.facilities("94.04.01")
        assert served.control.hits["/kesehatan/v1/facilities"] == hits
        # Other OPDs keep their own breaker.
        assert (await clients.bapenda.pbb_bill("123456789012345678", 2027)).status == "paid"
        # Still open just before the cooldown ends.
        clock.advance(29.9)
        with pytest.raises(Unavailable, match="circuit_open"):
            await clients.dinkes.facilities("94.04.01")
        # Half-open after the cooldown: a failing probe reopens it.
        clock.advance(0.2)
        assert breaker.state == "half_open"
        with pytest.raises(Unavailable, match="server_error"):
            await clients.dinkes.facilities("94.04.01")
        assert breaker.state == "open"
        # The backend recovers; after another cooldown the probe succeeds and closes it.
        served.control.down = False
        clock.advance(30)
        assert len(await clients.dinkes.facilities("94.04.01")) == 1
        assert breaker.state == "closed"
        assert len(await clients.dinkes.facilities("94.04.02")) == 1


async def test_half_open_lets_exactly_one_probe_through(served: Served) -> None:
    clock = FakeClock()
    settings = settings_for(served, max_retries=0, breaker_threshold=1, breaker_cooldown=5.0)
    async with OpdClients.open(settings, clock=clock) as clients:
        assert clients.disnakertrans
        served.control.down = True
        with pytest.raises(Unavailable):
            await clients.disnakertrans.trainings()
        served.control.down = False
        clock.advance(5)
        results = await asyncio.gather(
            *(clients.disnakertrans.trainings() for _ in range(5)), return_exceptions=True
        )
    successes = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, Unavailable) and r.reason == "circuit_open"]
    assert (len(successes), len(refused)) == (1, 4)
