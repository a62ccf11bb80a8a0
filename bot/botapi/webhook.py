"""Webhook delivery: POST each queued update to the bot, like Telegram's WebhookActor.

One sequential worker per bot keeps the updates in order; a non-2xx answer or a connection
error is recorded (``getWebhookInfo.last_error_message``, ``deliveries``) and retried with
a doubling delay, as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.botapi.state import BotState, WebhookDelivery

Execute = Callable[[BotState, str, dict[str, Any]], Awaitable[None]]
_NOT_FROM_WEBHOOK = ("setwebhook", "deletewebhook", "close", "logout")


class WebhookDeliverer:
    """Starts and stops the per-bot delivery workers."""

    def __init__(self, execute: Execute) -> None:
        self._execute = execute
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._stopping = asyncio.Event()

    def ensure(self, state: BotState) -> None:
        """Make sure a worker runs while ``state`` has a webhook."""
        task = self._tasks.get(state.token)
        if state.webhook is None or (task is not None and not task.done()):
            return
        self._tasks[state.token] = asyncio.get_running_loop().create_task(
            self._run(state), name=f"webhook-{state.user.id}"
        )

    async def stop(self) -> None:
        self._stopping.set()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _run(self, state: BotState) -> None:
        delay = state.limits.webhook_retry_initial_delay
        while not state.closing and state.webhook is not None:
            pending = state.pending(1)
            if not pending:
                await state.signal.wait(None)
                continue
            ok = await self._deliver_one(state, pending[0].update_id, pending[0].to_api())
            if ok:
                delay = state.limits.webhook_retry_initial_delay
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stopping.wait()
            delay = min(delay * 2, state.limits.webhook_retry_max_delay)

    async def _deliver_one(self, state: BotState, update_id: int, update: dict[str, Any]) -> bool:
        config = state.webhook
        if config is None:
            return False
        headers = {"Content-Type": "application/json"}
        if config.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = config.secret_token
        status: int | None = None
        error: str | None = None
        reply: Any = None
        try:
            async with self._client().post(
                config.url,
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=state.limits.webhook_timeout),
            ) as response:
                status = response.status
                if response.content_type == "application/json":
                    with contextlib.suppress(ValueError, aiohttp.ContentTypeError):
                        reply = await response.json()
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"Connection failed: {type(exc).__name__}"
        state.deliveries.append(WebhookDelivery(update_id, status, error, config.secret_token))
        if error is not None:
            state.webhook_last_error = (int(time.time()), error)
            state.changed()
            return False
        state.remove_update(update_id)
        state.stats.webhook_deliveries += 1
        state.changed()
        if isinstance(reply, dict) and isinstance(reply.get("method"), str):
            name = reply["method"]
            if not name.lower().startswith("get") and name.lower() not in _NOT_FROM_WEBHOOK:
                params = {k: v for k, v in reply.items() if k != "method"}
                await self._execute(state, name, params)
        return True
