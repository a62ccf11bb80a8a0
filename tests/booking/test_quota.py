"""Queue quotas from the region file, and the free dates and sessions computed from them."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.booking.quota import (
    WEEKDAYS,
    QueueSession,
    ServiceQueue,
    free_days,
    free_sessions,
)
from bot.region import default_region_path, load_region, parse_region
from bot.yamlsrc import YamlError, load_yaml_text

WIT = dt.timezone(dt.timedelta(hours=9))
REGION_TEXT = default_region_path().read_text(encoding="utf-8")


def _region_with(queues: str):  # type: ignore[no-untyped-def]
    """The Mimika region file with its ``queues`` block replaced by ``queues``."""
    head = REGION_TEXT.split("\nqueues:", 1)[0]
    text = head + "\n" + textwrap.dedent(queues)
    return parse_region(load_yaml_text(text, "regions/test.yaml"), "regions/test.yaml"), text


def _error(queues: str) -> YamlError:
    with pytest.raises(YamlError) as caught:
        _region_with(queues)
    return caught.value


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_the_mimika_file_has_queues_inside_office_hours() -> None:
    region = load_region(default_region_path())
    queue = region.queues.get("disdukcapil", "disdukcapil.ktp_baru")
    assert queue is not None
    assert queue.window_days == 30
    assert [s.key for s in queue.sessions] == ["08:00-10:00", "10:00-12:00", "13:00-15:00"]
    assert queue.days == frozenset({"mon", "tue", "wed", "thu", "fri"})
    assert region.queues.for_service("disdukcapil.kk_baru") is not None
    assert region.queues.for_service("bapenda.pbb_cek") is None


def test_a_region_without_queues_books_nothing() -> None:
    region, _ = _region_with("")
    assert not region.queues


BAD = [
    (
        """
        queues:
          offices:
            disdukcapil:
              disdukcapil.ktp_baru:
                days: [mon, funday]
                sessions: [{time: "08:00-10:00", quota: 5}]
        """,
        "days: [mon, funday]",
        "'funday' is not one of mon",
    ),
    (
        """
        queues:
          offices:
            disdukcapil:
              disdukcapil.ktp_baru:
                days: [mon]
                sessions:
                  - {time: "08:00-10:00", quota: 0}
        """,
        "quota: 0",
        "a whole number from 1 to 1000",
    ),
    (
        """
        queues:
          offices:
            disdukcapil:
              disdukcapil.ktp_baru:
                days: [mon]
                sessions:
                  - {time: "10:00-08:00", quota: 5}
        """,
        "10:00-08:00",
        "ends before it starts",
    ),
    (
        """
        queues:
          offices:
            disdukcapil:
              disdukcapil.ktp_baru:
                days: [mon]
                sessions:
                  - {time: "08:00-10:00", quota: 5}
                  - {time: "09:30-11:00", quota: 5}
        """,
        "09:30-11:00",
        "overlap",
    ),
    (
        """
        queues:
          offices:
            disdukcapil:
              disdukcapil.ktp_baru:
                days: [sat]
                sessions:
                  - {time: "08:00-10:00", quota: 5}
        """,
        "08:00-10:00",
        "outside the office's hours (offices.disdukcapil.hours.sat)",
    ),
    (
        """
        queues:
          offices:
            kantor_bulan:
              x.y:
                days: [mon]
                sessions: [{time: "08:00-10:00", quota: 5}]
        """,
        "kantor_bulan:",
        "unknown office 'kantor_bulan'",
    ),
    (
        """
        queues:
          window_days: 400
          offices: {}
        """,
        "window_days: 400",
        "1 to 90 days",
    ),
    (
        """
        queues:
          offices:
            disdukcapil:
              disdukcapil.ktp_baru:
                days: [mon]
                sessions: [{time: "8 pagi", quota: 5}]
        """,
        "8 pagi",
        "write the session as '08:00-10:00'",
    ),
]


@pytest.mark.parametrize(("block", "where", "message"), BAD)
def test_a_bad_queue_is_refused_with_file_line_and_reason(
    block: str, where: str, message: str
) -> None:
    error = _error(block)
    head = REGION_TEXT.split("\nqueues:", 1)[0]
    text = head + "\n" + textwrap.dedent(block)
    assert error.path == "regions/test.yaml"
    assert error.line == _line(text, where), (error.line, str(error))
    assert message in error.problem


# -- availability ------------------------------------------------------------------------

QUEUE = ServiceQueue(
    office="disdukcapil",
    service="disdukcapil.ktp_baru",
    days=frozenset({"mon", "tue", "wed", "thu", "fri"}),
    sessions=(
        QueueSession(dt.time(8), dt.time(10), 2),
        QueueSession(dt.time(10), dt.time(12), 1),
    ),
    window_days=30,
)
MONDAY = dt.datetime(2026, 12, 7, 7, 0, tzinfo=WIT)


def test_today_is_bookable_until_the_session_starts() -> None:
    at_nine = MONDAY.replace(hour=9)
    keys = [s.session.key for s in free_sessions(QUEUE, at_nine.date(), at_nine, frozenset(), {})]
    assert keys == ["10:00-12:00"]
    assert free_sessions(QUEUE, MONDAY.date(), MONDAY.replace(hour=10), frozenset(), {}) == ()


def test_weekends_holidays_and_full_days_are_skipped_and_next_week_is_announced() -> None:
    holidays = frozenset({dt.date(2026, 12, 8)})
    taken = {(dt.date(2026, 12, 9), "08:00-10:00"): 2, (dt.date(2026, 12, 9), "10:00-12:00"): 1}
    days, more = free_days(QUEUE, MONDAY, holidays, taken, limit=3)
    assert [d.day for d in days] == [
        dt.date(2026, 12, 7),
        dt.date(2026, 12, 10),
        dt.date(2026, 12, 11),
    ]
    assert more == dt.date(2026, 12, 14)  # the weekend is closed
    later, _ = free_days(QUEUE, MONDAY, holidays, taken, start=more, limit=3)
    assert later[0].day == dt.date(2026, 12, 14)


def test_the_window_ends_the_dates() -> None:
    short = ServiceQueue("o", "s", frozenset(WEEKDAYS), QUEUE.sessions, window_days=2)
    days, more = free_days(short, MONDAY, frozenset(), {}, limit=7)
    assert [d.day for d in days] == [
        dt.date(2026, 12, 7),
        dt.date(2026, 12, 8),
        dt.date(2026, 12, 9),
    ]
    assert more is None


@st.composite
def scenarios(draw):  # type: ignore[no-untyped-def]
    days = frozenset(draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1)))
    quotas = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    sessions = tuple(
        QueueSession(dt.time(8 + 2 * i), dt.time(9 + 2 * i), quota)
        for i, quota in enumerate(quotas)
    )
    queue = ServiceQueue("o", "s", days, sessions, window_days=draw(st.integers(1, 40)))
    now = dt.datetime(2026, 1, 1, tzinfo=WIT) + dt.timedelta(
        minutes=draw(st.integers(0, 60 * 24 * 800))
    )
    span = [now.date() + dt.timedelta(days=i) for i in range(45)]
    holidays = frozenset(draw(st.sets(st.sampled_from(span), max_size=10)))
    taken = {
        (day, s.key): draw(st.integers(0, s.quota))
        for day in draw(st.sets(st.sampled_from(span), max_size=20))
        for s in sessions
    }
    start = now.date() + dt.timedelta(days=draw(st.integers(-3, 45)))
    limit = draw(st.integers(1, 7))
    return queue, now, holidays, taken, start, limit


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_free_days_are_exactly_the_open_unfilled_days_in_the_window(scenario) -> None:  # type: ignore[no-untyped-def]
    queue, now, holidays, taken, start, limit = scenario
    days, more = free_days(queue, now, holidays, taken, start=start, limit=limit)
    today = now.date()
    # The reference answer, day by day, written independently of free_days' loop.
    expected = []
    day = max(start, today)
    while day <= today + dt.timedelta(days=queue.window_days):
        open_day = WEEKDAYS[day.weekday()] in queue.days and day not in holidays
        free = [
            s
            for s in queue.sessions
            if open_day
            and not (day == today and s.start <= now.time().replace(tzinfo=None))
            and taken.get((day, s.key), 0) < s.quota
        ]
        if free:
            expected.append((day, [s.key for s in free]))
        day += dt.timedelta(days=1)
    assert [(d.day, [s.session.key for s in d.sessions]) for d in days] == expected[:limit]
    assert more == (expected[limit][0] if len(expected) > limit else None)
    for free_day in days:
        assert free_day.day not in holidays
        assert all(
            s.free == s.session.quota - taken.get((free_day.day, s.session.key), 0)
            for s in free_day.sessions
        )
        assert all(s.free > 0 for s in free_day.sessions)
