"""Turns flow data into the text a citizen reads: placeholders, service answers, office hours.

Kept apart from the engine's control flow so the wording can be tested on its own and so every
channel shows the same answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from babel.dates import format_date, get_day_names

from bot.flows.model import Intent, LocalList, LocalText, ServiceInfo
from bot.i18n import DEFAULT_LOCALE, N_, Translator
from bot.region import WEEKDAYS, Office, Region

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_.]*)\}")
MISSING = "-"


def pick(text: Mapping[str, Any] | None, locale: str) -> Any:
    """The version of a localised value for ``locale``, falling back to Indonesian."""
    if not text:
        return ""
    return text.get(locale) or text.get(DEFAULT_LOCALE) or ""


class Renderer:
    """Renders flow texts for one region with the bot's translations."""

    def __init__(self, region: Region, translator: Translator) -> None:
        self.region = region
        self.translator = translator

    def t(self, locale: str, message: str, **params: Any) -> str:
        return self.translator.gettext(locale, message, **params)

    # -- placeholders --------------------------------------------------------------------

    def _lookup(self, name: str, context: Mapping[str, Any], locale: str) -> Any:
        parts = name.split(".")
        root = parts[0]
        value: Any
        if root in context:
            value = context[root]
        elif root == "region":
            value = {
                "name": pick(self.region.name, locale),
                "province": pick(self.region.province, locale),
            }
        elif root == "office" and len(parts) > 1 and parts[1] in self.region.offices:
            office = self.region.offices[parts[1]]
            value = {
                "office": {
                    parts[1]: {
                        "name": pick(office.name, locale),
                        "address": office.address,
                        "phone": office.phone or MISSING,
                        "hours": self.hours_text(office, locale),
                    }
                }
            }["office"]
        elif root == "opd" and len(parts) > 1 and parts[1] in self.region.opds:
            opd = self.region.opds[parts[1]]
            value = {
                parts[1]: {
                    "name": pick(opd.name, locale),
                    "short": opd.short,
                    "contacts": "\n".join(f"• {c}" for c in pick(opd.contacts, locale) or []),
                }
            }
        elif root == "lapor":
            value = pick(self.region.complaints, locale)
        else:
            return None
        for part in parts[1:]:
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            else:
                return None
        if isinstance(value, Mapping) and DEFAULT_LOCALE in value:
            value = pick(value, locale)
        return value

    def fill(
        self, text: str, context: Mapping[str, Any], locale: str, *, missing: str = MISSING
    ) -> str:
        """Fills ``{name}`` placeholders. A missing value shows as ``missing``: "-" in text a
        citizen reads, "" in an action's parameters so no agency is asked about "-"."""
        if "{" not in text and "}" not in text:  # most texts: nothing to fill
            return text

        def replace(match: re.Match[str]) -> str:
            token = match.group(0)
            if token == "{{":  # noqa: S105 - an escaped brace, not a password
                return "{"
            if token == "}}":  # noqa: S105 - an escaped brace, not a password
                return "}"
            value = self._lookup(match.group(1), context, locale)
            if value is None or value == "":
                return missing
            if isinstance(value, list | tuple):
                return "\n".join(f"• {item}" for item in value)
            return str(value)

        return _PLACEHOLDER.sub(replace, text)

    def text(self, text: LocalText | None, context: Mapping[str, Any], locale: str) -> str:
        return self.fill(pick(text, locale), context, locale)

    def lines(self, items: LocalList | None, context: Mapping[str, Any], locale: str) -> list[str]:
        return [self.fill(item, context, locale) for item in (pick(items, locale) or ())]

    # -- office hours ----------------------------------------------------------------------

    def office_hours(self, office: Office, locale: str) -> str:
        """E.g. "Senin–Kamis 08.00–16.00 WIT; Jumat 08.00–11.30 WIT; Sabtu–Minggu tutup"."""
        names = get_day_names("wide", locale=locale)
        groups: list[tuple[int, int, str]] = []
        for index, day in enumerate(WEEKDAYS):
            ranges = office.hours[day]
            label = (
                ", ".join(f"{_clock(a)}–{_clock(b)}" for a, b in ranges)
                if ranges
                else self.t(locale, N_("tutup"))
            )
            if groups and groups[-1][2] == label and groups[-1][1] == index - 1:
                groups[-1] = (groups[-1][0], index, label)
            else:
                groups.append((index, index, label))
        zone = self._zone_name()
        parts = []
        for first, last, label in groups:
            days = (
                names[first].capitalize()
                if first == last
                else (f"{names[first].capitalize()}–{names[last].capitalize()}")
            )
            suffix = "" if label == self.t(locale, N_("tutup")) else f" {zone}"
            parts.append(f"{days} {label}{suffix}")
        return "; ".join(parts)

    def hours_text(self, office: Office, locale: str) -> str:
        """The hours as a citizen may read them: unconfirmed hours say so, in the same line."""
        hours = self.office_hours(office, locale)
        if office.hours_confirmed:
            return hours
        return self.t(locale, N_("biasanya {hours} (belum kami pastikan)"), hours=hours)

    def _zone_name(self) -> str:
        """ "WIT": Indonesia keeps no daylight saving, so any instant names the zone."""
        return dt.datetime(2026, 1, 1, tzinfo=self.region.timezone).strftime("%Z")

    def opening_note(self, office: Office, now: dt.datetime, locale: str) -> str:
        """Whether the office is open right now and, if not, when it opens next."""
        local = self.region.now(now)
        holidays = self.region.holiday_dates
        zone = local.strftime("%Z")
        if office.is_open(local, holidays):
            closing = next(
                end
                for start, end in office.hours[WEEKDAYS[local.weekday()]]
                if start <= local.time() < end
            )
            return self.t(
                locale,
                N_("Kantor sedang buka, sampai pukul {time} {zone}."),
                time=_clock(closing),
                zone=zone,
            )
        holiday = next((h for h in self.region.holidays if h.date == local.date()), None)
        opening = office.next_opening(local, holidays)
        if opening is None:
            return self.t(locale, N_("Kantor sedang tutup."))
        when = format_date(opening.date(), "EEEE, d MMMM y", locale=locale)
        note = self.t(
            locale,
            N_("Kantor sedang tutup. Buka lagi {day} pukul {time} {zone}."),
            day=when,
            time=_clock(opening.time()),
            zone=zone,
        )
        if holiday is not None:
            note = (
                self.t(
                    locale, N_("Hari ini hari libur ({name})."), name=pick(holiday.name, locale)
                )
                + " "
                + note
            )
        return note

    def not_connected(self, opd_key: str, locale: str) -> str:
        """The honest answer when an OPD's system is not connected to Loket (issue 14): not
        an outage ("coba lagi nanti" would send the citizen back forever) and never sample
        data, but the office's own contacts from the region file."""
        opd = self.region.opds.get(opd_key)
        short = opd.short if opd is not None else opd_key
        lines = [
            self.t(
                locale,
                N_(
                    "Cek lewat bot belum tersedia untuk {agency}: sistemnya belum terhubung "
                    "dengan Loket. Hubungi atau datangi kantornya:"
                ),
                agency=short,
            )
        ]
        contacts = pick(opd.contacts, locale) if opd is not None else None
        lines += [f"• {c}" for c in contacts or ()]
        office = self.region.offices.get(opd.office) if opd is not None else None
        if office is not None:
            lines.append(f"• {pick(office.name, locale)}: {office.address}")
        return "\n".join(lines)

    # -- a service answer ----------------------------------------------------------------

    def service(
        self,
        info: ServiceInfo,
        opd_key: str | None,
        context: Mapping[str, Any],
        locale: str,
        now: dt.datetime,
    ) -> tuple[str, str]:
        """(title, body) of the first card of a service answer (issue 14, item 5): what it
        is, what it costs and where, one line each, so it fits one phone screen; the rest is
        behind the buttons of ``card_sections``. The engine adds the provenance under it."""
        lines = [_first_sentences(self.text(info.summary, context, locale), 2)]
        cost = self.t(locale, N_("Biaya"))
        lines.append(f"{cost}: {_short(self.text(info.cost, context, locale))}")
        office = self.region.offices.get(info.office)
        if office is not None:
            place = self.t(locale, N_("Tempat"))
            lines.append(f"{place}: {pick(office.name, locale)}")
        lines.append(self.t(locale, N_("Tekan tombol di bawah untuk syarat dan rinciannya.")))
        return self.text(info.title, context, locale), "\n".join(lines)

    # The buttons under a service card: (section key, label), in this order.
    SECTIONS = (
        ("syarat", N_("Syarat")),
        ("biaya", N_("Biaya dan waktu")),
        ("tempat", N_("Tempat dan jam")),
        ("wakil", N_("Bisa diwakilkan?")),
        ("dasar", N_("Dasar hukum")),
    )

    def card_sections(self, locale: str) -> list[tuple[str, str]]:
        return [(key, self.t(locale, label)) for key, label in self.SECTIONS]

    def card_section(
        self,
        info: ServiceInfo,
        key: str,
        context: Mapping[str, Any],
        locale: str,
        now: dt.datetime,
    ) -> tuple[str, str]:
        """(heading, body) of one detail section of a service card; the heading is shown
        bold by every channel (it is the message's title)."""
        labels = dict(self.SECTIONS)
        heading = f"{self.text(info.title, context, locale)}: {self.t(locale, labels[key])}"
        parts: list[str] = []

        def bullets(label: str, items: list[str], numbered: bool = False) -> None:
            if items:
                rows = [
                    f"{i}. {item}" if numbered else f"• {item}" for i, item in enumerate(items, 1)
                ]
                parts.append(f"{label}:\n" + "\n".join(rows))

        if key == "syarat":
            # Labels are translated before they go into an f-string: Babel does not extract
            # an N_() written inside an f-string's braces, so it would never be translated.
            bullets(
                self.t(locale, N_("Persyaratan")), self.lines(info.requirements, context, locale)
            )
            bullets(
                self.t(locale, N_("Yang perlu dibawa")), self.lines(info.bring, context, locale)
            )
            bullets(
                self.t(locale, N_("Langkah-langkah")),
                self.lines(info.procedure, context, locale),
                numbered=True,
            )
            bullets(self.t(locale, N_("Perlu diketahui")), self.lines(info.notes, context, locale))
        elif key == "biaya":
            cost, duration = self.t(locale, N_("Biaya")), self.t(locale, N_("Waktu proses"))
            parts.append(f"{cost}: {self.text(info.cost, context, locale)}")
            parts.append(f"{duration}: {self.text(info.duration, context, locale)}")
        elif key == "tempat":
            parts.append(self._place(info, locale, now))
        elif key == "wakil":
            parts.append(
                self.text(info.proxy, context, locale)
                if info.proxy
                else self.t(
                    locale,
                    N_(
                        "Belum kami pastikan apakah layanan ini bisa diurus oleh orang lain. "
                        'Tanyakan dulu ke kantornya (lihat "Tempat dan jam") sebelum mengutus '
                        "keluarga, dan bawa dokumen asli pemohon."
                    ),
                )
            )
        else:
            parts.append("\n".join(f"• {law}" for law in info.legal_basis))
        return heading, "\n\n".join(p for p in parts if p)

    def _place(self, info: ServiceInfo, locale: str, now: dt.datetime) -> str:
        office = self.region.offices.get(info.office)
        if office is None:
            return ""
        place_label, address = self.t(locale, N_("Tempat")), self.t(locale, N_("Alamat"))
        hours, phone = self.t(locale, N_("Jam layanan")), self.t(locale, N_("Telepon"))
        place = [
            f"{place_label}: {pick(office.name, locale)}",
            f"{address}: {office.address}",
        ]
        if office.hours_confirmed:
            place.append(f"{hours}: {self.office_hours(office, locale)}")
            place.append(self.opening_note(office, now, locale))
        else:
            # Unconfirmed hours (issue 14): the caveat first, no "open now" / "opens Monday"
            # stated as fact.
            if office.note:
                place.append(pick(office.note, locale))
            place.append(f"{hours}: {self.hours_text(office, locale)}")
        if office.phone:
            place.append(f"{phone}: {office.phone}")
        if office.hours_confirmed and office.note:
            place.append(pick(office.note, locale))
        return "\n".join(place)

    # -- provenance ----------------------------------------------------------------------

    def provenance(
        self, intent: Intent, opd_key: str | None, locale: str, now: dt.datetime
    ) -> str:
        """Where an answer comes from and whether its OPD confirmed it (issue 14), plainly:
        the sources, then "Diperiksa oleh <OPD> pada <tanggal>" (WIT) with a warning once the
        review is overdue, or "Belum diverifikasi oleh <OPD>" and what to do instead."""
        label = self.t(locale, N_("Sumber"))  # outside the f-string, so Babel extracts it
        lines = [f"{label}: {'; '.join(intent.sources)}"]
        review = intent.review
        if review is not None:
            opd = self.region.opds.get(review.opd)
            lines.append(
                self.t(
                    locale,
                    N_("Diperiksa oleh {agency} pada {date}."),
                    agency=opd.short if opd is not None else review.opd,
                    date=self._date(review.on, locale),
                )
            )
            if self.region.now(now).date() > dt.date.fromisoformat(review.due):
                lines.append(
                    self.t(
                        locale,
                        N_(
                            "Sudah lewat jadwal pemeriksaan ulang ({date}); informasi ini "
                            "mungkin berubah, pastikan di kantornya."
                        ),
                        date=self._date(review.due, locale),
                    )
                )
        else:
            opd = self.region.opds.get(opd_key or "")
            lines.append(
                self.t(
                    locale,
                    N_(
                        "Belum diverifikasi oleh {agency}: disusun dari sumber di atas. "
                        "Pastikan di kantornya sebelum berangkat."
                    ),
                    agency=opd.short if opd is not None else self.t(locale, N_("OPD")),
                )
            )
        return "\n".join(lines)

    @staticmethod
    def _date(value: str, locale: str) -> str:
        return format_date(dt.date.fromisoformat(value), "d MMMM y", locale=locale)


def _first_sentences(text: str, count: int) -> str:
    """The first ``count`` sentences of a text (the card's lines; the rest is a tap away)."""
    end = -1
    for _ in range(count):
        found = text.find(". ", end + 1)
        if found < 0:
            return text
        end = found
    return text[: end + 1]


def _short(text: str, limit: int = 110) -> str:
    """One line for the card: the first sentence, cut before a long explanation (after a
    colon or semicolon) with an ellipsis; the full text is under "Biaya dan waktu"."""
    first = _first_sentences(text, 1)
    if len(first) <= limit:
        return first
    cut = max(first.rfind(mark, 0, limit) for mark in (": ", "; ", ", "))
    return (first[:cut] if cut > 0 else first[:limit].rsplit(" ", 1)[0]) + " …"


def _clock(value: dt.time) -> str:
    """Indonesian clock style, 08.00 (also readable in English)."""
    return f"{value.hour:02d}.{value.minute:02d}"
