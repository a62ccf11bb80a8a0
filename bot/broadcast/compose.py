"""/umumkan: the staff dialogue that composes, previews, schedules and cancels announcements.

Channel-neutral: a channel adapter (bot/staff/telegram.py) turns commands, typed messages and
button presses into calls here and shows the :class:`StaffMessage` list it gets back.

The draft lives in the database (``announcements`` with status ``draft`` and the step in
``draft_step``), so a restart in the middle of composing loses nothing. Each step checks the
author's roles again: a role revoked meanwhile stops the draft. Who may address whom:

* staff of an OPD announce in its name, to the subscribers of its topics
  (:mod:`bot.staff.audience`), optionally narrowed to some distrik or one of its topics;
* an admin may also announce as the regency (``pemkab``) to every subscriber;
* a citizen never reaches this module (the adapter answers them as for any unknown command).

Confirming writes the audit row (``announcement.create``) in the same transaction and wakes
the :class:`~bot.broadcast.service.BroadcastService`, which queues the recipients when the
announcement is due (now, or at its scheduled time) and sends it.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from babel.dates import format_datetime
from babel.numbers import format_decimal
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcast.message import render_announcement
from bot.broadcast.sender import Media
from bot.broadcast.store import (
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    cancel,
    find_by_reference,
    free_reference,
)
from bot.broadcast.when import EXAMPLE, SendTimeError, parse_send_time
from bot.i18n import Translator
from bot.region import Region
from bot.staff import audience
from bot.staff.audience import OPD_TOPICS, REGENCY, TOPIC_LABELS, Segment
from bot.staff.roles import RoleSet, audit
from bot.storage.models import Announcement, utcnow
from bot.storage.repo import as_utc

# Steps where the author's next typed message belongs to the draft.
TYPING_STEPS = ("text", "schedule")
LIST_LIMIT = 10
USAGE = (
    "Pemakaian:\n"
    "/umumkan - tulis pengumuman baru\n"
    "/umumkan daftar - pengumuman terakhir dan statusnya\n"
    "/umumkan batal <kode> - hentikan pengumuman yang terjadwal atau sedang dikirim"
)
STATUS_WORDS = {
    "scheduled": "terjadwal",
    "sending": "sedang dikirim",
    "done": "selesai",
    "cancelled": "dibatalkan",
}


@dataclass(frozen=True, slots=True)
class StaffButton:
    label: str
    action: str  # what the adapter hands back to :meth:`Composer.button`


@dataclass(frozen=True, slots=True)
class StaffMessage:
    """One message to a staff member: Telegram-style HTML, buttons, maybe a photo/document."""

    html: str
    buttons: tuple[tuple[StaffButton, ...], ...] = ()
    media: Media | None = None
    draft_id: int | None = None  # the draft (or announcement) the buttons act on


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: internal user id, their external id on the channel, their roles."""

    user_id: int
    external_id: str
    roles: RoleSet

    def opds(self) -> list[str]:
        """The names an announcement may go out under (the regency for admins)."""
        return self.roles.opds + ([REGENCY] if self.roles.is_admin else [])

    def may_announce_as(self, opd: str) -> bool:
        return opd in self.opds()


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def _number(value: int) -> str:
    return format_decimal(value, locale="id")


@dataclass
class Composer:
    """The /umumkan dialogue for one channel; see the module docstring."""

    sessions: async_sessionmaker[AsyncSession]
    region: Region
    translator: Translator
    channel: str
    wake: Callable[[], None] = lambda: None  # the broadcast service looks for due work
    stop: Callable[[int], Awaitable[bool]] | None = None  # cancels a running announcement
    clock: Callable[[], dt.datetime] = utcnow
    awaiting: set[str] = field(default_factory=set)  # external ids whose next message counts
    _missing: set[str] = field(default_factory=set, repr=False)  # see refresh_awaiting

    # -- what the adapter calls ------------------------------------------------------------

    async def load_awaiting(self) -> None:
        """After a restart: authors in the middle of typing a draft's text or time."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Announcement.author_user_id).where(
                    Announcement.status == "draft", Announcement.draft_step.in_(TYPING_STEPS)
                )
            )
            user_ids = [user_id for (user_id,) in rows if user_id is not None]
            self.awaiting = set(await _external_ids(session, user_ids, self.channel))

    async def refresh_awaiting(self) -> None:
        """With several workers: drafts typed into through another worker. An id is dropped
        only when two refreshes in a row miss it, so a draft whose step was set here a moment
        ago (its transaction not yet committed) is not forgotten."""
        previous = set(self.awaiting)
        missing_before = self._missing
        await self.load_awaiting()
        stored = set(self.awaiting)
        kept = {x for x in previous - stored if x not in missing_before}
        self._missing = previous - stored
        self.awaiting = stored | kept

    async def command(self, actor: Actor, argument: str) -> list[StaffMessage] | None:
        """``/umumkan [daftar | batal <kode>]``; None for someone who may not announce."""
        if not actor.opds():
            return None
        words = argument.split()
        verb = words[0].lower() if words else ""
        if verb in ("", "baru"):
            return await self._new_draft(actor)
        if verb == "daftar":
            return [await self._list(actor)]
        if verb in ("batal", "hentikan") and len(words) == 2:
            return [await self._cancel_by_reference(actor, words[1])]
        return [StaffMessage(_e(USAGE))]

    async def message(
        self, actor: Actor, text_html: str, text_plain: str, media: Media | None = None
    ) -> list[StaffMessage] | None:
        """A typed message (or photo/document with caption) of an author who is composing;
        None when it does not belong to a draft (the adapter then treats it as usual)."""
        async with self.sessions() as session, session.begin():
            draft = await self._draft_of(session, actor)
            if draft is None or draft.draft_step not in TYPING_STEPS:
                self.awaiting.discard(actor.external_id)
                return None
            if not actor.may_announce_as(draft.opd):
                return [await self._drop(session, draft, actor, revoked=True)]
            if draft.draft_step == "text":
                return await self._take_text(session, draft, actor, text_html, text_plain, media)
            return await self._take_time(session, draft, actor, text_plain)

    async def button(self, actor: Actor, draft_id: int, action: str) -> list[StaffMessage]:
        """A button of a draft (or of a progress message: ``stop``) was pressed."""
        if action == "stop":
            return [await self._cancel(actor, draft_id)]
        async with self.sessions() as session, session.begin():
            draft = await session.get(Announcement, draft_id)
            if draft is None or draft.status != "draft" or draft.author_user_id != actor.user_id:
                return [StaffMessage("Draf ini sudah tidak berlaku. Mulai lagi dengan /umumkan.")]
            if not actor.may_announce_as(draft.opd) and not action.startswith("opd:"):
                return [await self._drop(session, draft, actor, revoked=True)]
            return await self._press(session, draft, actor, action)

    # -- steps -----------------------------------------------------------------------------

    async def _new_draft(self, actor: Actor) -> list[StaffMessage]:
        opds = actor.opds()
        async with self.sessions() as session, session.begin():
            await session.execute(
                delete(Announcement).where(
                    Announcement.status == "draft", Announcement.author_user_id == actor.user_id
                )
            )
            draft = Announcement(
                reference=await free_reference(session),
                opd=opds[0],
                author_user_id=actor.user_id,
                text="",
                segment={},
                status="draft",
                draft_step="opd" if len(opds) > 1 else "text",
            )
            session.add(draft)
            await session.flush()
            if len(opds) > 1:
                self.awaiting.discard(actor.external_id)
                choices = [(StaffButton(self._opd_name(opd), f"opd:{opd}"),) for opd in opds]
                buttons = (*choices, (StaffButton("Batalkan draf", "discard"),))
                return [StaffMessage("Pengumuman atas nama siapa?", buttons, draft_id=draft.id)]
            return [self._ask_text(draft, actor)]

    def _ask_text(self, draft: Announcement, actor: Actor) -> StaffMessage:
        self.awaiting.add(actor.external_id)
        return StaffMessage(
            f"Pengumuman {_e(self._opd_name(draft.opd))}.\n\n"
            f"Kirim teks pengumuman (paling banyak {_number(MAX_TEXT_LENGTH)} karakter). "
            f"Boleh juga satu foto atau dokumen dengan keterangan (paling banyak "
            f"{_number(MAX_CAPTION_LENGTH)} karakter). Tebal dan miring ikut terkirim.\n"
            "Kode pengumuman untuk cek hoaks ditambahkan otomatis di bagian bawah.",
            ((StaffButton("Batalkan draf", "discard"),),),
            draft_id=draft.id,
        )

    async def _take_text(
        self,
        session: AsyncSession,
        draft: Announcement,
        actor: Actor,
        text_html: str,
        text_plain: str,
        media: Media | None,
    ) -> list[StaffMessage]:
        limit = MAX_CAPTION_LENGTH if media is not None else MAX_TEXT_LENGTH
        if not text_plain.strip():
            what = "keterangan pada foto/dokumen" if media is not None else "teks"
            return [StaffMessage(f"Pengumuman perlu {what}. Kirim lagi dengan teksnya.")]
        if len(text_plain) > limit:
            return [
                StaffMessage(
                    f"Teks terlalu panjang: {_number(len(text_plain))} karakter, paling banyak "
                    f"{_number(limit)}. Persingkat lalu kirim lagi."
                )
            ]
        draft.text = text_html.strip()
        draft.media_kind = media.kind if media is not None else None
        draft.media_file_id = media.file_id if media is not None else None
        self.awaiting.discard(actor.external_id)
        if draft.segment:  # the text was changed after the segment was chosen
            return await self._preview(session, draft)
        draft.draft_step = "segment"
        return [self._ask_segment(draft)]

    def _ask_segment(self, draft: Announcement) -> StaffMessage:
        rows: list[tuple[StaffButton, ...]] = [
            (StaffButton("Semua pelanggan", "seg:all"),),
            (StaffButton("Pilih distrik", "seg:district"),),
        ]
        if draft.opd == REGENCY or len(OPD_TOPICS.get(draft.opd, ())) > 1:
            rows.append((StaffButton("Pilih topik", "seg:topic"),))
        rows.append((StaffButton("Batalkan draf", "discard"),))
        scope = (
            "semua warga yang berlangganan"
            if draft.opd == REGENCY
            else f"warga yang berlangganan info {self._opd_name(draft.opd)}"
        )
        return StaffMessage(
            f"Kepada siapa? Pengumuman ini hanya sampai ke {_e(scope)}.",
            tuple(rows),
            draft_id=draft.id,
        )

    def _district_picker(self, draft: Announcement) -> StaffMessage:
        chosen = set(draft.segment.get("districts") or ())
        buttons = [
            StaffButton(("✓ " if d.code in chosen else "") + d.name, f"d:{d.code}")
            for d in self.region.districts
        ]
        rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
        rows.append((StaffButton("Selesai memilih", "d:done"),))
        names = ", ".join(d.name for d in self.region.districts if d.code in chosen) or "-"
        return StaffMessage(
            f"Pilih satu atau beberapa distrik, lalu tekan Selesai.\nTerpilih: {_e(names)}",
            tuple(rows),
            draft_id=draft.id,
        )

    def _topic_picker(self, draft: Announcement) -> StaffMessage:
        topics = audience.ALL_TOPICS if draft.opd == REGENCY else OPD_TOPICS.get(draft.opd, ())
        rows = tuple((StaffButton(TOPIC_LABELS.get(t, t), f"t:{t}"),) for t in topics)
        return StaffMessage("Pilih topiknya:", rows, draft_id=draft.id)

    async def _press(
        self, session: AsyncSession, draft: Announcement, actor: Actor, action: str
    ) -> list[StaffMessage]:
        kind, _, value = action.partition(":")
        if kind == "discard":
            return [await self._drop(session, draft, actor)]
        if kind == "opd" and draft.draft_step == "opd":
            if not actor.may_announce_as(value):
                return [StaffMessage("Anda tidak dapat mengumumkan atas nama itu.")]
            draft.opd = value
            draft.draft_step = "text"
            return [self._ask_text(draft, actor)]
        if kind == "seg" and value == "all":
            draft.segment = Segment(draft.opd).to_json()
            return await self._preview(session, draft)
        if kind == "seg" and value == "district":
            draft.draft_step = "district"
            draft.segment = {**Segment(draft.opd).to_json(), "picking": True}
            return [self._district_picker(draft)]
        if kind == "seg" and value == "topic":
            draft.draft_step = "topic"
            return [self._topic_picker(draft)]
        if kind == "d" and draft.draft_step == "district":
            return await self._pick_district(session, draft, value)
        if kind == "t" and draft.draft_step == "topic":
            segment = Segment(draft.opd, topic=value)
            if not segment.allowed():
                return [StaffMessage("Topik itu bukan milik OPD Anda.")]
            draft.segment = segment.to_json()
            return await self._preview(session, draft)
        if kind == "edit":
            draft.draft_step = "text"
            return [self._ask_text(draft, actor)]
        if kind == "segment":
            draft.segment = {}
            draft.draft_step = "segment"
            return [self._ask_segment(draft)]
        if kind == "send" and draft.draft_step == "preview":
            draft.send_at = None
            return [await self._confirm(session, draft, actor)]
        if kind == "schedule" and draft.draft_step == "preview":
            draft.draft_step = "schedule"
            self.awaiting.add(actor.external_id)
            return [
                StaffMessage(
                    f"Kapan dikirim? Tulis tanggal dan jam WIT, misalnya {_e(EXAMPLE)}.",
                    ((StaffButton("Kirim sekarang saja", "send_now"),),),
                    draft_id=draft.id,
                )
            ]
        if kind == "send_now" and draft.draft_step in ("schedule", "confirm"):
            self.awaiting.discard(actor.external_id)
            draft.send_at = None
            return [await self._confirm(session, draft, actor)]
        if kind == "confirm" and draft.draft_step == "confirm" and draft.send_at is not None:
            return [await self._confirm(session, draft, actor)]
        return [StaffMessage("Tombol ini tidak berlaku pada langkah ini.", draft_id=draft.id)]

    async def _pick_district(
        self, session: AsyncSession, draft: Announcement, value: str
    ) -> list[StaffMessage]:
        chosen = list(draft.segment.get("districts") or ())
        if value == "done":
            if not chosen:
                return [StaffMessage("Pilih minimal satu distrik."), self._district_picker(draft)]
            draft.segment = Segment(draft.opd, tuple(chosen)).to_json()
            return await self._preview(session, draft)
        if self.region.district(value) is None:
            return [self._district_picker(draft)]
        if value in chosen:
            chosen.remove(value)
        else:
            chosen.append(value)
        draft.segment = {**draft.segment, "districts": chosen}
        return [self._district_picker(draft)]

    async def _preview(self, session: AsyncSession, draft: Announcement) -> list[StaffMessage]:
        draft.draft_step = "preview"
        segment = Segment.from_json(draft.segment, draft.opd)
        count = await audience.count(session, self.channel, segment)
        rendered = render_announcement(self.translator, "id", draft.text, draft.reference)
        media = Media(draft.media_kind, draft.media_file_id) if draft.media_file_id else None
        summary = (
            "Pratinjau di atas persis seperti yang akan diterima warga.\n\n"
            f"Atas nama: {_e(self._opd_name(draft.opd))}\n"
            f"Penerima: {_e(self._describe(segment))}\n"
            f"Jumlah penerima saat ini: {_number(count)} warga\n"
            "(Warga yang berhenti berlangganan sebelum gilirannya tidak akan menerimanya.)"
        )
        buttons = (
            (StaffButton("Kirim sekarang", "send"), StaffButton("Jadwalkan", "schedule")),
            (StaffButton("Ubah teks", "edit"), StaffButton("Ubah penerima", "segment")),
            (StaffButton("Batalkan draf", "discard"),),
        )
        return [
            StaffMessage(rendered, media=media, draft_id=draft.id),
            StaffMessage(summary, buttons, draft_id=draft.id),
        ]

    async def _take_time(
        self, session: AsyncSession, draft: Announcement, actor: Actor, text: str
    ) -> list[StaffMessage]:
        now = self.clock().astimezone(self.region.timezone)
        try:
            moment = parse_send_time(text, now)
        except SendTimeError as error:
            return [StaffMessage(_e(str(error)))]
        draft.send_at = moment.astimezone(dt.UTC)
        draft.draft_step = "confirm"
        self.awaiting.discard(actor.external_id)
        return [
            StaffMessage(
                f"Dikirim pada {_e(self._when(moment))} WIT. Benar?",
                (
                    (StaffButton("Ya, jadwalkan", "confirm"),),
                    (StaffButton("Kirim sekarang saja", "send_now"),),
                    (StaffButton("Batalkan draf", "discard"),),
                ),
                draft_id=draft.id,
            )
        ]

    async def _confirm(
        self, session: AsyncSession, draft: Announcement, actor: Actor
    ) -> StaffMessage:
        segment = Segment.from_json(draft.segment, draft.opd)
        if not segment.allowed() or not actor.may_announce_as(draft.opd):
            return await self._drop(session, draft, actor, revoked=True)
        draft.status = "scheduled"
        draft.draft_step = None
        draft.created_at = self.clock()
        await audit(
            session,
            actor.user_id,
            "announcement.create",
            f"announcement:{draft.id}",
            {
                "reference": draft.reference,
                "opd": draft.opd,
                "segment": segment.to_json(),
                "send_at": draft.send_at.isoformat() if draft.send_at else None,
                "media": draft.media_kind,
            },
            at=self.clock(),
        )
        await session.flush()
        self.wake()
        if draft.send_at is None:
            when = "segera dikirim"
        else:
            when = f"dijadwalkan {self._when(draft.send_at)} WIT"
        return StaffMessage(
            f"Pengumuman {draft.reference} {_e(when)}. Kemajuan pengiriman tampil di sini. "
            f"Untuk menghentikannya: /umumkan batal {draft.reference}"
        )

    async def _drop(
        self, session: AsyncSession, draft: Announcement, actor: Actor, *, revoked: bool = False
    ) -> StaffMessage:
        await session.delete(draft)
        self.awaiting.discard(actor.external_id)
        if revoked:
            return StaffMessage("Anda tidak lagi berwenang untuk pengumuman ini. Draf dihapus.")
        return StaffMessage("Draf dibatalkan. Tidak ada yang dikirim.")

    # -- list and cancel -------------------------------------------------------------------

    async def _list(self, actor: Actor) -> StaffMessage:
        async with self.sessions() as session:
            query = select(Announcement).where(Announcement.status != "draft")
            if not actor.roles.is_admin:
                query = query.where(Announcement.opd.in_(actor.opds()))
            rows = (
                await session.scalars(query.order_by(Announcement.id.desc()).limit(LIST_LIMIT))
            ).all()
        if not rows:
            return StaffMessage("Belum ada pengumuman.")
        lines = ["Pengumuman terakhir:"]
        for row in rows:
            status = STATUS_WORDS.get(row.status, row.status)
            when = self._when(row.send_at or row.created_at)
            lines.append(
                f"{row.reference} · {self._opd_name(row.opd)} · {status} · {when} WIT · "
                f"terkirim {_number(row.sent)}/{_number(row.recipients)}"
            )
        return StaffMessage(_e("\n".join(lines)))

    async def _cancel_by_reference(self, actor: Actor, code: str) -> StaffMessage:
        async with self.sessions() as session:
            found = await find_by_reference(session, code)
            announcement_id = found.id if found is not None else None
        if announcement_id is None:
            return StaffMessage(f"Kode {_e(code.upper())} tidak ditemukan.")
        return await self._cancel(actor, announcement_id)

    async def _cancel(self, actor: Actor, announcement_id: int) -> StaffMessage:
        async with self.sessions() as session, session.begin():
            found = await session.get(Announcement, announcement_id)
            if found is None or not (actor.roles.is_admin or actor.may_announce_as(found.opd)):
                return StaffMessage("Pengumuman itu tidak ditemukan.")
            reference = found.reference
            if found.status not in ("scheduled", "sending"):
                status = STATUS_WORDS.get(found.status, found.status)
                return StaffMessage(f"Pengumuman {reference} sudah {_e(status)}.")
            await audit(
                session,
                actor.user_id,
                "announcement.cancel",
                f"announcement:{announcement_id}",
                {"reference": reference, "opd": found.opd, "was": found.status},
                at=self.clock(),
            )
        if self.stop is not None:  # the service: cancels and stops its running sender at once
            stopped = await self.stop(announcement_id)
        else:  # no service in this process: the database alone (a sender notices it)
            async with self.sessions() as session, session.begin():
                stopped = await cancel(session, announcement_id)
        if not stopped:
            return StaffMessage(f"Pengumuman {reference} sudah selesai.")
        return StaffMessage(f"Pengumuman {reference} dihentikan. Tidak ada pesan baru dikirim.")

    # -- wording ---------------------------------------------------------------------------

    def _opd_name(self, opd: str) -> str:
        if opd == REGENCY:
            return "Pemerintah " + (self.region.name.get("id") or "Kabupaten")
        found = self.region.opds.get(opd)
        return found.short if found is not None else opd

    def _describe(self, segment: Segment) -> str:
        parts = []
        if segment.districts:
            names = [
                (self.region.district(code).name if self.region.district(code) else code)
                for code in segment.districts
            ]
            parts.append("Distrik " + ", ".join(names))
        else:
            parts.append("semua distrik")
        if segment.topic:
            parts.append("topik " + TOPIC_LABELS.get(segment.topic, segment.topic))
        else:
            parts.append("semua topik " + ("" if segment.opd == REGENCY else "OPD ini"))
        return "pelanggan " + ", ".join(part.strip() for part in parts)

    def _when(self, moment: dt.datetime) -> str:
        local = as_utc(moment).astimezone(self.region.timezone)
        return format_datetime(local, "EEEE, d MMMM y, HH.mm", locale="id")

    async def _draft_of(self, session: AsyncSession, actor: Actor) -> Announcement | None:
        return await session.scalar(
            select(Announcement)
            .where(Announcement.status == "draft", Announcement.author_user_id == actor.user_id)
            .order_by(Announcement.id.desc())
            .limit(1)
        )


async def _external_ids(session: AsyncSession, user_ids: Sequence[int], channel: str) -> list[str]:
    from bot.storage.models import User

    if not user_ids:
        return []
    rows = await session.execute(
        select(User.external_id).where(User.id.in_(user_ids), User.channel == channel)
    )
    return [external_id for (external_id,) in rows]
