"""Measure free-text understanding on labelled TSV files.

Usage::

    python -m bot.nlu.evaluate PATH.tsv [PATH.tsv ...] [--nlu-dir flows/nlu] [--misses]

Each non-comment line is ``intent-id<TAB>text``; ``-`` means out of scope. A line
``# register: NAME`` starts a register (Papuan Malay, chat slang, formal, English, ...): the
report is given per register and in total. Messages go through
:class:`bot.nlu.understand.Understanding` with every catalogue in the directory, as the
engine uses them (the message's language first, numbers routed to their status check).

For in-scope lines: **top-1** = answered (band "answer") with the right intent; **top-3** =
the right intent among the alternatives offered; **refusals** = nothing offered at all
(band "none"). For out-of-scope lines: **false answers** = answered with some intent
(band "answer"); a choice offered is counted apart. The three-band confusion (labelled right /
labelled wrong / out of scope against answer / choice / none) shows where the thresholds bite.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.nlu.matcher import Matcher, parse_nlu_file
from bot.nlu.understand import Understanding, Understood

_DEFAULT_NLU_DIR = Path(__file__).resolve().parents[2] / "flows" / "nlu"
_BANDS = ("answer", "choice", "none")


@dataclass
class Counts:
    """Counts for one register (or the total)."""

    labelled: int = 0
    top1: int = 0
    top3: int = 0
    refused: int = 0
    oos: int = 0
    oos_answered: int = 0
    oos_choice: int = 0
    confusion: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def add(self, label: str, result: Understood) -> bool:
        band = result.band
        if label == "-":
            self.oos += 1
            self.oos_answered += band == "answer"
            self.oos_choice += band == "choice"
            self.confusion[("out of scope", band)] += 1
            return band == "none"
        self.labelled += 1
        right = band == "answer" and result.intent == label
        self.top1 += right
        self.top3 += label in [i for i, _ in result.alternatives]
        self.refused += band == "none"
        row = "right intent" if result.intent == label else "wrong intent"
        self.confusion[(row, band)] += 1
        return right

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.labelled if self.labelled else 0.0

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.labelled if self.labelled else 0.0

    @property
    def refusal_rate(self) -> float:
        return self.refused / self.labelled if self.labelled else 0.0

    @property
    def false_answer_rate(self) -> float:
        return self.oos_answered / self.oos if self.oos else 0.0


@dataclass
class Report:
    """Counts per register and in total, plus the misses (label, text, result)."""

    total: Counts
    registers: dict[str, Counts]
    misses: list[tuple[str, str, Understood]]

    # Kept for older callers (tests/nlu/test_nlu_heldout.py).
    @property
    def accuracy(self) -> float:
        t = self.total
        right = t.top1 + (t.oos - t.oos_answered - t.oos_choice)
        n = self.total.labelled + self.total.oos
        return right / n if n else 0.0


def read_tsv(path: Path) -> list[tuple[str, str]]:
    """Read ``label<TAB>text`` lines, skipping blanks and ``#`` comments."""
    return [(label, text) for label, text, _register in read_registers(path)]


def read_registers(path: Path) -> list[tuple[str, str, str]]:
    """(label, text, register) for each line; the register comes from ``# register:`` lines."""
    rows: list[tuple[str, str, str]] = []
    register = "-"
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("# register:"):
            register = line.split(":", 1)[1].strip() or "-"
            continue
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        if not sep:
            raise ValueError(f"{path}:{lineno}: expected 'label<TAB>text'")
        rows.append((label.strip(), text, register))
    return rows


def load_matcher(nlu_path: Path, *, language: str | None = None) -> Matcher:
    """Build a matcher from one NLU YAML file."""
    data = yaml.safe_load(nlu_path.read_text(encoding="utf-8"))
    return Matcher(parse_nlu_file(data), language=language)


def load_understanding(nlu_dir: Path = _DEFAULT_NLU_DIR) -> Understanding:
    """Every catalogue in ``nlu_dir`` (``id.yaml``, ``en.yaml``) behind one Understanding."""
    matchers = {
        path.stem: load_matcher(path, language=path.stem)
        for path in sorted(nlu_dir.glob("*.yaml"))
    }
    return Understanding(matchers)


def evaluate(
    understanding: Understanding | Matcher,
    rows: Sequence[tuple[str, str]] | Sequence[tuple[str, str, str]],
) -> Report:
    """Score every row; see the module docstring for what counts as right."""
    if isinstance(understanding, Matcher):
        understanding = Understanding({understanding.language: understanding})
    total = Counts()
    registers: dict[str, Counts] = defaultdict(Counts)
    misses: list[tuple[str, str, Understood]] = []
    for row in rows:
        label, text = row[0], row[1]
        register = row[2] if len(row) > 2 else "-"  # type: ignore[misc]
        result = understanding.understand(text)
        ok = total.add(label, result)
        registers[register].add(label, result)
        if not ok:
            misses.append((label, text, result))
    return Report(total, dict(registers), misses)


def _line(name: str, c: Counts) -> str:
    inscope = (
        f"top-1 {c.top1_rate:6.1%}  top-3 {c.top3_rate:6.1%}  refusals {c.refusal_rate:6.1%}"
        f"  (n={c.labelled})"
        if c.labelled
        else " " * 48
    )
    oos = (
        f"  out-of-scope false answers {c.false_answer_rate:5.1%}, choices {c.oos_choice}"
        f" (n={c.oos})"
        if c.oos
        else ""
    )
    return f"  {name:<14} {inscope}{oos}"


def print_report(path: Path, report: Report, *, misses: bool) -> None:
    """Prints the per-register table, the band confusion and (optionally) the misses."""
    print(f"== {path}")
    for name, counts in report.registers.items():
        print(_line(name, counts))
    print(_line("TOTAL", report.total))
    print("  bands:         " + "  ".join(f"{b:>6}" for b in _BANDS))
    for row in ("right intent", "wrong intent", "out of scope"):
        cells = [report.total.confusion.get((row, b), 0) for b in _BANDS]
        print(f"  {row:<14} " + "  ".join(f"{n:>6}" for n in cells))
    if misses:
        for label, text, result in report.misses:
            alts = ", ".join(f"{i} {s:.0f}" for i, s in result.alternatives)
            print(
                f"  MISS want={label} got={result.intent} [{result.band} {result.score:.0f}"
                f" {result.language}] {text!r}  ({alts})"
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="labelled TSV file(s)")
    parser.add_argument("--nlu-dir", type=Path, default=_DEFAULT_NLU_DIR)
    parser.add_argument("--misses", action="store_true", help="print every miss")
    args = parser.parse_args(argv)
    understanding = load_understanding(args.nlu_dir)
    for path in args.paths:
        print_report(path, evaluate(understanding, read_registers(path)), misses=args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
