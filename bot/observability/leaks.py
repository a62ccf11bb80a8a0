"""Finds whole personal identifiers or secrets in a finished log line.

The check behind the masking test (tests/observability/leakcheck.py) and a tool for an
operator auditing old logs (``python -m bot.observability.leaks < loket.log``). It is written
apart from :mod:`bot.privacy` on purpose: it describes what must not appear, not how masking
works, so a gap in the masking shows up here instead of being repeated.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

# Digits joined by at most one space, dot or dash: 9109014107950001, 94.12.010.001.001-0001.0.
_DIGITS = re.compile(r"(?<![0-9])[0-9](?:[ .\-]?[0-9])+(?![0-9])")
# A mobile number with looser separators: +62 812-3456-7890, (0812) 3456 7890.
_PHONE = re.compile(
    r"(?<![0-9*])(?:(?:\+62|62)[\s.\-()]{0,3}|\(?0)8(?:[\s.\-()]{0,3}[0-9]){8,11}(?![0-9])"
)
_BOT_TOKEN = re.compile(r"[0-9]{5,}(?::|%3[Aa])[A-Za-z0-9_\-]{30,}")


@dataclass(frozen=True, slots=True)
class Leak:
    kind: str  # nik, nop, digits, phone, bot_token
    value: str

    def redacted(self) -> str:
        """For a report: enough to find it, not the value itself."""
        return f"{self.kind} {self.value[:3]}…{self.value[-2:]} ({len(self.value)} chars)"


def _only_digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def find_leaks(line: str) -> list[Leak]:
    """Every whole NIK (16 digits), NOP (18), longer digit run, phone number or bot token."""
    found: list[Leak] = []
    for match in _BOT_TOKEN.finditer(line):
        found.append(Leak("bot_token", match.group(0)))
    for match in _DIGITS.finditer(line):
        digits = _only_digits(match.group(0))
        if len(digits) == 16:
            found.append(Leak("nik", match.group(0)))
        elif len(digits) == 18:
            found.append(Leak("nop", match.group(0)))
        elif len(digits) > 16:
            found.append(Leak("digits", match.group(0)))
    for match in _PHONE.finditer(line):
        found.append(Leak("phone", match.group(0)))
    return found


def main() -> int:
    """Reads log lines on stdin; prints each leak's line number; exit 1 if any."""
    bad = 0
    for number, line in enumerate(sys.stdin, start=1):
        for leak in find_leaks(line):
            bad += 1
            print(f"line {number}: {leak.redacted()}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
