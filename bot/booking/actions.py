"""The ``core.antrean_*`` actions that flows/antrean.yaml calls (issue 18).

Every action is a short transaction of its own (actions run between the front desk's
transactions) and answers with a ready ``text`` in the citizen's language. Dates and times
are WIT, from the injected clock; date names come from Babel (Indonesian by default).
Choices that change with every booking (the free dates, the free sessions, the citizen's own
bookings) are returned as ``options`` lists that the flow shows with ``options_from:
context.<name>``.

* ``core.antrean_aktif`` (``service``): ok when the citizen already holds a booking of the
  service (shown, with "Ubah jadwal" / "Batalkan"), not_found when not, invalid when the
  service has no queue.
* ``core.antrean_tanggal`` (``service``, ``dari``): up to a week of dates with free seats
  from ``dari`` (default today) and "Minggu berikutnya"; not_found when the window is full.
* ``core.antrean_sesi`` (``service``, ``tanggal``): that date's free sessions.
* ``core.antrean_ambil`` (``service``, ``tanggal``, ``sesi``, ``judul``, ``ganti``): books
  (``ganti`` non-empty: moves the citizen's booking); not_found: full, with the next free
  date; invalid: already booked.
* ``core.antrean_saya``: the citizen's bookings, each with "Ubah jadwal" and "Batalkan".
* ``core.antrean_batal`` (``service``): cancels; the seat is free at once.
* ``core.antrean_datang`` (``jawab``: ya/tidak): the answer to a reminder's "Masih datang?".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.booking import store
from bot.booking.quota import ServiceQueue, free_days, free_sessions
from bot.engine.render import pick
from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, Translator
from bot.region import Region
from bot.registry import ActionCall, ActionResult, Registry
from bot.storage.models import Booking, BookingReminder

logger = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]

DATES_HEADER = N_(
    "Pilih tanggal kedatangan untuk {service}. Hanya tanggal yang masih ada kuotanya yang "
    "kami tampilkan."
)
NEXT_WEEK = N_("Minggu berikutnya")
NO_DATES = N_(
    "Maaf, kuota antrean {service} sudah penuh untuk {days} hari ke depan. Coba lagi besok: "
    "nomor yang dibatalkan warga lain akan terbuka kembali. Anda juga tetap bisa datang "
    "langsung ke loket."
)
SESSIONS_HEADER = N_("Pilih sesi pada {date}. Datanglah sebelum sesi dimulai.")
# Labels carry no counts: a button's label must stay the same while others book.
SESSION_LABEL = N_("Pukul {start}-{end}")
SESSION_FREE = N_("Pukul {start}-{end}: sisa {free} nomor")
DATE_FULL = N_("Maaf, {date} baru saja penuh. Silakan pilih tanggal lain.")
CONFIRM = N_(
    "Periksa dulu:\nLayanan: {service}\nTanggal: {date}\nSesi: pukul {session} WIT\n"
    "Tempat: {office}\n\nAmbil nomor antrean ini?"
)
BOOKED = N_(
    "Nomor antrean Anda sudah tercatat.\n\n"
    "Kode booking: {code}\n"
    "Nomor antrean: {number}\n"
    "Tanggal: {date}, sesi pukul {session} WIT\n"
    "Layanan: {service}\n"
    "Tempat: {office}, {address}\n\n"
    "Yang perlu dibawa:\n{bring}\n\n"
    "Tunjukkan kode ini di loket. Kami akan mengingatkan Anda sehari sebelumnya dan pada "
    'pagi harinya. Tidak jadi datang? Ketik "batal antrean" agar nomornya bisa dipakai '
    "warga lain."
)
MOVED = N_("Jadwal lama Anda ({date}, sesi pukul {session} WIT) sudah dibatalkan.")
FULL_NEXT = N_(
    "Maaf, kuota sesi itu baru saja penuh. Tanggal terdekat yang masih ada kuotanya: {date}. "
    "Silakan pilih lagi."
)
FULL_NONE = N_(
    "Maaf, kuota sesi itu baru saja penuh, dan tidak ada tanggal lain yang masih ada "
    "kuotanya dalam {days} hari ke depan."
)
CLOSED = N_(
    "Maaf, sesi itu sudah tidak bisa dipesan (sudah dimulai, atau kantor tutup). Silakan "
    "pilih tanggal lain."
)
ALREADY = N_(
    "Anda sudah punya nomor antrean {service}: {date}, sesi pukul {session} WIT, nomor "
    "{number} (kode {code}). Satu warga satu nomor antrean per layanan; Anda bisa mengubah "
    "jadwalnya atau membatalkannya."
)
MINE_HEADER = N_("Nomor antrean Anda:")
MINE_LINE = N_(
    "{index}. {service}: {date}, sesi pukul {session} WIT, nomor {number} (kode {code})"
)
MINE_NONE = N_(
    "Anda belum punya nomor antrean. Untuk mengambilnya, tanyakan layanan yang dikerjakan di "
    'kantor (misalnya "syarat KTP baru"), lalu pilih "Ambil nomor antrean".'
)
MINE_OPTION = N_("{service}, {date}")
MINE_FOOTER = N_("Pilih salah satu untuk mengubah jadwal atau membatalkannya.")
CANCELLED = N_(
    "Nomor antrean {code} ({service}, {date}) sudah dibatalkan. Terima kasih, nomornya kini "
    "bisa dipakai warga lain."
)
NOTHING_TO_CANCEL = N_("Anda tidak punya nomor antrean untuk layanan itu.")
COMING = N_(
    "Terima kasih. Sampai jumpa pada {date}, sesi pukul {session} WIT. Tunjukkan kode {code} "
    "di loket."
)
NOT_COMING = N_(
    "Baik, nomor antrean {code} ({service}, {date}) kami batalkan agar bisa dipakai warga "
    "lain. Anda bisa mengambil nomor baru kapan saja."
)


class BookingActions:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession] | None,
        region: Region,
        translator: Translator,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._region = region
        self._translator = translator
        self._clock = clock

    # -- helpers -------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return self._region.now(self._clock())

    def _t(self, call: ActionCall, message: str, **params: Any) -> str:
        return self._translator.gettext(call.locale, message, **params)

    def date(self, day: dt.date, locale: str) -> str:
        return self.date_text(day, locale)

    @staticmethod
    def date_text(day: dt.date, locale: str) -> str:
        """``Kamis, 3 Desember 2026`` (Babel; English: ``Thursday, 3 December 2026``)."""
        locale = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
        return format_date(day, "EEEE, d MMMM y", locale=locale)

    @staticmethod
    def session_text(key: str, locale: str) -> str:
        """``08:00-10:00`` as a citizen reads it: ``08.00-10.00`` in Indonesian."""
        return key.replace(":", ".") if locale != "en" else key

    def _queue(self, call: ActionCall) -> ServiceQueue | None:
        return self._region.queues.for_service(str(call.params.get("service", "")).strip())

    def _office(self, queue: ServiceQueue, locale: str) -> tuple[str, str]:
        office = self._region.offices.get(queue.office)
        if office is None:
            return queue.office, ""
        return str(pick(office.name, locale)), office.address

    async def _taken(self, session: AsyncSession, queue: ServiceQueue) -> store.Taken:
        today = self._now().date()
        return await store.taken_counts(
            session, queue.office, queue.service, today, queue.last_day(today)
        )

    def _describe(self, call: ActionCall, booking: Booking, message: str, **extra: Any) -> str:
        return self._t(
            call,
            message,
            service=booking.title,
            date=self.date(booking.day, call.locale),
            session=self.session_text(booking.session, call.locale),
            number=booking.number,
            code=booking.code,
            **extra,
        )

    @staticmethod
    def _day(text: Any) -> dt.date | None:
        try:
            return dt.date.fromisoformat(str(text).strip())
        except ValueError:
            return None

    # -- actions -------------------------------------------------------------------------

    async def active(self, call: ActionCall) -> ActionResult:
        queue = self._queue(call)
        if queue is None:
            return ActionResult("invalid", {"reason": "no_queue"})
        if self._sessions is None:
            return ActionResult("unavailable")
        async with self._sessions() as session:
            booking = await store.active_booking(session, int(call.user_id), queue.service)
        if booking is None:
            return ActionResult("not_found", {"text": ""})
        return ActionResult("ok", {"text": self._describe(call, booking, ALREADY)})

    async def dates(self, call: ActionCall) -> ActionResult:
        queue = self._queue(call)
        if queue is None:
            return ActionResult("invalid", {"reason": "no_queue"})
        if self._sessions is None:
            return ActionResult("unavailable")
        now = self._now()
        async with self._sessions() as session:
            taken = await self._taken(session, queue)
        days, more = free_days(
            queue, now, self._region.holiday_dates, taken, start=self._day(call.params.get("dari"))
        )
        title = str(call.params.get("judul") or queue.service)
        if not days:
            text = self._t(call, NO_DATES, service=title, days=queue.window_days)
            return ActionResult("not_found", {"text": text})
        options: list[dict[str, Any]] = [
            {
                "label": self.date(day.day, call.locale),
                "value": day.day.isoformat(),
                "set": {"antrean_mode": "tanggal"},
            }
            for day in days
        ]
        if more is not None:
            options.append(
                {
                    "label": self._t(call, NEXT_WEEK),
                    "value": "",
                    "set": {"antrean_mode": "lagi", "antrean_dari": more.isoformat()},
                }
            )
        text = self._t(call, DATES_HEADER, service=title)
        return ActionResult("ok", {"text": text, "options": options, "count": len(days)})

    async def sessions(self, call: ActionCall) -> ActionResult:
        queue = self._queue(call)
        day = self._day(call.params.get("tanggal"))
        if queue is None or day is None:
            return ActionResult("invalid", {"reason": "bad_param"})
        if self._sessions is None:
            return ActionResult("unavailable")
        async with self._sessions() as session:
            taken = await self._taken(session, queue)
        free = free_sessions(queue, day, self._now(), self._region.holiday_dates, taken)
        date_text = self.date(day, call.locale)
        if not free:
            return ActionResult("not_found", {"text": self._t(call, DATE_FULL, date=date_text)})
        office, _address = self._office(queue, call.locale)
        title = str(call.params.get("judul") or queue.service)
        options = [
            {
                "label": self._t(
                    call,
                    SESSION_LABEL,
                    start=self.session_text(f"{s.session.start:%H:%M}", call.locale),
                    end=self.session_text(f"{s.session.end:%H:%M}", call.locale),
                ),
                "value": s.session.key,
                # The question before booking, ready for the flow's confirmation step.
                "set": {
                    "antrean_konfirmasi": self._t(
                        call,
                        CONFIRM,
                        service=title,
                        date=date_text,
                        session=self.session_text(s.session.key, call.locale),
                        office=office,
                    )
                },
            }
            for s in free
        ]
        lines = [self._t(call, SESSIONS_HEADER, date=date_text)]
        lines += [
            self._t(
                call,
                SESSION_FREE,
                start=self.session_text(f"{s.session.start:%H:%M}", call.locale),
                end=self.session_text(f"{s.session.end:%H:%M}", call.locale),
                free=s.free,
            )
            for s in free
        ]
        text = "\n".join(lines)
        return ActionResult("ok", {"text": text, "options": options, "date": date_text})

    async def book(self, call: ActionCall) -> ActionResult:
        queue = self._queue(call)
        day = self._day(call.params.get("tanggal"))
        key = str(call.params.get("sesi", "")).strip()
        if queue is None or day is None:
            return ActionResult("invalid", {"reason": "bad_param"})
        if self._sessions is None:
            return ActionResult("unavailable")
        now = self._now()
        title = str(call.params.get("judul") or queue.service)
        result = await store.book(
            self._sessions,
            user_id=int(call.user_id),
            queue=queue,
            day=day,
            session_key=key,
            now=now,
            holidays=self._region.holiday_dates,
            reschedule=bool(str(call.params.get("ganti", "")).strip()),
            title=title,
            bring=str(call.params.get("bawa") or "").strip(),
        )
        if result.outcome is store.Outcome.ALREADY and result.booking is not None:
            text = self._describe(call, result.booking, ALREADY)
            return ActionResult("invalid", {"reason": "already", "text": text})
        if result.outcome is store.Outcome.CLOSED:
            return ActionResult("not_found", {"reason": "closed", "text": self._t(call, CLOSED)})
        if result.outcome is store.Outcome.FULL:
            async with self._sessions() as session:
                taken = await self._taken(session, queue)
            days, _more = free_days(queue, now, self._region.holiday_dates, taken, limit=1)
            if days:
                text = self._t(call, FULL_NEXT, date=self.date(days[0].day, call.locale))
                data = {"reason": "full", "text": text, "next": days[0].day.isoformat()}
            else:
                text = self._t(call, FULL_NONE, days=queue.window_days)
                data = {"reason": "full", "text": text, "next": ""}
            return ActionResult("not_found", data)
        booking = result.booking
        assert booking is not None
        office, address = self._office(queue, call.locale)
        bring = booking.bring or "-"
        text = self._describe(call, booking, BOOKED, office=office, address=address, bring=bring)
        if result.replaced is not None:
            text = self._describe(call, result.replaced, MOVED) + "\n\n" + text
        logger.info("user %s booked %s %s", call.user_id, queue.service, booking.day)
        return ActionResult(
            "ok",
            {"text": text, "code": booking.code, "number": booking.number, "day": str(day)},
        )

    async def mine(self, call: ActionCall) -> ActionResult:
        if self._sessions is None:
            return ActionResult("unavailable")
        async with self._sessions() as session:
            rows = await store.active_bookings(session, int(call.user_id))
        if not rows:
            return ActionResult("not_found", {"text": self._t(call, MINE_NONE), "count": 0})
        lines = [self._t(call, MINE_HEADER)]
        options: list[dict[str, Any]] = []
        for index, row in enumerate(rows, start=1):
            lines.append(self._describe(call, row, MINE_LINE, index=index))
            options.append(
                {
                    "label": self._t(
                        call, MINE_OPTION, service=row.title, date=self.date(row.day, call.locale)
                    ),
                    "value": row.service,
                    # The booking is then shown by core.antrean_aktif, with its two buttons.
                    "set": {
                        "antrean_service": row.service,
                        "antrean_office": row.office,
                        "antrean_judul": row.title,
                        "antrean_bawa": row.bring or "",
                        "antrean_ganti": "",
                        "antrean_dari": "",
                    },
                }
            )
        lines.append(self._t(call, MINE_FOOTER))
        return ActionResult(
            "ok", {"text": "\n".join(lines), "options": options, "count": len(rows)}
        )

    async def cancel(self, call: ActionCall) -> ActionResult:
        if self._sessions is None:
            return ActionResult("unavailable")
        service = str(call.params.get("service", "")).strip()
        booking = await store.cancel(self._sessions, int(call.user_id), service, self._now())
        if booking is None:
            return ActionResult("not_found", {"text": self._t(call, NOTHING_TO_CANCEL)})
        logger.info("user %s cancelled booking of %s", call.user_id, service)
        return ActionResult("ok", {"text": self._describe(call, booking, CANCELLED)})

    async def coming(self, call: ActionCall) -> ActionResult:
        """ "Masih datang?" under a reminder: the booking whose code the button carries
        (``kode``); without one (a button of an older reminder), the citizen's active booking
        whose reminder went out last."""
        if self._sessions is None:
            return ActionResult("unavailable")
        user_id = int(call.user_id)
        code = str(call.params.get("kode", "")).strip()
        async with self._sessions() as session:
            if code:
                booking = await session.scalar(
                    select(Booking).where(Booking.active_user == user_id, Booking.code == code)
                )
            else:
                booking = await session.scalar(
                    select(Booking)
                    .join(BookingReminder, BookingReminder.booking_id == Booking.id)
                    .where(Booking.active_user == user_id, BookingReminder.state == "sent")
                    .order_by(BookingReminder.sent_at.desc(), Booking.id.desc())
                    .limit(1)
                )
        if booking is None:
            return ActionResult("not_found", {"text": self._t(call, MINE_NONE)})
        if str(call.params.get("jawab", "")).strip().lower() != "tidak":
            return ActionResult("ok", {"text": self._describe(call, booking, COMING)})
        cancelled = await store.cancel(self._sessions, user_id, booking.service, self._now())
        if cancelled is None:
            return ActionResult("not_found", {"text": self._t(call, NOTHING_TO_CANCEL)})
        return ActionResult("ok", {"text": self._describe(call, cancelled, NOT_COMING)})


def register_booking_actions(
    registry: Registry,
    sessions: async_sessionmaker[AsyncSession] | None,
    region: Region,
    translator: Translator,
    clock: Clock,
) -> BookingActions:
    actions = BookingActions(sessions, region, translator, clock)
    registry.add_action("core.antrean_aktif", actions.active)
    registry.add_action("core.antrean_tanggal", actions.dates)
    registry.add_action("core.antrean_sesi", actions.sessions)
    registry.add_action("core.antrean_ambil", actions.book)
    registry.add_action("core.antrean_saya", actions.mine)
    registry.add_action("core.antrean_batal", actions.cancel)
    registry.add_action("core.antrean_datang", actions.coming)
    return actions
