"""WhatsApp Cloud API limits and error codes, shared by the adapter and the local stand-in.

One place, so that what Loket renders and what the stand-in accepts cannot drift apart: the
stand-in (``bot/whatsapp/standin.py``) refuses exactly what Meta's Graph API refuses, with
the same codes, and the renderer is tested against the same checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GRAPH_API_BASE_URL = "https://graph.facebook.com/v23.0"

MAX_TEXT_BODY = 4096  # a text message's body
MAX_BUTTON_BODY = 1024  # the body of an interactive reply-button message
MAX_LIST_BODY = 4096  # the body of an interactive list message
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_ROWS = 10  # across all sections of one list
MAX_SECTIONS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200
MAX_SECTION_TITLE = 24
MAX_LIST_BUTTON = 20  # the button that opens the list
MAX_HEADER_TEXT = 60
MAX_FOOTER_TEXT = 60
MAX_WEBHOOK_BODY = 3 * 1024 * 1024  # Loket refuses larger webhook bodies

# Graph API error codes Loket acts on (developers.facebook.com, "Cloud API error codes").
ACCESS_TOKEN_INVALID = 190
INVALID_PARAMETER = 100
PARAMETER_VALUE_INVALID = 131009
RATE_LIMIT_HIT = 130429  # the phone number's throughput (80 messages/s by default)
PAIR_RATE_LIMIT = 131056  # too many messages to one citizen in a short time
WINDOW_CLOSED = 131047  # re-engagement: more than 24 hours since the citizen last wrote
UNDELIVERABLE = 131026  # not on WhatsApp, old app, blocked the business...
TEMPLATE_DOES_NOT_EXIST = 132001
TEMPLATE_PARAMS_MISMATCH = 132000

THROTTLED = frozenset({RATE_LIMIT_HIT, PAIR_RATE_LIMIT})


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the Graph API refuses a send: its HTTP status, code, message and details."""

    code: int
    message: str
    details: str = ""
    status: int = 400

    def body(self, trace_id: str = "Aloket") -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": "OAuthException",
                "code": self.code,
                "error_data": {"messaging_product": "whatsapp", "details": self.details},
                "fbtrace_id": trace_id,
            }
        }


def _bad(details: str) -> Refusal:
    return Refusal(PARAMETER_VALUE_INVALID, "(#131009) Parameter value is not valid", details)


def _missing(name: str) -> Refusal:
    return Refusal(
        INVALID_PARAMETER, "(#100) Invalid parameter", f"The parameter {name} is required."
    )


def _text(value: Any, name: str, limit: int, *, required: bool = True) -> Refusal | None:
    if value is None:
        return _missing(name) if required else None
    if not isinstance(value, str) or (required and not value.strip()):
        return _bad(f"{name} must be a non-empty string")
    if len(value) > limit:
        return _bad(f"{name} is longer than {limit} characters ({len(value)})")
    return None


def check_message(message: Mapping[str, Any]) -> Refusal | None:
    """None if the Cloud API accepts this ``/messages`` body, else its refusal."""
    if message.get("messaging_product") != "whatsapp":
        return _missing("messaging_product")
    if not message.get("to") and not message.get("recipient"):
        return _missing("to")
    kind = message.get("type", "text")
    if kind == "text":
        text = message.get("text")
        if not isinstance(text, Mapping):
            return _missing("text")
        return _text(text.get("body"), "text.body", MAX_TEXT_BODY)
    if kind == "interactive":
        interactive = message.get("interactive")
        if not isinstance(interactive, Mapping):
            return _missing("interactive")
        return _check_interactive(interactive)
    if kind == "template":
        template = message.get("template")
        if not isinstance(template, Mapping) or not template.get("name"):
            return _missing("template.name")
        language = template.get("language")
        if not isinstance(language, Mapping) or not language.get("code"):
            return _missing("template.language.code")
        return None
    return Refusal(
        131051, "(#131051) Unsupported message type", f"message type {kind} is not supported"
    )


def _check_interactive(interactive: Mapping[str, Any]) -> Refusal | None:
    kind = interactive.get("type")
    body = interactive.get("body")
    if not isinstance(body, Mapping):
        return _missing("interactive.body")
    header = interactive.get("header")
    if header is not None:
        if not isinstance(header, Mapping) or header.get("type") != "text":
            return _bad("interactive.header must be a text header")
        if refused := _text(header.get("text"), "interactive.header.text", MAX_HEADER_TEXT):
            return refused
    footer = interactive.get("footer")
    if footer is not None:
        if not isinstance(footer, Mapping):
            return _bad("interactive.footer must be an object")
        if refused := _text(footer.get("text"), "interactive.footer.text", MAX_FOOTER_TEXT):
            return refused
    action = interactive.get("action")
    if not isinstance(action, Mapping):
        return _missing("interactive.action")
    if kind == "button":
        if refused := _text(body.get("text"), "interactive.body.text", MAX_BUTTON_BODY):
            return refused
        return _check_buttons(action.get("buttons"))
    if kind == "list":
        if refused := _text(body.get("text"), "interactive.body.text", MAX_LIST_BODY):
            return refused
        if refused := _text(action.get("button"), "interactive.action.button", MAX_LIST_BUTTON):
            return refused
        return _check_sections(action.get("sections"))
    return _bad(f"interactive.type {kind!r} is not supported")


def _check_buttons(buttons: Any) -> Refusal | None:
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        return _bad(f"interactive.action.buttons must hold 1 to {MAX_BUTTONS} buttons")
    titles: set[str] = set()
    ids: set[str] = set()
    for button in buttons:
        reply = button.get("reply") if isinstance(button, Mapping) else None
        if not isinstance(button, Mapping) or button.get("type") != "reply":
            return _bad("each button must be of type reply")
        if not isinstance(reply, Mapping):
            return _missing("interactive.action.buttons.reply")
        if refused := _text(reply.get("title"), "button title", MAX_BUTTON_TITLE):
            return refused
        if refused := _text(reply.get("id"), "button id", MAX_BUTTON_ID):
            return refused
        if reply["title"] in titles:
            return _bad("Button title must be unique")
        if reply["id"] in ids:
            return _bad("Button id must be unique")
        titles.add(reply["title"])
        ids.add(reply["id"])
    return None


def _check_sections(sections: Any) -> Refusal | None:
    if not isinstance(sections, list) or not 1 <= len(sections) <= MAX_SECTIONS:
        return _bad(f"interactive.action.sections must hold 1 to {MAX_SECTIONS} sections")
    rows = 0
    ids: set[str] = set()
    for section in sections:
        if not isinstance(section, Mapping) or not isinstance(section.get("rows"), list):
            return _missing("interactive.action.sections.rows")
        titled = len(sections) > 1 or "title" in section
        if titled and (refused := _text(section.get("title"), "section title", 24)):
            return refused
        for row in section["rows"]:
            rows += 1
            if not isinstance(row, Mapping):
                return _bad("each row must be an object")
            if refused := _text(row.get("id"), "row id", MAX_ROW_ID):
                return refused
            if refused := _text(row.get("title"), "row title", MAX_ROW_TITLE):
                return refused
            description = row.get("description")
            if refused := _text(
                description, "row description", MAX_ROW_DESCRIPTION, required=False
            ):
                return refused
            if row["id"] in ids:
                return _bad("Row id must be unique")
            ids.add(row["id"])
    if not 1 <= rows <= MAX_ROWS:
        return _bad(f"a list holds 1 to {MAX_ROWS} rows in total ({rows})")
    return None
