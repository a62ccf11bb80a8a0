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
# Issue 7 (structured logs): what else must never reach a log line whole.
# A Telegram bot token, ``123456789:AAH...`` (also inside a Bot API URL, ``/bot<token>/``,
# and percent-encoded). Masked before the digit runs, which would otherwise hide its prefix
# and leave the secret half in place.
_BOT_TOKEN = re.compile(r"(?<![0-9])[0-9]{5,}(?::|%3[Aa])[A-Za-z0-9_\-]{30,}")
# An Indonesian mobile number written loosely (``0812 - 3456 - 7890``, ``+62 (812) 3456-789``):
# the digit-run rule below only joins single separators. The last group may be one digit
# (``0812 3456 7890 1``, a 13-digit number in fours), which would otherwise stay visible.
_PHONE = re.compile(
    r"(?<![0-9])(?:\+?62|0)[ .\-]{0,3}\(?8[0-9]{1,3}\)?(?:[ .\-]{0,3}[0-9]{2,5}){2,3}"
    r"(?:[ .\-]{0,3}[0-9])?(?![0-9])"
)
# ``name=value`` / ``"name": "value"`` / ``Name: value`` where the name looks like a secret
# (api_key, access_token, X-Telegram-Bot-Api-Secret-Token, client_secret, passwd, ...).
_SECRET_NAMED = re.compile(
    r"(?i)(\b[\w.\-]*(?:token|secret|passw(?:or)?d|pwd|signature|api[_\-]?key|apikey|credential)"
    r"[\w.\-]*[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}]+)"
)
# Short query parameter names that carry secrets in URLs: ?key=, &sig=, &auth=, &hash=.
_SECRET_SHORT = re.compile(r"(?i)([?&;](?:key|sig|auth|hash|code|otp)=)([^&\s\"']+)")

_KEEP_HEAD = 2
_KEEP_TAIL = 2


def _mask_digits(match: re.Match[str]) -> str:
    return _keep_ends(match.group(0))


def _keep_ends(text: str) -> str:
    """Replaces every digit but the first and last two with ``*``; separators stay."""
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

    Long digit runs cover NIK (16 digits), NOP (18, also dotted ``63.09.xxx.xxx.xxx-xxxx.x``),
    application and phone numbers; Indonesian mobile numbers written with wider separators,
    Telegram bot tokens and secret-looking ``name=value`` pairs are masked too.

    >>> mask_identifiers("GET /v1/pbb/941201000100100010 Bearer abc123")
    'GET /v1/pbb/94**************10 Bearer ***'
    """
    text = _BOT_TOKEN.sub(_mask_bot_token, text)
    text = _PHONE.sub(_mask_digits, text)
    text = _DIGIT_RUN.sub(_mask_digits, text)
    text = _BEARER.sub(r"\1***", text)
    text = _SECRET_PARAM.sub(r"\1=***", text)
    text = _SECRET_NAMED.sub(_mask_secret_value, text)
    return _SECRET_SHORT.sub(r"\1***", text)


def _mask_bot_token(match: re.Match[str]) -> str:
    """``123456789:AAH...`` -> ``12*******89:***``: which bot, never its secret half."""
    bot_id = re.split(r":|%3[Aa]", match.group(0), maxsplit=1)[0]
    return f"{_keep_ends(bot_id)}:***"


def _mask_secret_value(match: re.Match[str]) -> str:
    value = match.group(2)
    return match.group(0) if value == "***" else f"{match.group(1)}***"


def mask_nop(nop: str) -> str:
    """Shows an 18-digit NOP in its dotted form with the block and object digits hidden.

    The province/regency prefix and the last five digits are kept so a citizen with several
    tax objects can tell which bill this is, while the full number is never repeated back.
    """
    digits = "".join(ch for ch in nop if ch.isdigit())
    if len(digits) != 18:
        return "*" * len(digits)
    return f"{digits[0:2]}.{digits[2:4]}.***.***.***-{digits[13:17]}.{digits[17]}"
