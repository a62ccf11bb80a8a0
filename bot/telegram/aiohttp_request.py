"""A python-telegram-bot request class on aiohttp, the HTTP library Loket already uses.

PTB's default :class:`~telegram.request.HTTPXRequest` works, but httpx costs noticeably more
CPU per call than aiohttp, and a front desk spends most of its time making small Bot API
calls (one ``sendMessage`` per answer). :class:`AiohttpRequest` keeps one
:class:`aiohttp.ClientSession` with a connection pool sized for concurrent updates, and sends
parameters as a JSON body (``multipart/form-data`` when uploading files), both of which the
Bot API accepts like the form body httpx sends.

PTB's four timeouts map onto aiohttp's as follows (aiohttp has no write timeout):

* ``read_timeout``     -> ``sock_read`` (longest wait for any chunk of the answer);
* ``connect_timeout``  -> ``sock_connect`` (opening the TCP connection);
* ``pool_timeout``     -> added to ``connect_timeout`` as ``connect``, since aiohttp's
  ``connect`` covers waiting for a free connection of the pool *and* opening one;
* ``write_timeout``    -> bounds the whole call: ``total`` is the sum of the four, so a stalled
  upload ends too. Any of them being ``None`` (wait forever) leaves ``total`` unbounded.

Like :class:`HTTPXRequest`, ``media_write_timeout`` replaces ``write_timeout`` for calls that
upload files, timeouts end in :class:`telegram.error.TimedOut` and other transport failures in
:class:`telegram.error.NetworkError`. Bot API error answers (400, 403, ...) are not errors
here: the status and body go back to PTB, which raises ``BadRequest``, ``Forbidden``, etc.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

logger = logging.getLogger(__name__)

_DefaultValue = type(BaseRequest.DEFAULT_NONE)  # PTB's DefaultValue, without a private import
_JSON = {"Content-Type": "application/json"}
# aiohttp >= 3.10 tells a connect timeout from a read timeout; before, both are plain timeouts.
_CONNECT_TIMEOUT: Any = getattr(aiohttp, "ConnectionTimeoutError", ())


def _given(value: object, default: float | None) -> float | None:
    """PTB passes ``DEFAULT_NONE`` for "use the instance's default"; ``None`` means no limit."""
    if isinstance(value, _DefaultValue):
        return default
    return value  # type: ignore[return-value]


def _sum(*parts: float | None) -> float | None:
    if any(part is None for part in parts):
        return None
    return float(sum(parts))  # type: ignore[arg-type]


class AiohttpRequest(BaseRequest):
    """:class:`telegram.request.BaseRequest` on one :class:`aiohttp.ClientSession`.

    Args:
        connection_pool_size: connections kept open at most (also the number of concurrent
            calls). 256 as for HTTPXRequest; 1 is enough for ``get_updates_request``.
        read_timeout, write_timeout, connect_timeout, pool_timeout: defaults in seconds for
            calls that do not pass their own (``None`` = no limit); see the module docstring.
        media_write_timeout: ``write_timeout`` for calls that upload files.
        proxy: an HTTP proxy URL for every call, optional.
        trust_env: let aiohttp read proxy settings from the environment.

    The session is created on :meth:`initialize` (PTB calls it from ``Bot.initialize``) or
    on first use, always inside the running event loop; :meth:`shutdown` closes it, and a
    later :meth:`initialize` opens a new one.
    """

    __slots__ = (
        "_closed",
        "_connect_timeout",
        "_default_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
        "_session",
        "_trust_env",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        *,
        proxy: str | None = None,
        trust_env: bool = False,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._default_timeout = self._timeout(
            read_timeout, write_timeout, connect_timeout, pool_timeout
        )

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout; PTB adds the long-polling timeout to it for getUpdates."""
        return self._read_timeout

    @staticmethod
    def _timeout(
        read: float | None, write: float | None, connect: float | None, pool: float | None
    ) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(
            total=_sum(read, write, connect, pool),
            connect=_sum(connect, pool),
            sock_connect=connect,
            sock_read=read,
        )

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._default_timeout,
            headers={"User-Agent": self.USER_AGENT},
            trust_env=self._trust_env,
        )
        self._closed = False
        return self._session

    async def initialize(self) -> None:
        """Open the session (again, after a :meth:`shutdown`)."""
        if self._session is None or self._session.closed:
            self._open()

    async def shutdown(self) -> None:
        """Close the session and its connections; idempotent."""
        session, self._session = self._session, None
        self._closed = True
        if session is None or session.closed:
            logger.debug("AiohttpRequest already shut down")
            return
        await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See :meth:`telegram.request.BaseRequest.do_request`."""
        session = self._session
        if session is None or session.closed:
            if self._closed:
                raise RuntimeError("This AiohttpRequest is shut down; initialize() it again")
            session = self._open()

        files = request_data.multipart_data if request_data is not None else None
        data: Any = None
        headers: dict[str, str] | None = None
        if files:
            form = aiohttp.FormData(quote_fields=False)
            for name, value in request_data.json_parameters.items():  # type: ignore[union-attr]
                form.add_field(name, value)
            for name, (filename, content, mime_type) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime_type)
            data = form
        elif request_data is not None:
            parameters = request_data.json_parameters
            if parameters:
                # A JSON body, which the Bot API accepts like a form; json.dumps is C code
                # while urlencode quotes a 1.5 KB answer byte by byte in Python (~15x slower).
                data = json.dumps(parameters).encode()
                headers = _JSON

        defaults = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        if not files and all(isinstance(value, _DefaultValue) for value in defaults):
            timeout = self._default_timeout
        else:
            write_default = self._media_write_timeout if files else self._write_timeout
            timeout = self._timeout(
                _given(read_timeout, self._read_timeout),
                _given(write_timeout, write_default),
                _given(connect_timeout, self._connect_timeout),
                _given(pool_timeout, self._pool_timeout),
            )

        try:
            async with session.request(
                method, url, data=data, headers=headers, timeout=timeout, proxy=self._proxy
            ) as response:
                return response.status, await response.read()
        except _CONNECT_TIMEOUT as exc:
            raise TimedOut(
                "Timed out waiting for a free connection of the pool or opening a new one "
                "(pool_timeout + connect_timeout)"
            ) from exc
        except TimeoutError as exc:  # aiohttp's socket timeouts and the total timeout
            raise TimedOut(f"Timed out: {exc}" if str(exc) else "Timed out") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
