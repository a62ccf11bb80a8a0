"""Measure the matcher on a labelled TSV file.

Usage::

    python -m bot.nlu.evaluate PATH.tsv [--nlu flows/nlu/id.yaml] [--language id]

Each non-comment line is ``intent-id<TAB>text``; ``-`` means out of scope. A labelled line
is right when the top-1 intent equals the label (confident *or* ambiguous: the engine then
offers the right intent first); an out-of-scope line is right when the kind is ``none``.
The misses are printed so that tuning is done by reading them, not by guessing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.nlu.matcher import Matcher, MatchResult, parse_nlu_file

_DEFAULT_NLU = Path(__file__).resolve().parents[2] / "flows" / "nlu" / "id.yaml"


@dataclass(frozen=True)
class Report:
    """Counts from one evaluation run."""

    labelled: int
    labelled_right: int
    oos: int
    oos_right: int
    confident_right: int
    misses: tuple[tuple[str, str, MatchResult], ...]

    @property
    def total(self) -> int:
        return self.labelled + self.oos

    @property
    def accuracy(self) -> float:
        return (self.labelled_right + self.oos_right) / self.total if self.total else 0.0


def read_tsv(path: Path) -> list[tuple[str, str]]:
    """Read ``label<TAB>text`` lines, skipping blanks and ``#`` comments."""
    rows: list[tuple[str, str]] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        if not sep:
            raise ValueError(f"{path}:{lineno}: expected 'label<TAB>text'")
        rows.append((label.strip(), text))
    return rows


def load_matcher(nlu_path: Path, *, language: str | None = None) -> Matcher:
    """Build a matcher from an NLU YAML file."""
    data = yaml.safe_load(nlu_path.read_text(encoding="utf-8"))
    return Matcher(parse_nlu_file(data), language=language)


def evaluate(matcher: Matcher, rows: Sequence[tuple[str, str]]) -> Report:
    """Score every row; see the module docstring for what counts as right."""
    labelled = labelled_right = oos = oos_right = confident_right = 0
    misses: list[tuple[str, str, MatchResult]] = []
    for label, text in rows:
        result = matcher.match(text)
        if label == "-":
            oos += 1
            ok = result.kind == "none"
            oos_right += ok
        else:
            labelled += 1
            ok = result.intent == label
            labelled_right += ok
            confident_right += ok and result.kind == "confident"
        if not ok:
            misses.append((label, text, result))
    return Report(labelled, labelled_right, oos, oos_right, confident_right, tuple(misses))


def _print_report(path: Path, report: Report) -> None:
    print(f"== {path}")
    print(
        f"labelled top-1: {report.labelled_right}/{report.labelled}"
        f" ({_pct(report.labelled_right, report.labelled)});"
        f" of which confident: {report.confident_right}"
    )
    print(
        f"out of scope -> none: {report.oos_right}/{report.oos}"
        f" ({_pct(report.oos_right, report.oos)})"
    )
    print(
        f"overall: {report.labelled_right + report.oos_right}/{report.total}"
        f" ({report.accuracy:.1%})"
    )
    for label, text, result in report.misses:
        alts = ", ".join(f"{i} {s:.0f}" for i, s in result.alternatives)
        print(
            f"  MISS want={label} got={result.intent} [{result.kind} {result.score:.0f}]"
            f" {text!r}  ({alts})"
        )


def _pct(a: int, b: int) -> str:
    return f"{a / b:.1%}" if b else "n/a"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="labelled TSV file(s)")
    parser.add_argument("--nlu", type=Path, default=_DEFAULT_NLU, help="NLU YAML file")
    parser.add_argument(
        "--language", default=None, choices=["id", "en"], help="default: guessed from the file"
    )
    args = parser.parse_args(argv)
    matcher = load_matcher(args.nlu, language=args.language)
    for path in args.paths:
        _print_report(path, evaluate(matcher, read_tsv(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
