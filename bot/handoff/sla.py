"""The SLA clock: how long a ticket has waited, counting office hours only.

A question sent on Friday evening has not waited over the weekend: the officer could not
have answered it. Pure functions of the office's hours, the holidays and two moments, so
they are tested on a fake clock (tests/handoff/test_sla.py) and never read today's date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Hours = Mapping[str, Sequence[tuple[dt.time, dt.time]]]
# Four office hours to a first answer: half a working day.
DEFAULT_SLA = dt.timedelta(hours=4)
MAX_DAYS = 400  # a safety bound on the day loop


def office_time(
    start: dt.datetime,
    end: dt.datetime,
    hours: Hours,
    holidays: frozenset[dt.date],
    zone: ZoneInfo,
) -> dt.timedelta:
    """The part of [start, end) that falls inside opening hours, in the office's zone."""
    if end <= start:
        return dt.timedelta(0)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    total = dt.timedelta(0)
    day = local_start.date()
    for _ in range(MAX_DAYS):
        if day > local_end.date():
            break
        if day not in holidays:
            for open_at, close_at in hours.get(WEEKDAYS[day.weekday()], ()):
                window_start = dt.datetime.combine(day, open_at, tzinfo=zone)
                window_end = dt.datetime.combine(day, close_at, tzinfo=zone)
                lo, hi = max(window_start, local_start), min(window_end, local_end)
                if hi > lo:
                    total += hi - lo
        day += dt.timedelta(days=1)
    return total


def due_at(
    start: dt.datetime,
    budget: dt.timedelta,
    hours: Hours,
    holidays: frozenset[dt.date],
    zone: ZoneInfo,
) -> dt.datetime | None:
    """The moment ``budget`` of office time after ``start`` is used up (None: never opens)."""
    left = budget
    local = start.astimezone(zone)
    day = local.date()
    for _ in range(MAX_DAYS):
        if day not in holidays:
            for open_at, close_at in hours.get(WEEKDAYS[day.weekday()], ()):
                window_start = max(dt.datetime.combine(day, open_at, tzinfo=zone), local)
                window_end = dt.datetime.combine(day, close_at, tzinfo=zone)
                if window_end <= window_start:
                    continue
                if window_end - window_start >= left:
                    return (window_start + left).astimezone(dt.UTC)
                left -= window_end - window_start
        day += dt.timedelta(days=1)
    return None


def waited_text(waited: dt.timedelta) -> str:
    """``2 j 15 m`` for the inbox (office time; an officer reads it at a glance)."""
    minutes = int(waited.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} j {minutes} m" if hours else f"{minutes} m"
