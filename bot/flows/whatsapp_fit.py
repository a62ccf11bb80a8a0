"""Which flow labels cannot be shown on WhatsApp as written (issue 16), for ``loket flows
validate``: warnings, never errors, since the WhatsApp renderer still shows every choice
(bot/whatsapp/render.py shortens with care, or falls back to a list, or cuts with "…").

A choice of at most three options (navigation included) is shown as reply buttons, whose
titles hold 20 characters; longer than that even without its parenthesis, it becomes a list.
A list row's title holds 24 characters (the full label then goes in the row's description)
and the description 72.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.flows.model import FlowSet, Step
from bot.whatsapp import limits
from bot.whatsapp.render import shorten

NAVIGATION = 3  # "Kembali", "Menu utama", "Batal" under a choice (bot/engine/engine.py)


def _labels(step: Step) -> Iterator[tuple[str, str]]:
    for option in (*step.options, *step.buttons):
        yield from option.label.items()


def whatsapp_warnings(flow_set: FlowSet) -> list[str]:
    """One line per label and problem: ``path:line: warning: step: 'label' (locale) ...``."""
    found: list[str] = []
    for step in sorted(flow_set.steps.values(), key=lambda s: (s.path, s.line)):
        count = len(step.options) + len(step.buttons)
        if not count:
            continue
        as_buttons = step.options_from is None and count + NAVIGATION <= limits.MAX_BUTTONS
        for locale, label in _labels(step):
            where = f"{step.path}:{step.line}: warning: {step.ref}: {label!r} ({locale})"
            flat = " ".join(label.split())
            if len(flat) > limits.MAX_ROW_DESCRIPTION:
                found.append(
                    f"{where} is longer than {limits.MAX_ROW_DESCRIPTION} characters "
                    f"({len(flat)}): cut on WhatsApp even in a list row's description"
                )
            elif shorten(flat, limits.MAX_ROW_TITLE, cut=False) is None:
                found.append(
                    f"{where} is longer than {limits.MAX_ROW_TITLE} characters ({len(flat)}) "
                    "even without its parenthesis: a WhatsApp list row shows it cut, the "
                    "full text below it"
                )
            elif as_buttons and shorten(flat, limits.MAX_BUTTON_TITLE, cut=False) is None:
                found.append(
                    f"{where} is longer than {limits.MAX_BUTTON_TITLE} characters "
                    f"({len(flat)}): WhatsApp shows this choice as a list, not as buttons"
                )
    return found
