"""The send-time parser of /umumkan: examples, and properties over generated times."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.broadcast.when import MAX_AHEAD, SendTimeError, parse_send_time

WIT = ZoneInfo("Asia/Jayapura")
NOW = dt.datetime(2026, 11, 29, 13, 5, tzinfo=WIT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("besok 07:30", dt.datetime(2026, 11, 30, 7, 30, tzinfo=WIT)),
        ("Besok pukul 7.30 WIT", dt.datetime(2026, 11, 30, 7, 30, tzinfo=WIT)),
        ("hari ini 16.00", dt.datetime(2026, 11, 29, 16, 0, tzinfo=WIT)),
        ("lusa 09:00", dt.datetime(2026, 12, 1, 9, 0, tzinfo=WIT)),
        ("30/11/2026 08:00", dt.datetime(2026, 11, 30, 8, 0, tzinfo=WIT)),
        ("30/11 08.00", dt.datetime(2026, 11, 30, 8, 0, tzinfo=WIT)),
        ("5/1 08:00", dt.datetime(2027, 1, 5, 8, 0, tzinfo=WIT)),  # next January
        ("2026-12-24 18:30", dt.datetime(2026, 12, 24, 18, 30, tzinfo=WIT)),
        ("2026-12-24T18:30", dt.datetime(2026, 12, 24, 18, 30, tzinfo=WIT)),  # a web form
    ],
)
def test_the_ways_staff_write_a_time(text: str, expected: dt.datetime) -> None:
    assert parse_send_time(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("kemarin sore", "Contoh yang benar"),
        ("31/02 08:00", "Contoh yang benar"),
        ("besok 25:00", "Contoh yang benar"),
        ("hari ini 08:00", "sudah lewat"),
        ("29/11/2026 13:05", "sudah lewat"),
        ("2027-06-01 08:00", "90 hari"),
    ],
)
def test_bad_times_are_explained(text: str, reason: str) -> None:
    with pytest.raises(SendTimeError, match=reason):
        parse_send_time(text, NOW)


@given(st.text(max_size=40))
def test_any_text_gives_a_future_time_or_an_explanation(text: str) -> None:
    try:
        moment = parse_send_time(text, NOW)
    except SendTimeError as error:
        assert str(error)
    else:
        assert NOW < moment <= NOW + MAX_AHEAD and moment.tzinfo is not None


@given(
    st.datetimes(min_value=dt.datetime(2026, 11, 29, 13, 6), max_value=dt.datetime(2027, 2, 26))
)
def test_a_written_out_date_reads_back(moment: dt.datetime) -> None:
    local = moment.replace(second=0, microsecond=0, tzinfo=WIT)
    text = f"{local.day}/{local.month}/{local.year} {local.hour:02d}:{local.minute:02d}"
    assert parse_send_time(text, NOW) == local
