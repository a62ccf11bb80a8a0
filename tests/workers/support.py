"""Real ``loket run`` worker processes behind one webhook URL, for tests and the benchmark.

:class:`RoundRobin` is the load balancer: an aiohttp server whose URL is the webhook, passing
each POST to the next worker in turn (so consecutive updates of one citizen land on
different workers). :class:`WorkerProcess` starts ``python -m bot.cli run`` in webhook mode
against the local Bot API server and returns once it prints that it is serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH

WEBHOOK_SECRET = "two-worker-secret"
READY_LINE = "Loket serving Telegram by webhook"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RoundRobin:
    """A minimal load balancer in front of the workers' webhook endpoints."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets
        self.forwarded: Counter[str] = Counter()
        self._next = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def _forward(self, request: web.Request) -> web.Response:
        target = self.targets[self._next % len(self.targets)]
        self._next += 1
        assert self._session is not None
        body = await request.read()
        headers = {
            "Content-Type": "application/json",
            SECRET_HEADER: request.headers.get(SECRET_HEADER, ""),
        }
        async with self._session.post(target + WEBHOOK_PATH, data=body, headers=headers) as reply:
            self.forwarded[target] += 1
            return web.Response(status=reply.status, text=await reply.text())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RoundRobin]:
        app = web.Application()
        app.router.add_post(WEBHOOK_PATH, self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
        self._session = aiohttp.ClientSession()
        try:
            yield self
        finally:
            await self._session.close()
            await self._runner.cleanup()


class WorkerProcess:
    """One ``loket run`` child process in webhook mode; its output goes to ``log``."""

    def __init__(self, env: Mapping[str, str], port: int, log: Path) -> None:
        self.env = dict(env)
        self.port = port
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            env={**self.env, "LOKET_PORT": str(self.port)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        ready = asyncio.get_running_loop().create_future()
        self._pump = asyncio.create_task(self._copy_output(ready))
        try:
            async with asyncio.timeout(START_TIMEOUT):
                await ready
        except TimeoutError:
            raise AssertionError(f"worker did not start:\n{self.log.read_text()}") from None

    async def _copy_output(self, ready: asyncio.Future[None]) -> None:
        assert self.process is not None and self.process.stdout is not None
        with self.log.open("ab") as output:
            while line := await self.process.stdout.readline():
                output.write(line)
                output.flush()
                if READY_LINE in line.decode(errors="replace") and not ready.done():
                    ready.set_result(None)
        if not ready.done():
            ready.set_exception(AssertionError(f"worker exited:\n{self.log.read_text()}"))

    async def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.returncode is None:
            self.process.terminate()
        code = await self.process.wait()
        if self._pump is not None:
            await self._pump
        return code


def worker_env(
    database_url: str,
    token: str,
    bot_api_url: str,
    webhook_url: str,
    agencies: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a worker: this one without Loket's own settings, plus these.
    ``agencies``: the OPD URLs (a sandbox's); Telegram mode never starts a sandbox itself."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("TELEGRAM_", "WEBHOOK_", "DATABASE_", "ADMIN_", "BROADCAST_", "LOKET_", "FLOOD_")
        )
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_BASE_URL": bot_api_url,
            "WEBHOOK_URL": webhook_url,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "BROADCAST_RATE": "30",
            "FLOOD_MAX_MESSAGES": "100",
            "CALLBACK_SECRET": "two-worker-callbacks",
            "PTB_TIMEDELTA": "1",
        }
    )
    env.update(agencies or {})
    return env
