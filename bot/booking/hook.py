"""The engine's one hook for queue numbers: the "Ambil nomor antrean" button under a service
answer whose service has a queue at its office (region file, ``queues``).

Kept out of the engine so that the engine only asks "is there an offer?" and adds a button;
what the booking flow needs (which service, its title, what to bring) goes into the
conversation context for ``flows/antrean.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.flows.model import ServiceInfo
from bot.i18n import N_

QUEUE_STEP = "antrean:mulai"  # where the button goes (flows/antrean.yaml)
OFFER_LABEL = N_("Ambil nomor antrean")
# A reminder's "Masih datang?" answers (bot/booking/reminders.py).
COMING_STEP = "antrean:datang_ya"
NOT_COMING_STEP = "antrean:datang_tidak"
# Steps reached by buttons that code makes, not flows: the flow check counts them reachable.
CODE_ENTRY_STEPS = frozenset({QUEUE_STEP, COMING_STEP, NOT_COMING_STEP})


def queue_offer(
    region: Any,
    intent: str | None,
    info: ServiceInfo,
    locale: str,
    lines: Any,
    text: Any,
    context: Mapping[str, Any],
) -> dict[str, str] | None:
    """The context values for the booking flow, or None when the service has no queue.

    ``lines`` and ``text`` are the renderer's own helpers, so "what to bring" reads exactly
    like the service answer (its ``bring`` list, else its requirements).
    """
    queues = getattr(region, "queues", None)
    if not intent or not queues or queues.get(info.office, intent) is None:
        return None
    bring = lines(info.bring, context, locale) or lines(info.requirements, context, locale)
    return {
        "antrean_service": intent,
        "antrean_office": info.office,
        "antrean_judul": text(info.title, context, locale),
        "antrean_bawa": "\n".join(f"• {line}" for line in bring),
        "antrean_ganti": "",
    }
