"""Free-text intent matching for one locale's NLU file.

A citizen's message is normalised (:func:`bot.nlu.normalize.normalize`) and compared with
every intent's normalised examples and keywords. The score (0–100) is built from words, not
characters, because in this domain one rare word decides the intent ("bphtb", "kia",
"jemput bola") while common words ("buat", "syarat", "cara") decide nothing:

* Each word weighs its *specificity*: an inverse intent frequency, so a word used by one
  intent counts far more than one used by twenty. Place names and stopwords weigh nothing;
  words the catalogue never uses weigh a fixed amount, so a message that is mostly about
  something else ("harga cabai hari ini") cannot reach a threshold on one shared word.
* Example similarity is a weighted F-measure: how much of the message an example explains
  and how much of the example the message contains. Unknown words are mapped to catalogue
  words with rapidfuzz when they are close enough (typos: "pusksmas", "imunisai").
* Keyword phrases must be present as a whole ("jemput bola": "bola" alone is not enough)
  and count by the summed specificity of their words.

Only examples sharing a word with the message are scored (an inverted index), so a query
touches a few dozen examples, not the whole catalogue.

The word score is blended with a character n-gram classifier trained on the same examples
(:mod:`bot.nlu.classifier`), which still sees "kematiannya" in "kematian" and glued or split
words; the bands' thresholds below were recalibrated for the blend (issue 13).

One :class:`Matcher` serves one locale; the engine keeps one per NLU file and falls back to
the Indonesian one when the citizen's own locale finds nothing.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from rapidfuzz import fuzz, process

from bot.nlu.classifier import NgramCentroids
from bot.nlu.lexicon import (
    AMBIGUOUS_PLACES,
    GREETINGS,
    LOCAL_PLACES,
    PLACES,
    STOPWORDS,
    word_set,
)
from bot.nlu.normalize import normalize
from bot.nlu.normalize_en import normalize_en

__all__ = ["IntentNLU", "MatchResult", "Matcher", "guess_language", "parse_nlu_file"]

logger = logging.getLogger(__name__)

Kind = Literal["confident", "ambiguous", "none"]

# Only the start of a message is scored: a question fits in a few hundred characters, and a
# 5,000-character paste must not cost more than a normal message.
MAX_SCORED_CHARS = 300
MAX_SCORED_TOKENS = 40

_UNKNOWN_WEIGHT = 1.6  # a word the catalogue never uses: probably another topic
_SHORT_UNKNOWN_WEIGHT = 0.4  # one- or two-letter leftovers are usually noise
_FUZZY_CUTOFF = 82.0  # rapidfuzz ratio for mapping a misspelt word to a catalogue word
_KEYWORD_FULL = 3.0  # summed specificity at which a keyword alone is full evidence
_BETA = 0.8  # < 1: explaining the whole message matters a bit more than covering the example
_EXAMPLE_SHARE = 0.65  # the rest of the score comes from keywords
# The character n-gram classifier's share of the final score, and the cosine counted as full
# evidence (bot/nlu/classifier.py).
_CLASSIFIER_WEIGHT = 0.5
_CLASSIFIER_FULL = 0.45
# How far an out-of-scope look-alike must lead the best service to make the message "not
# ours" (below that, the services compete as if the look-alike were not there).
_RESERVED_MARGIN = 5.0
# A clause's word score (after the clause discount) at which it counts unblended.
_EXACT_CLAUSE = 85.0
# A word score at which the message is one of the examples, nearly word for word.
_EXACT_EXAMPLE = 95.0
# The look-alikes are scored by their nearest example (bot/nlu/classifier.py), which beats a
# centroid easily; their classifier evidence is discounted so "perpanjang kartu kuning" stays
# the job seekers' card although "perpanjang sim" is out of scope.
_RESERVED_SHARE = 0.8
# Markers the matcher adds for a number in the message: words, not text the citizen wrote.
_NUMBER_TOKENS = frozenset({"nop", "nik"})

# NLU entries whose id starts with "_" are not intents but out-of-scope look-alikes ("npwp",
# "pajak motor", football's "kartu kuning"): they compete like intents, and when one of them
# wins the message is not understood rather than answered with the nearest service.
RESERVED_PREFIX = "_"

# A long message is scored whole and clause by clause: the service is often one clause of a
# story ("bapak meninggal minggu lalu di kampung, sa mo urus akta kematian tapi ...").
_CLAUSE_SPLIT = re.compile(
    r"[,.;:!?\n()]+|\b(?:tapi|tetapi|namun|karena|karna|soalnya|sehingga|terus|trus|lalu|"
    r"kemudian|jadi|sekarang|skarang|but|because|so|and then)\b",
    re.IGNORECASE,
)
_MIN_CLAUSE_TOKENS = 2
_MAX_CLAUSES = 6
# A clause explains only part of the message, so its score is discounted a little: the whole
# message still wins when it fits an example as well as the clause does.
_CLAUSE_FACTOR = 0.92
# "bukan KTP tapi KK": what follows "bukan" up to "tapi" is what the citizen does NOT mean.
_NEGATION = re.compile(
    r"\b(?:bukan|bkn|not)\b[^,.;!?]{0,40}?\b(?:tapi|tetapi|melainkan|namun|but)\b",
    re.IGNORECASE,
)

# Words of thanks; like greetings they weigh nothing in a question, but a message made only of
# them is small talk that deserves an answer ("makasih kak").
_THANKS = frozenset({"terimakasih", "makasih", "thanks", "thank", "tengkyu", "thx"})

_NOP = re.compile(
    r"(?<!\d)\d{2}[.\s]?\d{2}[.\s]?\d{3}[.\s]?\d{3}[.\s]?\d{3}[-.\s]?\d{4}[.\s]?\d(?!\d)"
)
_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
_ONLY_NUMBER = re.compile(r"^[\s\d.\-/]*$")


@dataclass(frozen=True)
class IntentNLU:
    """How citizens ask for one intent: example sentences and keyword phrases."""

    examples: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class MatchResult:
    """The matcher's answer.

    ``kind`` tells the engine what to do: ``confident`` → start ``intent``;
    ``ambiguous`` → ask the citizen to choose among ``alternatives`` (best first, at most
    three, ``intent`` is the best); ``none`` → say it did not understand (``intent`` is
    None and ``alternatives`` is empty). ``out_of_scope`` is set on a ``none`` when an
    out-of-scope look-alike won ("npwp", football's "kartu kuning"): another catalogue must
    not then answer the same message with its nearest service.
    """

    intent: str | None
    score: float
    alternatives: tuple[tuple[str, float], ...]
    kind: Kind
    out_of_scope: bool = False


NONE_RESULT = MatchResult(intent=None, score=0.0, alternatives=(), kind="none")
OUT_OF_SCOPE_RESULT = MatchResult(
    intent=None, score=0.0, alternatives=(), kind="none", out_of_scope=True
)


def parse_nlu_file(data: Mapping[str, Any]) -> dict[str, IntentNLU]:
    """Validate a loaded ``flows/nlu/<locale>.yaml`` mapping and build :class:`IntentNLU`.

    Raises ValueError with the intent id and field on any bad shape, so a typo in the
    catalogue fails at start-up and not when a citizen writes.
    """
    if not isinstance(data, Mapping):
        raise ValueError("NLU file must be a mapping of intent id to {examples, keywords}")
    out: dict[str, IntentNLU] = {}
    for intent, body in data.items():
        if not isinstance(intent, str) or not intent.strip():
            raise ValueError(f"intent id must be a non-empty string, got {intent!r}")
        if not isinstance(body, Mapping):
            raise ValueError(f"{intent}: expected a mapping with 'examples' and 'keywords'")
        unknown = set(body) - {"examples", "keywords"}
        if unknown:
            raise ValueError(f"{intent}: unknown keys {sorted(map(str, unknown))}")
        examples = _string_list(intent, "examples", body.get("examples"), required=True)
        keywords = _string_list(intent, "keywords", body.get("keywords", []), required=False)
        out[intent] = IntentNLU(examples=examples, keywords=keywords)
    return out


def _string_list(intent: str, field: str, value: Any, *, required: bool) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{intent}.{field}: expected a list of strings")
    if required and not value:
        raise ValueError(f"{intent}.{field}: must not be empty")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"{intent}.{field}: every item must be a non-empty string")
    return tuple(value)


_EN_MARKERS = word_set(
    "the my i to a an how is for of can do what where when me your and in on with want"
)
_ID_MARKERS = word_set(
    "saya di yang mau cara untuk ke dari apa bagaimana sa ada dengan buat syarat mo"
)


def guess_language(intents: Mapping[str, IntentNLU]) -> str:
    """Say whether an NLU catalogue is English ("en") or Indonesian ("id").

    Counts common function words in the examples; Indonesian wins ties because it is the
    fallback catalogue and the Indonesian normaliser copes with loanwords.
    """
    en = idn = 0
    for nlu in intents.values():
        for example in nlu.examples:
            for word in example.lower().split():
                en += word in _EN_MARKERS
                idn += word in _ID_MARKERS
    return "en" if en > idn else "id"


@dataclass(frozen=True, slots=True)
class _Example:
    intent: str
    tokens: frozenset[str]
    weight: float


@dataclass(frozen=True, slots=True)
class _Keyword:
    intent: str
    tokens: frozenset[str]
    strength: float


class Matcher:
    """Scores a message against one locale's intents. Build once; ``match`` is pure."""

    def __init__(
        self,
        intents: Mapping[str, IntentNLU],
        *,
        # Calibrated with the classifier on tests/nlu/calibration.tsv, registers_heldout.tsv
        # and the dev sample (issue 13); never on registers_heldout2.tsv.
        confident: float = 50.0,
        ambiguous: float = 34.0,
        keyword_ambiguous: float = 34.0,
        margin: float = 3.0,
        language: str | None = None,
        classifier_weight: float = _CLASSIFIER_WEIGHT,
        classifier_full: float = _CLASSIFIER_FULL,
        reserved_margin: float = _RESERVED_MARGIN,
        reserved_share: float = _RESERVED_SHARE,
    ) -> None:
        """Precompute normalised examples, word specificity and the inverted index.

        Args:
            intents: intent id → examples and keywords (see :func:`parse_nlu_file`).
            confident: a best score at or above this, ahead of the runner-up by ``margin``,
                is a confident match.
            ambiguous: a best score at or above this (but not confident) is a close call.
            keyword_ambiguous: a lower bar for a close call when one of the best intent's
                keyword phrases is in the message: the citizen named the service but
                wrapped it in words the examples do not use, so offering choices beats
                "not understood".
            margin: how far the best must lead the second intent to be confident.
            language: ``"id"`` (Indonesian/Papuan Malay normaliser) or ``"en"``; None
                guesses it from the examples' function words, so a caller that only has
                the locale's intents (``Matcher(flow_set.nlu["en"])``) still gets the
                English normaliser, which the Indonesian stemmer would otherwise mangle.
        """
        if not 0 <= ambiguous <= confident <= 100:
            raise ValueError("thresholds must satisfy 0 <= ambiguous <= confident <= 100")
        self.confident = confident
        self.ambiguous = ambiguous
        self.keyword_ambiguous = min(keyword_ambiguous, ambiguous)
        self.margin = margin
        if language is None:
            language = guess_language(intents)
        self.language = language
        self._norm = normalize_en if language == "en" else normalize
        self._stop = STOPWORDS

        token_sets: dict[str, list[frozenset[str]]] = {}
        kw_sets: dict[str, list[frozenset[str]]] = {}
        documents: dict[str, list[list[str]]] = {}
        for intent, nlu in intents.items():
            ex_tokens = [self._content(self._norm(e)) for e in nlu.examples]
            kw_tokens = [self._content(self._norm(k)) for k in nlu.keywords]
            token_sets[intent] = [frozenset(t) for t in ex_tokens if t]
            kw_sets[intent] = [frozenset(t) for t in kw_tokens if t]
            documents[intent] = [t for t in ex_tokens + kw_tokens if t]
        self.reserved_margin = reserved_margin
        self.reserved_share = reserved_share
        self.classifier_weight = classifier_weight
        self.classifier_full = classifier_full
        self._classifier = (
            NgramCentroids(
                documents, union=[i for i in documents if i.startswith(RESERVED_PREFIX)]
            )
            if classifier_weight > 0
            else None
        )
        df: dict[str, int] = {}
        for intent in intents:
            vocab = set().union(*token_sets[intent], *kw_sets[intent])
            for tok in vocab:
                df[tok] = df.get(tok, 0) + 1
        n = max(len(intents), 1)
        self._idf: dict[str, float] = {
            t: math.log((n + 1) / (d + 0.5)) + 0.1 for t, d in df.items()
        }
        self._vocab: tuple[str, ...] = tuple(sorted(self._idf))
        self._examples: list[_Example] = []
        self._keywords: list[_Keyword] = []
        self._ex_index: dict[str, list[int]] = {}
        self._kw_index: dict[str, list[int]] = {}
        for intent in intents:
            for toks in token_sets[intent]:
                idx = len(self._examples)
                self._examples.append(_Example(intent, toks, sum(self._idf[t] for t in toks)))
                for t in toks:
                    self._ex_index.setdefault(t, []).append(idx)
            for toks in kw_sets[intent]:
                idx = len(self._keywords)
                strength = min(1.0, sum(self._idf[t] for t in toks) / _KEYWORD_FULL)
                self._keywords.append(_Keyword(intent, toks, strength))
                for t in toks:
                    self._kw_index.setdefault(t, []).append(idx)
        self._intents = tuple(intents)
        self._fuzzy = lru_cache(maxsize=4096)(self._fuzzy_uncached)

    @property
    def intents(self) -> tuple[str, ...]:
        """The intents this matcher can answer (reserved out-of-scope classes left out)."""
        return tuple(i for i in self._intents if not i.startswith(RESERVED_PREFIX))

    # -- helpers ------------------------------------------------------------------------

    def _content(self, normalized: str) -> list[str]:
        """Scoring tokens: no stopwords, no greetings, no place names.

        A text made only of greetings becomes the single token "halo", so that "selamat
        pagi" and "halo" meet (the catalogue's greeting intent) without a greeting word
        weighing anything in a real question ("halo, ktp hilang").
        """
        tokens = normalized.split()
        out = self._content_words(tokens)
        if not out and any(t in _THANKS for t in tokens):
            return ["terimakasih"]
        if not out and any(t in GREETINGS for t in tokens):
            return ["halo"]
        return out

    def _content_words(self, tokens: Sequence[str]) -> list[str]:
        out: list[str] = []
        prev_place = False
        for tok in tokens:
            if tok in PLACES and (tok not in AMBIGUOUS_PLACES or prev_place):
                prev_place = True
                continue
            prev_place = False
            if tok in self._stop or tok in GREETINGS:
                continue
            out.append(tok)
        return out

    def _fuzzy_uncached(self, token: str) -> tuple[str, float] | None:
        if len(token) < 4 or not token.isalpha():
            return None
        best = process.extractOne(
            token, self._vocab, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF
        )
        if best is None:
            return None
        return best[0], best[1] / 100.0

    def _map_query(self, tokens: Iterable[str]) -> tuple[dict[str, float], float]:
        """Map message tokens to catalogue words: {catalogue word: weight}, total weight."""
        mapped: dict[str, float] = {}
        total = 0.0
        for tok in tokens:
            if tok in self._idf:
                w = self._idf[tok]
                if mapped.get(tok, 0.0) < w:
                    total += w - mapped.get(tok, 0.0)
                    mapped[tok] = w
                continue
            hit = self._fuzzy(tok)
            if hit is None:
                total += _UNKNOWN_WEIGHT if len(tok) > 2 else _SHORT_UNKNOWN_WEIGHT
                continue
            word, sim = hit
            w = self._idf[word] * sim
            if mapped.get(word, 0.0) < w:
                total += w - mapped.get(word, 0.0)
                mapped[word] = w
        return mapped, total

    @staticmethod
    def _direction(tokens: Sequence[str]) -> list[str]:
        """Add "datang"/"keluar" to a moving-house message from its direction words.

        "pindah ke jayapura" moves out of Mimika; "pindah dari makassar" or "pindah ke
        timika" moves in. Without this both read as the same words.
        """
        if "pindah" not in tokens:
            return []
        extra: list[str] = []
        for i, tok in enumerate(tokens):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if tok == "dari" and nxt and nxt not in LOCAL_PLACES:
                extra.append("datang")
            elif tok in {"ke", "pergi", "kemana"} and nxt:
                if nxt in LOCAL_PLACES:
                    extra.append("datang")
                elif nxt == "luar" or nxt in PLACES:
                    extra.append("keluar")
        return extra

    # -- matching -----------------------------------------------------------------------

    def scores(self, text: str) -> list[tuple[str, float]]:
        """All intents with a positive score, best first (for evaluation and debugging)."""
        return self._rank(text).ranked

    def _rank(self, text: str) -> _Ranking:
        if not isinstance(text, str):
            return _EMPTY
        head = text[: MAX_SCORED_CHARS * 2]
        only_number = bool(head.strip()) and bool(_ONLY_NUMBER.match(head))
        extra: list[str] = []
        has_nik = False
        if _NOP.search(head):
            extra.append("nop")
        elif _NIK.search(head):
            extra.append("nik")
            has_nik = True
        scored = _NEGATION.sub(" ", head[:MAX_SCORED_CHARS])
        scores, keyword_hits, content = self._score_piece(scored, extra)
        if scores is None:
            return _EMPTY
        exact: dict[str, float] = {}
        for n, piece in enumerate(self._clauses(scored)):
            part, part_hits, part_content = self._score_piece(piece, [])
            if not part:
                continue
            # A greeting or thanks opening the message ("Selamat siang.") is not its topic.
            small_talk = part_content in (["halo"], ["terimakasih"])
            keyword_hits |= part_hits
            for intent, value in part.items():
                value *= _CLAUSE_FACTOR
                if value > scores.get(intent, 0.0):
                    scores[intent] = value
                first = n == 0 and not small_talk
                if first and value >= _EXACT_CLAUSE and value > exact.get(intent, 0.0):
                    exact[intent] = value
        if self._classifier is not None:
            scores = self._blend(scores, content)
            # A clause that is almost word for word an example ("mau mengadu, ... disuruh ke
            # puskesmas") is evidence enough: the classifier of the whole message, pulled by
            # the story's other words, must not dilute it.
            for intent, value in exact.items():
                if value > scores.get(intent, 0.0):
                    scores[intent] = value
        ranked = [(intent, round(score, 1)) for intent, score in scores.items()]
        ranked.sort(key=lambda item: (-item[1], item[0]))
        return _Ranking(ranked, has_nik and only_number, frozenset(keyword_hits))

    def _blend(self, scores: dict[str, float], content: list[str]) -> dict[str, float]:
        """Word scores mixed with the n-gram classifier's cosine (both 0-100).

        A cosine of ``classifier_full`` or more counts as full evidence: a message rarely
        shares more than that with a centroid of dozens of examples.
        """
        assert self._classifier is not None
        w = self.classifier_weight
        full = self.classifier_full
        words = [t for t in content if t.isalpha() and t not in _NUMBER_TOKENS]
        if not words:  # a number alone: the classifier has nothing to say about it
            return scores
        cos = self._classifier.scores(words)
        out: dict[str, float] = {}
        for intent in set(scores) | set(cos):
            c = min(1.0, cos.get(intent, 0.0) / full)
            if intent.startswith(RESERVED_PREFIX):
                c *= self.reserved_share
            word = scores.get(intent, 0.0)
            out[intent] = (1 - w) * word + w * 100.0 * c
            if word >= _EXACT_EXAMPLE and word > out[intent]:
                # The message is (almost) word for word one of the examples: that is the
                # catalogue's own answer, e.g. an example an admin has just added for a
                # question the bot missed; the classifier's average must not outvote it.
                out[intent] = word
        return out

    def _clauses(self, text: str) -> list[str]:
        """The clauses of a long message worth scoring on their own (at most a few).

        Split at punctuation and linking words; a run-on message without either (typed by
        voice) is cut into overlapping windows of eight words instead.
        """
        pieces = [p for p in _CLAUSE_SPLIT.split(text) if p and p.strip()]
        if len(pieces) <= 1:
            words = text.split()
            if len(words) <= 10:
                return []
            pieces = [" ".join(words[i : i + 8]) for i in range(0, len(words) - 4, 4)]
        out = [p for p in pieces if len(p.split()) >= _MIN_CLAUSE_TOKENS]
        return out[:_MAX_CLAUSES] if len(out) > 1 else []

    def _score_piece(
        self, text: str, extra: list[str]
    ) -> tuple[dict[str, float] | None, set[str], list[str]]:
        """Scores (0-100) per intent for one piece of text (None when it has no content),
        the intents whose keyword phrase is present, and the content words scored."""
        normalized = self._norm(text)
        tokens = normalized.split()[:MAX_SCORED_TOKENS]
        content = self._content_words(tokens) + self._direction(tokens) + extra
        if not content and any(t in _THANKS for t in tokens):
            content = ["terimakasih"]  # thanks alone is small talk, not an empty message
        elif not content and any(t in GREETINGS for t in tokens):
            content = ["halo"]
        if not content:
            return None, set(), []
        # A repeated word says nothing new ("bla bla bla" must not drown "ktp hilang").
        mapped, total = self._map_query(dict.fromkeys(content))
        if not mapped or total <= 0:
            return None, set(), content

        # The weight each example shares with the message, summed through the inverted
        # index (an example's words are a set, so each shared word is counted once).
        shared: dict[int, float] = {}
        ex_index = self._ex_index
        for word, weight in mapped.items():
            for idx in ex_index.get(word, ()):
                shared[idx] = shared.get(idx, 0.0) + weight
        best: dict[str, float] = {}
        b2 = _BETA * _BETA
        examples = self._examples
        for idx, matched in shared.items():
            if matched <= 0:
                continue
            ex = examples[idx]
            recall = matched / total
            precision = matched / ex.weight
            f = (1 + b2) * precision * recall / (b2 * precision + recall)
            if f > best.get(ex.intent, 0.0):
                best[ex.intent] = f
        kw_best: dict[str, float] = {}
        seen: set[int] = set()
        for word in mapped:
            for idx in self._kw_index.get(word, ()):
                if idx in seen:
                    continue
                seen.add(idx)
                kw = self._keywords[idx]
                complete = all(t in mapped for t in kw.tokens)
                if complete and kw.strength > kw_best.get(kw.intent, 0.0):
                    kw_best[kw.intent] = kw.strength
        scores: dict[str, float] = {}
        for intent in set(best) | set(kw_best):
            ex_score = best.get(intent, 0.0)
            kw_score = kw_best.get(intent, 0.0) * min(1.0, 0.5 + ex_score)
            # An example met almost word for word is as good evidence as a keyword.
            kw_score = max(kw_score, ex_score**3)
            scores[intent] = 100.0 * (_EXAMPLE_SHARE * ex_score + (1 - _EXAMPLE_SHARE) * kw_score)
        return scores, set(kw_best), content

    def match(self, text: str) -> MatchResult:
        """Match one message. Never raises; see :class:`MatchResult` for the answer kinds."""
        try:
            ranking = self._rank(text)
        except Exception:  # a citizen's message must never crash the conversation
            logger.exception("matching failed for a message of %d characters", len(text))
            return NONE_RESULT
        ranked = ranking.ranked
        if not ranked:
            return NONE_RESULT
        if ranked[0][0].startswith(RESERVED_PREFIX):
            real = next((s for i, s in ranked if not i.startswith(RESERVED_PREFIX)), 0.0)
            # A look-alike must win clearly: "ktp hanyut di kali" shares a word or two with
            # some out-of-scope example, and "not understood" is the costliest answer.
            if ranked[0][1] - real >= self.reserved_margin:
                return OUT_OF_SCOPE_RESULT
        look_alike = next((s for i, s in ranked if i.startswith(RESERVED_PREFIX)), 0.0)
        ranked = [item for item in ranked if not item[0].startswith(RESERVED_PREFIX)]
        if not ranked:
            return NONE_RESULT
        intent, score = ranked[0]
        floor = self.keyword_ambiguous if intent in ranking.keyword_hits else self.ambiguous
        if score < floor:
            return NONE_RESULT
        top = tuple(ranked[:3])
        # An out-of-scope look-alike close behind also makes it a close call ("nomor saya
        # hilang": a lost KK, a lost KTP, or a lost SIM).
        second = max(ranked[1][1] if len(ranked) > 1 else 0.0, look_alike)
        if score >= self.confident and score - second >= self.margin and not ranking.nik_only:
            return MatchResult(intent=intent, score=score, alternatives=top, kind="confident")
        return MatchResult(intent=intent, score=score, alternatives=top, kind="ambiguous")


@dataclass(frozen=True, slots=True)
class _Ranking:
    ranked: list[tuple[str, float]]
    nik_only: bool
    keyword_hits: frozenset[str]


_EMPTY = _Ranking([], nik_only=False, keyword_hits=frozenset())
