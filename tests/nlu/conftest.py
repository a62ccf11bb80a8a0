"""Fixtures for the NLU tests: matchers built from the project's own NLU files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.nlu.matcher import IntentNLU, Matcher, parse_nlu_file

REPO = Path(__file__).parents[2]
NLU_DIR = REPO / "flows" / "nlu"
HERE = Path(__file__).parent


def load_intents(name: str) -> dict[str, IntentNLU]:
    """Parse flows/nlu/<name>.yaml the way the engine does."""
    data = yaml.safe_load((NLU_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    return parse_nlu_file(data)


@pytest.fixture(scope="session")
def id_intents() -> dict[str, IntentNLU]:
    return load_intents("id")


@pytest.fixture(scope="session")
def id_matcher(id_intents: dict[str, IntentNLU]) -> Matcher:
    return Matcher(id_intents)


@pytest.fixture(scope="session")
def en_intents() -> dict[str, IntentNLU]:
    return load_intents("en")


@pytest.fixture(scope="session")
def en_matcher(en_intents: dict[str, IntentNLU]) -> Matcher:
    return Matcher(en_intents, language="en")
