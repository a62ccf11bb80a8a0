"""`loket match` reads a message as the bot does (issue 13): the message's own language,
the entities it carries (a NIK only masked), the band the citizen would see."""

from __future__ import annotations

import json

import pytest

from bot.cli import main


def match(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["match", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_english_is_read_in_english_without_switching(capsys: pytest.CaptureFixture[str]) -> None:
    result = match(capsys, "how do I get a birth certificate for my son")
    assert result["intent"] == "disdukcapil.akta_kelahiran"
    assert result["language"] == "en"
    assert result["band"] == "answer"


def test_entities_are_listed_and_a_nik_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    result = match(capsys, "ktp sa 9401010101900001 hilang di wania")
    entities = result["entities"]
    assert isinstance(entities, dict)
    assert entities["nik"] == "9401**********01"
    assert entities["district_name"] == "Wania"
    assert "9401010101900001" not in json.dumps(result)


def test_a_bare_application_number_is_a_status_check(capsys: pytest.CaptureFixture[str]) -> None:
    result = match(capsys, "9404/2026/000562")
    assert result["intent"] == "disdukcapil.status_permohonan"
    assert result["entities"] == {"application_number": "9404-2026-000562"}
