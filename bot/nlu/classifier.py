"""A character n-gram TF-IDF classifier over the catalogue's own examples (issue 13).

Why next to the word scorer in :mod:`bot.nlu.matcher`: the word scorer needs a message word
to meet a catalogue word (exactly, or within a rapidfuzz ratio). Citizens write words the
examples never use in that form ("kematiannya", "dimasukin", "pengantinya"), glue or split
words ("akte lahirnya", "kartukeluarga") and mix registers; character n-grams inside words
still overlap there. The two disagree on different messages, so their blend ranks better
than either (measured with ``python -m bot.nlu.evaluate``).

The model is a nearest-centroid classifier (Rocchio): every example and keyword phrase is a
sublinear TF-IDF vector of the 3- to 5-letter pieces of its words (with word boundaries)
plus the words themselves, L2-normalised; each intent's centroid is the normalised sum of
its vectors, and a message scores the cosine with each centroid. A *union* class (the
out-of-scope look-alikes: tax numbers, driving licences, football...) is a list of unrelated
topics whose centroid resembles none of them, so it scores its best single example instead.
It is trained in pure Python when the matcher is built (about 0.1 s for the Indonesian
catalogue on one core), so
there is nothing to download and an example an admin adds in the console counts as soon as
the flow set is published. Scoring goes through an inverted index (n-gram → intents), so
it costs a few hundred dictionary look-ups per message.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence

__all__ = ["NgramCentroids", "ngrams"]

_SIZES = (3, 4, 5)


def ngrams(tokens: Iterable[str]) -> dict[str, int]:
    """Counts of the word and character n-gram features of a token list."""
    out: dict[str, int] = {}
    for tok in tokens:
        key = "w:" + tok
        out[key] = out.get(key, 0) + 1
        padded = f"#{tok}#"
        for n in _SIZES:
            for i in range(len(padded) - n + 1):
                gram = padded[i : i + n]
                out[gram] = out.get(gram, 0) + 1
    return out


class NgramCentroids:
    """Cosine similarity of a message with each intent's centroid of example vectors."""

    def __init__(
        self,
        documents: Mapping[str, Sequence[Sequence[str]]],
        *,
        union: Collection[str] = (),
    ) -> None:
        """Train on intent → token lists (examples and keyword phrases, already normalised).

        ``union`` names the classes scored by their nearest example, not their centroid.
        """
        feats: list[tuple[str, dict[str, int]]] = []
        self._owner: dict[str, str] = {}
        for intent, docs in documents.items():
            for i, tokens in enumerate(docs):
                if not tokens:
                    continue
                key = f"{intent}#{i}" if intent in union else intent
                self._owner[key] = intent
                feats.append((key, ngrams(tokens)))
        df: dict[str, int] = {}
        for _intent, f in feats:
            for key in f:
                df[key] = df.get(key, 0) + 1
        n = len(feats)
        self._idf = {k: math.log((n + 1) / (d + 1)) + 1.0 for k, d in df.items()}
        centroids: dict[str, dict[str, float]] = {}
        for intent, f in feats:
            vec = self._vector(f)
            c = centroids.setdefault(intent, {})
            for key, x in vec.items():
                c[key] = c.get(key, 0.0) + x
        self._index: dict[str, list[tuple[str, float]]] = {}
        for intent, c in centroids.items():
            norm = math.sqrt(sum(x * x for x in c.values())) or 1.0
            for key, x in c.items():
                self._index.setdefault(key, []).append((intent, x / norm))

    def _vector(self, counts: Mapping[str, int]) -> dict[str, float]:
        idf = self._idf
        vec = {k: (1.0 + math.log(c)) * idf[k] for k, c in counts.items() if k in idf}
        norm = math.sqrt(sum(x * x for x in vec.values())) or 1.0
        return {k: x / norm for k, x in vec.items()}

    def scores(self, tokens: Sequence[str]) -> dict[str, float]:
        """Cosine (0–1) with every intent sharing a feature with ``tokens``."""
        sums: dict[str, float] = {}
        index = self._index
        for key, x in self._vector(ngrams(tokens)).items():
            for cls, w in index.get(key, ()):
                sums[cls] = sums.get(cls, 0.0) + x * w
        out: dict[str, float] = {}
        owner = self._owner
        for cls, value in sums.items():
            intent = owner[cls]
            if value > out.get(intent, 0.0):
                out[intent] = value
        return out
