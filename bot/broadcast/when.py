"""When a scheduled announcement goes out: what staff type, read in the region's time zone.

Staff write times the way they say them: ``30/11/2026 08:00``, ``30/11 08.00``,
``2026-11-30 08:00``, ``besok 07:30``, ``hari ini 16.00``, ``lusa 9:00``. The time is the
region's own (WIT for Mimika) and must lie ahead, within ``MAX_AHEAD``.
"""

from __future__ import annotations

import datetime as dt
import re

MAX_AHEAD = dt.timedelta(days=90)
EXAMPLE = "30/11/2026 08:00, 30/11 08.00, besok 07:30 atau hari ini 16.00"

_TIME = r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})"
_RELATIVE = re.compile(rf"^(?P<day>hari ini|besok|lusa)\s*(?:pukul|jam)?\s*{_TIME}$")
_DMY = re.compile(
    rf"^(?P<d>\d{{1,2}})[/\-.](?P<m>\d{{1,2}})(?:[/\-.](?P<y>\d{{4}}))?\s*(?:pukul|jam)?\s*{_TIME}$"
)
_ISO = re.compile(rf"^(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})[\st]*{_TIME}$")
_OFFSETS = {"hari ini": 0, "besok": 1, "lusa": 2}


class SendTimeError(ValueError):
    """Why a typed time cannot be used; the message is shown to the staff member."""


def parse_send_time(text: str, now: dt.datetime) -> dt.datetime:
    """The moment ``text`` names, aware, in ``now``'s time zone (``now`` must be aware and
    local to the region). Raises :class:`SendTimeError` with an explanation otherwise."""
    cleaned = " ".join(text.lower().replace("wit", "").split())
    moment = _parse(cleaned, now)
    if moment is None:
        raise SendTimeError(f"Waktu tidak dikenali. Contoh yang benar: {EXAMPLE}.")
    if moment <= now:
        raise SendTimeError("Waktu itu sudah lewat. Pilih waktu yang akan datang.")
    if moment - now > MAX_AHEAD:
        raise SendTimeError("Jadwal paling lama 90 hari dari sekarang.")
    return moment


def _at(day: dt.date, hour: str, minute: str, now: dt.datetime) -> dt.datetime | None:
    try:
        return dt.datetime.combine(day, dt.time(int(hour), int(minute)), tzinfo=now.tzinfo)
    except ValueError:
        return None


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _parse(text: str, now: dt.datetime) -> dt.datetime | None:
    if match := _RELATIVE.match(text):
        day = now.date() + dt.timedelta(days=_OFFSETS[match["day"]])
        return _at(day, match["hour"], match["minute"], now)
    if match := _ISO.match(text):
        date = _date(int(match["y"]), int(match["m"]), int(match["d"]))
        return None if date is None else _at(date, match["hour"], match["minute"], now)
    if match := _DMY.match(text):
        year = int(match["y"]) if match["y"] else now.year
        date = _date(year, int(match["m"]), int(match["d"]))
        if date is None:
            return None
        if not match["y"] and date < now.date():  # "5/1 08:00" in December: next year
            date = _date(year + 1, date.month, date.day)
            if date is None:
                return None
        return _at(date, match["hour"], match["minute"], now)
    return None
