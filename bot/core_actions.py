"""Actions about the citizen's own record that flows call by name (``core.*``).

The ones that change the record (language, subscription, erasure) are done by the engine as
effects, inside the event's transaction; the read-only ones live here.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine.render import pick
from bot.i18n import N_, Translator
from bot.region import Region
from bot.registry import ActionCall, ActionResult, Registry
from bot.storage import repo

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

    registry.add_action("core.show_subscription", show_subscription)
