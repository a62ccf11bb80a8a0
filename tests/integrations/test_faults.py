"""A misbehaving OPD gives the right typed error within timeout + 1 s; only its callers wait."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from opd_testkit import TEST_TIMEOUT, Sandbox, make_settings

from integrations import InvalidReply, OpdClients, OpdError, Unavailable
from integrations.sandbox import FaultConfig, fault_switch
from integrations.settings import OPD_NAMES

SLACK = 1.0


async def timed(call: Awaitable[Any]) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        await call
    except OpdError as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


def each_call(clients: OpdClients) -> dict[str, Callable[[], Awaitable[Any]]]:
    """One call per adapter method, so every method is checked against every fault."""
    assert clients.disdukcapil and clients.disnakertrans and clients.dinkes and clients.bapenda
    d, n, k, b = clients.disdukcapil, clients.disnakertrans, clients.dinkes, clients.bapenda
    return {
        "application": lambda: d.application("9404-2026-000101"),
        "mobile_services": lambda: d.mobile_services("94.04.01"),
        "ak1": lambda: n.ak1("AK1-2026-000202"),
        "vacancies": lambda: n.vacancies("barista"),
        "trainings": lambda: n.trainings(),
        "facilities": lambda: k.facilities("94.04.01"),
        "immunization": lambda: k.immunization_schedule("PKM-01-2"),
        "pbb": lambda: b.pbb_bill("941201000100100010", 2026),
    }


@pytest.mark.parametrize(
    ("fault", "error", "reason"),
    [
        (FaultConfig(latency=2.5), Unavailable, "timeout"),
        (FaultConfig(hang=True), Unavailable, "timeout"),
        (FaultConfig(status=500), Unavailable, "server_error"),
        (FaultConfig(status=503), Unavailable, "server_error"),
        (FaultConfig(malformed=True), InvalidReply, "malformed_json"),
        (FaultConfig(wrong_content_type=True), InvalidReply, "content_type"),
    ],
    ids=["slow", "hang", "500", "503", "malformed", "content-type"],
)
async def test_every_method_every_fault(
    sandbox_factory: Any, fault: FaultConfig, error: type[OpdError], reason: str
) -> None:
    async for sb in sandbox_factory(faults=fault):
        settings = make_settings({opd: sb.url(opd) for opd in OPD_NAMES})
        async with OpdClients.open(settings, rng=random.Random(3)) as clients:
            calls = each_call(clients)
            results = await asyncio.gather(*(timed(call()) for call in calls.values()))
    for name, (exc, elapsed) in zip(calls, results, strict=True):
        assert isinstance(exc, error), (name, exc)
        assert exc.reason == reason, name
        assert elapsed < TEST_TIMEOUT + SLACK, (name, elapsed)


async def test_backend_down_is_unavailable_quickly(closed_port: int) -> None:
    root = f"http://127.0.0.1:{closed_port}"
    settings = make_settings({opd: f"{root}/{opd}" for opd in OPD_NAMES})
    async with OpdClients.open(settings, rng=random.Random(4)) as clients:
        results = await asyncio.gather(*(timed(call()) for call in each_call(clients).values()))
    for exc, elapsed in results:
        assert isinstance(exc, Unavailable)
        assert exc.reason == "connection"
        assert elapsed < TEST_TIMEOUT + SLACK


async def test_slow_call_gives_up_at_the_deadline(sandbox_factory: Any) -> None:
    async for sb in sandbox_factory(faults=FaultConfig(latency=2.5)):
        settings = make_settings({"bapenda": sb.url("bapenda")})
        async with OpdClients.open(settings) as clients:
            assert clients.bapenda is not None
            exc, elapsed = await timed(clients.bapenda.pbb_bill("941201000100100010", 2026))
    assert isinstance(exc, Unavailable)
    # The deadline is the whole budget: not earlier (no premature give-up), not much later.
    assert TEST_TIMEOUT - 0.05 <= elapsed < TEST_TIMEOUT + SLACK


async def test_wrong_token_is_unavailable_not_retried(sandbox: Sandbox) -> None:
    tokens = {opd: "wrong" for opd in OPD_NAMES}
    settings = make_settings({"disdukcapil": sandbox.url("disdukcapil")}, tokens)
    async with OpdClients.open(settings) as clients:
        assert clients.disdukcapil is not None
        exc, elapsed = await timed(clients.disdukcapil.application("9404-2026-000101"))
    assert isinstance(exc, Unavailable)
    assert exc.reason == "unauthorized"
    assert elapsed < TEST_TIMEOUT


async def test_slow_opd_does_not_slow_a_healthy_one(sandbox_factory: Any) -> None:
    slow_bapenda = FaultConfig(latency=2.5, opds=frozenset({"bapenda"}))
    async for sb in sandbox_factory(faults=slow_bapenda):
        settings = make_settings({opd: sb.url(opd) for opd in OPD_NAMES})
        async with OpdClients.open(settings) as clients:
            assert clients.bapenda is not None and clients.disdukcapil is not None
            disdukcapil = clients.disdukcapil
            # Warm one connection so the healthy calls measure steady state, not a handshake.
            await disdukcapil.application("9404-2026-000101")
            slow = [
                asyncio.create_task(timed(clients.bapenda.pbb_bill("941201000100100010", 2026)))
                for _ in range(10)
            ]
            healthy = await asyncio.gather(
                *(timed(disdukcapil.application("9404-2026-000104")) for _ in range(20))
            )
            assert not any(task.done() for task in slow)  # the slow ones were really in flight
            slow_results = await asyncio.gather(*slow)
    for exc, elapsed in healthy:
        assert exc is None
        # Not held behind the slow OPD, whose calls only end at the 0.5 s timeout: a healthy
        # call queued behind one would take longer. Not a tighter bound: on a loaded 2-CPU CI
        # machine a healthy call alone took 0.38 s.
        assert elapsed < TEST_TIMEOUT
    for exc, _elapsed in slow_results:
        assert isinstance(exc, Unavailable)


async def test_fault_switch_breaks_and_heals_at_run_time(sandbox: Sandbox) -> None:
    settings = make_settings({"dinkes": sandbox.url("dinkes")})
    async with OpdClients.open(settings) as clients:
        assert clients.dinkes is not None
        fault_switch(sandbox.app).config = FaultConfig(status=502, opds=frozenset({"dinkes"}))
        exc, _ = await timed(clients.dinkes.facilities("94.04.01"))
        assert isinstance(exc, Unavailable)
        fault_switch(sandbox.app).config = FaultConfig()
        assert len(await clients.dinkes.facilities("94.04.01")) == 4
