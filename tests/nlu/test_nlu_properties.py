"""Property tests: the normaliser and matcher hold their promises on any input."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.nlu.matcher import Matcher
from bot.nlu.normalize import MAX_OUTPUT_CHARS, normalize
from bot.nlu.normalize_en import normalize_en

# Words that exercise the tables (kk context, Papuan Malay, phrases) more than random text.
_VOCAB = [
    "kk",
    "kartu",
    "keluarga",
    "halo",
    "makasih",
    "sa",
    "pu",
    "ka",
    "su",
    "e",
    "ktp",
    "el",
    "akte",
    "lahir",
    "hilang",
    "mau",
    "tanya",
    "ak",
    "1",
    "i",
    "pajak",
    "bumi",
    "dan",
    "bangunan",
    "pindah",
    "ke",
    "dari",
    "timika",
    "jayapura",
    "membuat",
    "ktpnya",
    "ya",
    "kakak",
    "min",
    "terima",
    "kasih",
    "halooo",
    "\u200b",
    "\u202e",
    "!!",
    "-",
    "/",
    "2",
    "anak2",
    "mimika",
    "baru",
    "pbb",
    "p2",
    "gmn",
    "tra",
    "trada",
    "ko",
    "de",
    "dong",
]
_INVISIBLE = {
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\ufeff",
}

chat_text = st.lists(st.sampled_from(_VOCAB), max_size=12).map(" ".join)
any_text = st.one_of(st.text(max_size=300), chat_text)


@given(any_text)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_normalize_is_idempotent_and_clean(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert not any(ch in _INVISIBLE for ch in once)
    assert not any(unicodedata.category(ch) in {"Cf", "Cc"} for ch in once if ch != " ")
    assert len(once) <= MAX_OUTPUT_CHARS
    assert once == once.strip()
    assert "  " not in once


@given(st.text(min_size=2000, max_size=6000))
@settings(max_examples=20, deadline=None)
def test_normalize_output_is_bounded_for_long_input(text: str) -> None:
    assert len(normalize(text)) <= MAX_OUTPUT_CHARS


@given(any_text)
@settings(max_examples=200)
def test_normalize_en_is_idempotent(text: str) -> None:
    once = normalize_en(text)
    assert normalize_en(once) == once
    assert len(once) <= MAX_OUTPUT_CHARS


@given(any_text)
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_match_never_raises_and_is_well_formed(id_matcher: Matcher, text: str) -> None:
    result = id_matcher.match(text)
    assert 0.0 <= result.score <= 100.0
    assert len(result.alternatives) <= 3
    if result.kind == "none":
        assert result.intent is None
        assert result.alternatives == ()
    else:
        assert result.intent == result.alternatives[0][0]
        scores = [s for _, s in result.alternatives]
        assert scores == sorted(scores, reverse=True)
