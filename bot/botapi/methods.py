"""The Bot API methods: one coroutine per method, registered in :data:`METHODS`.

Handlers validate in the same order as the real server (arguments, then the chat, then
flood control) so the first error a bot sees is the one Telegram would give it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.botapi import errors as E
from bot.botapi.errors import BotApiError, bad_request, conflict, forbidden
from bot.botapi.files import document_object, find_file, photo_sizes, store_file
from bot.botapi.formatting import format_text
from bot.botapi.markup import parse_reply_markup
from bot.botapi.params import Params
from bot.botapi.state import (
    BotState,
    CallbackAnswer,
    Chat,
    StoredFile,
    StoredMessage,
    WebhookConfig,
    scope_key,
)


@dataclass
class Described:
    """A successful result that also carries the server's ``description``."""

    result: Any
    description: str


@dataclass
class MethodContext:
    """What a handler may use besides its arguments."""

    state: BotState
    method: str
    client_gone: Callable[[], bool]
    webhook_changed: Callable[[BotState], None]


Handler = Callable[[MethodContext, Params], Awaitable[Any]]
METHODS: dict[str, Handler] = {}

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_ALL_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


def method(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler under its (case-insensitive) method names."""

    def register(handler: Handler) -> Handler:
        for name in names:
            METHODS[name.lower()] = handler
        return handler

    return register


# -- shared helpers ----------------------------------------------------------------------


def resolve_chat(ctx: MethodContext, p: Params, *, sending: bool) -> Chat:
    """``chat_id`` → chat, with Telegram's errors for unknown, blocked and deleted users."""
    raw = p.get_str("chat_id")
    if raw is None:
        raise bad_request("chat_id is empty")
    try:
        chat_id = int(raw)
    except ValueError:
        raise bad_request(E.CHAT_NOT_FOUND) from None
    chat = ctx.state.world.chat(chat_id)
    if chat is None:
        raise bad_request(E.CHAT_NOT_FOUND)
    if sending and chat.user is not None:
        if chat.user.deactivated:
            raise forbidden("user is deactivated")
        if chat.user.is_bot:
            raise forbidden("bot can't send messages to bots")
        if chat.id in ctx.state.blocked:
            raise forbidden("bot was blocked by the user")
    return chat


def _reply_extra(ctx: MethodContext, p: Params, chat: Chat) -> dict[str, Any]:
    """reply_parameters (or the legacy reply_to_message_id) → ``reply_to_message``."""
    reply = p.get_json("reply_parameters", "reply parameters")
    if reply is None and p.get_int("reply_to_message_id"):
        reply = {
            "message_id": p.get_int("reply_to_message_id"),
            "allow_sending_without_reply": p.get_bool("allow_sending_without_reply"),
        }
    if not isinstance(reply, dict):
        return {}
    target_chat = chat
    if reply.get("chat_id") not in (None, chat.id):
        other = ctx.state.world.chat(int(reply["chat_id"]))
        if other is None:
            raise bad_request(E.CHAT_NOT_FOUND)
        target_chat = other
    target = ctx.state.find_message(target_chat.id, int(reply.get("message_id") or 0))
    if target is None:
        if reply.get("allow_sending_without_reply"):
            return {}
        raise bad_request("message to be replied not found")
    return {"reply_to_message": target.to_api(target_chat, with_reply=False)}


def _link_preview_extra(p: Params) -> dict[str, Any]:
    options = p.get_json("link_preview_options", "link preview options")
    if isinstance(options, dict):
        return {"link_preview_options": options}
    if p.get_bool("disable_web_page_preview"):
        return {"link_preview_options": {"is_disabled": True}}
    return {}


def _check_flood(ctx: MethodContext, p: Params, chat: Chat) -> None:
    retry_after = ctx.state.flood.check(
        chat.id, is_group=chat.is_group, paid=p.get_bool("allow_paid_broadcast")
    )
    if retry_after:
        raise E.too_many_requests(retry_after)


def _inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    return markup if markup and "inline_keyboard" in markup else None


def _deliver(
    ctx: MethodContext,
    p: Params,
    chat: Chat,
    message: StoredMessage,
    markup: dict[str, Any] | None,
) -> dict[str, Any]:
    """Store a bot message, count it and return the Message object."""
    state = ctx.state
    message.requests.append({"method": ctx.method, **p.loggable()})
    if markup is not None and "inline_keyboard" not in markup:
        state.record(chat.id).reply_keyboard = markup
    state.store(message)
    state.stats.delivered[chat.id] += 1
    return message.to_api(chat)


def _editable(ctx: MethodContext, p: Params) -> tuple[Chat, StoredMessage]:
    if p.get_str("inline_message_id") is not None:
        raise bad_request("message to edit not found")
    chat = resolve_chat(ctx, p, sending=False)
    message_id = p.get_int("message_id")
    if not message_id:
        raise bad_request("message identifier is not specified")
    message = ctx.state.find_message(chat.id, message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return chat, message


def _apply_edit(
    ctx: MethodContext, p: Params, chat: Chat, message: StoredMessage, **changes: Any
) -> dict[str, Any]:
    message.edits.append(
        {
            "text": message.text,
            "caption": message.caption,
            "entities": message.entities,
            "reply_markup": message.reply_markup,
        }
    )
    for key, value in changes.items():
        setattr(message, key, value)
    message.edit_date = int(time.time())
    message.requests.append({"method": ctx.method, **p.loggable()})
    ctx.state.touch(message)
    return message.to_api(chat)


# -- bot identity and housekeeping -----------------------------------------------------------


@method("getMe")
async def get_me(ctx: MethodContext, p: Params) -> dict[str, Any]:
    return {
        **ctx.state.user.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("logOut", "close", "setMyDescription", "setMyShortDescription", "setMyName")
async def accept_noop(ctx: MethodContext, p: Params) -> bool:
    return True


@method("setChatMenuButton", "setMyDefaultAdministratorRights")
async def accept_settings(ctx: MethodContext, p: Params) -> bool:
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(ctx: MethodContext, p: Params) -> dict[str, Any]:
    return {"type": "commands"}


@method("getChat")
async def get_chat(ctx: MethodContext, p: Params) -> dict[str, Any]:
    chat = resolve_chat(ctx, p, sending=False)
    return {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


# -- updates -----------------------------------------------------------------------------


@method("getUpdates")
async def get_updates(ctx: MethodContext, p: Params) -> list[dict[str, Any]]:
    state = ctx.state
    if state.webhook is not None:
        raise conflict(E.GETUPDATES_WEBHOOK_CONFLICT)
    offset = p.get_int("offset", 0) or 0
    limit = min(100, max(1, p.get_int("limit", 100) or 100))
    timeout = min(state.limits.long_poll_max_timeout, max(0.0, p.get_float("timeout", 0) or 0))
    allowed = p.get_json("allowed_updates", "allowed updates")
    if isinstance(allowed, list):
        state.allowed_updates = [str(kind) for kind in allowed if kind in _ALL_UPDATE_TYPES]
    state.poll_generation += 1
    generation = state.poll_generation
    state.poll_abort_reason = E.GETUPDATES_TERMINATED
    state.changed()  # wakes an older poller, which then answers 409
    state.confirm(offset)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if state.poll_generation != generation:
            raise conflict(state.poll_abort_reason)
        updates = state.pending(limit)
        if updates or state.closing:
            return [update.to_api() for update in updates]
        remaining = deadline - loop.time()
        if remaining <= 0:
            return []
        await state.signal.wait(remaining)


def _abort_poll(state: BotState, reason: str) -> None:
    state.poll_generation += 1
    state.poll_abort_reason = reason
    state.changed()


@method("setWebhook")
async def set_webhook(ctx: MethodContext, p: Params) -> Described:
    state = ctx.state
    url = p.get_str("url") or ""
    if not url:
        return await delete_webhook(ctx, p)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("invalid webhook URL specified")
    secret = p.get_str("secret_token")
    if secret is not None:
        if len(secret) > 256:
            raise bad_request("secret token is too long")
        if not _SECRET_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
    allowed = p.get_json("allowed_updates", "allowed updates")
    if isinstance(allowed, list):
        state.allowed_updates = [str(kind) for kind in allowed if kind in _ALL_UPDATE_TYPES]
    if p.get_bool("drop_pending_updates"):
        state.drop_pending()
    max_connections = min(100, max(1, p.get_int("max_connections", 40) or 40))
    already = state.webhook is not None and state.webhook.url == url
    state.webhook = WebhookConfig(url, secret, max_connections, p.get_str("ip_address"))
    state.webhook_last_error = None
    _abort_poll(state, "terminated by setWebhook request")
    ctx.webhook_changed(state)
    return Described(True, "Webhook is already set" if already else "Webhook was set")


@method("deleteWebhook")
async def delete_webhook(ctx: MethodContext, p: Params) -> Described:
    state = ctx.state
    existed = state.webhook is not None
    state.webhook = None
    if p.get_bool("drop_pending_updates"):
        state.drop_pending()
    state.changed()
    ctx.webhook_changed(state)
    return Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")


@method("getWebhookInfo")
async def get_webhook_info(ctx: MethodContext, p: Params) -> dict[str, Any]:
    state = ctx.state
    info: dict[str, Any] = {
        "url": state.webhook.url if state.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.pending(10**9)),
    }
    if state.webhook is not None:
        info["max_connections"] = state.webhook.max_connections
        if state.webhook.ip_address:
            info["ip_address"] = state.webhook.ip_address
    if state.webhook_last_error is not None:
        info["last_error_date"], info["last_error_message"] = state.webhook_last_error
    if state.allowed_updates:
        info["allowed_updates"] = list(state.allowed_updates)
    return info


# -- messages ----------------------------------------------------------------------------


@method("sendMessage")
async def send_message(ctx: MethodContext, p: Params) -> dict[str, Any]:
    chat = resolve_chat(ctx, p, sending=True)
    limits = ctx.state.limits
    parse_mode = p.get_str("parse_mode")
    formatted = format_text(
        p.get_str("text"), parse_mode, p.get("entities"), max_length=limits.max_text_length
    )
    markup = parse_reply_markup(p.get("reply_markup"), limits)
    extra = {**_reply_extra(ctx, p, chat), **_link_preview_extra(p)}
    _check_flood(ctx, p, chat)
    message = StoredMessage(
        message_id=ctx.state.new_message_id(chat.id),
        chat_id=chat.id,
        date=int(time.time()),
        sender=ctx.state.user,
        from_bot=True,
        text=formatted.text,
        entities=formatted.entities,
        parse_mode=parse_mode,
        reply_markup=_inline_only(markup),
        extra=extra,
    )
    return _deliver(ctx, p, chat, message, markup)


def _input_file(ctx: MethodContext, p: Params, field: str, kind: str) -> StoredFile:
    """A multipart upload, a known file_id, or an HTTP URL (kept but not fetched)."""
    upload = p.get_file(field)
    if upload is not None:
        return store_file(
            ctx.state, upload.data, kind, mime_type=upload.content_type, file_name=upload.filename
        )
    reference = p.get_str(field)
    if reference is None:
        raise bad_request(f"there is no {kind} in the request")
    if reference.startswith("attach://"):
        raise bad_request(f"there is no {kind} in the request")
    known = find_file(ctx.state, reference)
    if known is not None:
        return known
    if reference.startswith(("http://", "https://")):
        name = urlsplit(reference).path.rsplit("/", 1)[-1] or None
        return store_file(ctx.state, b"", kind, file_name=name)
    raise bad_request("wrong file identifier/HTTP URL specified")


async def _send_media(ctx: MethodContext, p: Params, kind: str) -> dict[str, Any]:
    chat = resolve_chat(ctx, p, sending=True)
    limits = ctx.state.limits
    parse_mode = p.get_str("parse_mode")
    caption = format_text(
        p.get_str("caption"),
        parse_mode,
        p.get("caption_entities"),
        max_length=limits.max_caption_length,
        caption=True,
    )
    stored = _input_file(ctx, p, kind, kind)
    markup = parse_reply_markup(p.get("reply_markup"), limits)
    extra = {**_reply_extra(ctx, p, chat)}
    if kind == "photo":
        extra["photo"] = photo_sizes(stored)
    else:
        extra["document"] = document_object(stored)
    _check_flood(ctx, p, chat)
    message = StoredMessage(
        message_id=ctx.state.new_message_id(chat.id),
        chat_id=chat.id,
        date=int(time.time()),
        sender=ctx.state.user,
        from_bot=True,
        kind=kind,
        caption=caption.text or None,
        entities=caption.entities,
        parse_mode=parse_mode,
        reply_markup=_inline_only(markup),
        extra=extra,
    )
    return _deliver(ctx, p, chat, message, markup)


@method("sendPhoto")
async def send_photo(ctx: MethodContext, p: Params) -> dict[str, Any]:
    return await _send_media(ctx, p, "photo")


@method("sendDocument")
async def send_document(ctx: MethodContext, p: Params) -> dict[str, Any]:
    return await _send_media(ctx, p, "document")


@method("getFile")
async def get_file(ctx: MethodContext, p: Params) -> dict[str, Any]:
    stored = find_file(ctx.state, p.required_str("file_id"))
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


@method("editMessageText")
async def edit_message_text(ctx: MethodContext, p: Params) -> dict[str, Any]:
    chat, message = _editable(ctx, p)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    parse_mode = p.get_str("parse_mode")
    formatted = format_text(
        p.get_str("text"),
        parse_mode,
        p.get("entities"),
        max_length=ctx.state.limits.max_text_length,
    )
    markup = _inline_only(parse_reply_markup(p.get("reply_markup"), ctx.state.limits))
    if (formatted.text, formatted.entities, markup) == (
        message.text,
        message.entities,
        message.reply_markup,
    ):
        raise bad_request(E.NOT_MODIFIED)
    return _apply_edit(
        ctx,
        p,
        chat,
        message,
        text=formatted.text,
        entities=formatted.entities,
        parse_mode=parse_mode,
        reply_markup=markup,
    )


@method("editMessageCaption")
async def edit_message_caption(ctx: MethodContext, p: Params) -> dict[str, Any]:
    chat, message = _editable(ctx, p)
    if message.text is not None:
        raise bad_request("there is no caption in the message to edit")
    parse_mode = p.get_str("parse_mode")
    caption = format_text(
        p.get_str("caption"),
        parse_mode,
        p.get("caption_entities"),
        max_length=ctx.state.limits.max_caption_length,
        caption=True,
    )
    markup = _inline_only(parse_reply_markup(p.get("reply_markup"), ctx.state.limits))
    if (caption.text or None, caption.entities, markup) == (
        message.caption,
        message.entities,
        message.reply_markup,
    ):
        raise bad_request(E.NOT_MODIFIED)
    return _apply_edit(
        ctx,
        p,
        chat,
        message,
        caption=caption.text or None,
        entities=caption.entities,
        parse_mode=parse_mode,
        reply_markup=markup,
    )


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(ctx: MethodContext, p: Params) -> dict[str, Any]:
    chat, message = _editable(ctx, p)
    markup = _inline_only(parse_reply_markup(p.get("reply_markup"), ctx.state.limits))
    if markup == message.reply_markup:
        raise bad_request(E.NOT_MODIFIED)
    return _apply_edit(ctx, p, chat, message, reply_markup=markup)


@method("deleteMessage")
async def delete_message(ctx: MethodContext, p: Params) -> bool:
    chat = resolve_chat(ctx, p, sending=False)
    message = ctx.state.find_message(chat.id, p.get_int("message_id", 0) or 0)
    if message is None:
        raise bad_request("message to delete not found")
    if chat.is_group and not message.from_bot:
        raise bad_request("message can't be deleted")
    message.deleted = True
    message.requests.append({"method": ctx.method, **p.loggable()})
    ctx.state.touch(message)
    return True


@method("deleteMessages")
async def delete_messages(ctx: MethodContext, p: Params) -> bool:
    chat = resolve_chat(ctx, p, sending=False)
    ids = p.get_json("message_ids", "message identifiers")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message identifiers are not specified")
    for message_id in ids:
        message = ctx.state.find_message(chat.id, int(message_id))
        if message is not None and (message.from_bot or not chat.is_group):
            message.deleted = True
            ctx.state.touch(message)
    return True


@method("sendChatAction")
async def send_chat_action(ctx: MethodContext, p: Params) -> bool:
    chat = resolve_chat(ctx, p, sending=True)
    action = p.get_str("action")
    if action is None:
        raise bad_request('parameter "action" is required')
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    ctx.state.record(chat.id).actions.append(action)
    ctx.state.add_notice(chat.id, "action", action)
    return True


# -- callback queries --------------------------------------------------------------------


@method("answerCallbackQuery")
async def answer_callback_query(ctx: MethodContext, p: Params) -> bool:
    state = ctx.state
    query_id = p.get_str("callback_query_id") or ""
    pending = state.callbacks.get(query_id)
    if (
        pending is None
        or pending.answer is not None
        or state.clock() - pending.created > state.limits.callback_answer_deadline
    ):
        raise bad_request(E.QUERY_TOO_OLD)
    text = p.get_str("text")
    if text is not None and len(text) > state.limits.max_callback_answer_length:
        raise bad_request("MESSAGE_TOO_LONG")
    show_alert = p.get_bool("show_alert")
    pending.answer = CallbackAnswer(
        query_id, text, show_alert, p.get_str("url"), p.get_int("cache_time", 0) or 0
    )
    if text:
        state.add_notice(pending.chat_id, "alert" if show_alert else "toast", text, show_alert)
    state.changed()
    return True


# -- commands ----------------------------------------------------------------------------


def _command_scope(p: Params) -> tuple[str, str]:
    scope = p.get_json("scope", "BotCommandScope")
    if scope is not None and (
        not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES
    ):
        raise bad_request("unsupported bot command scope type")
    return scope_key(scope), p.get_str("language_code") or ""


@method("setMyCommands")
async def set_my_commands(ctx: MethodContext, p: Params) -> bool:
    commands = p.get_json("commands", "commands") or []
    if not isinstance(commands, list):
        raise bad_request('field "commands" must be an Array')
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    checked: list[dict[str, str]] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: expected an Object")
        for field in ("command", "description"):
            if not isinstance(item.get(field), str):
                raise bad_request(f"can't parse BotCommand: Can't find field \"{field}\"")
        command, description = item["command"], item["description"].strip()
        if not _COMMAND_RE.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not description:
            raise bad_request("command description must be non-empty")
        if len(description) > 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        checked.append({"command": command, "description": description})
    key = _command_scope(p)
    if checked:
        ctx.state.commands[key] = checked
    else:
        ctx.state.commands.pop(key, None)
    ctx.state.changed()
    return True


@method("getMyCommands")
async def get_my_commands(ctx: MethodContext, p: Params) -> list[dict[str, str]]:
    return list(ctx.state.commands.get(_command_scope(p), []))


@method("deleteMyCommands")
async def delete_my_commands(ctx: MethodContext, p: Params) -> bool:
    ctx.state.commands.pop(_command_scope(p), None)
    return True


def is_error_worth_recording(exc: BotApiError, ctx: MethodContext) -> bool:
    """A 409 sent to a long poll whose client already hung up is noise, not a bot bug."""
    return not (exc.error_code == 409 and ctx.client_gone())
