"""Which applications can be followed, how their status is read, and which statuses are final.

Two OPDs have applications whose status changes over time: Disdukcapil (population documents)
and Disnakertrans (AK/I job-seeker cards). ``StatusSource`` reads one application's current
status through the typed OPD clients; the follow action uses it to record what the citizen
was shown, the poller to notice changes of an OPD that cannot push.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from integrations import OpdClients
from integrations.actions import AK1_STATUS_TEXT, APPLICATION_STATUS_TEXT

FOLLOWABLE: tuple[str, ...] = ("disdukcapil", "disnakertrans")
STATUS_TEXT: Mapping[str, Mapping[str, str]] = {
    "disdukcapil": APPLICATION_STATUS_TEXT,
    "disnakertrans": AK1_STATUS_TEXT,
}
# After these nothing more is expected to change: the citizen is told once and the follow ends.
FINAL_STATUSES: Mapping[str, frozenset[str]] = {
    "disdukcapil": frozenset({"completed", "rejected"}),
    "disnakertrans": frozenset({"active", "expired", "rejected"}),
}
NUMBER = re.compile(r"[A-Z0-9-]{6,32}", re.ASCII)


def clean_number(raw: object) -> str | None:
    """An application number as the OPDs write it (upper case, no spaces), or None."""
    number = "".join(str(raw or "").split()).upper()
    return number if NUMBER.fullmatch(number) else None


def is_final(opd: str, status: str) -> bool:
    return status in FINAL_STATUSES.get(opd, frozenset())


@dataclass(frozen=True, slots=True)
class Observed:
    """An application's status as read from the OPD; ``updated_at`` None when the OPD does
    not report when it changed (AK/I cards)."""

    status: str
    updated_at: dt.datetime | None
    note: str | None


class StatusSource:
    """Reads the current status of a followable application; raises the clients' typed
    errors (``NotFound``, ``Unavailable``, ``InvalidReply``) like they do."""

    def __init__(self, clients: OpdClients) -> None:
        self._clients = clients

    @property
    def opds(self) -> frozenset[str]:
        """The followable OPDs that are configured."""
        configured = {
            "disdukcapil": self._clients.disdukcapil,
            "disnakertrans": self._clients.disnakertrans,
        }
        return frozenset(opd for opd, client in configured.items() if client is not None)

    async def fetch(self, opd: str, number: str) -> Observed | None:
        """The status now, or None when the OPD is not configured or not followable."""
        if opd == "disdukcapil" and self._clients.disdukcapil is not None:
            app = await self._clients.disdukcapil.application(number)
            return Observed(app.status, app.updated_at, app.note)
        if opd == "disnakertrans" and self._clients.disnakertrans is not None:
            card = await self._clients.disnakertrans.ak1(number)
            return Observed(card.status, None, None)
        return None
