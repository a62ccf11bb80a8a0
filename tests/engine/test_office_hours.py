"""Office hours the region file has not confirmed are never stated as fact (issue 14): the
caveat comes first, no "open now" / "opens again Monday"; confirmed hours are stated plainly."""

from __future__ import annotations

import dataclasses
import datetime as dt

from bot.engine.render import Renderer
from bot.i18n import Translator
from bot.region import load_region
from bot.settings import Settings
from tests.support.app import START, project_flow_set

SATURDAY = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)  # 10.00 WIT, the office is closed


def renderer(*, confirmed: bool) -> Renderer:
    region = load_region(Settings.from_env({}).region_file)
    offices = {
        key: dataclasses.replace(office, hours_confirmed=confirmed)
        for key, office in region.offices.items()
    }
    return Renderer(dataclasses.replace(region, offices=offices), Translator.load())


def ktp_card(render: Renderer, now: dt.datetime, locale: str = "id") -> str:
    step = project_flow_set().steps["disdukcapil:ktp_baru"]
    assert step.service is not None
    # The hours live behind the card's "Tempat dan jam" button (issue 14, item 5).
    _heading, body = render.card_section(step.service, "tempat", {}, locale, now)
    return body


def test_unconfirmed_hours_come_with_the_caveat_first_and_no_open_or_closed_claim() -> None:
    for now in (START, SATURDAY):
        body = ktp_card(renderer(confirmed=False), now)
        assert "Kantor sedang" not in body and "Buka lagi" not in body
        caveat = body.index("Jam layanan belum kami pastikan")
        assert caveat < body.index("Jam layanan: biasanya Senin–Jumat")
        assert "(belum kami pastikan)" in body
    english = ktp_card(renderer(confirmed=False), SATURDAY, "en")
    assert "open again" not in english.lower() and "not yet confirmed" in english


def test_confirmed_hours_say_whether_the_office_is_open() -> None:
    assert "Kantor sedang buka" in ktp_card(renderer(confirmed=True), START)
    closed = ktp_card(renderer(confirmed=True), SATURDAY)
    assert "Kantor sedang tutup. Buka lagi Senin" in closed
    assert "biasanya" not in closed


def test_the_project_region_confirms_no_hours_yet() -> None:
    """The reference marks every office's hours as unverified; flip one only with the OPD."""
    region = load_region(Settings.from_env({}).region_file)
    assert not any(office.hours_confirmed for office in region.offices.values())
