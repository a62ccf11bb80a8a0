"""The regional configuration: offices, opening hours, holidays, distrik and agencies.

One YAML file per regency (``regions/mimika.yaml`` by default) holds every local fact, so
another regency reuses the bot by writing its own file and no Python changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.booking.quota import QueueConfig, parse_queues
from bot.yamlsrc import YamlError, line_of, load_yaml_text

REGIONS_DIR = Path(__file__).resolve().parent.parent / "regions"
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LocalText = dict[str, str]


@dataclass(frozen=True, slots=True)
class Village:
    """A kelurahan or kampung. ``in_text`` False: its name is also an everyday word (or the
    regency's name), so it is never recognised in a message."""

    name: str
    aliases: tuple[str, ...] = ()
    in_text: bool = True


@dataclass(frozen=True, slots=True)
class District:
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    villages: tuple[Village, ...] = ()

    def spoken_villages(self) -> tuple[tuple[str, str], ...]:
        """(name as a citizen may write it, official name) for each kampung the bot may
        recognise in a message."""
        return tuple(
            (spoken, village.name)
            for village in self.villages
            if village.in_text
            for spoken in (village.name, *village.aliases)
        )


@dataclass(frozen=True, slots=True)
class Office:
    key: str
    name: LocalText
    address: str
    phone: str | None
    hours: dict[str, tuple[tuple[dt.time, dt.time], ...]]
    note: LocalText | None = None
    # False until the OPD confirms the hours (issue 14): the bot then never states them, or
    # "open now" / "opens Monday", as fact; only as the usual hours, the caveat first.
    hours_confirmed: bool = False

    def is_open(self, moment: dt.datetime, holidays: frozenset[dt.date]) -> bool:
        if moment.date() in holidays:
            return False
        now = moment.time()
        return any(start <= now < end for start, end in self.hours[WEEKDAYS[moment.weekday()]])

    def next_opening(
        self, moment: dt.datetime, holidays: frozenset[dt.date]
    ) -> dt.datetime | None:
        """The next moment the office opens after ``moment`` (None if it never opens)."""
        for day_offset in range(0, 30):
            day = moment.date() + dt.timedelta(days=day_offset)
            if day in holidays:
                continue
            for start, _end in self.hours[WEEKDAYS[day.weekday()]]:
                opening = dt.datetime.combine(day, start, tzinfo=moment.tzinfo)
                if opening > moment:
                    return opening
        return None


@dataclass(frozen=True, slots=True)
class Opd:
    key: str
    name: LocalText
    short: str
    office: str
    contacts: dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class Holiday:
    date: dt.date
    name: LocalText


@dataclass(frozen=True, slots=True)
class Region:
    key: str
    name: LocalText
    province: LocalText
    timezone: ZoneInfo
    districts: tuple[District, ...]
    opds: dict[str, Opd]
    offices: dict[str, Office]
    holidays: tuple[Holiday, ...]
    complaints: LocalText
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    # Office queue quotas (issue 18): the ``queues`` block, parsed by bot.booking.quota.
    queues: QueueConfig = field(default_factory=lambda: QueueConfig({}))

    @property
    def holiday_dates(self) -> frozenset[dt.date]:
        return frozenset(holiday.date for holiday in self.holidays)

    def district(self, code: str) -> District | None:
        return next((d for d in self.districts if d.code == code), None)

    def now(self, clock: dt.datetime) -> dt.datetime:
        """``clock`` (aware) in the region's own time zone."""
        return clock.astimezone(self.timezone)


def _text(value: Any, where: str) -> LocalText:
    if isinstance(value, str):
        return {"id": value}
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise ValueError(f"{where}: expected a text with an 'id' (Indonesian) version")
    return {str(k): str(v) for k, v in value.items()}


def _hours(value: Any, where: str) -> dict[str, tuple[tuple[dt.time, dt.time], ...]]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: hours must map mon..sun to lists of 'HH:MM-HH:MM'")
    result: dict[str, tuple[tuple[dt.time, dt.time], ...]] = {}
    for day in WEEKDAYS:
        ranges = value.get(day) or []
        parsed = []
        for text in ranges:
            start_text, _, end_text = str(text).partition("-")
            start = dt.time.fromisoformat(start_text.strip())
            end = dt.time.fromisoformat(end_text.strip())
            if end <= start:
                raise ValueError(f"{where}.{day}: {text!r} ends before it starts")
            parsed.append((start, end))
        result[day] = tuple(parsed)
    return result


def _village(item: Any) -> Village:
    """A kampung entry: its name, or {name, aliases, in_text}."""
    if isinstance(item, str):
        return Village(item)
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise TypeError("a kampung is a name or a mapping with a name")
    return Village(
        str(item["name"]),
        tuple(str(a) for a in item.get("aliases", [])),
        bool(item.get("in_text", True)),
    )


def parse_region(data: Any, path: str) -> Region:
    """Builds a Region from parsed YAML; any problem raises YamlError with the line."""
    if not isinstance(data, dict):
        raise YamlError(path, 1, "a region file must be a mapping")
    current_key = ""
    try:
        current_key = "region"
        key = str(data["region"])
        current_key = "districts"
        districts = tuple(
            District(
                str(d["code"]),
                str(d["name"]),
                tuple(str(a) for a in d.get("aliases", [])),
                tuple(_village(v) for v in d.get("kampung", [])),
            )
            for d in data["districts"]
        )
        current_key = "offices"
        offices = {
            str(k): Office(
                key=str(k),
                name=_text(v["name"], f"offices.{k}.name"),
                address=str(v["address"]),
                phone=str(v["phone"]) if v.get("phone") else None,
                hours=_hours(v.get("hours"), f"offices.{k}.hours"),
                note=_text(v["note"], f"offices.{k}.note") if v.get("note") else None,
                hours_confirmed=v.get("hours_confirmed") is True,
            )
            for k, v in data["offices"].items()
        }
        current_key = "opds"
        opds = {}
        for opd_key, value in data["opds"].items():
            contacts = value.get("contacts") or {}
            opds[str(opd_key)] = Opd(
                key=str(opd_key),
                name=_text(value["name"], f"opds.{opd_key}.name"),
                short=str(value.get("short", opd_key)),
                office=str(value["office"]),
                contacts={str(k): [str(x) for x in v] for k, v in contacts.items()},
            )
            if opds[str(opd_key)].office not in offices:
                raise ValueError(f"opds.{opd_key}.office: unknown office {value['office']!r}")
        current_key = "holidays"
        holidays = tuple(
            Holiday(
                date=h["date"]
                if isinstance(h["date"], dt.date)
                else dt.date.fromisoformat(h["date"]),
                name=_text(h["name"], "holidays.name"),
            )
            for h in data.get("holidays") or []
        )
        current_key = "complaints"
        complaints_raw = data.get("complaints") or {}
        complaints = _text(complaints_raw.get("lapor", {"id": "SP4N-LAPOR!"}), "complaints.lapor")
        current_key = "timezone"
        timezone = ZoneInfo(str(data.get("timezone", "Asia/Jayapura")))
        current_key = "name"
        return Region(
            key=key,
            name=_text(data["name"], "name"),
            province=_text(data.get("province", ""), "province"),
            timezone=timezone,
            districts=districts,
            opds=opds,
            offices=offices,
            holidays=holidays,
            complaints=complaints,
            raw=dict(data),
            queues=_queues(data, path, offices),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise YamlError(path, line_of(data, current_key), f"{current_key}: {error}") from None


def _queues(data: dict[str, Any], path: str, offices: dict[str, Office]) -> QueueConfig:
    """The ``queues`` block (issue 18); its own errors already carry their line."""
    return parse_queues(
        data.get("queues"), path, {key: office.hours for key, office in offices.items()}
    )


def load_region(path: Path) -> Region:
    return parse_region(load_yaml_text(path.read_text(encoding="utf-8"), str(path)), str(path))


def default_region_path(name: str = "mimika") -> Path:
    return REGIONS_DIR / f"{name}.yaml"
