"""Rupiah amounts, dates and times as a citizen in Timika expects to read them.

Amounts are always written the Indonesian way ("Rp1.250.000") whatever the chat language,
because that is how every bill, SPPT and bank slip shows them; dates follow the chat language
("30 September 2026" / "30 Agustus 2026"); times are WIT, the only time zone in Papua.
"""

from __future__ import annotations

from datetime import date, datetime, time

from babel.dates import format_date
from babel.numbers import format_decimal

from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, Translator
from integrations.shapes import WIT


def supported(locale: str) -> str:
    """The locale to format in: one we translate to, else Indonesian."""
    return locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE


def rupiah(amount: int) -> str:
    """``1250000`` → ``"Rp1.250.000"`` (whole Rupiah, Indonesian grouping)."""
    return "Rp" + format_decimal(amount, format="#,##0", locale="id")


def long_date(day: date, locale: str) -> str:
    """``date(2026, 9, 30)`` → ``"30 September 2026"``; month names in ``locale``."""
    return format_date(day, "d MMMM y", locale=supported(locale))


def clock(moment: time, locale: str) -> str:
    """``08:30`` → ``"08.30"`` in Indonesian (the dot is the Indonesian separator)."""
    separator = "." if supported(locale) == "id" else ":"
    return f"{moment.hour:02d}{separator}{moment.minute:02d}"


def moment_text(moment: datetime, locale: str, translator: Translator) -> str:
    """A timestamp shown in WIT: ``"30 September 2026, pukul 14.05 WIT"``."""
    local = moment.astimezone(WIT)
    return translator.gettext(
        supported(locale),
        N_("{date}, pukul {time} WIT"),
        date=long_date(local.date(), locale),
        time=clock(local.time(), locale),
    )


def place_text(facility: str, location: str) -> str:
    """Where a session is held: ``"Puskesmas X, Posyandu Y"``, or the name once when the
    OPD's location merely repeats the facility (a session in the puskesmas itself)."""
    if not location or location.casefold() == facility.casefold():
        return facility
    if location.casefold().startswith(facility.casefold()):
        return location
    return f"{facility}, {location}"
