"""One message understood as a front-desk clerk would: language, values, service.

:class:`Understanding` puts the pieces of ``bot.nlu`` together for the engine and for
``loket match``:

1. the message's own language (:func:`detect_language`), whatever the citizen's saved
   language is: an English question is matched with the English catalogue first;
2. the values in it (:mod:`bot.nlu.entities`): application numbers, NOP, AK/I numbers,
   NIK, years, distrik and kampung;
3. the service (:class:`~bot.nlu.matcher.Matcher` per catalogue), in three bands
   (``confident`` → answer, ``ambiguous`` → offer the top choices, ``none`` → refuse);
4. a message that is only or mainly a number goes to the status check of that kind of
   number: "9404-2026-000104", "status 9404/2026/000104", "cek pbb 94.12...".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.nlu.entities import Entities, PlaceIndex, extract, strip_entities
from bot.nlu.lexicon import word_set
from bot.nlu.matcher import Matcher, MatchResult

__all__ = ["NUMBER_INTENTS", "Understanding", "Understood", "detect_language"]

# Which status check a number belongs to.
NUMBER_INTENTS = {
    "application_number": "disdukcapil.status_permohonan",
    "ak1_number": "disnakertrans.status_ak1",
    "nop": "bapenda.pbb_tagihan",
}
# Around a number, at most this many other words still make the message "mainly a number"
# ("tolong cek status permohonan saya nomor ..."): longer text is read as a question.
_FEW_WORDS = 7

_EN_WORDS = word_set(
    """
    the my i i'm im to a an how is are was were for of can could do does did what where when
    who which why me your you and with want need get got have has this that it from please
    would should will about our we they there any lost stole stolen born died moved child
    baby son daughter wife husband father mother card certificate apply register renew
    """
)
_ID_WORDS = word_set(
    """
    saya sa sy aku gw gue mau mo ingin di ke yang dan apa bagaimana gimana gmn ada tidak tra
    tdk gak ga nggak sudah su udah bisa untuk utk cara buat bikin syarat kah ya dong min kak
    kaka pak bu ibu bapak mohon tolong dengan deng dari punya pu anak kami kita kitong saja
    aja berapa brp kapan dimana mana sini itu ini lagi juga atau tapi karena jadi baru hilang
    ilang
    """
)
_TOKEN = re.compile(r"[a-z']+")
# Pasted markup ("<b>", "<a href=...>") is not language: its "a" and "i" would count as English.
_MARKUP = re.compile(r"<[^<>]{0,200}>")


def detect_language(text: str) -> str | None:
    """ "en", "id", or None when the message gives no clue (a lone "KTP", a number).

    Counts English and Indonesian function words; Indonesian wins a tie, since citizens mix
    English words ("online", "update") into Indonesian sentences far more than the reverse.
    """
    words = _TOKEN.findall(_MARKUP.sub(" ", text[:400].lower()))
    en = sum(w in _EN_WORDS for w in words)
    idn = sum(w in _ID_WORDS for w in words)
    if en == idn == 0:
        return None
    return "en" if en > idn else "id"


@dataclass(frozen=True, slots=True)
class Understood:
    """The answer for one message. ``kind`` as in :class:`MatchResult`; ``language`` is the
    catalogue that produced it (the language to answer in); ``entities`` the values found."""

    intent: str | None
    score: float
    alternatives: tuple[tuple[str, float], ...]
    kind: str
    language: str
    entities: Entities = field(default_factory=Entities)
    via: str = "text"  # text | number

    @property
    def band(self) -> str:
        """answer / choice / none: what the citizen is shown."""
        return {"confident": "answer", "ambiguous": "choice"}.get(self.kind, "none")


class Understanding:
    """The matchers of every catalogue plus the region's places; build once per flow set."""

    def __init__(
        self,
        matchers: Mapping[str, Matcher],
        *,
        places: PlaceIndex | None = None,
        default_locale: str = "id",
    ) -> None:
        self.matchers = dict(matchers)
        self.places = places
        self.default_locale = default_locale
        self._intents: set[str] = set()
        for matcher in self.matchers.values():
            self._intents.update(matcher.intents)

    def understand(self, text: str, locale: str | None = None) -> Understood:
        """Understand one message (never raises). ``locale`` is the citizen's saved language:
        it only breaks ties, the message's own language comes first."""
        entities = extract(text, self.places)
        spoken = detect_language(text)
        order: list[str] = []
        for code in (spoken, locale, self.default_locale, *self.matchers):
            if code and code in self.matchers and code not in order:
                order.append(code)
        best: tuple[str, MatchResult] | None = None
        for code in order:
            result = self.matchers[code].match(text)
            if result.out_of_scope:
                # A look-alike of another office's service ("pajak motor", "kartu kuning" in
                # football): the next catalogue must not answer it with its nearest service.
                if best is None:
                    best = (code, result)
                break
            if result.kind == "confident":
                best = (code, result)
                break
            if best is None or (result.kind == "ambiguous" and best[1].kind == "none"):
                best = (code, result)
            if result.kind == "ambiguous" and code == spoken == self.default_locale:
                # An Indonesian message with a close call stays a close call: the English
                # catalogue would only be confident on the Indonesian document name in it
                # ("berkas kia ... belum ada kabar" is not the KIA card itself).
                break
        language = spoken or locale or self.default_locale
        if best is None:
            return Understood(None, 0.0, (), "none", language, entities)
        code, result = best
        if result.kind != "none":
            language = code
        routed = self._by_number(text, entities, result)
        if routed is not None:
            return Understood(
                routed, 100.0, ((routed, 100.0),), "confident", language, entities, via="number"
            )
        return Understood(
            result.intent, result.score, result.alternatives, result.kind, language, entities
        )

    def _by_number(self, text: str, entities: Entities, result: MatchResult) -> str | None:
        """The status check for a message that is only or mainly a number, else None."""
        kind = entities.number_kind
        if kind is None:
            return None
        target = NUMBER_INTENTS[kind]
        if target not in self._intents:
            return None
        if result.kind == "confident" and result.intent == target:
            return target
        rest = strip_entities(text, entities).split()
        if len(rest) <= _FEW_WORDS:
            return target
        if result.kind != "confident":
            return target
        return None
