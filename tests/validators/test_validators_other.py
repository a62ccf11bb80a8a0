"""Record numbers, year and free text; and the registration of all validators."""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import build_registry
from bot.i18n import Translator
from bot.region import load_region
from bot.registry import Registry, Validation
from bot.settings import Settings
from bot.validators import (
    make_year_validator,
    register_validators,
    validate_ak1_number,
    validate_application_number,
    validate_free_text,
)
from integrations import OpdClients


def message(result: Validation) -> str:
    assert not result.ok and result.error
    return result.error.format(**result.params)


def test_all_registered() -> None:
    registry = Registry()
    register_validators(registry, today=lambda: date(2026, 11, 28))
    assert registry.validator_names == {
        "nik",
        "nop",
        "application_number",
        "ak1_number",
        "year",
        "free_text",
        "phone",
    }
    assert registry.validator("year")("2027").ok


@given(st.from_regex(r"[A-Za-z0-9-]{6,32}", fullmatch=True))
def test_valid_numbers_are_trimmed_and_upper_cased(number: str) -> None:
    for validate in (validate_application_number, validate_ak1_number):
        result = validate(f"  {number}\n")
        assert result.ok
        assert result.value == number.upper()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("7301-2026-000481", None),
        (" kia-2026-000106 ", None),
        ("12345", "yang Anda kirim 5 karakter"),
        ("A" * 33, "yang Anda kirim 33 karakter"),
        ("7301 2026 000481", "tanpa spasi"),
        ("7301/2026/000481", "hanya berisi huruf, angka, dan tanda hubung"),
        ("", "yang Anda kirim 0 karakter"),
    ],
)
def test_application_number_examples(typed: str, expected: str | None) -> None:
    result = validate_application_number(typed)
    if expected is None:
        assert result.ok
    else:
        text = message(result)
        assert expected in text
        assert "Contoh: 9404-2026-000481" in text
        assert "Nomor permohonan" in text


def test_ak1_message_names_the_card() -> None:
    text = message(validate_ak1_number("AK/I 123"))
    assert "Nomor kartu AK/I" in text and "Contoh: AK1-2026-000123" in text


@pytest.mark.parametrize(
    ("typed", "ok", "expected"),
    [
        ("2026", True, None),
        (" 2000 ", True, None),
        ("2027", True, None),
        ("2028", False, "Tahun harus antara 2000 dan 2027. Contoh: 2026."),
        ("1999", False, "Tahun harus antara 2000 dan 2027"),
        ("26", False, "Tahun ditulis dengan 4 angka. Contoh: 2026."),
        ("dua ribu", False, "4 angka"),
    ],
)
def test_year(typed: str, ok: bool, expected: str | None) -> None:
    result = make_year_validator(lambda: date(2026, 11, 28))(typed)
    assert result.ok is ok
    if expected:
        assert expected in message(result)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  Lampu jalan mati  ", None),
        ("Baris satu\r\nBaris dua\tdengan tab", None),
        ("", "Pesan tidak boleh kosong"),
        ("   \n ", "Pesan tidak boleh kosong"),
        ("x" * 1001, "Pesan terlalu panjang: 1001 karakter, paling banyak 1000"),
        ("halo\x00dunia", "karakter kontrol"),
        ("halo\x1b[31m", "karakter kontrol"),
    ],
)
def test_free_text(typed: str, expected: str | None) -> None:
    result = validate_free_text(typed)
    if expected is None:
        assert result.ok and result.value == typed.replace("\r\n", "\n").strip()
    else:
        text = message(result)
        assert expected in text
        assert "misalnya:" in text


@given(st.text(min_size=1, max_size=1000).filter(lambda t: t.strip()))
def test_free_text_never_crashes_and_cleans(text: str) -> None:
    result = validate_free_text(text)
    if result.ok:
        assert result.value and 1 <= len(result.value) <= 1000


def test_the_year_turns_at_midnight_in_timika_not_in_utc() -> None:
    """1 January 2027, 01.00 WIT is still 31 December 2026 in UTC: 2028 ("next year") is
    accepted from WIT midnight on, as a citizen in Timika would expect."""
    region = load_region(Settings.from_env({}).region_file)
    new_year_in_timika = dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC)
    registry = build_registry(
        region, Translator.load(), OpdClients(), None, clock=lambda: new_year_in_timika
    )
    assert registry.validator("year")("2028").ok
    late_december = dt.datetime(2026, 12, 31, 14, 0, tzinfo=dt.UTC)  # 23.00 WIT
    registry = build_registry(
        region, Translator.load(), OpdClients(), None, clock=lambda: late_december
    )
    assert not registry.validator("year")("2028").ok
