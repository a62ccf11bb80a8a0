"""The few ways an OPD call can fail, as types the actions map to flow outcomes.

Client methods raise only these (never aiohttp, JSON or KeyError exceptions), so a flow always
gets one of its four outcomes and a citizen never sees a crash because an OPD misbehaved.
"""

from __future__ import annotations


class OpdError(Exception):
    """Base of every integration failure; ``reason`` is a short machine-readable code."""

    def __init__(self, opd: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{opd}: {reason}" + (f" ({detail})" if detail else ""))
        self.opd = opd
        self.reason = reason
        self.detail = detail


class NotFound(OpdError):
    """The OPD answered 404: no such application, card, facility or tax object."""

    def __init__(self, opd: str, detail: str = "") -> None:
        super().__init__(opd, "not_found", detail)


class Unavailable(OpdError):
    """The OPD cannot answer now: timeout, 5xx, refused connection, open circuit, bad token.

    ``reason`` is one of ``timeout``, ``server_error``, ``connection``, ``circuit_open``,
    ``unauthorized``, ``rate_limited``, ``not_configured``.
    """


class InvalidReply(OpdError):
    """The OPD answered something we cannot use: malformed JSON, wrong type, wrong shape.

    ``reason`` is one of ``malformed_json``, ``content_type``, ``shape``, ``too_large``,
    ``unexpected_status``, ``bad_request``.
    """


class BadRequest(InvalidReply):
    """The OPD refused our request with 400 (e.g. a number format it does not accept)."""

    def __init__(self, opd: str, detail: str = "") -> None:
        super().__init__(opd, "bad_request", detail)
