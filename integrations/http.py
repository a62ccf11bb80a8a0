"""One careful GET to one OPD: deadline, retries, circuit breaker, typed failures.

Every OPD call goes through :class:`OpdHttp`, so the rules a citizen depends on live in one
place: an answer (or a polite "unavailable") within the OPD's timeout plus a little, retries
only where they are safe (idempotent GETs, on timeouts, connection errors and 5xx), and no
exception other than :mod:`integrations.errors` escaping to the flows. The aiohttp session is
shared by all OPDs and created inside an async lifecycle (:func:`open_session`), never at
import time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from bot.privacy import mask_identifiers
from integrations.breaker import CircuitBreaker, Clock
from integrations.errors import BadRequest, InvalidReply, NotFound, OpdError, Unavailable
from integrations.settings import OpdSettings

logger = logging.getLogger("integrations.http")

MAX_BODY_BYTES = 1_048_576
# Metrics hook (bot/observability): called once per call with (opd, outcome, seconds), the
# outcome being "ok" or the error's reason ("timeout", "not_found", "circuit_open"...).
CallObserver = Callable[[str, str, float], None]
USER_AGENT = "Loket/0.1 (+Kabupaten Mimika chat front desk)"


class _Retryable(Exception):
    """An attempt failed in a way worth one more try (timeout, connection error, 5xx)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@asynccontextmanager
async def open_session(*, connection_limit: int = 100) -> AsyncIterator[aiohttp.ClientSession]:
    """The one shared client session; closed (with its connections) when the block ends."""
    connector = aiohttp.TCPConnector(limit=connection_limit, limit_per_host=0)
    session = aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": USER_AGENT},
        raise_for_status=False,
        trust_env=False,
    )
    try:
        yield session
    finally:
        await session.close()


def _is_json_type(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _error_message(body: bytes) -> str:
    """The OPD's ``{"error": {"code", "message"}}`` as text for logs, if it sent one."""
    try:
        data = json.loads(body.decode("utf-8"))
        error = data["error"]
        return f"{error.get('code', '')}: {error.get('message', '')}"[:200]
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""


class OpdHttp:
    """GETs JSON from one OPD's base URL with its token, deadline, retries and breaker."""

    def __init__(
        self,
        settings: OpdSettings,
        session: aiohttp.ClientSession,
        *,
        breaker: CircuitBreaker | None = None,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._session = session
        self._breaker = breaker or CircuitBreaker(
            settings.breaker_threshold, settings.breaker_cooldown, clock
        )
        self._rng = rng or random.Random()
        self._base = settings.base_url.rstrip("/")
        self._observers: list[CallObserver] = []  # metrics hook, see observe()

    def observe(self, observer: CallObserver) -> None:
        """Adds a hook told the outcome and duration of every call (bot/observability)."""
        self._observers.append(observer)

    def _report(self, outcome: str, seconds: float) -> None:
        for observer in self._observers:
            observer(self.opd, outcome, seconds)

    @property
    def opd(self) -> str:
        return self._settings.opd

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    @property
    def timeout(self) -> float:
        return self._settings.timeout

    def url(self, segments: Sequence[str]) -> URL:
        """Builds ``base/seg1/seg2`` with every segment percent-encoded (no path tricks)."""
        path = "/".join(quote(segment, safe="") for segment in segments)
        return URL(f"{self._base}/{path}", encoded=True)

    async def get_json(
        self, segments: Sequence[str], params: Mapping[str, str] | None = None
    ) -> Any:
        """Returns the decoded JSON body of a 200 answer, or raises an :class:`OpdError`.

        One overall deadline (the OPD's ``timeout``) covers every attempt and backoff pause.
        """
        opd = self.opd
        url = self.url(segments)
        shown = mask_identifiers(url.path)
        if not self._breaker.allow():
            logger.info("%s GET %s refused: circuit open", opd, shown)
            self._report("circuit_open", 0.0)
            raise Unavailable(opd, "circuit_open")
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self._settings.timeout
        try:
            async with asyncio.timeout_at(deadline):
                body = await self._attempts(url, params, deadline)
        except TimeoutError:
            self._breaker.record_failure()
            logger.warning(
                "%s GET %s failed: timeout after %.2fs", opd, shown, loop.time() - started
            )
            self._report("timeout", loop.time() - started)
            raise Unavailable(opd, "timeout") from None
        except _Retryable as exc:
            self._breaker.record_failure()
            logger.warning(
                "%s GET %s failed: %s %s after %.2fs",
                opd,
                shown,
                exc.reason,
                mask_identifiers(exc.detail),
                loop.time() - started,
            )
            self._report(exc.reason, loop.time() - started)
            raise Unavailable(opd, exc.reason, mask_identifiers(exc.detail)) from None
        except OpdError as exc:
            # The OPD answered (404, 400, 401, odd body): the server is up, so the breaker
            # counts a success; the problem is this request, the data or the configuration.
            self._breaker.record_success()
            level = logging.ERROR if exc.reason == "unauthorized" else logging.INFO
            logger.log(level, "%s GET %s: %s", opd, shown, mask_identifiers(str(exc)))
            self._report(exc.reason, loop.time() - started)
            raise
        except BaseException:
            self._breaker.abandon()
            self._report("cancelled", loop.time() - started)
            raise
        self._breaker.record_success()
        self._report("ok", loop.time() - started)
        logger.debug("%s GET %s ok in %.3fs", opd, shown, loop.time() - started)
        return body

    async def _attempts(self, url: URL, params: Mapping[str, str] | None, deadline: float) -> Any:
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            try:
                return await self._once(url, params, deadline)
            except _Retryable as exc:
                attempt += 1
                if attempt > self._settings.max_retries:
                    raise
                pause = self._backoff(attempt)
                if loop.time() + pause >= deadline:
                    raise
                logger.info(
                    "%s GET %s: %s, retry %d in %.2fs",
                    self.opd,
                    mask_identifiers(url.path),
                    exc.reason,
                    attempt,
                    pause,
                )
                await asyncio.sleep(pause)

    def _backoff(self, attempt: int) -> float:
        """Exponential pause with jitter, so many bots do not retry in lockstep."""
        ceiling = self._settings.backoff_base * (2 ** (attempt - 1))
        return ceiling * self._rng.uniform(0.5, 1.0)

    async def _once(self, url: URL, params: Mapping[str, str] | None, deadline: float) -> Any:
        opd = self.opd
        remaining = max(deadline - asyncio.get_running_loop().time(), 0.001)
        timeout = aiohttp.ClientTimeout(
            total=remaining, connect=min(self._settings.connect_timeout, remaining)
        )
        headers = {
            "Authorization": f"Bearer {self._settings.token}",
            "Accept": "application/json",
        }
        try:
            async with self._session.get(
                url, params=params, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                status = response.status
                content_type = response.content_type
                body = await self._read_limited(response)
        except TimeoutError as exc:
            raise _Retryable("timeout", type(exc).__name__) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise _Retryable("connection", type(exc).__name__) from None
        except aiohttp.ClientResponseError as exc:
            raise InvalidReply(opd, "unexpected_status", f"HTTP {exc.status}") from None
        except aiohttp.ClientError as exc:
            raise Unavailable(opd, "connection", type(exc).__name__) from None

        if status >= 500:
            raise _Retryable("server_error", f"HTTP {status} {_error_message(body)}")
        if status == 404:
            raise NotFound(opd, _error_message(body))
        if status in (400, 422):
            raise BadRequest(opd, _error_message(body))
        if status in (401, 403):
            raise Unavailable(opd, "unauthorized", f"HTTP {status}: check {opd.upper()}_API_TOKEN")
        if status == 429:
            raise Unavailable(opd, "rate_limited", "HTTP 429")
        if status != 200:
            raise InvalidReply(opd, "unexpected_status", f"HTTP {status}")
        if not _is_json_type(content_type):
            raise InvalidReply(opd, "content_type", content_type[:80])
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise InvalidReply(opd, "malformed_json") from None

    async def _read_limited(self, response: aiohttp.ClientResponse) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while chunk := await response.content.read(65536):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise InvalidReply(self.opd, "too_large", f"over {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
