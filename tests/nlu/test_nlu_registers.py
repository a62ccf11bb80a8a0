"""Issue 13: understanding measured on messages in many registers, kept apart from examples.

``registers_heldout.tsv`` and ``registers_heldout2.tsv`` carry the issue's targets (the second
was never tuned on); ``calibration.tsv``
is what the thresholds were chosen on. Neither may share a line with the examples.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.nlu.evaluate import evaluate, load_understanding, read_registers
from bot.nlu.normalize import normalize
from bot.nlu.understand import Understanding

HERE = Path(__file__).parent
NLU_DIR = HERE.parents[1] / "flows" / "nlu"
EVAL_FILES = (
    "registers_heldout.tsv",
    "registers_heldout2.tsv",
    "calibration.tsv",
    "heldout_id.tsv",
    "fresh_id.tsv",
)


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return load_understanding(NLU_DIR)


def _examples() -> dict[str, str]:
    out: dict[str, str] = {}
    for path in NLU_DIR.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for intent, body in data.items():
            for example in body.get("examples") or []:
                out[normalize(example)] = f"{path.name}:{intent}"
    return out


@pytest.mark.parametrize("name", EVAL_FILES)
def test_no_evaluation_line_is_an_example(name: str) -> None:
    examples = _examples()
    overlap = [
        (text, examples[normalize(text)])
        for _label, text, _reg in read_registers(HERE / name)
        if normalize(text) in examples
    ]
    assert overlap == []


def test_every_intent_has_forty_examples_across_registers() -> None:
    counts: dict[str, int] = {}
    for path in NLU_DIR.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for intent, body in data.items():
            counts[intent] = counts.get(intent, 0) + len(body.get("examples") or [])
    short = {intent: n for intent, n in counts.items() if n < 40}
    assert short == {}


def test_heldout_registers_floor(understanding: Understanding) -> None:
    """The first held-out set (looked at while tuning): the issue's targets, at what is
    reached (top-1 0.936, top-3 0.984, refusals 0.5%, out-of-scope answered 4.0%)."""
    report = evaluate(understanding, read_registers(HERE / "registers_heldout.tsv"))
    total = report.total
    misses = [(label, text, r.intent, r.band) for label, text, r in report.misses]
    assert total.top1_rate >= 0.93, misses
    assert total.top3_rate >= 0.98, misses
    assert total.refusal_rate <= 0.01, misses
    assert total.false_answer_rate <= 0.05, misses


def test_second_heldout_set(understanding: Understanding) -> None:
    """The second held-out set, written before the classifier and the new examples and never
    tuned on: top-1 0.927, top-3 1.000, no refusals, no out-of-scope line answered."""
    rows = read_registers(HERE / "registers_heldout2.tsv")
    assert len(rows) >= 200
    assert {"papuan", "slang", "formal", "english", "voice", "story"} <= {r for *_, r in rows}
    report = evaluate(understanding, rows)
    total = report.total
    misses = [(label, text, r.intent, r.band) for label, text, r in report.misses]
    assert total.top1_rate >= 0.92, misses
    assert total.top3_rate >= 0.99, misses
    assert total.refusal_rate <= 0.01, misses
    assert total.false_answer_rate <= 0.04, misses


def test_heldout_registers_size() -> None:
    rows = read_registers(HERE / "registers_heldout.tsv")
    registers = {reg for _l, _t, reg in rows}
    assert len(rows) >= 200
    assert {"papuan", "slang", "formal", "english", "voice", "story"} <= registers
    assert sum(label == "-" for label, _t, _r in rows) >= 20
