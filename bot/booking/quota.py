"""Queue quotas per office and service, and which dates and sessions are still free.

The quotas live in the region file's ``queues`` block, next to the offices' hours and the
holidays they must respect. Everything here is pure: the free dates are computed from the
quotas, the holidays, "now" (the injected clock, in WIT) and the number of slots already
taken, so the computation is tested on its own (tests/booking/test_quota.py, hypothesis).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.yamlsrc import YamlError, line_of

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 90  # a quarter: further ahead, holidays and staffing are not yet known
MAX_QUOTA = 1000  # per session; larger is a typo (one office reported 300 a day for KTP)
DAYS_PER_PAGE = 7  # the citizen sees at most a week of dates at a time


@dataclass(frozen=True, slots=True)
class QueueSession:
    """One session of a service's day: citizens booked for it come between start and end."""

    start: dt.time
    end: dt.time
    quota: int

    @property
    def key(self) -> str:
        """Stable name stored with each booking: ``"08:00-10:00"``."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class ServiceQueue:
    """The quota of one service at one office."""

    office: str
    service: str  # the flow intent id, e.g. disdukcapil.ktp_baru
    days: frozenset[str]
    sessions: tuple[QueueSession, ...]
    window_days: int = DEFAULT_WINDOW_DAYS

    def session(self, key: str) -> QueueSession | None:
        return next((s for s in self.sessions if s.key == key), None)

    def is_open_on(self, day: dt.date, holidays: frozenset[dt.date]) -> bool:
        return WEEKDAYS[day.weekday()] in self.days and day not in holidays

    def last_day(self, today: dt.date) -> dt.date:
        return today + dt.timedelta(days=self.window_days)


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """Every service queue of the region, by (office, service)."""

    # A dict, replaced in place when an admin applies new quotas from the console, so every
    # holder of the region (engine, actions, console) sees them at once.
    queues: dict[tuple[str, str], ServiceQueue]

    def replace_with(self, other: QueueConfig) -> None:
        self.queues.clear()
        self.queues.update(other.queues)

    def get(self, office: str, service: str) -> ServiceQueue | None:
        return self.queues.get((office, service))

    def for_service(self, service: str) -> ServiceQueue | None:
        """The queue of a service wherever it is served (services have one office)."""
        return next((q for (_o, s), q in self.queues.items() if s == service), None)

    def __bool__(self) -> bool:
        return bool(self.queues)


EMPTY = QueueConfig({})


# -- availability ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FreeSession:
    session: QueueSession
    free: int


@dataclass(frozen=True, slots=True)
class FreeDay:
    day: dt.date
    sessions: tuple[FreeSession, ...]

    @property
    def free(self) -> int:
        return sum(s.free for s in self.sessions)


Taken = Mapping[tuple[dt.date, str], int]  # (date, session key) -> slots held


def free_sessions(
    queue: ServiceQueue,
    day: dt.date,
    now: dt.datetime,
    holidays: frozenset[dt.date],
    taken: Taken,
) -> tuple[FreeSession, ...]:
    """The sessions of ``day`` a citizen can still book at ``now`` (local time, WIT).

    Today's sessions are bookable until they start (a citizen arriving later would find the
    counter busy with the booked ones); a day outside the window or closed has none.
    """
    today = now.date()
    if day < today or day > queue.last_day(today) or not queue.is_open_on(day, holidays):
        return ()
    result = []
    for session in queue.sessions:
        if day == today and session.start <= now.time().replace(tzinfo=None):
            continue
        free = session.quota - taken.get((day, session.key), 0)
        if free > 0:
            result.append(FreeSession(session, free))
    return tuple(result)


def free_days(
    queue: ServiceQueue,
    now: dt.datetime,
    holidays: frozenset[dt.date],
    taken: Taken,
    *,
    start: dt.date | None = None,
    limit: int = DAYS_PER_PAGE,
) -> tuple[tuple[FreeDay, ...], dt.date | None]:
    """Up to ``limit`` dates from ``start`` (default today) with a free session, in order,
    and the first date after them with one (None when the window has no more): the "next
    week" button is offered only when that date exists."""
    today = now.date()
    day = max(start or today, today)
    last = queue.last_day(today)
    found: list[FreeDay] = []
    while day <= last:
        sessions = free_sessions(queue, day, now, holidays, taken)
        if sessions:
            if len(found) == limit:
                return tuple(found), day
            found.append(FreeDay(day, sessions))
        day += dt.timedelta(days=1)
    return tuple(found), None


# -- parsing and validation --------------------------------------------------------------


class _QueueError(ValueError):
    def __init__(self, container: Any, key: str | int | None, message: str) -> None:
        super().__init__(message)
        self.line = line_of(container, key)


def _time(text: str, container: Any, key: str | int, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text.strip().replace(".", ":"))
    except ValueError:
        raise _QueueError(container, key, f"{where}: {text!r} is not a time like 08:00") from None


def _session(raw: Any, container: Any, index: int, where: str) -> QueueSession:
    if not isinstance(raw, dict) or "time" not in raw or "quota" not in raw:
        raise _QueueError(
            container, index, f"{where}: a session is {{time: '08:00-10:00', quota: 20}}"
        )
    start_text, dash, end_text = str(raw["time"]).partition("-")
    if not dash:
        raise _QueueError(raw, "time", f"{where}.time: write the session as '08:00-10:00'")
    start = _time(start_text, raw, "time", f"{where}.time")
    end = _time(end_text, raw, "time", f"{where}.time")
    if end <= start:
        raise _QueueError(raw, "time", f"{where}.time: {raw['time']!r} ends before it starts")
    quota = raw["quota"]
    if isinstance(quota, bool) or not isinstance(quota, int) or not 1 <= quota <= MAX_QUOTA:
        raise _QueueError(
            raw, "quota", f"{where}.quota: a whole number from 1 to {MAX_QUOTA}, not {quota!r}"
        )
    return QueueSession(start, end, quota)


def _service_queue(
    office: str,
    service: str,
    raw: Any,
    container: Any,
    hours: Mapping[str, tuple[tuple[dt.time, dt.time], ...]],
    default_window: int,
) -> ServiceQueue:
    where = f"queues.offices.{office}.{service}"
    if not isinstance(raw, dict):
        raise _QueueError(container, service, f"{where}: expected days, sessions and quota")
    unknown = set(raw) - {"days", "sessions", "window_days"}
    if unknown:
        raise _QueueError(raw, sorted(unknown)[0], f"{where}: unknown key {sorted(unknown)[0]!r}")
    days_raw = raw.get("days")
    if not isinstance(days_raw, list) or not days_raw:
        raise _QueueError(raw, "days", f"{where}.days: a list such as [mon, tue, wed]")
    days = []
    for index, day in enumerate(days_raw):
        if str(day) not in WEEKDAYS:
            raise _QueueError(
                days_raw, index, f"{where}.days: {day!r} is not one of {', '.join(WEEKDAYS)}"
            )
        days.append(str(day))
    sessions_raw = raw.get("sessions")
    if not isinstance(sessions_raw, list) or not sessions_raw:
        raise _QueueError(raw, "sessions", f"{where}.sessions: at least one session")
    sessions = [
        _session(item, sessions_raw, index, f"{where}.sessions[{index + 1}]")
        for index, item in enumerate(sessions_raw)
    ]
    ordered = sorted(sessions, key=lambda s: s.start)
    for first, second in itertools.pairwise(ordered):
        if second.start < first.end:
            raise _QueueError(
                sessions_raw,
                sessions.index(second),
                f"{where}.sessions: {first.key} and {second.key} overlap",
            )
    for day in days:
        for index, session in enumerate(sessions):
            if not any(s <= session.start and session.end <= e for s, e in hours.get(day, ())):
                raise _QueueError(
                    sessions_raw,
                    index,
                    f"{where}.sessions: {session.key} on {day} is outside the office's hours "
                    f"(offices.{office}.hours.{day})",
                )
    window = raw.get("window_days", default_window)
    if (
        isinstance(window, bool)
        or not isinstance(window, int)
        or not 1 <= window <= MAX_WINDOW_DAYS
    ):
        raise _QueueError(
            raw,
            "window_days",
            f"{where}.window_days: a whole number of days from 1 to {MAX_WINDOW_DAYS}",
        )
    return ServiceQueue(office, service, frozenset(days), tuple(ordered), window)


def parse_queues(
    data: Any,
    path: str,
    office_hours: Mapping[str, Mapping[str, tuple[tuple[dt.time, dt.time], ...]]],
) -> QueueConfig:
    """The region file's ``queues`` block; a mistake raises YamlError with its line.

    ``office_hours`` are the offices' parsed hours: a session must lie inside them.
    """
    if data is None:
        return QueueConfig({})  # its own dict: the console may fill it (bot/booking/editor.py)
    try:
        if not isinstance(data, dict):
            raise _QueueError(data, None, "queues: expected window_days and offices")
        unknown = set(data) - {"window_days", "offices"}
        if unknown:
            name = sorted(unknown)[0]
            raise _QueueError(data, name, f"queues: unknown key {name!r}")
        default_window = data.get("window_days", DEFAULT_WINDOW_DAYS)
        if (
            isinstance(default_window, bool)
            or not isinstance(default_window, int)
            or not 1 <= default_window <= MAX_WINDOW_DAYS
        ):
            raise _QueueError(
                data, "window_days", f"queues.window_days: 1 to {MAX_WINDOW_DAYS} days"
            )
        offices = data.get("offices") or {}
        if not isinstance(offices, dict):
            raise _QueueError(data, "offices", "queues.offices: map office keys to services")
        queues: dict[tuple[str, str], ServiceQueue] = {}
        for office, services in offices.items():
            if office not in office_hours:
                raise _QueueError(offices, office, f"queues.offices: unknown office {office!r}")
            if not isinstance(services, dict) or not services:
                raise _QueueError(
                    offices, office, f"queues.offices.{office}: map services to their quota"
                )
            for service, raw in services.items():
                queues[(str(office), str(service))] = _service_queue(
                    str(office), str(service), raw, services, office_hours[office], default_window
                )
        return QueueConfig(queues)
    except _QueueError as error:
        raise YamlError(path, error.line, str(error)) from None
