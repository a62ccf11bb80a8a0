"""Places named in a message (issue 13, item 1): a distrik, or one of the 151 kelurahan and
kampung of the region file, which tells the bot the distrik. Everyday words that are also
kampung names are not places."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.nlu.entities import PlaceIndex, extract
from bot.region import load_region

REGION = load_region(Path(__file__).resolve().parents[2] / "regions" / "mimika.yaml")
PLACES = PlaceIndex.from_districts(
    (d.code, d.name, d.aliases, d.spoken_villages()) for d in REGION.districts
)


def test_the_region_file_has_every_kampung_of_the_kemendagri_list() -> None:
    assert len(REGION.districts) == 18
    assert sum(len(d.villages) for d in REGION.districts) == 151


@pytest.mark.parametrize(
    ("text", "district", "village"),
    [
        ("kapan capil jemput bola ke kokonao", "Mimika Barat", "Kokonao"),
        ("dompet sa dicopet di pelabuhan pomako, ktp ikut hilang", "Mimika Timur", "Poumako"),
        ("Kami warga Kampung Nawaripi ingin membuat akta", "Wania", "Nawaripi"),
        ("sa tinggal di Utikini Baru, posyandu kapan", "Kuala Kencana", "Utikini Baru"),
        ("jadwal imunisasi di sempan timur", "Jita", "Sempan Timur"),  # the longer name
        ("puskesmas timika jaya buka jam berapa", "Mimika Baru", "Timika Jaya"),
    ],
)
def test_a_kampung_tells_its_distrik(text: str, district: str, village: str) -> None:
    found = extract(text, PLACES)
    assert (found.district_name, found.village) == (district, village)


@pytest.mark.parametrize(
    ("text", "district"),
    [
        ("kapan capil jemput bola ke wania", "Wania"),  # a distrik and a kampung: the distrik
        ("puskesmas terdekat di jila", "Jila"),
        ("sa dari kwamki narama", "Kwamki Narama"),  # not the kelurahan Kwamki
    ],
)
def test_a_distrik_name_wins(text: str, district: str) -> None:
    found = extract(text, PLACES)
    assert found.district_name == district and found.village is None


@pytest.mark.parametrize(
    "text",
    [
        "harapan saya ktp cepat jadi",
        "semoga damai dan lancar urusannya",
        "sa orang jawa, mau pindah ke sini",
        "mau keluar dari mimika pindah alamat",  # the regency, not kampung Mimika
        "pak umar bilang harus bawa kk",
        "akar masalahnya kk saya salah",
    ],
)
def test_everyday_words_are_not_places(text: str) -> None:
    assert extract(text, PLACES).district is None


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", max_size=80))
def test_a_place_found_is_always_one_of_the_region_file(text: str) -> None:
    found = extract(text, PLACES)
    if found.district is not None:
        district = REGION.district(found.district)
        assert district is not None and district.name == found.district_name
        if found.village is not None:
            assert found.village in {v.name for v in district.villages}
