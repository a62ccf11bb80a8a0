"""Masking of personal identifiers before anything reaches a log.

NIKs, NOPs and application numbers are personal data (UU 27/2022 PDP): a log line must let an
operator follow a request without revealing whose it was. Everything that logs a URL, a
citizen answer or an OPD error message passes it through :func:`mask_identifiers` first.
"""

from __future__ import annotations

import re

# Eight or more digits, optionally separated by single dots, dashes or spaces (a NIK, a NOP
# in dotted form, an application number such as 7301-2026-000481, a phone number).
_DIGIT_RUN = re.compile(r"(?<![0-9])(?:[0-9][ .\-]?){7,}[0-9](?![0-9])")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")
_SECRET_PARAM = re.compile(r"(?i)\b(token|secret|password|signature)=([^&\s]+)")

_KEEP_HEAD = 2
_KEEP_TAIL = 2


def _mask_digits(match: re.Match[str]) -> str:
    text = match.group(0)
    total = sum(ch.isdigit() for ch in text)
    out: list[str] = []
    seen = 0
    for ch in text:
        if ch.isdigit():
            keep = seen < _KEEP_HEAD or seen >= total - _KEEP_TAIL
            out.append(ch if keep else "*")
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


def mask_identifiers(text: str) -> str:
    """Masks long digit runs (keeping two digits at each end), bearer tokens and secrets.

    >>> mask_identifiers("GET /v1/pbb/941201000100100010 Bearer abc123")
    'GET /v1/pbb/94**************10 Bearer ***'
    """
    text = _DIGIT_RUN.sub(_mask_digits, text)
    text = _BEARER.sub(r"\1***", text)
    return _SECRET_PARAM.sub(r"\1=***", text)


def mask_nop(nop: str) -> str:
    """Shows an 18-digit NOP in its dotted form with the block and object digits hidden.

    The province/regency prefix and the last five digits are kept so a citizen with several
    tax objects can tell which bill this is, while the full number is never repeated back.
    """
    digits = "".join(ch for ch in nop if ch.isdigit())
    if len(digits) != 18:
        return "*" * len(digits)
    return f"{digits[0:2]}.{digits[2:4]}.***.***.***-{digits[13:17]}.{digits[17]}"
