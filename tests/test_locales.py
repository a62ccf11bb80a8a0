"""The interface-string catalogues: in step with the source, and every English entry usable.

Source strings are Indonesian gettext msgids marked with ``N_`` (see ``bot/i18n.py``);
``locales/messages.pot`` is extracted from them and ``locales/en`` translates them. These
tests fail when a string was added or changed without re-extracting, when an English entry
is missing, fuzzy or still Indonesian, or when a translation would break ``str.format``.
How to fix a failure: ``docs/translations.md``.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.i18n import DEFAULT_LOCALE, LOCALES_DIR, SUPPORTED_LOCALES, Translator

ROOT = Path(__file__).resolve().parent.parent
POT = LOCALES_DIR / "messages.pot"
SOURCE_DIRS = ("bot", "integrations")

# English text identical to the Indonesian source: words that are the same in both languages.
# Keep this list short; every entry must still be a msgid in the template.
SAME_IN_ENGLISH = frozenset({"NOP: {nop}", "Status: {status}", "Total: {amount}"})

# Common Indonesian function words; none of them is an English word, and none is part of a
# proper noun kept in the English text (Distrik, Pasar Sentral, Papua Tengah, jemput bola...).
INDONESIAN_WORDS = frozenset(
    {
        "anda", "atau", "belum", "bisa", "dan", "dari", "dengan", "di", "ditutup", "hanya",
        "harus", "ini", "itu", "kami", "ke", "kirim", "lagi", "mohon", "pukul", "saya",
        "silakan", "sisa", "sudah", "tidak", "untuk", "yang", "lainnya", "contoh", "misalnya",
    }
)  # fmt: skip

_WORD = re.compile(r"[^\W\d_]+")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_COMMAND = re.compile(r"(?<![\w/.:])/[a-z]+\b")


def _load(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _entries(catalog: Catalog) -> dict[str, str]:
    return {str(m.id): str(m.string) for m in catalog if m.id}


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _without_placeholders(text: str) -> str:
    return "".join(literal for literal, _, _, _ in string.Formatter().parse(text))


@pytest.fixture(scope="module")
def template() -> dict[str, str]:
    return _entries(_load(POT))


@pytest.fixture(scope="module")
def english() -> Catalog:
    return _load(LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po", "en")


# -- (a) the template is up to date with the source ----------------------------------------


def test_template_matches_a_fresh_extraction(template: dict[str, str]) -> None:
    """Re-extracts with the project's babel.cfg, as ``pybabel extract -k N_`` does."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    fresh = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords={"N_": None}
        )
    }
    assert fresh, "the extraction found nothing: is babel.cfg still pointing at bot/?"
    assert sorted(fresh - set(template)) == [], "in the source but not in messages.pot"
    assert sorted(set(template) - fresh) == [], "in messages.pot but gone from the source"


def _literal_marked_strings() -> dict[str, list[str]]:
    """Every ``N_("literal")`` in the source, found by the Python parser (not by Babel)."""
    found: dict[str, list[str]] = {}
    for directory in SOURCE_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "N_"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(node.args[0].value, []).append(where)
    return found


def test_every_marked_literal_is_in_the_template(template: dict[str, str]) -> None:
    """Babel's extractor cannot see ``N_()`` inside an f-string's ``{...}``: such a string is
    never translated. Compute the label first (``label = t(N_("..."))``), then use it."""
    marked = _literal_marked_strings()
    assert len(marked) >= len(template) > 0
    missed = {text: where for text, where in marked.items() if text not in template}
    assert missed == {}, "marked with N_ but not extracted (inside an f-string?)"


def test_every_catalogue_has_exactly_the_template_entries(template: dict[str, str]) -> None:
    """``pybabel update`` was run after the last extraction, for every locale."""
    for locale in SUPPORTED_LOCALES:
        catalog = _load(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po", locale)
        assert set(_entries(catalog)) == set(template), locale


def test_indonesian_catalogue_uses_the_source_text() -> None:
    """Indonesian is the source language: its msgstr stays empty (the msgid is shown)."""
    catalog = _load(LOCALES_DIR / DEFAULT_LOCALE / "LC_MESSAGES" / "messages.po", "id")
    filled = {msgid: text for msgid, text in _entries(catalog).items() if text}
    assert filled == {}


# -- (b) every entry has a finished English translation ------------------------------------


def test_every_entry_is_translated_to_english(template: dict[str, str], english: Catalog) -> None:
    messages = {str(m.id): m for m in english if m.id}
    untranslated = sorted(msgid for msgid in template if not messages[msgid].string.strip())
    fuzzy = sorted(msgid for msgid in template if messages[msgid].fuzzy)
    assert untranslated == []
    assert fuzzy == []


# -- (c) placeholders, tags and commands survive translation -------------------------------


def test_english_keeps_placeholders_tags_and_commands(english: Catalog) -> None:
    broken = []
    for msgid, msgstr in _entries(english).items():
        if _placeholders(msgstr) != _placeholders(msgid):
            broken.append(("placeholders", msgid, msgstr))
        if sorted(_TAG.findall(msgstr)) != sorted(_TAG.findall(msgid)):
            broken.append(("tags", msgid, msgstr))
        if sorted(_COMMAND.findall(msgstr)) != sorted(_COMMAND.findall(msgid)):
            broken.append(("commands", msgid, msgstr))
        if msgstr.startswith(" ") != msgid.startswith(" "):
            broken.append(("leading indentation", msgid, msgstr))
    assert broken == []


# -- (d) the translator serves every entry --------------------------------------------------


def test_translator_formats_every_english_entry(
    template: dict[str, str], english: Catalog
) -> None:
    translator = Translator.load()
    expected = _entries(english)
    for msgid in template:
        params = {name: f"«{name}»" for name in _placeholders(msgid)}
        assert translator.has("en", msgid), msgid
        shown = translator.gettext("en", msgid, **params)
        assert shown == expected[msgid].format(**params)
        assert all(value in shown for value in params.values()), shown
        assert translator.gettext(DEFAULT_LOCALE, msgid, **params) == msgid.format(**params)


# -- (e) the English text is English --------------------------------------------------------


def test_allowlist_of_identical_texts_is_current(template: dict[str, str]) -> None:
    assert set(template) >= SAME_IN_ENGLISH


def test_english_is_not_the_indonesian_source(english: Catalog) -> None:
    same = sorted(
        msgid
        for msgid, msgstr in _entries(english).items()
        if msgstr == msgid
        and msgid not in SAME_IN_ENGLISH
        and _WORD.search(_without_placeholders(msgid))
    )
    assert same == []


def test_english_has_no_indonesian_function_words(english: Catalog) -> None:
    leftovers = {}
    for msgstr in _entries(english).values():
        words = {w.lower() for w in _WORD.findall(_without_placeholders(msgstr))}
        if words & INDONESIAN_WORDS:
            leftovers[msgstr] = sorted(words & INDONESIAN_WORDS)
    assert leftovers == {}


def test_indonesian_word_check_would_catch_an_untranslated_entry(template: dict[str, str]) -> None:
    """The word list is not vacuous: it flags most Indonesian source sentences."""
    flagged = [
        msgid
        for msgid in template
        if {w.lower() for w in _WORD.findall(_without_placeholders(msgid))} & INDONESIAN_WORDS
    ]
    assert len(flagged) >= len(template) // 2
