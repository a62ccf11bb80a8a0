"""The sandbox itself: auth, per-request and environment faults, admin routes, seeding."""

from __future__ import annotations

from datetime import date, timedelta

import aiohttp
import pytest
from opd_testkit import Sandbox

from integrations.sandbox import SANDBOX_TOKEN, FaultConfig, create_sandbox_app
from integrations.sandbox.data import build_data
from integrations.sandbox.faults import FaultSpecError

AUTH = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}


async def test_auth_and_error_body(sandbox: Sandbox) -> None:
    url = f"{sandbox.root}/disdukcapil/v1/applications/9404-2026-000101"
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            assert response.status == 401
            assert (await response.json())["error"]["code"] == "unauthorized"
        async with http.get(url, headers={"Authorization": "Bearer wrong"}) as response:
            assert response.status == 401
        async with http.get(url, headers=AUTH) as response:
            assert response.status == 200
            assert response.content_type == "application/json"
        async with http.get(url.replace("000101", "999999"), headers=AUTH) as response:
            assert response.status == 404
            assert set((await response.json())["error"]) == {"code", "message"}


@pytest.mark.parametrize(
    ("how", "status", "content_type"),
    [
        ("header", 500, "application/json"),
        ("query", 503, "application/json"),
        ("header-ct", 200, "text/html"),
    ],
)
async def test_per_request_faults(
    sandbox: Sandbox, how: str, status: int, content_type: str
) -> None:
    url = f"{sandbox.root}/disdukcapil/v1/mobile-services?district=94.04.01"
    headers = dict(AUTH)
    if how == "header":
        headers["X-Sandbox-Fault"] = "500"
    elif how == "query":
        url += "&fault=503"
    else:
        headers["X-Sandbox-Fault"] = "content-type"
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        assert (response.status, response.content_type) == (status, content_type)


async def test_malformed_fault_breaks_json(sandbox: Sandbox) -> None:
    url = f"{sandbox.root}/disdukcapil/v1/mobile-services?district=94.04.01&fault=malformed"
    async with aiohttp.ClientSession() as http, http.get(url, headers=AUTH) as response:
        assert response.content_type == "application/json"
        with pytest.raises(ValueError):
            await response.json()


async def test_admin_changes_application_status(sandbox: Sandbox) -> None:
    base = f"{sandbox.root}/disdukcapil"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/_admin/applications/9404-2026-000101",
            json={"status": "ready_for_pickup", "note": "Silakan ambil."},
            headers=AUTH,
        ) as response:
            assert response.status == 200
        async with http.get(f"{base}/v1/applications/9404-2026-000101", headers=AUTH) as response:
            body = await response.json()
        assert (body["status"], body["note"]) == ("ready_for_pickup", "Silakan ambil.")
        async with http.post(
            f"{base}/_admin/applications/9404-2026-000101", json={"status": "lost"}, headers=AUTH
        ) as response:
            assert response.status == 400
        async with http.post(
            f"{sandbox.root}/_admin/faults", json={"fault": "500", "opds": ["disdukcapil"]}
        ) as response:
            assert response.status == 200
        async with http.get(f"{base}/v1/applications/9404-2026-000101", headers=AUTH) as response:
            assert response.status == 500


def test_fault_config_parsing() -> None:
    config = FaultConfig.parse("latency=0.2, 502")
    assert (config.latency, config.status) == (0.2, 502)
    assert FaultConfig.parse("timeout").hang
    env = FaultConfig.from_env({"SANDBOX_FAULT": "malformed", "SANDBOX_FAULT_OPD": "bapenda"})
    assert env.applies_to("bapenda") and not env.applies_to("dinkes")
    assert not FaultConfig.from_env({}).active
    with pytest.raises(FaultSpecError):
        FaultConfig.parse("explode")


async def test_environment_fault_limited_to_one_opd(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    config = FaultConfig.from_env({"SANDBOX_FAULT": "500", "SANDBOX_FAULT_OPD": "bapenda"})
    async for sb in sandbox_factory(faults=config):
        async with aiohttp.ClientSession() as http:
            async with http.get(
                f"{sb.root}/bapenda/v1/pbb/941201000100100010?year=2026",
                headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
            ) as response:
                assert response.status == 500
            async with http.get(
                f"{sb.root}/disnakertrans/v1/trainings",
                headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
            ) as response:
                assert response.status == 200


def test_seeded_data_is_deterministic_and_keeps_documented_records() -> None:
    today = date(2030, 1, 2)
    assert build_data(7, today=today) == build_data(7, today=today)
    other = build_data(8, today=today)
    assert build_data(7, today=today).applications != other.applications
    for data in (build_data(0, today=today), other):
        assert data.applications["9404-2026-000104"]["status"] == "ready_for_pickup"
        assert data.pbb_bills[("941201000100100010", 2026)]["status"] == "unpaid"
    statuses = {a["status"] for a in build_data(0, today=today).applications.values()}
    assert statuses == {"received", "in_process", "completed", "ready_for_pickup", "rejected"}
    assert create_sandbox_app(seed=3) is not None


@pytest.mark.parametrize("today", [date(2025, 2, 28), date(2026, 12, 4), date(2027, 6, 1)])
def test_schedules_are_dated_from_the_sandbox_today(today: date) -> None:
    """Sample visits and sessions never expire: each distrik with visits has one today."""
    data = build_data(0, today=today)
    visit_days = {date.fromisoformat(v["date"]) for v in data.mobile_services}
    session_days = {date.fromisoformat(s["date"]) for s in data.immunization}
    assert today in visit_days
    assert max(visit_days) > today and max(session_days) > today
    assert min(visit_days) == today - timedelta(days=1)
    assert all("day" not in v for v in data.mobile_services)


async def test_per_opd_tokens() -> None:
    from opd_testkit import serve

    app = create_sandbox_app(tokens={"disdukcapil": "a-token", "bapenda": "b-token"})
    async for sb in serve(app):
        url = f"{sb.root}/bapenda/v1/pbb/941201000100100010?year=2026"
        async with aiohttp.ClientSession() as http:
            async with http.get(url, headers={"Authorization": "Bearer a-token"}) as response:
                assert response.status == 401
            async with http.get(url, headers={"Authorization": "Bearer b-token"}) as response:
                assert response.status == 200
