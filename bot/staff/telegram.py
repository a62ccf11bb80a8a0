"""The staff commands on the Telegram channel: /peran (admins).

The handler sits before the generic command handler (bot/telegram/channel.py). For anyone
not allowed to use the command it hands the update to the ordinary command path unchanged,
so a citizen gets exactly the engine's answer to an unknown command: nothing tells them the
command exists. Replies are plain text in Indonesian (staff-facing, not in the catalogues).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ContextTypes, filters

from bot.staff.roles import ADMIN, RoleCommandError, StaffDesk, parse_role_command

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]

# Commands only staff or admins may use; never registered with setMyCommands for everyone.
STAFF_COMMANDS = ("peran",)
_PATTERN = re.compile(r"^/(?:" + "|".join(STAFF_COMMANDS) + r")(?:@\w+)?(?:\s|$)", re.IGNORECASE)
STAFF_COMMAND_FILTER = filters.Regex(_PATTERN)


def split_command(text: str) -> tuple[str, str]:
    """``/Peran@loket_bot beri 1 admin`` -> (``peran``, ``beri 1 admin``)."""
    head, _, argument = text[1:].partition(" ")
    return head.split("@", 1)[0].lower(), argument.strip()


class StaffCommands:
    def __init__(self, desk: StaffDesk, fallback: Handler) -> None:
        self.desk = desk
        self.fallback = fallback  # the ordinary command handler (unknown command answer)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        chat = update.effective_chat
        if message is None or message.text is None or user is None or chat is None:
            return
        command, argument = split_command(message.text)
        if command != "peran" or not await self.desk.is_admin(user.id):
            await self.fallback(update, context)
            return
        text = await self.peran(user.id, argument)
        await context.bot.send_message(chat.id, text)

    async def peran(self, actor_telegram_id: int, argument: str) -> str:
        try:
            command = parse_role_command(argument, self.desk.opds)
        except RoleCommandError as error:
            return str(error)
        if command.action == "list":
            holders = await self.desk.list_roles()
            if not holders:
                return "Belum ada peran staf atau admin."
            lines = ["Peran di Loket (selain warga):"]
            for holder in holders:
                source = " (ADMIN_TELEGRAM_IDS)" if holder.seeded else ""
                lines.append(f"- {holder.grant.label()}: {holder.telegram_id}{source}")
            return "\n".join(lines)
        assert command.grant is not None
        label = command.grant.label()
        try:
            changed = await self.desk.change(actor_telegram_id, command)
        except PermissionError:  # lost the admin role in the meantime
            return "Perintah ditolak: Anda bukan admin lagi."
        who = command.telegram_id
        if command.action == "grant":
            if not changed:
                return f"{who} sudah memiliki peran {label}."
            return f"Peran {label} diberikan kepada {who}. Tercatat di log audit."
        if not changed:
            return f"{who} tidak memiliki peran {label}."
        note = " Anda tidak lagi admin." if who == actor_telegram_id and label == ADMIN else ""
        return f"Peran {label} dicabut dari {who}. Tercatat di log audit.{note}"
