"""NIK and NOP validators: every valid value accepted, every mutated one refused specifically."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.registry import Validation
from bot.validators import PROVINCE_CODES, validate_nik, validate_nop

EXAMPLE = "9109014107950001"


def message(result: Validation) -> str:
    """The message as a citizen reads it (placeholders filled, as the engine does)."""
    assert not result.ok and result.error
    return result.error.format(**result.params)


@st.composite
def niks(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    region = draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
    woman = draw(st.booleans())
    day = born.day + (40 if woman else 0)
    serial = draw(st.integers(min_value=1, max_value=9999))
    return f"{province}{region}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def never_echoes(result: Validation, nik: str) -> None:
    text = message(result)
    assert nik not in text
    assert nik not in "".join(str(v) for v in result.params.values())


@given(nik=niks(), sep=st.sampled_from(["", " ", ".", "-"]))
def test_every_valid_nik_accepted(nik: str, sep: str) -> None:
    typed = sep.join([nik[:6], nik[6:12], nik[12:]])
    result = validate_nik(f" {typed} ")
    assert result.ok, message(result)
    assert result.value == nik


@given(nik=niks(), cut=st.integers(min_value=1, max_value=15))
def test_too_short_refused_with_count(nik: str, cut: int) -> None:
    short = nik[:cut]
    result = validate_nik(short)
    text = message(result)
    assert text.startswith(f"NIK harus 16 angka; yang Anda kirim {cut} angka.")
    assert "Contoh: 9109014107950001" in text


@given(nik=niks(), extra=st.from_regex(r"[0-9]{1,4}", fullmatch=True))
def test_too_long_refused_with_count(nik: str, extra: str) -> None:
    result = validate_nik(nik + extra)
    assert f"yang Anda kirim {16 + len(extra)} angka" in message(result)
    never_echoes(result, nik)


@given(nik=niks(), position=st.integers(0, 15), letter=st.sampled_from("abcOlI/ox"))
def test_non_digit_refused(nik: str, position: int, letter: str) -> None:
    mutated = nik[:position] + letter + nik[position + 1 :]
    assert "hanya berisi angka" in message(validate_nik(mutated))


@given(nik=niks(), province=st.integers(0, 99))
def test_bad_province_refused(nik: str, province: int) -> None:
    code = f"{province:02d}"
    assume(code not in PROVINCE_CODES)
    result = validate_nik(code + nik[2:])
    text = message(result)
    assert f"Dua angka pertama NIK ({code}) bukan kode provinsi" in text
    never_echoes(result, code + nik[2:])


@given(nik=niks(), day=st.sampled_from([0, 32, 39, 40, 72, 80, 99]))
def test_bad_day_refused(nik: str, day: int) -> None:
    mutated = f"{nik[:6]}{day:02d}{nik[8:]}"
    text = message(validate_nik(mutated))
    assert "Angka ke-7 sampai ke-12 NIK adalah tanggal lahir (DDMMYY" in text
    assert "perempuan tanggal ditambah 40" in text
    assert f"({day:02d}) tidak mungkin" in text


@given(nik=niks(), month=st.sampled_from([0, 13, 20, 45, 99]))
def test_bad_month_refused(nik: str, month: int) -> None:
    mutated = f"{nik[:8]}{month:02d}{nik[10:]}"
    text = message(validate_nik(mutated))
    assert "Angka ke-7 sampai ke-12 NIK adalah tanggal lahir" in text
    assert f"Bulan lahir di NIK Anda ({month:02d}) tidak ada" in text


@given(nik=niks())
def test_serial_0000_refused(nik: str) -> None:
    assert "nomor urut dan tidak mungkin 0000" in message(validate_nik(nik[:12] + "0000"))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("9109014107950001", None),
        ("9404101708900023", None),
        ("9109 0141 0795 0001", None),
        ("91.09.01.410795.0001", None),
        ("9109014102000001", None),  # woman (day 41) born 1 Feb 2000
        ("9109016902000001", None),  # 29 Feb 2000 (woman): a leap year
        (
            "910901410795000",
            "NIK harus 16 angka; yang Anda kirim 15 angka. Contoh: 9109014107950001.",
        ),
        ("", "yang Anda kirim 0 angka"),
        ("9404017213950001", "(72) tidak mungkin"),
        ("9404010113950001", "Bulan lahir di NIK Anda (13) tidak ada"),
        ("9109013002950001", "Tanggal 30 bulan 02 tidak ada di kalender"),
        ("9109017102950001", "Tanggal 31 bulan 02 tidak ada di kalender"),
        ("2009014107950001", "Dua angka pertama NIK (20) bukan kode provinsi"),
        ("9709014107950001", "(97) bukan kode provinsi"),
        ("9109014107950000", "tidak mungkin 0000"),
        ("NIK 9109014107950001", "hanya berisi angka"),
    ],
)
def test_nik_examples(typed: str, expected: str | None) -> None:
    result = validate_nik(typed)
    if expected is None:
        assert result.ok and result.value and len(result.value) == 16
    else:
        assert expected in message(result)
        assert "Contoh: 9109014107950001" in message(result)


NOP_SEPARATORS = [".", ".", ".", ".", "-", "."]


@st.composite
def nops(draw: st.DrawFn) -> str:
    return draw(st.from_regex(r"[0-9]{18}", fullmatch=True))


def dotted(nop: str) -> str:
    parts = [nop[0:2], nop[2:4], nop[4:7], nop[7:10], nop[10:13], nop[13:17], nop[17]]
    out = parts[0]
    for separator, part in zip(NOP_SEPARATORS, parts[1:], strict=True):
        out += separator + part
    return out


@given(nop=nops())
def test_every_valid_nop_accepted_in_both_forms(nop: str) -> None:
    for typed in (nop, dotted(nop), f"  {dotted(nop)} "):
        result = validate_nop(typed)
        assert result.ok, typed
        assert result.value == nop


@given(nop=nops(), length=st.integers(0, 30))
def test_nop_wrong_length_refused(nop: str, length: int) -> None:
    assume(length != 18)
    typed = (nop * 2)[:length]
    text = message(validate_nop(typed))
    assert f"NOP harus 18 angka; yang Anda kirim {length} angka." in text
    assert "Contoh: 94.12.010.001.001-0001.0" in text


@given(nop=nops(), position=st.integers(0, 17), letter=st.sampled_from("aOX/,_"))
def test_nop_non_digit_refused(nop: str, position: int, letter: str) -> None:
    typed = nop[:position] + letter + nop[position + 1 :]
    assert "NOP hanya berisi angka" in message(validate_nop(typed))


@given(nop=nops(), position=st.sampled_from([1, 3, 5, 8, 11, 15]))
def test_nop_misplaced_separator_refused(nop: str, position: int) -> None:
    typed = nop[:position] + "." + nop[position:]
    text = message(validate_nop(typed))
    assert "tidak pada tempatnya" in text
    assert "PP.KK.CCC.DDD.BBB-NNNN.J" in text
    assert nop not in text


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("94.12.010.001.001-0001.0", "941201000100100010"),
        ("941201000100100010", "941201000100100010"),
        ("94 12 010 001 001 0001 0", "941201000100100010"),
        ("94.12.010.001.001.0001.0", None),
        ("94.12.010.001.001-0001", None),
    ],
)
def test_nop_examples(typed: str, expected: str | None) -> None:
    result = validate_nop(typed)
    assert result.value == expected
    assert result.ok is (expected is not None)
