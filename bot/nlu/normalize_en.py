"""Normalise English chat for the English NLU file.

English messages get the same cleaning as Indonesian ones (Unicode, invisible characters,
punctuation, repeated letters) but not the Indonesian stemmer or slang tables, which would
mangle English words ("dinner" is not di- + nner). A light suffix stripper makes "cards",
"registering" and "registered" meet "card" and "register". Indonesian document names that
English-speaking residents still use ("KTP", "akta", "puskesmas") pass through unchanged,
and their common spellings are folded the same way as in Indonesian.
"""

from __future__ import annotations

from functools import lru_cache

from bot.nlu.normalize import _bounded, _clean, _collapse_repeats

__all__ = ["normalize_en"]

_EN_PHRASES: dict[tuple[str, ...], str] = {
    ("e", "ktp"): "ktp",
    ("ktp", "el"): "ktp",
    ("id", "card"): "idcard",
    ("identity", "card"): "idcard",
    ("family", "card"): "kk",
    ("kartu", "keluarga"): "kk",
    ("family", "register"): "kk",
    ("birth", "certificate"): "birthcert",
    ("death", "certificate"): "deathcert",
    ("marriage", "certificate"): "marriagecert",
    ("child", "idcard"): "kia",
    ("kartu", "kuning"): "ak1",
    ("ak", "1"): "ak1",
    ("yellow", "card"): "ak1",
    ("property", "tax"): "pbb",
    ("land", "tax"): "pbb",
    ("health", "certificate"): "healthcert",
    ("medical", "certificate"): "healthcert",
    ("health", "centre"): "puskesmas",
    ("health", "center"): "puskesmas",
    ("digital", "idcard"): "ikd",
    ("digital", "id"): "ikd",
}

_EN_SLANG: dict[str, str] = {
    "u": "you",
    "ur": "your",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "hi": "hello",
    "hey": "hello",
    "hallo": "hello",
    "halo": "hello",
    "ektp": "ktp",
    "akte": "akta",
    "kartu": "card",
    "lost": "lose",
    "stolen": "lose",
    "stole": "lose",
    "steal": "lose",
    "missing": "lose",
    "newborn": "child",
    "broken": "damage",
    "damaged": "damage",
    "children": "child",
    "kid": "child",
    "kids": "child",
    "baby": "child",
    "born": "birth",
    "died": "death",
    "dead": "death",
    "passed": "death",
    "married": "marriage",
    "marry": "marriage",
    "wedding": "marriage",
    "vaccine": "vaccination",
    "vaccines": "vaccination",
    "immunisation": "vaccination",
    "immunization": "vaccination",
    "jobs": "job",
    "vacancies": "vacancy",
    "moving": "move",
    "moved": "move",
    "relocate": "move",
}

_KEEP = frozenset({"news", "status", "bus", "this", "has", "was", "pbb", "ikd", "kia", "bphtb"})


@lru_cache(maxsize=4096)
def _stem_en(word: str) -> str:
    if word in _KEEP or len(word) <= 4 or not word.isalpha():
        return word
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "es" and not word.endswith(("ches", "shes", "sses", "xes")):
                continue
            return word[: -len(suffix)] + repl
    return word


def _pass(text: str) -> str:
    tokens = [_collapse_repeats(t) for t in text.split()]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in (3, 2):
            key = tuple(tokens[i : i + size])
            if len(key) == size and key in _EN_PHRASES:
                out.append(_EN_PHRASES[key])
                i += size
                break
        else:
            tok = _EN_SLANG.get(tokens[i], tokens[i])
            tok = _EN_SLANG.get(_stem_en(tok), _stem_en(tok))
            out.append(tok)
            i += 1
    # phrases may appear only after slang folding ("kartu keluarga" → "card keluarga")
    again: list[str] = []
    i = 0
    while i < len(out):
        key = tuple(out[i : i + 2])
        if len(key) == 2 and key in _EN_PHRASES:
            again.append(_EN_PHRASES[key])
            i += 2
        else:
            again.append(out[i])
            i += 1
    return _bounded(again)


def normalize_en(text: str) -> str:
    """English counterpart of :func:`bot.nlu.normalize.normalize`; same guarantees."""
    if not isinstance(text, str):
        text = str(text)
    current = _pass(_clean(text))
    for _ in range(4):
        nxt = _pass(current)
        if nxt == current:
            break
        current = nxt
    return current
