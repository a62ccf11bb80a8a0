"""Any JSON an OPD might send becomes a typed value or InvalidReply, never another exception."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.bapenda import parse_pbb_bill
from integrations.dinkes import parse_facilities, parse_immunization_schedule
from integrations.disdukcapil import parse_application, parse_mobile_services
from integrations.disnakertrans import parse_ak1, parse_trainings, parse_vacancies
from integrations.errors import InvalidReply

PARSERS: list[Callable[[Any], Any]] = [
    parse_application,
    parse_mobile_services,
    parse_ak1,
    parse_vacancies,
    parse_trainings,
    parse_facilities,
    parse_immunization_schedule,
    parse_pbb_bill,
]
KEYS = st.sampled_from(
    [
        "number",
        "service",
        "status",
        "updated_at",
        "note",
        "pickup_location",
        "date",
        "district",
        "location",
        "services",
        "start_time",
        "end_time",
        "valid_until",
        "title",
        "employer",
        "closes_on",
        "place",
        "starts_on",
        "seats_left",
        "code",
        "name",
        "type",
        "address",
        "hours",
        "phone",
        "facility",
        "vaccines",
        "nop",
        "year",
        "taxpayer_name",
        "object_address",
        "principal",
        "penalty",
        "total",
        "due_date",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "2026-02-30",
            "2026-12-03",
            "25:99",
            "09:00",
            "paid",
            "active",
            "rejected",
            "puskesmas",
            "2026-11-23T08:45:00+09:00",
            "941201000100100010",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=12),
    max_leaves=30,
)


@pytest.mark.parametrize("parse", PARSERS, ids=lambda p: p.__name__)
@settings(max_examples=150, deadline=None)
@given(value=JSON)
def test_parsers_only_raise_invalid_reply(parse: Callable[[Any], Any], value: Any) -> None:
    with contextlib.suppress(InvalidReply):
        parse(value)
