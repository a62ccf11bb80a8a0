"""The hoax check: is an announcement a citizen received really from the regency?

Hoaxes imitating the government circulate in chat groups. Every announcement ends with its
reference code (``MMK-7K3Q``); a citizen sends the code, or forwards the whole message, to the
bot and learns whether it is genuine, when it was sent and by which OPD.

Most hoaxes travel by copy-paste, not by forwarding: someone copies a real announcement,
changes the amount or adds "bayar 50 ribu", and posts it with the real code. So a copy (pasted,
forwarded, or a photo's caption) is compared with the official text of the code it carries,
word by word, after :func:`words` has taken away what does not count: Unicode variants
(NFKC), case, whitespace, emoji, and the code line. A copy that differs is answered "teks ini
BERBEDA dari pengumuman resmi" with what differs and the official text. A short question about
a code ("apakah MMK-7K3Q asli?") is not a copy (:func:`looks_like_copy`) and gets the official
text, as before.

:class:`AnnouncementCheck` is a front-desk interceptor (``FrontDesk(interceptors=...)``): it
answers before the conversation engine, without touching the citizen's conversation, and only
when the message carries a code or is forwarded, so ordinary questions cost one regex.
"""

from __future__ import annotations

import datetime as dt
import difflib
import html
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from babel.dates import format_datetime
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcast.message import FOOTER
from bot.broadcast.store import REFERENCE_PREFIX, find_by_reference
from bot.engine.messages import Inbound, Outbound
from bot.i18n import N_, SUPPORTED_LOCALES, Translator
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
    "Hati-hati: teks ini BERBEDA dari pengumuman resmi {reference} dari {opd} ({when} WIT). "
    "Kodenya asli, tetapi isinya telah diubah.\n\n"
    "Yang berbeda:\n{differences}\n\n"
    "Jangan membayar atau mentransfer uang dan jangan memberikan data pribadi berdasarkan "
    "teks ini, dan jangan meneruskannya. Yang berlaku hanya isi resmi di bawah ini. Jika "
    "ragu, kirim kode pengumuman ke bot ini atau tanyakan langsung ke kantor {opd}.\n\n"
    "Isi resmi:\n{text}"
)
DIFF_ADDED = N_('ditambahkan: "{received}"')
DIFF_REMOVED = N_('dihapus: "{official}"')
DIFF_CHANGED = N_('tertulis "{received}", yang resmi "{official}"')
DIFF_MORE = N_("... dan {count} perbedaan lain")
TRIMMED = N_(
    "[Isi resmi dipotong karena terlalu panjang. Kirim kode {reference} saja untuk melihat "
    "isi lengkapnya.]"
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
    return " ".join(plain_lines(text_html).split())


def plain_lines(text_html: str) -> str:
    """Telegram HTML as a reader sees it, line breaks kept (the official text shown)."""
    return html.unescape(_TAG.sub("", text_html)).strip()


# Keycaps (1️⃣, #️⃣) before the rest: their digit is part of the emoji, not of the text.
_KEYCAP = re.compile("[0-9#*]\ufe0f?\u20e3")
# Emoji and pictographs (So), skin tones and other modifiers (Sk), joiners and tags (Cf),
# enclosing marks (Me), and variation selectors: decoration, not wording.
_DECORATION = frozenset({"So", "Sk", "Cf", "Me"})
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
# WhatsApp's own markup (*bold*, _italic_, ~strike~, ```mono```) at the edges of words, and
# the " · " that joins lines in a WhatsApp template (bot/whatsapp/templates.py): how the
# text was shown, not its wording (issue 16).
_CHAT_MARKUP = re.compile(r"(?<!\S)(?:[*_~`]+|·)|[*_~`]+(?!\S)")
# A question about a code is short, has no amount, and uses no word of the announcement.
QUERY_MAX_WORDS = 8
QUERY_WORDS = frozenset(
    [
        "kode",
        "pengumuman",
        "cek",
        "periksa",
        "tolong",
        "mohon",
        "dicek",
        "apakah",
        "apa",
        "ini",
        "itu",
        "asli",
        "benar",
        "betul",
        "resmi",
        "hoaks",
        "hoax",
        "atau",
        "bukan",
        "ya",
        "kah",
        "ka",
        "sa",
        "saya",
        "mau",
        "dong",
        "kak",
        "pak",
        "bu",
        "code",
        "check",
        "is",
        "this",
        "that",
        "real",
        "genuine",
        "fake",
        "announcement",
        "please",
        "the",
        "an",
        "a",
    ]
)
MAX_CHANGES = 6  # what differs, as a phone screen shows it; the rest is counted
MAX_FRAGMENT = 80
MAX_MESSAGE_UNITS = 4096  # Telegram counts UTF-16 code units


ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class Change:
    """One run of words that differs: ``official`` as published, ``received`` as sent."""

    kind: ChangeKind
    official: str
    received: str


@dataclass(frozen=True, slots=True)
class Difference:
    same: bool
    changes: tuple[Change, ...]


def _code_pattern(reference: str) -> str:
    """``reference`` as citizens write it: ``MMK-7K3Q``, ``mmk 7k3q``, ``MMK7K3Q``."""
    body = reference.removeprefix(f"{REFERENCE_PREFIX}-")
    return rf"(?<![^\W_]){REFERENCE_PREFIX}[\s\-_.]?{re.escape(body)}(?![^\W_])"


def _flexible(text: str) -> str:
    """A literal phrase that matches whatever whitespace a paste left between its words."""
    return r"\s*".join(re.escape(word) for word in text.split())


def _leading_words(text: str) -> str:
    """Any leading run of ``text``'s words, or none: a footer copied only in part
    ("Kirim kode ini...") is still the footer."""
    pattern = ""
    for word in reversed(text.split()):
        pattern = rf"(?:\s*{re.escape(word)}{pattern})?"
    return pattern


def _footer_pattern(reference: str, footers: Sequence[str]) -> re.Pattern[str]:
    """The verification footer in any language (label and trailing sentence optional), or
    the code on its own: none of it is part of the announcement's wording."""
    code = _code_pattern(reference)
    variants = []
    for footer in footers:
        before, found, after = _normalised(footer).partition(reference.casefold())
        if not found:
            continue
        label, rest = _flexible(before), _leading_words(after.lstrip(" .:"))
        tail = rf"\s*[.:]?\s*{rest}(?:\.{{2,}}|…)?" if rest else ""
        variants.append(rf"(?:{label}\s*)?{code}{tail}")
    variants.append(code)
    return re.compile("|".join(variants), re.IGNORECASE)


def _undecorated(text: str) -> str:
    """NFKC, emoji and chat markup turned into spaces (case kept)."""
    text = _KEYCAP.sub(" ", unicodedata.normalize("NFKC", text))
    text = _VARIATION_SELECTORS.sub("", text)
    text = "".join(" " if unicodedata.category(ch) in _DECORATION else ch for ch in text)
    return _CHAT_MARKUP.sub(" ", text)


def _normalised(text: str) -> str:
    """NFKC, casefolded, emoji and chat markup turned into spaces."""
    return _undecorated(text).casefold()


def default_footers(reference: str) -> tuple[str, ...]:
    """The Indonesian footer; :class:`AnnouncementCheck` passes every locale's."""
    return (FOOTER.format(reference=reference),)


def words(text: str, reference: str, footers: Sequence[str] = ()) -> list[str]:
    """The words of ``text`` that count in a comparison: NFKC, casefolded, without emoji,
    without the verification footer or the code, whitespace collapsed."""
    cleaned = _normalised(text)
    cleaned = _footer_pattern(reference, footers or default_footers(reference)).sub(" ", cleaned)
    return cleaned.split()


def _had_footer(text: str, reference: str, footers: Sequence[str]) -> bool:
    """Whether ``text`` carries a footer's label (a copy of a whole message), not just a code."""
    cleaned = _normalised(text)
    for footer in footers or default_footers(reference):
        label = _normalised(footer).partition(reference.casefold())[0].strip()
        if label and re.search(_flexible(label), cleaned):
            return True
    return False


def _bare(word: str) -> str:
    return word.strip(".,:;!?()[]\"'*-_")


def looks_like_copy(
    official: str, received: str, reference: str, footers: Sequence[str] = ()
) -> bool:
    """Whether a typed message with a code is a copy of an announcement (to compare) or a
    question about the code ("apakah MMK-7K3Q asli?", to answer with the official text).

    A copy keeps the footer's label, or names an amount, or is longer than a question, or
    shares words with the announcement; a hoax built on a real code does at least one."""
    said = words(received, reference, footers)
    if _had_footer(received, reference, footers) or any(ch.isdigit() for ch in "".join(said)):
        return True
    if len(said) > QUERY_MAX_WORDS:
        return True
    mine = {_bare(w) for w in said} - QUERY_WORDS - {""}
    theirs = {_bare(w) for w in words(official, reference, footers)} - QUERY_WORDS - {""}
    if not mine or not theirs:
        return False
    return len(mine & theirs) >= min(3, math.ceil(len(theirs) / 2))


def _display_words(text: str, reference: str, footers: Sequence[str]) -> list[str]:
    """The words as written (case kept), aligned one to one with :func:`words`."""
    text = _undecorated(text)
    pattern = _footer_pattern(reference, footers or default_footers(reference))
    return pattern.sub(" ", text).split()


def compare(
    official: str, received: str, reference: str, footers: Sequence[str] = ()
) -> Difference:
    """``received`` against the ``official`` text (plain, as a reader sees it).

    The verdict ignores whitespace entirely ("Rp 50.000" is "Rp50.000"); any other
    character added, removed or changed is a difference. The changes are word runs from
    :mod:`difflib`, shown with the case the texts were written in."""
    ours, theirs = words(official, reference, footers), words(received, reference, footers)
    if "".join(ours) == "".join(theirs):
        return Difference(same=True, changes=())
    shown_ours = _display_words(official, reference, footers)
    shown_theirs = _display_words(received, reference, footers)
    if len(shown_ours) != len(ours) or len(shown_theirs) != len(theirs):  # pragma: no cover
        shown_ours, shown_theirs = ours, theirs  # casefolding split a word: show it folded
    matcher = difflib.SequenceMatcher(None, ours, theirs, autojunk=False)
    changes = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if "".join(ours[i1:i2]) == "".join(theirs[j1:j2]):
            continue  # only the spacing differs
        was, now = " ".join(shown_ours[i1:i2]), " ".join(shown_theirs[j1:j2])
        kind: ChangeKind = "changed" if was and now else "added" if now else "removed"
        changes.append(Change(kind, was, now))
    return Difference(same=False, changes=tuple(changes))


def _short(text: str) -> str:
    return text if len(text) <= MAX_FRAGMENT else text[: MAX_FRAGMENT - 1].rstrip() + "…"


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


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
        wrappers: Sequence[str] | None = None,
    ) -> None:
        """``wrappers``: words a channel puts around an announcement (WhatsApp's approved
        template outside the 24-hour window), left out of a pasted copy before comparing."""
        self._sessions = sessions
        self._translator = translator
        self._region = region
        if wrappers is None:
            from bot.whatsapp.templates import announcement_wrappers

            wrappers = announcement_wrappers()
        self._wrappers = [
            re.compile(_flexible(_undecorated(w)), re.IGNORECASE) for w in wrappers if w.split()
        ]

    async def __call__(self, event: Inbound, locale: str) -> list[Outbound] | None:
        # A photo or document arrives as ``unsupported`` with its caption as text: checked
        # only when the caption carries a code, else the conversation answers as before.
        if event.kind not in ("text", "unsupported"):
            return None
        reference = find_reference(event.text)
        if reference is None:
            if event.kind != "text" or not event.forwarded:
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
            "text": plain_lines(official.text_html),
        }
        if official.status == "cancelled":
            return gettext(locale, CANCELLED, **params)
        if official.status == "scheduled":
            return gettext(locale, GENUINE_SCHEDULED, **params)
        footers = self._footers(official.reference)
        text = params["text"]
        received = self._unwrapped(event.text)
        if event.forwarded or looks_like_copy(text, received, official.reference, footers):
            difference = compare(text, received, official.reference, footers)
            if not difference.same:
                return self._altered(difference, params, locale)
        return gettext(locale, GENUINE, **params)

    def _unwrapped(self, text: str) -> str:
        """The copy without a channel's wrapping words (each left out once)."""
        if not self._wrappers:
            return text
        text = _undecorated(text)
        for wrapper in self._wrappers:
            text = wrapper.sub(" ", text, count=1)
        return text

    def _footers(self, reference: str) -> tuple[str, ...]:
        """The verification footer as every recipient's language renders it."""
        return tuple(
            self._translator.gettext(locale, FOOTER, reference=reference)
            for locale in SUPPORTED_LOCALES
        )

    def _altered(self, difference: Difference, params: dict[str, str], locale: str) -> str:
        """The BERBEDA answer: what differs, the warning, and the official text, trimmed so
        the whole answer fits one Telegram message."""
        gettext = self._translator.gettext
        templates = {"added": DIFF_ADDED, "removed": DIFF_REMOVED, "changed": DIFF_CHANGED}
        lines = [
            "• "
            + gettext(
                locale,
                templates[change.kind],
                official=_short(change.official),
                received=_short(change.received),
            )
            for change in difference.changes[:MAX_CHANGES]
        ]
        if len(difference.changes) > MAX_CHANGES:
            more = len(difference.changes) - MAX_CHANGES
            lines.append(gettext(locale, DIFF_MORE, count=more))
        values = {**params, "differences": "\n".join(lines)}
        answer = gettext(locale, ALTERED, **values)
        if _units(answer) <= MAX_MESSAGE_UNITS:
            return answer
        note = "…\n" + gettext(locale, TRIMMED, reference=params["reference"])
        room = MAX_MESSAGE_UNITS - _units(gettext(locale, ALTERED, **{**values, "text": note}))
        official = params["text"]
        while official and _units(official) > room:
            official = official[: -max(1, _units(official) - room)]
        return gettext(locale, ALTERED, **{**values, "text": official.rstrip() + note})

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
