"""The phone number a citizen gives for an officer to call back (issue 12, item 11).

Indonesian mobile numbers as people write them: ``0812-3456-7890``, ``+62 812 3456 7890``,
``62812...``; 10 to 13 digits counted from the leading 0. The stored value is the local form
(``081234567890``) an officer dials; any accepted number, as typed, is masked in logs.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.privacy import mask_identifiers
from bot.registry import Registry, Validation
from bot.validators import register_validators, validate_phone

EXAMPLE = "0812-3456-7890"


def message(result: Validation) -> str:
    assert not result.ok and result.error
    return result.error.format(**result.params)


# The subscriber part after "08": 8 to 11 digits, so 10 to 13 digits from the leading 0.
subscriber = st.from_regex(r"[0-9]{8,11}", fullmatch=True)
prefix = st.sampled_from(["0", "+62", "62", "+62 ", "62-"])
separator = st.sampled_from(["", " ", "-", " - "])


def written(digits: str, sep: str) -> str:
    """``8123456789`` as ``812-3456-789``: groups of four after the first three digits."""
    groups = [digits[:3]] + [digits[i : i + 4] for i in range(3, len(digits), 4)]
    return sep.join(group for group in groups if group)


@given(prefix, subscriber, separator)
def test_every_way_of_writing_a_mobile_number_is_the_same_local_number(
    start: str, rest: str, sep: str
) -> None:
    national = "8" + rest
    typed = f"  {start}{written(national, sep)} \n"
    result = validate_phone(typed)
    assert result.ok, typed
    assert result.value == "0" + national


@given(prefix, subscriber, separator)
def test_an_accepted_number_never_reaches_a_log_whole(start: str, rest: str, sep: str) -> None:
    typed = f"{start}{written('8' + rest, sep)}"
    assert validate_phone(typed).ok
    masked = mask_identifiers(f"kontak warga: {typed}")
    digits = "".join(ch for ch in masked if ch.isdigit())
    assert "*" in masked
    assert digits != "".join(ch for ch in typed if ch.isdigit())
    assert len(digits) <= 4


@given(st.from_regex(r"[0-9]{1,7}|[0-9]{12,16}", fullmatch=True))
def test_too_short_or_too_long_says_how_many_digits_and_shows_an_example(rest: str) -> None:
    result = validate_phone("08" + rest)
    text = message(result)
    assert f"{len(rest) + 2} angka" in text
    assert EXAMPLE in text


@pytest.mark.parametrize(
    "typed",
    ["0812 3456 7890", "+62 812-3456-7890", "62 812 3456 7890", "0812-3456-78", "081234567890123"],
)
def test_the_limits(typed: str) -> None:
    digits = sum(ch.isdigit() for ch in typed) + (0 if typed.startswith("0") else -1)
    assert validate_phone(typed).ok == (10 <= digits <= 13)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", "belum menulis nomor"),
        ("   ", "belum menulis nomor"),
        ("0812.3456.7890", "angka saja"),
        ("0812 3456 789O", "angka saja"),
        ("nomor saya 081234567890", "angka saja"),
        ("(0901) 321456", "angka saja"),
        ("0901-321456", "diawali 08"),  # a landline: officers call mobiles back
        ("021 1234 5678", "diawali 08"),
        ("+1 415 555 0100", "diawali 08"),
        ("8123456789", "diawali 08"),
    ],
)
def test_invalid_numbers_say_what_a_valid_one_looks_like(typed: str, expected: str) -> None:
    text = message(validate_phone(typed))
    assert expected in text
    assert EXAMPLE in text
    # The number typed is not repeated back (the chat may be read over a shoulder).
    digits = "".join(ch for ch in typed if ch.isdigit())
    if len(digits) >= 8:
        shown = text.replace(EXAMPLE, "").replace("+62 812-3456-7890", "")
        assert digits not in "".join(ch for ch in shown if ch.isdigit())


def test_registered_as_phone() -> None:
    registry = Registry()
    register_validators(registry, today=lambda: date(2026, 12, 4))
    assert registry.validator("phone")("0812-3456-7890").value == "081234567890"
