"""Accuracy on the hand-written held-out sets: the guard against overfitting the dev sample."""

from __future__ import annotations

from pathlib import Path

from bot.nlu.evaluate import evaluate, read_tsv
from bot.nlu.matcher import Matcher

HERE = Path(__file__).parent


def test_heldout_id_size_and_labels(id_matcher: Matcher) -> None:
    rows = read_tsv(HERE / "heldout_id.tsv")
    assert len(rows) >= 120
    assert sum(label == "-" for label, _ in rows) >= 10
    known = set(id_matcher.intents)
    assert {label for label, _ in rows} - {"-"} <= known


def test_heldout_id_accuracy(id_matcher: Matcher) -> None:
    report = evaluate(id_matcher, read_tsv(HERE / "heldout_id.tsv"))
    assert report.accuracy >= 0.85, report.misses
    assert report.total.false_answer_rate <= 0.05


def test_fresh_id_accuracy(id_matcher: Matcher) -> None:
    report = evaluate(id_matcher, read_tsv(HERE / "fresh_id.tsv"))
    assert report.accuracy >= 0.85, report.misses


def test_heldout_en_accuracy(en_matcher: Matcher) -> None:
    report = evaluate(en_matcher, read_tsv(HERE / "heldout_en.tsv"))
    assert report.accuracy >= 0.75, report.misses
