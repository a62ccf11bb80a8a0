"""An aiohttp app that plays all four OPD backends, faithfully to ``integrations/openapi``.

It lets the bot be developed, demonstrated and tested end to end before any OPD has built its
side, and it can misbehave on purpose (see :mod:`integrations.sandbox.faults`). Each OPD lives
under its own prefix (``/disdukcapil``, ``/disnakertrans``, ``/dinkes``, ``/bapenda``) so one
port serves all: the bot's ``DISDUKCAPIL_API_URL`` is ``http://127.0.0.1:PORT/disdukcapil``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web

from integrations.sandbox.data import SandboxData, build_data
from integrations.sandbox.faults import FaultConfig, FaultSpecError
from integrations.shapes import WIT

logger = logging.getLogger("integrations.sandbox")

OPDS: tuple[str, ...] = ("disdukcapil", "disnakertrans", "dinkes", "bapenda")
HANG_SECONDS = 3600.0
SANDBOX_TOKEN = "sandbox-token"  # noqa: S105 - public test token of a synthetic sandbox
_NUMBER = re.compile(r"[A-Z0-9-]{6,32}", re.ASCII)
_DISTRICT = re.compile(r"94\.04\.[0-9]{2}", re.ASCII)
_NOP = re.compile(r"[0-9]{18}", re.ASCII)
_YEAR = re.compile(r"[0-9]{4}", re.ASCII)

DATA_KEY = web.AppKey("sandbox_data", SandboxData)


@dataclass(slots=True)
class FaultSwitch:
    """The process-wide fault, changeable while serving (admin route or tests in-process)."""

    config: FaultConfig = field(default_factory=FaultConfig)


FAULTS_KEY = web.AppKey("sandbox_faults", FaultSwitch)
TOKENS_KEY = web.AppKey("sandbox_tokens", dict)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def default_tokens() -> dict[str, str]:
    """The bearer token each sandbox OPD expects by default: ``SANDBOX_TOKEN`` for all."""
    return dict.fromkeys(OPDS, SANDBOX_TOKEN)


def error(status: int, code: str, message: str) -> web.Response:
    """The contract's error body: ``{"error": {"code", "message"}}``."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _opd_of(request: web.Request) -> str | None:
    first = request.path.strip("/").split("/", 1)[0]
    return first if first in OPDS else None


@web.middleware
async def _faults_and_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Applies injected faults first (as a network would), then checks the bearer token."""
    opd = _opd_of(request)
    if opd is None:
        return await handler(request)
    admin = "/_admin/" in request.path
    fault = FaultConfig()
    if not admin:
        spec = request.headers.get("X-Sandbox-Fault") or request.query.get("fault")
        try:
            fault = FaultConfig.parse(spec) if spec else request.app[FAULTS_KEY].config
        except FaultSpecError as exc:
            return error(400, "bad_fault", str(exc))
        if fault.applies_to(opd):
            injected = await _inject(fault)
            if injected is not None:
                return injected
    expected = request.app[TOKENS_KEY].get(opd)
    if request.headers.get("Authorization") != f"Bearer {expected}":
        return error(401, "unauthorized", "missing or wrong bearer token")
    response = await handler(request)
    if not admin and fault.applies_to(opd):
        return _corrupt(fault, response)
    return response


async def _inject(fault: FaultConfig) -> web.StreamResponse | None:
    if fault.latency:
        await asyncio.sleep(fault.latency)
    if fault.hang:
        await asyncio.sleep(HANG_SECONDS)
    if fault.status is not None:
        return error(fault.status, "injected", f"injected fault {fault.status}")
    return None


def _corrupt(fault: FaultConfig, response: web.StreamResponse) -> web.StreamResponse:
    if fault.malformed and isinstance(response, web.Response):
        body = response.body if isinstance(response.body, bytes) else b"{}"
        return web.Response(
            body=body[: max(len(body) // 2, 1)] + b"\x00{",
            status=response.status,
            content_type="application/json",
        )
    if fault.wrong_content_type:
        return web.Response(
            text="<html><body><h1>502 Bad Gateway</h1></body></html>",
            status=200,
            content_type="text/html",
        )
    return response


def _data(request: web.Request) -> SandboxData:
    return request.app[DATA_KEY]


def _json(value: Any) -> web.Response:
    return web.json_response(value, dumps=lambda v: json.dumps(v, ensure_ascii=False))


# -- Disdukcapil ----------------------------------------------------------------------------


async def get_application(request: web.Request) -> web.StreamResponse:
    number = request.match_info["number"]
    if not _NUMBER.fullmatch(number):
        return error(400, "invalid_number", "number must be 6-32 of A-Z, 0-9 and -")
    record = _data(request).applications.get(number)
    if record is None:
        return error(404, "not_found", "no application with this number")
    return _json(record)


async def post_application_status(request: web.Request) -> web.StreamResponse:
    """Admin: change an application's status at run time (for notification tests)."""
    number = request.match_info["number"]
    record = _data(request).applications.get(number)
    if record is None:
        return error(404, "not_found", "no application with this number")
    try:
        body = await request.json()
    except ValueError:
        return error(400, "malformed_json", "body must be JSON")
    if not isinstance(body, dict) or body.get("status") not in (
        "received",
        "in_process",
        "completed",
        "ready_for_pickup",
        "rejected",
    ):
        return error(400, "invalid_status", "status must be one of the five statuses")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        return error(400, "invalid_note", "note must be a string or null")
    record["status"] = body["status"]
    record["note"] = note
    if "pickup_location" in body:
        record["pickup_location"] = body["pickup_location"]
    record["updated_at"] = body.get("updated_at") or datetime.now(UTC).isoformat(
        timespec="seconds"
    )
    return _json(record)


async def get_mobile_services(request: web.Request) -> web.StreamResponse:
    district = request.query.get("district", "")
    if district and not _DISTRICT.fullmatch(district):
        return error(400, "invalid_district", "district must be a code like 94.04.01")
    visits = [
        v for v in _data(request).mobile_services if not district or v["district"] == district
    ]
    return _json(visits)


# -- Disnakertrans --------------------------------------------------------------------------


async def get_ak1(request: web.Request) -> web.StreamResponse:
    number = request.match_info["number"]
    if not _NUMBER.fullmatch(number):
        return error(400, "invalid_number", "number must be 6-32 of A-Z, 0-9 and -")
    record = _data(request).ak1_cards.get(number)
    if record is None:
        return error(404, "not_found", "no AK/I card with this number")
    return _json(record)


async def post_ak1_status(request: web.Request) -> web.StreamResponse:
    """Admin: change an AK/I card's status at run time (for notification tests)."""
    number = request.match_info["number"]
    record = _data(request).ak1_cards.get(number)
    if record is None:
        return error(404, "not_found", "no AK/I card with this number")
    try:
        body = await request.json()
    except ValueError:
        return error(400, "malformed_json", "body must be JSON")
    if not isinstance(body, dict) or body.get("status") not in (
        "in_process",
        "active",
        "expired",
        "rejected",
    ):
        return error(400, "invalid_status", "status must be one of the four AK/I statuses")
    valid_until = body.get("valid_until", record.get("valid_until"))
    if valid_until is not None and not isinstance(valid_until, str):
        return error(400, "invalid_valid_until", "valid_until must be a date YYYY-MM-DD or null")
    record["status"] = body["status"]
    record["valid_until"] = valid_until
    return _json(record)


async def get_vacancies(request: web.Request) -> web.StreamResponse:
    query = request.query.get("q", "").strip().casefold()
    found = [
        v
        for v in _data(request).vacancies
        if not query or query in v["title"].casefold() or query in v["employer"].casefold()
    ]
    return _json(found)


async def get_trainings(request: web.Request) -> web.StreamResponse:
    return _json(_data(request).trainings)


# -- Dinkes ---------------------------------------------------------------------------------


async def get_facilities(request: web.Request) -> web.StreamResponse:
    district = request.query.get("district", "")
    if district and not _DISTRICT.fullmatch(district):
        return error(400, "invalid_district", "district must be a code like 94.04.01")
    found = [f for f in _data(request).facilities if not district or f["district"] == district]
    return _json(found)


async def get_immunization_schedule(request: web.Request) -> web.StreamResponse:
    facility = request.query.get("facility", "")
    data = _data(request)
    if not facility:
        return error(400, "missing_facility", "facility is required")
    if not any(f["code"] == facility for f in data.facilities):
        return error(404, "not_found", "no facility with this code")
    return _json([s for s in data.immunization if s["facility"] == facility])


# -- Bapenda --------------------------------------------------------------------------------


async def get_pbb(request: web.Request) -> web.StreamResponse:
    nop = request.match_info["nop"]
    year = request.query.get("year", "")
    if not _NOP.fullmatch(nop):
        return error(400, "invalid_nop", "nop must be 18 digits")
    if not _YEAR.fullmatch(year):
        return error(400, "invalid_year", "year must be 4 digits")
    record = _data(request).pbb_bills.get((nop, int(year)))
    if record is None:
        return error(404, "not_found", "no PBB bill for this NOP and year")
    return _json(record)


async def health(request: web.Request) -> web.StreamResponse:
    return _json({"status": "ok", "opds": list(OPDS)})


async def post_faults(request: web.Request) -> web.StreamResponse:
    """Admin: switch the process-wide fault, ``{"fault": "500", "opds": ["bapenda"]}``.

    An empty ``fault`` heals every OPD. Lets a person break an OPD mid-conversation.
    """
    try:
        body = await request.json()
        spec = str(body.get("fault") or "")
        opds = body.get("opds")
        only = frozenset(str(o) for o in opds) if isinstance(opds, list) and opds else None
        config = FaultConfig.parse(spec, only)
    except (ValueError, AttributeError) as exc:
        return error(400, "bad_fault", str(exc))
    request.app[FAULTS_KEY].config = config
    return _json({"fault": spec, "opds": sorted(only) if only else None})


def fault_switch(app: web.Application) -> FaultSwitch:
    """The app's fault switch, for tests that break and heal an OPD in-process."""
    return app[FAULTS_KEY]


def create_sandbox_app(
    seed: int = 0,
    faults: FaultConfig | None = None,
    tokens: Mapping[str, str] | None = None,
    today: date | None = None,
) -> web.Application:
    """The sandbox app. ``faults`` applies to every request (requests may add their own);
    ``tokens`` overrides the expected bearer token per OPD (default ``SANDBOX_TOKEN``);
    ``today`` dates the sample schedules (default: today in WIT by this machine's calendar,
    as a real OPD's system would; tests that move the bot's clock pass the same day here)."""
    app = web.Application(middlewares=[_faults_and_auth])
    app[DATA_KEY] = build_data(seed, today=today or datetime.now(WIT).date())
    app[FAULTS_KEY] = FaultSwitch(faults or FaultConfig())
    app[TOKENS_KEY] = dict(tokens or default_tokens())
    app.router.add_get("/health", health)
    app.router.add_post("/_admin/faults", post_faults)
    app.router.add_get("/disdukcapil/v1/applications/{number}", get_application)
    app.router.add_post("/disdukcapil/_admin/applications/{number}", post_application_status)
    app.router.add_get("/disdukcapil/v1/mobile-services", get_mobile_services)
    app.router.add_get("/disnakertrans/v1/ak1/{number}", get_ak1)
    app.router.add_post("/disnakertrans/_admin/ak1/{number}", post_ak1_status)
    app.router.add_get("/disnakertrans/v1/vacancies", get_vacancies)
    app.router.add_get("/disnakertrans/v1/trainings", get_trainings)
    app.router.add_get("/dinkes/v1/facilities", get_facilities)
    app.router.add_get("/dinkes/v1/immunization-schedule", get_immunization_schedule)
    app.router.add_get("/bapenda/v1/pbb/{nop}", get_pbb)
    return app


async def start_sandbox(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, int]:
    """Starts ``app`` and returns its runner and the bound port (``port=0`` picks a free one).

    Handlers are cancelled when the client goes away, so a ``timeout`` fault does not keep
    the server (or a test's teardown) waiting.
    """
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = runner.addresses
    bound = sockets[0][1] if sockets else port
    return runner, int(bound)


async def run_sandbox(host: str = "127.0.0.1", port: int = 8089, seed: int = 0) -> None:
    """Serves the sandbox until cancelled; faults from ``SANDBOX_FAULT``/``SANDBOX_FAULT_OPD``."""
    app = create_sandbox_app(seed=seed, faults=FaultConfig.from_env(os.environ))
    runner, bound = await start_sandbox(app, host, port)
    logger.info("sandbox serving %s on http://%s:%d/<opd>", ", ".join(OPDS), host, bound)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
