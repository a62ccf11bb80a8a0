"""A small dictionary-guided Indonesian stemmer.

Why our own and not Sastrawi: we need a few hundred domain roots protected ("akta", "pajak",
"bangunan", "keluarga", "dinas", "distrik" look affixed but are not), colloquial affixes
(``ng-``, ``-in``) and no extra dependency. The method follows Nazief–Adriani in outline:
strip particles, possessives and derivational suffixes, then up to two prefixes with the
nasal recodings (``meny-`` + vowel → ``s``, ``mem-`` → ``p``, ``men-`` → ``t``,
``meng-`` → ``k``), accepting the first candidate found in :data:`ROOTS`. When no candidate
is a known root we only strip what is unambiguous (particles, possessives, and a clear
prefix–suffix pair leaving at least four letters), because over-stemming an unknown word
could make it collide with a real service word.
"""

from __future__ import annotations

from functools import lru_cache

from bot.nlu.lexicon import ROOTS

_VOWELS = frozenset("aeiou")
_PARTICLES = ("lah", "kah", "tah", "pun")
_POSSESSIVES = ("nya", "ku", "mu")
_SUFFIXES = ("kan", "an", "in", "i")
# Prefix-suffix pairs that Indonesian does not combine; a candidate with one is rejected.
_BAD_CONFIXES = (("be", "i"), ("di", "an"), ("ke", "i"), ("ke", "kan"), ("me", "an"))


def _has_vowel(word: str) -> bool:
    return any(ch in _VOWELS for ch in word)


def _strip_suffixes(word: str) -> list[tuple[str, str]]:
    """Return (stem, removed-derivational-suffix) candidates, least stripped first."""
    out: list[tuple[str, str]] = [(word, "")]
    current = word
    for group in (_PARTICLES, _POSSESSIVES):
        for suffix in group:
            if current.endswith(suffix) and len(current) - len(suffix) >= 3:
                current = current[: -len(suffix)]
                out.append((current, ""))
                break
    for suffix in _SUFFIXES:
        if current.endswith(suffix) and len(current) - len(suffix) >= 3:
            out.append((current[: -len(suffix)], suffix))
            # "-kan" is tried before "-an" but both stay candidates: "dibuatkan" is
            # buat+kan while "kerusakan" is rusak+an; the root table decides.
            if suffix != "kan":
                break
    return out


def _prefix_options(word: str) -> list[tuple[str, str]]:
    """One layer of prefix removal: (remainder, prefix-family) options, most likely first."""
    opts: list[tuple[str, str]] = []
    w = word

    def add(rest: str, fam: str) -> None:
        if len(rest) >= 3 and _has_vowel(rest):
            opts.append((rest, fam))

    for pre in ("di", "ke", "se"):
        if w.startswith(pre):
            add(w[len(pre) :], pre)
    for pre in ("ter", "ber", "per"):
        if w.startswith(pre):
            add(w[3:], "be" if pre == "ber" else pre)
    if w.startswith(("be", "te", "pe")) and len(w) > 3 and w[2] == "r" and w[3] in _VOWELS:
        pass  # covered above
    elif w.startswith("be") and w[2:3] not in _VOWELS:
        add(w[2:], "be")  # be + kerja = bekerja
    if w.startswith("memper"):
        add(w[6:], "me")
    for pre, fam in (("me", "me"), ("pe", "pe")):
        if not w.startswith(pre):
            continue
        rest = w[2:]
        if rest.startswith("ny") and rest[2:3] in _VOWELS:
            add("s" + rest[2:], fam)
            add(rest[2:], fam)
        elif rest.startswith("nge"):
            add(rest[3:], fam)
            add("k" + rest[3:], fam)
        elif rest.startswith("ng"):
            if rest[2:3] in _VOWELS:
                add(rest[2:], fam)
                add("k" + rest[2:], fam)
            else:
                add(rest[2:], fam)
        elif rest.startswith("m"):
            if rest[1:2] in _VOWELS:
                add("p" + rest[1:], fam)
                add("m" + rest[1:], fam)
            else:
                add(rest[1:], fam)
        elif rest.startswith("n"):
            if rest[1:2] in _VOWELS:
                add("t" + rest[1:], fam)
                add("n" + rest[1:], fam)
            else:
                add(rest[1:], fam)
        elif fam == "me" and rest[:1] in {"l", "r", "w", "y"}:
            add(rest, fam)
        elif fam == "pe" and rest[:1] not in _VOWELS and rest[:1] != "r":
            add(rest, fam)  # pe + kerja = pekerja, pe + latih + an = pelatihan
    # Colloquial Jakarta-style nasal verbs: ngurus, nyari, ngecek.
    if w.startswith("nge"):
        add(w[3:], "ng")
    if w.startswith("ng") and w[2:3] in _VOWELS:
        add(w[2:], "ng")
        add("k" + w[2:], "ng")
    if w.startswith("ny") and w[2:3] in _VOWELS:
        add("s" + w[2:], "ng")
        add("c" + w[2:], "ng")
    return opts


def _allowed(prefix: str, suffix: str) -> bool:
    return (prefix, suffix) not in _BAD_CONFIXES


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """Reduce an affixed Indonesian word to its root (``membuatkan`` → ``buat``).

    Short words, words with digits and known roots are returned unchanged.
    """
    if len(word) <= 3 or word in ROOTS or not word.isalpha():
        if word.endswith("nya") and len(word) > 5 and word[:-3] in ROOTS:
            return word[:-3]  # "ktp1nya" style is rare; "ktpnya" is covered below
        return word
    suffix_forms = _strip_suffixes(word)
    for base, suffix in suffix_forms:
        if base in ROOTS:
            return base
        for rest, fam in _prefix_options(base):
            if rest in ROOTS and _allowed(fam, suffix):
                return rest
            for rest2, fam2 in _prefix_options(rest):
                if rest2 in ROOTS and _allowed(fam2, suffix):
                    return rest2
    return _fallback(word, suffix_forms)


def _fallback(word: str, suffix_forms: list[tuple[str, str]]) -> str:
    """Strip only unambiguous affixes from a word no root explains."""
    # Inflectional endings (-nya, -lah, -kah, -ku, -mu) are always safe to drop.
    inflected = [b for b, s in suffix_forms if not s]
    base = inflected[-1] if inflected else word
    if base != word and len(base) >= 3:
        word = base
    # A clear confix (pe-an, ke-an, per-an, di-kan, me-kan...) leaving four letters or more.
    for b, suffix in suffix_forms:
        if not suffix:
            continue
        for rest, fam in _prefix_options(b):
            # Nouns take pe-/ke-/per- with -an, so "pendidikan" is didik+an, not didi+kan.
            if suffix == "kan" and fam in {"pe", "ke", "per"}:
                continue
            if len(rest) >= 4 and _allowed(fam, suffix) and fam != "se":
                return rest
    # A verbal prefix alone on a long word (mendaftar, ditulis, bermain).
    if len(word) >= 7:
        for rest, fam in _prefix_options(word):
            if fam in {"me", "di", "be", "ter"} and len(rest) >= 4:
                return rest
    return word
