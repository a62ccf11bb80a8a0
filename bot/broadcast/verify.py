"""The hoax check: is an announcement a citizen received really from the regency?

Hoaxes imitating the government circulate in chat groups. Every announcement ends with its
reference code (``MMK-7K3Q``); a citizen sends the code, or forwards the whole message, to the
bot and learns whether it is genuine, when it was sent and by which OPD. A forwarded message
is also compared with the official text, so a hoax that copies a real code onto a different
text is caught too.

:class:`AnnouncementCheck` is a front-desk interceptor (``FrontDesk(interceptors=...)``): it
answers before the conversation engine, without touching the citizen's conversation, and only
when the message carries a code or is forwarded, so ordinary questions cost one regex.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

from babel.dates import format_datetime
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcast.store import REFERENCE_PREFIX, find_by_reference
from bot.engine.messages import Inbound, Outbound
from bot.i18n import N_, Translator
from bot.region import Region
from bot.staff.audience import REGENCY
from bot.storage.repo import as_utc

# ``MMK-7K3Q``, ``mmk 7k3q``, ``MMK7K3Q``: what a citizen types or copies.
REFERENCE_PATTERN = re.compile(
    rf"(?<![A-Za-z0-9]){REFERENCE_PREFIX}[\s\-_.]?([A-Za-z0-9]{{4}})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")

GENUINE = N_(
    "Pengumuman {reference} ASLI. Dikirim oleh {opd} melalui Loket pada {when} WIT.\n\n"
    "Isi resmi:\n{text}"
)
GENUINE_SCHEDULED = N_(
    "Kode {reference} terdaftar: pengumuman resmi {opd} yang dijadwalkan dikirim pada {when} WIT."
)
CANCELLED = N_(
    "Kode {reference} terdaftar, tetapi pengumuman ini dibatalkan oleh {opd} pada {when} WIT. "
    "Isinya tidak berlaku lagi."
)
ALTERED = N_(
    "Hati-hati: kode {reference} memang milik pengumuman resmi {opd} ({when} WIT), tetapi "
    "isi pesan yang Anda teruskan BERBEDA dari pengumuman resmi. Jangan percaya dan jangan "
    "teruskan pesan itu.\n\nIsi resmi:\n{text}"
)
UNKNOWN_CODE = N_(
    "Kode {reference} TIDAK terdaftar. Pesan dengan kode ini bukan pengumuman resmi "
    "Pemerintah Kabupaten Mimika melalui Loket. Jangan ikuti isinya dan jangan teruskan, "
    "terutama jika meminta uang atau data pribadi."
)
FORWARDED_WITHOUT_CODE = N_(
    "Pesan yang Anda teruskan tidak memuat kode pengumuman dan tidak sama dengan pengumuman "
    'resmi kami. Pengumuman resmi dari Loket selalu diakhiri dengan "Kode pengumuman: '
    'MMK-....". Berhati-hatilah terhadap hoaks. Jika ingin bertanya, ketik pertanyaan Anda '
    "sendiri."
)


def find_reference(text: str) -> str | None:
    """The first reference code in ``text`` (normalised), or None."""
    match = REFERENCE_PATTERN.search(text)
    return f"{REFERENCE_PREFIX}-{match.group(1).upper()}" if match else None


def plain(text_html: str) -> str:
    """Telegram HTML as the words a reader sees, whitespace collapsed, for comparison."""
    return " ".join(html.unescape(_TAG.sub("", text_html)).split())


def _without_footer(text: str, reference: str) -> str:
    """A forwarded announcement without its last paragraph (the reference footer)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    if paragraphs and find_reference(paragraphs[-1]) == reference:
        paragraphs = paragraphs[:-1]
    return " ".join(" ".join(paragraphs).split())


@dataclass(frozen=True, slots=True)
class _Official:
    reference: str
    opd: str
    status: str
    text_html: str
    when: dt.datetime | None


class AnnouncementCheck:
    """Answers a citizen's code or forwarded announcement; see the module docstring."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        translator: Translator,
        region: Region,
    ) -> None:
        self._sessions = sessions
        self._translator = translator
        self._region = region

    async def __call__(self, event: Inbound, locale: str) -> list[Outbound] | None:
        if event.kind != "text":
            return None
        reference = find_reference(event.text)
        if reference is None:
            if not event.forwarded:
                return None
            return [Outbound(self._translator.gettext(locale, FORWARDED_WITHOUT_CODE))]
        official = await self._find(reference)
        return [Outbound(self._answer(official, reference, event, locale))]

    async def _find(self, reference: str) -> _Official | None:
        async with self._sessions() as session:
            found = await find_by_reference(session, reference)
            if found is None:
                return None
            when = found.finished_at if found.status == "cancelled" else None
            when = when or found.started_at or found.send_at or found.created_at
            return _Official(found.reference, found.opd, found.status, found.text, when)

    def _answer(
        self, official: _Official | None, reference: str, event: Inbound, locale: str
    ) -> str:
        gettext = self._translator.gettext
        if official is None:
            return gettext(locale, UNKNOWN_CODE, reference=reference)
        params = {
            "reference": official.reference,
            "opd": self._opd_name(official.opd, locale),
            "when": self._when(official.when, locale),
            "text": plain(official.text_html),
        }
        if official.status == "cancelled":
            return gettext(locale, CANCELLED, **params)
        if official.status == "scheduled":
            return gettext(locale, GENUINE_SCHEDULED, **params)
        if event.forwarded and _without_footer(event.text, official.reference) != params["text"]:
            return gettext(locale, ALTERED, **params)
        return gettext(locale, GENUINE, **params)

    def _opd_name(self, opd: str, locale: str) -> str:
        if opd == REGENCY:
            return self._region.name.get(locale) or self._region.name.get("id") or opd
        found = self._region.opds.get(opd)
        if found is None:
            return opd
        return found.name.get(locale) or found.name.get("id") or found.short

    def _when(self, moment: dt.datetime | None, locale: str) -> str:
        if moment is None:
            return "-"
        local = as_utc(moment).astimezone(self._region.timezone)
        return format_datetime(local, "d MMMM y, HH.mm", locale=locale)
