"""Validation of ``reply_markup``, the second most common source of Bad Requests.

Only inline keyboards are echoed back in the returned Message (as on Telegram); reply
keyboards, ``remove_keyboard`` and ``force_reply`` are validated loosely and remembered per
chat so tests can still inspect them.
"""

from __future__ import annotations

import json
from typing import Any

from bot.botapi.errors import bad_request
from bot.botapi.limits import BotApiLimits

_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_TEXT_BUTTONS_UNALLOWED = (
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)


def parse_reply_markup(raw: Any, limits: BotApiLimits) -> dict[str, Any] | None:
    """Decode and check ``reply_markup``; ``None`` when absent."""
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        try:
            markup = json.loads(raw)
        except ValueError:
            raise bad_request("can't parse reply keyboard markup JSON object") from None
    else:
        markup = raw
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return {"inline_keyboard": _check_inline_keyboard(markup["inline_keyboard"], limits)}
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request(
                'field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays'
            )
        return markup
    if "remove_keyboard" in markup or "force_reply" in markup:
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _check_inline_keyboard(rows: Any, limits: BotApiLimits) -> list[list[dict[str, Any]]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
        )
    total = sum(len(row) for row in rows)
    if total > limits.max_buttons_total or any(
        len(row) > limits.max_buttons_per_row for row in rows
    ):
        raise bad_request("reply markup is too long")
    checked: list[list[dict[str, Any]]] = []
    for row in rows:
        checked_row: list[dict[str, Any]] = []
        for button in row:
            if not isinstance(button, dict):
                raise bad_request("can't parse inline keyboard button: expected an Object")
            if not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            actions = [key for key in _BUTTON_ACTIONS if key in button]
            if not actions:
                raise bad_request(_TEXT_BUTTONS_UNALLOWED)
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not str(button["url"]).strip():
                raise bad_request("BUTTON_URL_INVALID")
            checked_row.append(dict(button))
        checked.append(checked_row)
    return checked


def callback_data_in(markup: dict[str, Any] | None) -> list[str]:
    """Every ``callback_data`` of an inline keyboard, row by row."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [
        button["callback_data"]
        for row in markup["inline_keyboard"]
        for button in row
        if "callback_data" in button
    ]
