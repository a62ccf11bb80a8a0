"""The embedded default: the agencies' sandbox started in-process on loopback.

A newcomer with no agency credentials still sees status checks work: when no OPD URL is
configured, ``loket chat`` and the local mode of ``loket run`` start the sandbox and point the
adapters at it. Never in Telegram mode (issue 14): its visits, posyandu sessions and phone
numbers are invented, and real citizens must not read them as fact; there an agency without a
URL answers that the bot cannot check it yet, with the office's real contacts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from bot.registry import Action, ActionCall, ActionResult, Registry
from integrations.sandbox import SANDBOX_TOKEN, create_sandbox_app, start_sandbox
from integrations.settings import OPD_NAMES


def needs_sandbox(env: Mapping[str, str]) -> bool:
    return not any(env.get(f"{opd.upper()}_API_URL") for opd in OPD_NAMES)


def sandbox_wanted(env: Mapping[str, str], *, telegram: bool) -> bool:
    """The sandbox serves the local mode only: in Telegram mode citizens are real."""
    return not telegram and needs_sandbox(env)


def unconnected_opds(env: Mapping[str, str]) -> list[str]:
    """The agencies whose system is not configured, for the warning at start."""
    return [opd for opd in OPD_NAMES if not env.get(f"{opd.upper()}_API_URL", "").strip()]


def sandbox_opds(env: Mapping[str, str]) -> frozenset[str]:
    """The agencies whose answers come from the sandbox (its token), so they are shown as
    example data (issue 14): in the local mode, or any setup pointed at it by hand."""
    return frozenset(
        opd for opd in OPD_NAMES if env.get(f"{opd.upper()}_API_TOKEN") == SANDBOX_TOKEN
    )


def mark_sample(registry: Registry, opds: frozenset[str]) -> None:
    """Wraps the actions of ``opds`` so each result carries ``sample: True``; the engine then
    labels the answer "Contoh data (sandbox)". Nothing changes for a real agency."""
    for name in sorted(registry.action_names):
        if name.split(".", 1)[0] not in opds:
            continue
        inner = registry.action(name)

        async def marked(call: ActionCall, inner: Action = inner) -> ActionResult:
            result = await inner(call)
            return dataclasses.replace(result, data={**result.data, "sample": True})

        registry.replace_action(name, marked)


def sandbox_env(base_url: str, *, timeout: float | None = None) -> dict[str, str]:
    env = {}
    for opd in OPD_NAMES:
        env[f"{opd.upper()}_API_URL"] = f"{base_url}/{opd}"
        env[f"{opd.upper()}_API_TOKEN"] = SANDBOX_TOKEN
        if timeout is not None:
            env[f"{opd.upper()}_API_TIMEOUT"] = str(timeout)
    return env


@asynccontextmanager
async def running_sandbox(
    host: str = "127.0.0.1", port: int = 0, seed: int = 0, *, today: dt.date | None = None
) -> AsyncIterator[str]:
    """Serves the sandbox until the block ends; yields its base URL (``port=0``: a free one).
    ``today`` dates its sample schedules (default: the machine's day in WIT)."""
    app = create_sandbox_app(seed=seed, today=today)
    runner, bound = await start_sandbox(app, host, port)
    try:
        yield f"http://{host}:{bound}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def integration_env(
    env: Mapping[str, str], *, today: dt.date | None = None, telegram: bool = False
) -> AsyncIterator[Mapping[str, str]]:
    """The agency settings to use: the configured ones, or (local mode only) a running
    sandbox's (its schedules dated from ``today``: a bot on an injected clock passes the
    clock's day)."""
    if not sandbox_wanted(env, telegram=telegram):
        yield env
        return
    async with running_sandbox(today=today) as url:
        yield {**env, **sandbox_env(url)}
