"""The console's Telegram side: /admin (sign-in link), /versi, /kembalikan <n>, and a .yaml
document from an admin (validate -> summary of changes -> confirm button -> publish).

Channel-neutral on purpose (plain strings in, plain strings out): bot/staff/telegram.py turns
updates into these calls and the answers into messages, and returns None for anyone not
allowed so the update falls through to the citizens' unknown-command answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.console.auth import ConsoleAuth
from bot.flows.loader import FlowSetError
from bot.flows.versions import FlowVersions, summarise
from bot.staff.roles import StaffDesk
from bot.yamlsrc import MAX_YAML_BYTES

MAX_ERRORS_SHOWN = 15
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.yaml$")


@dataclass(frozen=True, slots=True)
class Pending:
    """An upload that checked out, waiting for the admin's confirm button."""

    sources: dict[str, str]
    based_on: str  # the running version's digest when it was checked
    file: str


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    confirm: bool = False  # show the Terbitkan / Batal buttons


class FlowCommands:
    def __init__(
        self,
        versions: FlowVersions,
        auth: ConsoleAuth,
        desk: StaffDesk,
        console_url: Callable[[], str],
    ) -> None:
        self.versions = versions
        self.auth = auth
        self.desk = desk
        self.console_url = console_url  # e.g. http://127.0.0.1:8080/konsol
        # One pending upload per admin (by Telegram id); a restart forgets it, which only
        # means sending the file again.
        self.pending: dict[str, Pending] = {}

    async def _admin(self, telegram_id: int | str) -> int | None:
        found = await self.desk.actor(telegram_id)
        return found[0] if found is not None and found[1].is_admin else None

    async def sign_in(self, telegram_id: int | str) -> Answer | None:
        """/admin: a one-time link for admins and staff; None for a citizen."""
        found = await self.desk.actor(telegram_id)
        if found is None:
            return None
        token = await self.auth.issue_link_token(found[0])
        minutes = int(self.auth.link_lifetime.total_seconds() // 60)
        return Answer(
            f"Tautan masuk konsol Loket (sekali pakai, berlaku {minutes} menit):\n"
            f"{self.console_url()}/masuk?t={token}\n"
            "Jangan teruskan tautan ini kepada siapa pun."
        )

    async def list_versions(self, telegram_id: int | str) -> Answer | None:
        if await self._admin(telegram_id) is None:
            return None
        versions = await self.versions.list(limit=10)
        if not versions:
            return Answer("Belum ada versi alur yang diterbitkan; bot memakai berkas flows/.")
        lines = ["Versi alur (terbaru di atas):"]
        for v in versions:
            when = v.created_at.strftime("%Y-%m-%d %H:%M")
            lines.append(f"{v.number}. {when} UTC - {v.message}")
        lines.append("Kembalikan dengan /kembalikan <nomor>.")
        return Answer("\n".join(lines))

    async def rollback(self, telegram_id: int | str, argument: str) -> Answer | None:
        user_id = await self._admin(telegram_id)
        if user_id is None:
            return None
        if not argument.strip().isdecimal():
            return Answer("Pemakaian: /kembalikan <nomor versi> (lihat /versi).")
        number = int(argument.strip())
        try:
            info = await self.versions.rollback(number, author_user_id=user_id)
        except LookupError:
            return Answer(f"Versi {number} tidak ada. Lihat /versi.")
        except FlowSetError as error:
            return Answer(f"Versi {number} tidak lagi valid, tidak ada yang berubah:\n{error}")
        return Answer(
            f"Alur kembali ke isi versi {number}, diterbitkan sebagai versi {info.number}."
        )

    def _target(self, file_name: str, existing: dict[str, str]) -> str | None:
        name = file_name.strip().lower().rsplit("/", 1)[-1]
        if not _NAME.match(name):
            return None
        if name in existing:
            return name
        if f"nlu/{name}" in existing:
            return f"nlu/{name}"
        return name

    async def upload(
        self, telegram_id: int | str, file_name: str, size: int | None, load: Callable[[], object]
    ) -> Answer | None:
        """A .yaml document: checked against the running set with that file replaced (or
        added). ``load`` is awaited only after the size check. Nothing changes here; the
        confirm button publishes."""
        if await self._admin(telegram_id) is None:
            return None
        if size is not None and size > MAX_YAML_BYTES:
            limit = MAX_YAML_BYTES // 1024
            return Answer(f"Berkas terlalu besar (batas {limit} KiB). Tidak ada yang berubah.")
        current = self.versions.current
        target = self._target(file_name, dict(current.sources))
        if target is None:
            return Answer(
                "Nama berkas harus seperti umum.yaml atau id.yaml. Tidak ada yang berubah."
            )
        raw = await load()  # type: ignore[misc]
        if not isinstance(raw, bytes | bytearray) or len(raw) > MAX_YAML_BYTES:
            return Answer("Berkas tidak dapat dibaca. Tidak ada yang berubah.")
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return Answer("Berkas harus berupa teks UTF-8. Tidak ada yang berubah.")
        sources = dict(current.sources)
        sources[target] = text.replace("\r\n", "\n")
        try:
            flows = self.versions.check(sources)
        except FlowSetError as error:
            shown = [str(e) for e in error.errors[:MAX_ERRORS_SHOWN]]
            more = len(error.errors) - len(shown)
            if more > 0:
                shown.append(f"... dan {more} masalah lain")
            self.pending.pop(str(telegram_id), None)
            return Answer(f"{target} tidak valid; tidak ada yang berubah:\n" + "\n".join(shown))
        summary = summarise(current, flows)
        if summary.empty and sources == current.sources:
            return Answer(f"{target} sama dengan yang berjalan; tidak ada yang perlu diterbitkan.")
        self.pending[str(telegram_id)] = Pending(sources, current.version, target)
        return Answer(
            f"{target} valid. Perubahan:\n- "
            + "\n- ".join(summary.lines())
            + "\nTerbitkan sekarang?",
            confirm=True,
        )

    async def confirm(self, telegram_id: int | str, publish: bool) -> Answer | None:
        """The Terbitkan / Batal button under an upload's summary."""
        user_id = await self._admin(telegram_id)
        if user_id is None:
            return None
        pending = self.pending.pop(str(telegram_id), None)
        if pending is None:
            return Answer("Tidak ada unggahan yang menunggu. Kirim berkas .yaml lagi.")
        if not publish:
            return Answer("Dibatalkan; tidak ada yang berubah.")
        if self.versions.current.version != pending.based_on:
            return Answer(
                "Alur sudah berubah sejak berkas diperiksa; kirim berkasnya lagi agar "
                "perubahannya diperiksa terhadap versi terbaru."
            )
        try:
            info = await self.versions.publish(
                pending.sources, author_user_id=user_id, message=f"Unggahan {pending.file}"
            )
        except FlowSetError as error:
            return Answer(f"Tidak diterbitkan:\n{error}")
        return Answer(f"Diterbitkan sebagai versi {info.number}. Bot memakainya sekarang.")
