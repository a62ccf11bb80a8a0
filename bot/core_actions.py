"""Actions about the citizen's own record that flows call by name (``core.*``).

The ones that change the record (language, subscription, erasure) are done by the engine as
effects, inside the event's transaction; the read-only ones live here.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine.render import pick
from bot.i18n import N_, Translator
from bot.region import Region
from bot.registry import ActionCall, ActionResult, Registry, Validation
from bot.storage import repo
from bot.storage.models import CitizenRequest
from integrations.formatting import moment_text

# The reference a complaint or officer request gets (bot/engine/engine.py _new_reference):
# "LKT-" and six letters/digits without 0/O/1/I. Typed loosely ("lkt lwmfwv", "LKT–LWMFWV").
REFERENCE = re.compile(r"\bLKT\s*[-–—]?\s*([A-Z2-9]{6})\b", re.IGNORECASE)
REQUEST_KIND_TEXT = {
    "complaint": N_("Pengaduan"),
    "request": N_("Permintaan bicara dengan petugas"),
}
REQUEST_STATE_TEXT = {
    "open": N_("sudah diteruskan, menunggu tindak lanjut petugas"),
    "claimed": N_("sedang ditangani petugas"),  # issue 15: a ticket's states
    "answered": N_("sudah dijawab petugas"),
    "closed": N_("selesai ditindaklanjuti"),
}


def find_reference(text: str) -> str | None:
    """The LKT- reference in ``text``, normalised (``LKT-LWMFWV``), or None."""
    found = REFERENCE.search(text)
    return f"LKT-{found.group(1).upper()}" if found else None


def reference_validator(text: str) -> Validation:
    """An answer that holds a reference like LKT-ABC123 (anything around it is ignored)."""
    reference = find_reference(text)
    if reference is None:
        return Validation(
            ok=False,
            error=N_(
                "Nomor referensi itu belum saya kenali. Nomor referensi Loket berbentuk "
                "LKT- lalu 6 huruf/angka, misalnya LKT-ABC123."
            ),
        )
    return Validation(ok=True, value=reference)


TOPIC_NAMES = {
    "disdukcapil": N_("Kependudukan (Disdukcapil)"),
    "disnakertrans": N_("Tenaga kerja (Disnakertrans)"),
    "dinkes": N_("Kesehatan (Dinkes)"),
    "bapenda": N_("Pajak daerah (Bapenda)"),
    "jemput_bola": N_("Jadwal jemput bola"),
}


def register_core_actions(
    registry: Registry,
    session_factory: async_sessionmaker[AsyncSession] | None,
    region: Region,
    translator: Translator,
) -> None:
    async def show_subscription(call: ActionCall) -> ActionResult:
        if session_factory is None:
            return ActionResult("unavailable")
        async with session_factory() as session:
            row = await repo.get_subscription(session, int(call.user_id))
        if row is None:
            text = translator.gettext(
                call.locale, N_("Anda belum berlangganan pengumuman apa pun.")
            )
            return ActionResult("ok", {"subscribed": False, "text": text})
        district = region.district(row.district)
        topics = [
            translator.gettext(call.locale, TOPIC_NAMES.get(t, t))
            for t in row.topics.split(",")
            if t
        ]
        text = translator.gettext(
            call.locale,
            N_("Anda berlangganan pengumuman untuk Distrik {district} tentang: {topics}."),
            district=district.name if district else row.district,
            topics=", ".join(topics),
        )
        return ActionResult(
            "ok",
            {
                "subscribed": True,
                "district": row.district,
                "text": text,
                "region": pick(region.name, call.locale),
            },
        )

    async def request_status(call: ActionCall) -> ActionResult:
        """What is known about one of the citizen's own complaints or officer requests.

        Looked up by reference *and* the asking citizen: another citizen's reference is
        answered exactly like an unknown one, so no one learns that it exists.
        """
        if session_factory is None:
            return ActionResult("unavailable")
        reference = find_reference(str(call.params.get("reference", "")))
        example = {"example": "LKT-ABC123"}
        if reference is None:
            return ActionResult("not_found", example)
        async with session_factory() as session:
            row = await session.scalar(
                select(CitizenRequest).where(
                    CitizenRequest.reference == reference,
                    CitizenRequest.user_id == int(call.user_id),
                )
            )
        if row is None:
            return ActionResult("not_found", {**example, "reference": reference})
        opd = region.opds.get(row.opd or "")
        text = translator.gettext(
            call.locale,
            N_("{kind} {reference}\nDiterima: {when}\nDiteruskan ke: {opd}\nStatus: {state}"),
            kind=translator.gettext(call.locale, REQUEST_KIND_TEXT.get(row.kind, row.kind)),
            reference=row.reference,
            when=moment_text(repo.as_utc(row.created_at), call.locale, translator),
            opd=opd.short if opd else (row.opd or "-"),
            state=translator.gettext(
                call.locale, REQUEST_STATE_TEXT.get(row.status, REQUEST_STATE_TEXT["open"])
            ),
        )
        return ActionResult(
            "ok", {"reference": row.reference, "kind": row.kind, "opd": row.opd, "text": text}
        )

    registry.add_action("core.show_subscription", show_subscription)

    async def erasure_roles(call: ActionCall) -> ActionResult:
        """What /hapusdata does to the asker's official role (issue 12), for the confirmation
        before erasing: ``text`` is empty for a citizen, else a paragraph to show."""
        from bot.staff.roles import ADMIN, erasure_effect

        if session_factory is None:
            return ActionResult("ok", {"text": ""})
        async with session_factory() as session:
            effect = await erasure_effect(session, int(call.user_id))
        notes = []
        if effect.kept_admin:
            notes.append(
                translator.gettext(
                    call.locale,
                    N_(
                        "Anda admin yang disebut dalam konfigurasi Loket (ADMIN_TELEGRAM_IDS): "
                        "hak admin Anda tetap, karena konfigurasi masih menyebut Anda."
                    ),
                )
            )
        if effect.lost:
            labels = [
                ADMIN  # the role's name, the same word in both languages
                if grant.role == ADMIN
                else translator.gettext(
                    call.locale,
                    N_("staf {opd}"),
                    opd=region.opds[grant.opd].short if grant.opd in region.opds else grant.opd,
                )
                for grant in effect.lost
            ]
            notes.append(
                translator.gettext(
                    call.locale,
                    N_(
                        "Peran {roles} Anda di Loket ikut dihapus. Bila Anda masih bertugas, "
                        "minta admin memberikannya lagi (/peran). Pengumuman yang sudah Anda "
                        "kirim dan catatan audit tetap disimpan, tanpa menyebut Anda."
                    ),
                    roles=", ".join(labels),
                )
            )
        return ActionResult("ok", {"text": "".join("\n\n" + note for note in notes)})

    registry.add_action("core.erasure_roles", erasure_roles)
    registry.add_action("core.request_status", request_status)
    registry.add_validator("lkt_reference", reference_validator)
