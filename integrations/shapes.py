"""Hand-written checks that turn decoded JSON into typed values, or a typed error.

An OPD's reply is untrusted input: a missing field, a string where a number belongs or an
unknown status must become :class:`InvalidReply` (the flow's ``invalid`` outcome), never a
``KeyError`` deep inside a conversation. Kept free of third-party validation libraries on
purpose: the rules are few and the error messages must be ours.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from integrations.errors import InvalidReply

WIT = timezone(timedelta(hours=9), "WIT")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_TIME = re.compile(r"\d{2}:\d{2}(:\d{2})?", re.ASCII)
_MAX_TEXT = 2000


class Shape:
    """Field readers bound to one OPD name, so every error says who sent the bad reply."""

    def __init__(self, opd: str) -> None:
        self.opd = opd

    def fail(self, what: str) -> InvalidReply:
        return InvalidReply(self.opd, "shape", what)

    def obj(self, value: Any, what: str = "reply") -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"{what} is not an object")
        return value

    def array(self, value: Any, what: str = "reply") -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(f"{what} is not an array")
        return value

    def text(self, data: Mapping[str, Any], key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
            raise self.fail(f"{key} must be a non-empty string")
        return value.strip()

    def opt_text(self, data: Mapping[str, Any], key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > _MAX_TEXT:
            raise self.fail(f"{key} must be a string or null")
        return value.strip() or None

    def integer(self, data: Mapping[str, Any], key: str, minimum: int = 0) -> int:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(f"{key} must be an integer >= {minimum}")
        return value

    def choice(self, data: Mapping[str, Any], key: str, allowed: Collection[str]) -> str:
        value = data.get(key)
        if not isinstance(value, str) or value not in allowed:
            raise self.fail(f"{key} must be one of {sorted(allowed)}")
        return value

    def day(self, data: Mapping[str, Any], key: str) -> date:
        value = data.get(key)
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise self.fail(f"{key} must be a date YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.fail(f"{key} is not a calendar date") from None

    def opt_day(self, data: Mapping[str, Any], key: str) -> date | None:
        return None if data.get(key) is None else self.day(data, key)

    def clock_time(self, data: Mapping[str, Any], key: str) -> time:
        value = data.get(key)
        if not isinstance(value, str) or not _TIME.fullmatch(value):
            raise self.fail(f"{key} must be a time HH:MM")
        try:
            return time.fromisoformat(value)
        except ValueError:
            raise self.fail(f"{key} is not a time of day") from None

    def moment(self, data: Mapping[str, Any], key: str) -> datetime:
        """An RFC 3339 timestamp; one without an offset is taken as WIT (Timika time)."""
        value = data.get(key)
        if not isinstance(value, str) or not _DATE.match(value) or len(value) > 40:
            raise self.fail(f"{key} must be an RFC 3339 date-time")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(f"{key} is not a date-time") from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=WIT)

    def texts(self, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = data.get(key)
        if not isinstance(value, list) or not all(
            isinstance(item, str) and len(item) <= _MAX_TEXT for item in value
        ):
            raise self.fail(f"{key} must be an array of strings")
        return tuple(item.strip() for item in value if item.strip())
