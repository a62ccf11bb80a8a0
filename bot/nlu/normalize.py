"""Normalise Indonesian (and Papuan Malay) chat text before matching.

Citizens write "sa pu ktp ilang, bikin baru gmn??", "Akte kelahiran anak saya" or
"KK hilang kak". The matcher compares words, so every spelling of a word must become one
canonical token: ``normalize("Sa pu e-KTP ilang!!")`` → ``"saya punya ktp hilang"``.

Steps, in order (each explained where it is done):

1. Unicode NFKC, drop invisible format and control characters (zero-width, bidi marks),
   lower-case, punctuation to spaces (digits are kept: NOP and NIK numbers matter).
2. Collapse letters repeated three times or more ("halooo" → "halo").
3. Domain phrases on the raw tokens ("e ktp" → "ktp", "ak 1" → "ak1").
4. Per token: Papuan Malay overrides, chat slang, stemming, slang again.
5. Domain phrases again (they may only appear after stemming: "kartu keluarganya").
6. Decide each "kk": Kartu Keluarga near document words, otherwise "kakak" (dropped).

The function is pure, never raises on any string, is idempotent and bounds its output.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from bot.nlu.lexicon import (
    ADDRESS_CONTEXT,
    KK_DOC_CONTEXT,
    KK_PHRASES,
    PAPUAN,
    PHRASES,
    ROOTS,
    SLANG,
    STOPWORDS,
)
from bot.nlu.stemmer import stem

__all__ = ["MAX_INPUT_CHARS", "MAX_OUTPUT_CHARS", "content_tokens", "normalize"]

# A chat message longer than this is not a question we can match word by word; cutting it
# keeps the cost of a hostile 5,000-character message bounded.
MAX_INPUT_CHARS = 2000
MAX_OUTPUT_CHARS = 2000

_KK = "kk"
_KK_WINDOW = 3
_GREETING_BEFORE_KK = frozenset(
    {"halo", "salam", "permisi", "maaf", "pagi", "siang", "sore", "malam", "terimakasih", "ya"}
)
_ASKING_AFTER_KK = frozenset({"mau", "ingin", "boleh", "tolong", "mohon", "tanya", "permisi"})
_NON_WORD = re.compile(r"[\W_]+")
_REPEAT3 = re.compile(r"([a-z])\1{2,}")
_REDUP_DIGIT = re.compile(r"^([a-z]{3,})2$")
_MAX_PHRASE = max(len(k) for k in (*PHRASES, *KK_PHRASES))

# Known words, for choosing between "maaf" and "maf" when collapsing "maaaaf".
_KNOWN: frozenset[str] = frozenset(
    {*ROOTS, *STOPWORDS, *PAPUAN, *SLANG, *(w for v in SLANG.values() for w in v.split())}
)


# Words that are already canonical output of a table: never stemmed again, so that a second
# pass leaves them alone ("terimakasih" is not ter- + imakasih).
_CANONICAL: frozenset[str] = frozenset(
    {
        *STOPWORDS,
        *(w for v in SLANG.values() for w in v.split()),
        *(w for v in PAPUAN.values() for w in v.split()),
        *(w for v in PHRASES.values() for w in v.split()),
    }
)


def _is_invisible(ch: str) -> bool:
    """Format (Cf: zero-width, bidi marks, BOM) and control (Cc) characters carry no text."""
    cat = unicodedata.category(ch)
    return cat in {"Cf", "Cc", "Cs", "Co", "Cn"} and ch not in "\n\t "


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text[:MAX_INPUT_CHARS])
    text = "".join(" " if _is_invisible(ch) else ch for ch in text)
    text = unicodedata.normalize("NFKC", text.lower())
    return _NON_WORD.sub(" ", text)


def _collapse_repeats(token: str) -> str:
    if not _REPEAT3.search(token):
        return token
    double = _REPEAT3.sub(r"\1\1", token)
    single = _REPEAT3.sub(r"\1", token)
    if double in _KNOWN and single not in _KNOWN:
        return double
    return single


def _apply_phrases(
    tokens: Sequence[str], kk_marks: Sequence[bool]
) -> tuple[list[str], list[bool]]:
    """Replace known multi-word phrases, longest first; mark Kartu Keluarga phrases."""
    out: list[str] = []
    marks: list[bool] = []
    i = 0
    n = len(tokens)
    while i < n:
        for size in range(min(_MAX_PHRASE, n - i), 1, -1):
            key = tuple(tokens[i : i + size])
            if key in KK_PHRASES:
                out.append(_KK)
                marks.append(True)
                i += size
                break
            repl = PHRASES.get(key)
            if repl is not None:
                out.extend(repl.split())
                marks.extend(False for _ in repl.split())
                i += size
                break
        else:
            out.append(tokens[i])
            marks.append(kk_marks[i])
            i += 1
    return out, marks


def _map_token(token: str) -> list[str]:
    """Papuan Malay first, then slang, then the stemmer, then slang on the stem."""
    if token in PAPUAN:
        return PAPUAN[token].split()
    if token in SLANG:
        return SLANG[token].split()
    if token in _CANONICAL:
        return [token]
    m = _REDUP_DIGIT.match(token)
    if m:  # "anak2" is the reduplicated "anak-anak"
        token = m.group(1)
    root = stem(token)
    mapped = SLANG.get(root, root)
    return mapped.split()


def _kk_is_card(tokens: Sequence[str], i: int) -> bool:
    """Decide whether the ambiguous "kk" at ``tokens[i]`` means Kartu Keluarga.

    Chat uses "kk" for "kakak" (older sibling, a polite "you"); service chat also uses it
    for Kartu Keluarga. Right after a greeting or thanks, or opening a message before an
    asking word, it is "kakak" ("halo kk", "makasih kk", "kk mau tanya syarat akta").
    Otherwise a document word within three tokens wins ("kk hilang", "pisah kk").
    Otherwise "kk" is read as "kakak" when it is used to address someone: next to a
    greeting or asking word ("halo kk", "kk mau tanya", "makasih kk") or as the last word
    after a question ("berapa lama kk"). Anything else ("kk terbakar", "sa pu kk") is the
    card, since a document is what citizens bring to a service desk.
    """
    prev = tokens[i - 1] if i > 0 else ""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if prev in _GREETING_BEFORE_KK or (i == 0 and nxt in _ASKING_AFTER_KK):
        return False  # "halo kk ...", "makasih kk", "kk mau tanya syarat akta"
    lo, hi = max(0, i - _KK_WINDOW), min(len(tokens), i + _KK_WINDOW + 1)
    window = [t for j, t in enumerate(tokens[lo:hi], start=lo) if j != i]
    if any(t in KK_DOC_CONTEXT for t in window):
        return True
    neighbours = [tokens[j] for j in (i - 1, i + 1) if 0 <= j < len(tokens)]
    if any(t in ADDRESS_CONTEXT for t in neighbours):
        return False
    others = [t for j, t in enumerate(tokens) if j != i and t != _KK]
    last_after_question = i == len(tokens) - 1 and i > 0
    return not (last_after_question and any(t not in STOPWORDS for t in others))


def _pass(text: str) -> str:
    raw = [_collapse_repeats(t) for t in text.split()]
    tokens, marks = _apply_phrases(raw, [False] * len(raw))
    mapped: list[str] = []
    mapped_marks: list[bool] = []
    for tok, mark in zip(tokens, marks, strict=True):
        if mark or tok == _KK:
            mapped.append(_KK)
            mapped_marks.append(mark)
            continue
        for m in _map_token(tok):
            mapped.append(m)
            mapped_marks.append(False)
    tokens, marks = _apply_phrases(mapped, mapped_marks)
    out: list[str] = []
    for i, tok in enumerate(tokens):
        if tok == _KK:
            if _kk_is_card(tokens, i):
                out.append(_KK)
            elif marks[i]:
                out.extend(("kartu", "keluarga"))  # explicit words, kept as written
            continue
        out.append(tok)
    return _bounded(out)


def _bounded(tokens: Iterable[str]) -> str:
    kept: list[str] = []
    size = 0
    for tok in tokens:
        extra = len(tok) + (1 if kept else 0)
        if size + extra > MAX_OUTPUT_CHARS:
            break
        kept.append(tok)
        size += extra
    return " ".join(kept)


def normalize(text: str) -> str:
    """Return the canonical, space-separated token string for a chat message.

    The pass is repeated until nothing changes (at most a few times) so that the result is
    a fixed point: ``normalize(normalize(x)) == normalize(x)`` holds for every input, which
    the matcher relies on when it normalises catalogue examples and messages alike.
    """
    if not isinstance(text, str):
        text = str(text)
    current = _pass(_clean(text))
    for _ in range(4):
        nxt = _pass(current)
        if nxt == current:
            break
        current = nxt
    return current


def content_tokens(normalized: str) -> list[str]:
    """Tokens of a normalised text that carry meaning for scoring (no stopwords)."""
    return [t for t in normalized.split() if t not in STOPWORDS]
