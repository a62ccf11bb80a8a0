"""Values a citizen already wrote in a message: numbers from receipts, years, places.

A clerk reading "status 9404/2026/000562" does not ask for the number again. This module
finds, in any message, the values flows ask for:

* ``application_number``: a Disdukcapil application number as printed on the receipt
  (``9404-2026-000104``), copied with slashes, spaces or dots instead of dashes, or run
  together (``94042026000104``); returned in the receipt's form with dashes.
* ``ak1_number``: a job-seeker card number (``AK1-2026-000202``, ``ak/i 2026 000202``).
* ``nop``: an 18-digit PBB tax object number, with or without the SPPT's dots and dash;
  returned as 18 digits (what the ``nop`` validator returns).
* ``nik``: a 16-digit NIK; kept only as a value for a flow to use and always shown masked
  (:func:`masked`), never echoed whole.
* ``year``: a year from 2000 to 2099 that is not part of one of the numbers above.
* ``district`` / ``village``: a distrik or kampung of the region file, by name, alias or a
  close misspelling (rapidfuzz), returned as the distrik's code and name.

Everything here is pure and bounded: only the first part of a message is read, and no
regular expression can backtrack badly on hostile input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

__all__ = [
    "ENTITY_NAMES",
    "NUMBER_KINDS",
    "Entities",
    "PlaceIndex",
    "extract",
    "masked",
    "strip_entities",
]

MAX_CHARS = 600
# Entity kinds that identify one application or bill: a message that is mainly one of these
# is a status check, whatever words surround it.
NUMBER_KINDS = ("application_number", "ak1_number", "nop")
# The names a flow's input step may give as its ``entity`` (docs/flow-format.md).
ENTITY_NAMES = (*NUMBER_KINDS, "nik", "year", "district", "agency")
# The agency a message names, by the words citizens use for it (issue 12, item 11: a
# complaint or an officer request about "puskesmas" does not ask again which agency).
# Specific names first; the service words are enough because each belongs to one OPD.
_AGENCY_WORDS = (
    (
        "disdukcapil",
        r"dis ?duk ?capil|dukcapil|capil|kependudukan|catatan sipil|e-?ktp|ktp|"
        r"kartu keluarga|akta|akte",
    ),
    (
        "dinkes",
        r"dinkes|dinas kesehatan|puskesmas|pustu|posyandu|rsud|rumah sakit|"
        r"kesehatan|bpjs kesehatan|imunisasi",
    ),
    (
        "disnakertrans",
        r"disnaker(?:trans)?|tenaga kerja|naker|kartu kuning|ak ?1|"
        r"lowongan|pencari kerja",
    ),
    ("bapenda", r"bapenda|pajak daerah|pbb|bphtb|sppt|pajak"),
)
_AGENCY = [(opd, re.compile(rf"\b(?:{words})\b")) for opd, words in _AGENCY_WORDS]

_SEP = r"[\s./\\-]{0,3}"
_APPLICATION = re.compile(
    rf"(?<![\dA-Za-z])(\d{{4}}){_SEP}(20\d{{2}}){_SEP}(\d{{6}})(?![\d])", re.ASCII
)
_AK1 = re.compile(
    rf"(?<![A-Za-z])ak{_SEP}(?:1|i|/i){_SEP}(20\d{{2}}){_SEP}(\d{{6}})(?!\d)",
    re.ASCII | re.IGNORECASE,
)
_NOP = re.compile(
    r"(?<![\d.])(\d{2})[.\s]?(\d{2})[.\s]?(\d{3})[.\s]?(\d{3})[.\s]?(\d{3})[-.\s]?(\d{4})"
    r"[.\s]?(\d)(?![\d])",
    re.ASCII,
)
_NIK = re.compile(r"(?<![\d])(\d{4})[\s.-]?(\d{4})[\s.-]?(\d{4})[\s.-]?(\d{4})(?![\d])", re.ASCII)
_YEAR = re.compile(r"(?<![\d.\-/])(20\d{2})(?![\d.\-/]\d|\d)", re.ASCII)
_WORD = re.compile(r"[a-z]+")
_FUZZY_CUTOFF = 86.0


@dataclass(frozen=True, slots=True)
class Entities:
    """What was found; every field is None when absent. ``spans`` are (start, end) offsets
    of the numbers in the text, so a caller can tell how much of the message they are."""

    application_number: str | None = None
    ak1_number: str | None = None
    nop: str | None = None
    nik: str | None = None
    year: str | None = None
    district: str | None = None  # distrik code, e.g. "94.04.16"
    district_name: str | None = None
    village: str | None = None
    agency: str | None = None  # the OPD the message names ("puskesmas" -> dinkes)
    spans: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    def values(self) -> dict[str, str]:
        """The found values by entity name (for a flow's inputs and the engine's context)."""
        out: dict[str, str] = {}
        for name in (
            *NUMBER_KINDS,
            "nik",
            "year",
            "district",
            "district_name",
            "village",
            "agency",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    def public(self) -> dict[str, str]:
        """Like :meth:`values` but with the NIK masked: what may be printed or logged."""
        out = self.values()
        if "nik" in out:
            out["nik"] = masked(out["nik"])
        if "nop" in out:
            out["nop"] = out["nop"]  # a NOP identifies land, is printed on bills; kept whole
        return out

    @property
    def number_kind(self) -> str | None:
        """The first number kind present (application, AK/I, NOP), if any."""
        for name in NUMBER_KINDS:
            if getattr(self, name) is not None:
                return name
        return None


def masked(nik: str) -> str:
    """A NIK with only its first four and last two digits shown (as in the logs)."""
    return nik[:4] + "*" * max(0, len(nik) - 6) + nik[-2:] if len(nik) > 6 else "*" * len(nik)


class PlaceIndex:
    """Distrik and kampung names of the region, for finding a place named in a message.

    Built once per region: ``names`` maps each lower-case name or alias (one or more words)
    to (distrik code, distrik name, village name or None).
    """

    def __init__(self, names: Mapping[str, tuple[str, str, str | None]]) -> None:
        self._names = {k.lower(): v for k, v in names.items() if k.strip()}
        self._by_length = sorted({len(k.split()) for k in self._names}, reverse=True)
        # Fuzzy matching only on distrik names of at least five letters: "amar", "hoya" and
        # "jila" are short enough to collide with ordinary words when misspelt, and among 151
        # kampung names some misspelling is always near ("mimika pindah" ~ "Timika Indah");
        # a kampung's usual other spellings are aliases in the region file instead.
        self._fuzzy_keys = tuple(
            k for k, v in self._names.items() if v[2] is None and len(k.replace(" ", "")) >= 5
        )

    @classmethod
    def from_districts(
        cls, districts: Iterable[tuple[str, str, Sequence[str], Sequence[tuple[str, str]]]]
    ) -> PlaceIndex:
        """From (code, name, aliases, villages) of each distrik; a village is (a name a
        citizen may write, its official name). A distrik's own name wins over a kampung
        of the same name (Wania, Jila, Hoya...)."""
        names: dict[str, tuple[str, str, str | None]] = {}
        for code, name, aliases, villages in districts:
            for spoken, official in villages:
                names.setdefault(spoken.lower(), (code, name, official))
            names[name.lower()] = (code, name, None)
            for alias in aliases:
                names[alias.lower()] = (code, name, None)
        return cls(names)

    def find(self, text: str) -> tuple[str, str, str | None] | None:
        """The longest place name in ``text`` (exact first, then a close misspelling)."""
        words = _WORD.findall(text.lower())
        if not words:
            return None
        for size in self._by_length:
            for i in range(len(words) - size + 1):
                hit = self._names.get(" ".join(words[i : i + size]))
                if hit is not None:
                    return hit
        if not self._fuzzy_keys:
            return None
        for size in (2, 1):
            for i in range(len(words) - size + 1):
                chunk = " ".join(words[i : i + size])
                if len(chunk.replace(" ", "")) < 5:
                    continue
                best = process.extractOne(
                    chunk, self._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF
                )
                # A word that is the whole name plus more letters is another word, not a
                # misspelling: "alamat" (address) is not Distrik Alama.
                if (
                    best is not None
                    and len(best[0].split()) == size
                    and not (chunk.startswith(best[0]) and len(chunk) > len(best[0]))
                ):
                    return self._names[best[0]]
        return None


def extract(text: str, places: PlaceIndex | None = None) -> Entities:
    """Every entity found in ``text`` (see the module docstring). Never raises."""
    if not isinstance(text, str) or not text:
        return Entities()
    head = text[:MAX_CHARS]
    spans: list[tuple[int, int]] = []
    found: dict[str, str] = {}

    m = _AK1.search(head)
    if m:
        found["ak1_number"] = f"AK1-{m.group(1)}-{m.group(2)}"
        spans.append(m.span())
    m = _NOP.search(head)
    if m and not _overlaps(m.span(), spans):
        found["nop"] = "".join(m.groups())
        spans.append(m.span())
    m = _APPLICATION.search(head)
    if m and not _overlaps(m.span(), spans):
        found["application_number"] = "-".join(m.groups())
        spans.append(m.span())
    m = _NIK.search(head)
    if m and not _overlaps(m.span(), spans):
        found["nik"] = "".join(m.groups())
        spans.append(m.span())
    for m in _YEAR.finditer(head):
        if not _overlaps(m.span(), spans):
            found["year"] = m.group(1)
            break
    if places is not None:
        hit = places.find(_without(head, spans))
        if hit is not None:
            found["district"], found["district_name"] = hit[0], hit[1]
            if hit[2]:
                found["village"] = hit[2]
    agency = _agency(head.lower())
    if agency is not None:
        found["agency"] = agency
    return Entities(**found, spans=tuple(sorted(spans)))


def _agency(lowered: str) -> str | None:
    """The one agency the message names; None for none or for several ("capil dan pajak")."""
    named = {opd for opd, pattern in _AGENCY if pattern.search(lowered)}
    return named.pop() if len(named) == 1 else None


def strip_entities(text: str, entities: Entities) -> str:
    """``text`` without the numbers found in it (what is left to read as words)."""
    return _without(text[:MAX_CHARS], entities.spans)


def _overlaps(span: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _without(text: str, spans: Iterable[tuple[int, int]]) -> str:
    out = []
    last = 0
    for start, end in sorted(spans):
        out.append(text[last:start])
        out.append(" ")
        last = end
    out.append(text[last:])
    return "".join(out)
