"""The SLA clock counts office hours only: not nights, weekends or holidays (fake clock)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.handoff.sla import due_at, office_time, waited_text
from bot.region import default_region_path, load_region

WIT = ZoneInfo("Asia/Jayapura")
DAY = ((dt.time(8), dt.time(15)),)
HOURS = {d: DAY for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": (), "sun": ()}
# Friday 4 December 2026; Monday 7 December a holiday (invented for the test), so Tuesday
# is the next working day.
HOLIDAY = dt.date(2026, 12, 7)


def wit(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=WIT)


def test_a_friday_evening_question_has_not_waited_over_the_weekend_and_the_holiday() -> None:
    asked = wit(4, 14)  # Friday 14.00: one office hour left that day
    answered = wit(8, 9, 30)  # Tuesday 09.30 (Monday is a holiday)
    waited = office_time(asked, answered, HOURS, frozenset({HOLIDAY}), WIT)
    assert waited == dt.timedelta(hours=2, minutes=30)
    # Without the holiday, Monday's seven hours count.
    assert office_time(asked, answered, HOURS, frozenset(), WIT) == dt.timedelta(
        hours=9, minutes=30
    )
    assert waited_text(waited) == "2 j 30 m"


def test_the_sla_due_time_skips_the_weekend_and_the_holiday() -> None:
    due = due_at(wit(4, 14), dt.timedelta(hours=4), HOURS, frozenset({HOLIDAY}), WIT)
    assert due == wit(8, 11).astimezone(dt.UTC)  # 1 h on Friday + 3 h on Tuesday
    assert due_at(wit(5, 10), dt.timedelta(hours=1), HOURS, frozenset(), WIT) == wit(
        7, 9
    ).astimezone(dt.UTC)


def test_nothing_counts_outside_hours_or_backwards() -> None:
    assert office_time(wit(5, 8), wit(6, 20), HOURS, frozenset(), WIT) == dt.timedelta(0)
    assert office_time(wit(4, 10), wit(4, 9), HOURS, frozenset(), WIT) == dt.timedelta(0)
    assert office_time(wit(4, 20), wit(4, 23), HOURS, frozenset(), WIT) == dt.timedelta(0)


def test_the_region_file_hours_and_holidays_are_usable() -> None:
    region = load_region(default_region_path())
    office = region.offices[region.opds["disdukcapil"].office]
    christmas = dt.date(2026, 12, 25)
    assert christmas in region.holiday_dates
    # Thursday 24 December 14.00 -> Monday 28 December 09.00: the joint leave, Christmas and
    # the weekend are off; only Monday's first hour counts.
    waited = office_time(
        wit(24, 14), wit(28, 9), office.hours, region.holiday_dates, region.timezone
    )
    assert waited == dt.timedelta(hours=1)


moments = st.datetimes(min_value=dt.datetime(2026, 11, 1), max_value=dt.datetime(2027, 1, 31)).map(
    lambda moment: moment.replace(tzinfo=WIT)
)


@settings(max_examples=200, deadline=None)
@given(moments, moments, moments)
def test_office_time_adds_up_and_never_exceeds_the_wall_clock(
    a: dt.datetime, b: dt.datetime, c: dt.datetime
) -> None:
    start, middle, end = sorted((a, b, c))
    holidays = frozenset({HOLIDAY})
    whole = office_time(start, end, HOURS, holidays, WIT)
    parts = office_time(start, middle, HOURS, holidays, WIT) + office_time(
        middle, end, HOURS, holidays, WIT
    )
    assert whole == parts
    assert dt.timedelta(0) <= whole <= end - start


@settings(max_examples=100, deadline=None)
@given(moments, st.integers(min_value=1, max_value=60 * 40))
def test_due_at_is_where_the_budget_runs_out(start: dt.datetime, minutes: int) -> None:
    budget = dt.timedelta(minutes=minutes)
    due = due_at(start, budget, HOURS, frozenset({HOLIDAY}), WIT)
    assert due is not None
    assert office_time(start, due, HOURS, frozenset({HOLIDAY}), WIT) == budget
