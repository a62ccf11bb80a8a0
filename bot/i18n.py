"""Translations of the bot's own interface strings, through Babel/gettext catalogues.

Source strings (gettext msgids) are written in Indonesian, the bot's first language, so the
Indonesian text a citizen reads is exactly what reviewers read in the code. ``locales/en``
translates them to English. Catalogues are read from the ``.po`` files with Babel at start-up
(no compile step to forget); a missing or unreadable catalogue fails loudly.

Flow texts (what each service answer says) are not here: they live in ``flows/`` as data with
an ``id`` and an ``en`` version, because admins edit them without a deploy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

DEFAULT_LOCALE = "id"
SUPPORTED_LOCALES: tuple[str, ...] = ("id", "en")
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def N_(message: str) -> str:
    """Marks a string for extraction without translating it yet (translated when shown)."""
    return message


class Translator:
    """Looks up interface strings per locale; falls back to the Indonesian source text."""

    def __init__(self, catalogues: dict[str, dict[str, str]]) -> None:
        self._catalogues = catalogues

    @classmethod
    def load(cls, locales_dir: Path = LOCALES_DIR) -> Translator:
        catalogues: dict[str, dict[str, str]] = {}
        for locale in SUPPORTED_LOCALES:
            if locale == DEFAULT_LOCALE:
                continue
            po_path = locales_dir / locale / "LC_MESSAGES" / "messages.po"
            if not po_path.is_file():
                raise FileNotFoundError(f"missing translation catalogue {po_path}")
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
            catalogues[locale] = {
                str(message.id): str(message.string)
                for message in catalog
                if message.id and message.string and not message.fuzzy
            }
        return cls(catalogues)

    def gettext(self, locale: str, message: str, **params: Any) -> str:
        """Translates ``message`` to ``locale`` and fills its ``{placeholders}``."""
        translated = self._catalogues.get(locale, {}).get(message, message)
        return translated.format(**params) if params else translated

    def has(self, locale: str, message: str) -> bool:
        return locale == DEFAULT_LOCALE or message in self._catalogues.get(locale, {})


def normalise_locale(code: str | None) -> str:
    """Maps a Telegram language_code such as ``en-GB`` to a supported locale."""
    if not code:
        return DEFAULT_LOCALE
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in SUPPORTED_LOCALES else DEFAULT_LOCALE
