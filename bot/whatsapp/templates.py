"""Approved template messages: what Loket sends when the 24-hour window is closed.

Outside 24 hours after a citizen's last message, WhatsApp delivers only templates approved
beforehand by Meta. Loket needs one per kind of message it sends unasked (docs/whatsapp.md
lists their text to register); each takes the message's text as its one parameter, so the
notification or announcement still reaches the citizen whole. Names and language can be
changed per kind with WHATSAPP_TEMPLATE_<KIND> (``name`` or ``name:language``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NOTIFICATION = "notification"
ANNOUNCEMENT = "announcement"
MAX_PARAMETER = 900  # the template body holds 1,024 characters with its own text
PARAMETER_JOIN = " · "  # what stands for a line break inside a parameter
_SPACES = re.compile(r"\s{2,}")


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    language: str
    text: str  # as registered with Meta, {{1}} for the parameter

    def message(self, text: str) -> dict[str, Any]:
        """The ``/messages`` body (without the recipient) carrying ``text``."""
        return {
            "type": "template",
            "template": {
                "name": self.name,
                "language": {"code": self.language},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": parameter(text)}]}
                ],
            },
        }


def parameter(text: str, limit: int = MAX_PARAMETER) -> str:
    """A template parameter may hold no new line, tab or run of spaces: lines are joined;
    longer than ``limit``, it is cut at a word with an ellipsis."""
    flat = PARAMETER_JOIN.join(line.strip() for line in text.splitlines() if line.strip())
    flat = _SPACES.sub(" ", flat)
    if len(flat) <= limit:
        return flat
    head = flat[: limit - 1]
    head = head[: head.rfind(" ")] if " " in head else head
    return head.rstrip(" ·,;:") + "…"


DEFAULT_TEMPLATES: Mapping[str, Template] = {
    NOTIFICATION: Template(
        "loket_kabar_permohonan",
        "id",
        "Kabar dari Loket Mimika tentang permohonan yang Anda pantau: {{1}}\n\n"
        "Balas pesan ini bila Anda ingin bertanya lebih lanjut.",
    ),
    ANNOUNCEMENT: Template(
        "loket_pengumuman",
        "id",
        "Pengumuman resmi Pemerintah Kabupaten Mimika: {{1}}\n\n"
        "Anda menerima ini karena berlangganan pengumuman di Loket. "
        'Balas "berhenti" untuk berhenti berlangganan.',
    ),
}


def announcement_wrappers() -> list[str]:
    """The announcement template's own words around its parameter (what a citizen pastes
    back with the announcement, for the hoax check: bot/broadcast/verify.py)."""
    return [part.strip() for part in DEFAULT_TEMPLATES[ANNOUNCEMENT].text.split("{{1}}")]


def templates_from_env(env: Mapping[str, str]) -> dict[str, Template]:
    """The templates, with names/languages overridden by WHATSAPP_TEMPLATE_<KIND>."""
    found = dict(DEFAULT_TEMPLATES)
    for kind, template in DEFAULT_TEMPLATES.items():
        value = (env.get(f"WHATSAPP_TEMPLATE_{kind.upper()}") or "").strip()
        if value:
            name, _, language = value.partition(":")
            language = language.strip() or template.language
            found[kind] = Template(name.strip(), language, template.text)
    return found
