"""Simulated citizens: turn "Warga 1000 typed this" into the update Telegram would send.

Used by tests and by the web chat, so both exercise the bot through real updates.
"""

from __future__ import annotations

import re
import time
from typing import Any

from bot.botapi.files import document_object, photo_sizes, store_file
from bot.botapi.html_entities import utf16_len
from bot.botapi.state import BotState, Chat, PendingCallback, StoredMessage

_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")
_TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2219bc40000000049454e44ae426082"
)


def command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities the Telegram client would attach (UTF-16 offsets)."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])}
        for m in _COMMAND_RE.finditer(text)
    ]


def _chat_for(
    state: BotState, user_id: int, chat_id: int | None, chat_type: str, title: str | None
) -> Chat:
    user = state.world.ensure_user(user_id)
    if chat_type == "private":
        if chat_id not in (None, user_id):
            raise ValueError("a private chat's id is the citizen's user id")
        return Chat(user_id, "private", user=user)
    if chat_id is None:
        raise ValueError("group messages need a chat_id (e.g. -100123)")
    return state.world.add_group(chat_id, title, chat_type)


def user_message(
    state: BotState,
    user_id: int,
    *,
    chat_id: int | None = None,
    chat_type: str = "private",
    chat_title: str | None = None,
    text: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    kind: str = "text",
    caption: str | None = None,
    reply_to_message_id: int | None = None,
) -> dict[str, Any]:
    """Store a citizen's message and queue the ``message`` update; returns the update."""
    chat = _chat_for(state, user_id, chat_id, chat_type, chat_title)
    user = state.world.users[user_id]
    if chat.type == "private":
        state.blocked.discard(user_id)  # writing to the bot means it is not blocked
    extra = dict(extra or {})
    if reply_to_message_id is not None:
        target = state.find_message(chat.id, reply_to_message_id)
        if target is not None:
            extra["reply_to_message"] = target.to_api(chat, with_reply=False)
    if text is not None and entities is None:
        entities = command_entities(text)
    message = StoredMessage(
        message_id=state.new_message_id(chat.id),
        chat_id=chat.id,
        date=int(time.time()),
        sender=user,
        from_bot=False,
        kind=kind,
        text=text,
        entities=list(entities or []),
        caption=caption,
        extra=extra,
    )
    state.store(message)
    return state.enqueue("message", message.to_api(chat))


def edit_user_message(
    state: BotState, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
) -> dict[str, Any]:
    """The citizen edits an earlier text message: an ``edited_message`` update."""
    chat_key = user_id if chat_id is None else chat_id
    message = state.find_message(chat_key, message_id)
    if message is None or message.from_bot or message.sender.id != user_id:
        raise KeyError(f"citizen {user_id} has no message {message_id} in chat {chat_key}")
    chat = state.world.chat(chat_key)
    assert chat is not None
    message.text = text
    message.entities = command_entities(text)
    message.edit_date = int(time.time())
    state.touch(message)
    return state.enqueue("edited_message", message.to_api(chat))


def photo_extra(state: BotState, data: bytes | None) -> dict[str, Any]:
    stored = store_file(state, data or _TINY_PNG, "photo", mime_type="image/png")
    return {"photo": photo_sizes(stored)}


def document_extra(state: BotState, data: bytes, file_name: str, mime_type: str) -> dict[str, Any]:
    stored = store_file(state, data, "document", mime_type=mime_type, file_name=file_name)
    return {"document": document_object(stored)}


def sticker_extra(state: BotState, emoji: str) -> dict[str, Any]:
    stored = store_file(state, b"RIFF\0\0\0\0WEBP", "sticker", mime_type="image/webp")
    return {
        "sticker": {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
    }


def press_button(
    state: BotState,
    user_id: int,
    message_id: int,
    callback_data: str,
    *,
    chat_id: int | None = None,
    check: bool = True,
) -> str:
    """The citizen presses an inline button: a ``callback_query`` update; returns its id."""
    chat_key = user_id if chat_id is None else chat_id
    message = state.find_message(chat_key, message_id)
    if message is None:
        raise KeyError(f"no message {message_id} in chat {chat_key}")
    if check and callback_data not in message.callback_data:
        raise ValueError(
            f"message {message_id} has no button with callback_data {callback_data!r} "
            f"(buttons: {message.callback_data})"
        )
    user = state.world.ensure_user(user_id)
    chat = state.world.chat(chat_key)
    assert chat is not None
    callback_id = state.new_callback_id()
    state.callbacks[callback_id] = PendingCallback(
        callback_id, state.clock(), user_id, chat_key, message_id, callback_data
    )
    state.enqueue(
        "callback_query",
        {
            "id": callback_id,
            "from": user.to_api(),
            "message": message.to_api(chat),
            "chat_instance": str(abs(hash((state.user.id, chat_key))) % 10**18),
            "data": callback_data,
        },
    )
    return callback_id
