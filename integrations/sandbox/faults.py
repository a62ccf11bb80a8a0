"""Fault injection for the sandbox: make an OPD slow, broken or silent on demand.

Faults are chosen per request (header ``X-Sandbox-Fault`` or query ``?fault=``) so one test
can break one call while others stay healthy, or for the whole process by environment
(``SANDBOX_FAULT``, limited to some OPDs with ``SANDBOX_FAULT_OPD=bapenda,dinkes``) so a
person can try the bot against a failing OPD by hand.

Spec syntax: comma-separated items, e.g. ``latency=2.5``, ``500`` (any 4xx/5xx status),
``timeout`` (never answer), ``malformed`` (broken JSON), ``content-type`` (an HTML page).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class FaultSpecError(ValueError):
    """A fault spec the sandbox does not understand (answered with 400, never ignored)."""


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """What to break; ``opds`` limits it to some OPDs (``None`` means all of them)."""

    latency: float = 0.0
    status: int | None = None
    hang: bool = False
    malformed: bool = False
    wrong_content_type: bool = False
    opds: frozenset[str] | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.latency or self.status or self.hang or self.malformed or self.wrong_content_type
        )

    def applies_to(self, opd: str) -> bool:
        return self.active and (self.opds is None or opd in self.opds)

    @classmethod
    def parse(cls, spec: str, opds: frozenset[str] | None = None) -> FaultConfig:
        latency = 0.0
        status: int | None = None
        hang = malformed = wrong_type = False
        for raw in spec.split(","):
            item = raw.strip().lower()
            if not item or item == "none":
                continue
            if item.startswith("latency="):
                try:
                    latency = float(item.removeprefix("latency="))
                except ValueError:
                    raise FaultSpecError(f"bad latency in {raw!r}") from None
                if not 0 <= latency <= 600:
                    raise FaultSpecError("latency must be 0..600 seconds")
            elif item.isdigit() and 400 <= int(item) <= 599:
                status = int(item)
            elif item == "timeout":
                hang = True
            elif item == "malformed":
                malformed = True
            elif item in ("content-type", "content_type"):
                wrong_type = True
            else:
                raise FaultSpecError(f"unknown fault {raw!r}")
        return cls(latency, status, hang, malformed, wrong_type, opds)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> FaultConfig:
        """``SANDBOX_FAULT`` and optional ``SANDBOX_FAULT_OPD`` (comma-separated OPD names)."""
        only = env.get("SANDBOX_FAULT_OPD", "").strip()
        opds = frozenset(name.strip() for name in only.split(",") if name.strip()) or None
        return cls.parse(env.get("SANDBOX_FAULT", ""), opds)
