"""The agency a message names (issue 12, item 11): a complaint or an officer request that
says "puskesmas" or "capil" is not asked again which agency it is about."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.nlu.entities import extract

AGENCIES = {"disdukcapil", "disnakertrans", "dinkes", "bapenda"}


@pytest.mark.parametrize(
    ("text", "agency"),
    [
        ("sa mau mengadu, petugas di puskesmas kasar sekali", "dinkes"),
        ("Pelayanan di RSUD lambat sekali", "dinkes"),
        ("mau bicara dengan petugas dukcapil", "disdukcapil"),
        ("urus KK di capil dipungut biaya", "disdukcapil"),
        ("kartu kuning sa belum jadi sudah sebulan", "disnakertrans"),
        ("Disnakertrans tidak membalas surat kami", "disnakertrans"),
        ("tagihan PBB sa dobel", "bapenda"),
        ("Kantor Bapenda tutup pada jam kerja", "bapenda"),
    ],
)
def test_one_named_agency_is_recognised(text: str, agency: str) -> None:
    assert extract(text).agency == agency


@pytest.mark.parametrize(
    "text",
    [
        "saya mau mengadu",  # no agency at all
        "urus ktp di capil lalu disuruh ke puskesmas",  # two: the citizen chooses
        "petugas kasar",
        "kapitalis",  # 'capil' only as a whole word
    ],
)
def test_no_agency_or_several_give_none(text: str) -> None:
    assert extract(text).agency is None


@given(st.text(max_size=300))
def test_any_text_gives_one_known_agency_or_none(text: str) -> None:
    assert extract(text).agency in AGENCIES | {None}
