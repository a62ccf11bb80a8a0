"""The integration actions flows can call, each turning an OPD reply into a ready answer.

Every action returns one of the four flow outcomes and, on ``ok``, plain JSON-able data with
``text``: a summary already localised for the citizen, so flows can simply show ``{x.text}``
and a new OPD field does not need a flow change. Interface strings are Indonesian source text
marked with ``N_`` and translated through the :class:`~bot.i18n.Translator`; values that come
from the OPD (service names, notes, addresses) are shown as the OPD wrote them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from bot.i18n import N_, Translator
from bot.privacy import mask_nop
from bot.registry import ActionCall, ActionResult, Registry
from integrations import OpdClients
from integrations.dinkes import DinkesClient, ImmunizationSession
from integrations.errors import InvalidReply, NotFound, OpdError, Unavailable
from integrations.formatting import clock, long_date, moment_text, place_text, rupiah, supported
from integrations.shapes import WIT

logger = logging.getLogger("integrations.actions")

MAX_ITEMS = 8
Data = dict[str, Any]

APPLICATION_STATUS_TEXT: Mapping[str, str] = {
    "received": N_("Diterima, menunggu diproses"),
    "in_process": N_("Sedang diproses"),
    "completed": N_("Selesai"),
    "ready_for_pickup": N_("Siap diambil"),
    "rejected": N_("Ditolak"),
}
AK1_STATUS_TEXT: Mapping[str, str] = {
    "in_process": N_("Sedang diproses"),
    "active": N_("Aktif"),
    "expired": N_("Sudah tidak berlaku"),
    "rejected": N_("Ditolak"),
}
FACILITY_TYPE_TEXT: Mapping[str, str] = {
    "puskesmas": N_("Puskesmas"),
    "pustu": N_("Puskesmas pembantu"),
    "rumah_sakit": N_("Rumah sakit"),
    "klinik": N_("Klinik"),
}
PBB_STATUS_TEXT: Mapping[str, str] = {
    "paid": N_("Lunas"),
    "unpaid": N_("Belum lunas"),
}


class _BadParam(Exception):
    """A flow passed a missing or unusable parameter (a flow bug, reported as ``invalid``)."""


def _param(call: ActionCall, name: str, *, upper: bool = False, required: bool = True) -> str:
    value = call.params.get(name)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise _BadParam(name)
    return text.upper() if upper else text


class _Actions:
    """The action implementations; dependencies are passed in, nothing is global."""

    def __init__(
        self,
        clients: OpdClients,
        translator: Translator,
        districts: Mapping[str, str],
        now: Callable[[], datetime],
    ) -> None:
        self._clients = clients
        self._translator = translator
        self._districts = districts
        self._now = now

    def _wit_now(self) -> datetime:
        """The injected clock's moment in WIT: "today" and "already over" are Timika's."""
        return self._now().astimezone(WIT)

    # -- helpers -------------------------------------------------------------------------

    def _t(self, call: ActionCall, message: str, **params: Any) -> str:
        return self._translator.gettext(supported(call.locale), message, **params)

    def _district(self, code: str | None) -> str:
        if not code:
            return ""
        return self._districts.get(code, code)

    def _listing(self, call: ActionCall, header: str, lines: Sequence[str], **params: Any) -> str:
        shown = list(lines[:MAX_ITEMS])
        if len(lines) > MAX_ITEMS:
            shown.append(self._t(call, N_("…dan {count} lainnya."), count=len(lines) - MAX_ITEMS))
        return "\n".join([self._t(call, header, **params), *shown])

    async def _run(
        self, opd: str, client: object | None, body: Callable[[], Awaitable[Data]]
    ) -> ActionResult:
        """Maps typed failures to outcomes so a flow always gets an answer, never a crash."""
        if client is None:
            return ActionResult("unavailable", {"opd": opd, "reason": "not_configured"})
        try:
            return ActionResult("ok", await body())
        except NotFound:
            return ActionResult("not_found", {"opd": opd})
        except Unavailable as exc:
            return ActionResult("unavailable", {"opd": opd, "reason": exc.reason})
        except InvalidReply as exc:
            return ActionResult("invalid", {"opd": opd, "reason": exc.reason})
        except _BadParam as exc:
            logger.error("%s action called without a usable %r parameter", opd, str(exc))
            return ActionResult("invalid", {"opd": opd, "reason": "bad_param"})
        except OpdError as exc:  # pragma: no cover - every OpdError subclass is handled above
            return ActionResult("unavailable", {"opd": opd, "reason": exc.reason})
        except Exception:
            # A bug in formatting must not end the citizen's conversation with a traceback.
            logger.exception("%s action failed unexpectedly", opd)
            return ActionResult("invalid", {"opd": opd, "reason": "internal"})

    # -- Disdukcapil ---------------------------------------------------------------------

    async def application_status(self, call: ActionCall) -> ActionResult:
        client = self._clients.disdukcapil

        async def body() -> Data:
            assert client is not None
            app = await client.application(_param(call, "number", upper=True))
            status_text = self._t(call, APPLICATION_STATUS_TEXT[app.status])
            updated = moment_text(app.updated_at, call.locale, self._translator)
            lines = [
                self._t(
                    call,
                    N_("Permohonan {number}: {service}"),
                    number=app.number,
                    service=app.service,
                ),
                self._t(call, N_("Status: {status}"), status=status_text),
                self._t(call, N_("Terakhir diperbarui: {when}"), when=updated),
            ]
            if app.status == "ready_for_pickup":
                if app.pickup_location:
                    lines.append(
                        self._t(
                            call,
                            N_("Dokumen dapat diambil di: {place}"),
                            place=app.pickup_location,
                        )
                    )
                if app.note:
                    lines.append(self._t(call, N_("Catatan: {note}"), note=app.note))
            elif app.status == "rejected":
                if app.note:
                    lines.append(self._t(call, N_("Alasan: {note}"), note=app.note))
                else:
                    lines.append(
                        self._t(
                            call,
                            N_("Alasan penolakan belum dicatat. Silakan hubungi Disdukcapil."),
                        )
                    )
            elif app.note:
                lines.append(self._t(call, N_("Catatan: {note}"), note=app.note))
            return {
                "number": app.number,
                "service": app.service,
                "status": app.status,
                "status_text": status_text,
                "updated_at_text": updated,
                "note": app.note,
                "pickup_location": app.pickup_location,
                "text": "\n".join(lines),
            }

        return await self._run("disdukcapil", client, body)

    async def mobile_services(self, call: ActionCall) -> ActionResult:
        client = self._clients.disdukcapil

        async def body() -> Data:
            assert client is not None
            code = _param(call, "district")
            name = self._district(code)
            now = self._wit_now()
            # An OPD may still list a visit that is over (earlier today, or days ago): a
            # citizen must not travel to it, so only visits that have not ended are shown.
            visits = [
                v
                for v in await client.mobile_services(code)
                if datetime.combine(v.date, v.end_time, tzinfo=WIT) > now
            ]
            lines = [
                self._t(
                    call,
                    N_("• {date}, {start}–{end} WIT, di {location}: {services}"),
                    date=long_date(v.date, call.locale),
                    start=clock(v.start_time, call.locale),
                    end=clock(v.end_time, call.locale),
                    location=v.location,
                    services=", ".join(v.services) or "-",
                )
                for v in visits
            ]
            if lines:
                text = self._listing(
                    call,
                    N_("Jadwal layanan jemput bola Disdukcapil di Distrik {district}:"),
                    lines,
                    district=name,
                )
            else:
                text = self._t(
                    call,
                    N_("Belum ada jadwal layanan jemput bola Disdukcapil di Distrik {district}."),
                    district=name,
                )
            return {"district": code, "district_name": name, "count": len(visits), "text": text}

        return await self._run("disdukcapil", client, body)

    # -- Disnakertrans -------------------------------------------------------------------

    async def ak1_status(self, call: ActionCall) -> ActionResult:
        client = self._clients.disnakertrans

        async def body() -> Data:
            assert client is not None
            card = await client.ak1(_param(call, "number", upper=True))
            status_text = self._t(call, AK1_STATUS_TEXT[card.status])
            valid_until = long_date(card.valid_until, call.locale) if card.valid_until else None
            lines = [
                self._t(call, N_("Kartu AK/I {number}"), number=card.number),
                self._t(call, N_("Status: {status}"), status=status_text),
            ]
            if valid_until and card.status == "expired":
                lines.append(self._t(call, N_("Masa berlaku berakhir: {date}"), date=valid_until))
            elif valid_until:
                lines.append(self._t(call, N_("Berlaku sampai: {date}"), date=valid_until))
            return {
                "number": card.number,
                "status": card.status,
                "status_text": status_text,
                "valid_until_text": valid_until,
                "text": "\n".join(lines),
            }

        return await self._run("disnakertrans", client, body)

    async def vacancies(self, call: ActionCall) -> ActionResult:
        client = self._clients.disnakertrans

        async def body() -> Data:
            assert client is not None
            query = _param(call, "q", required=False)[:100]
            found = await client.vacancies(query)
            lines = []
            for v in found:
                closes = long_date(v.closes_on, call.locale)
                if v.district:
                    lines.append(
                        self._t(
                            call,
                            N_("• {title}, {employer} (Distrik {district}), ditutup {date}"),
                            title=v.title,
                            employer=v.employer,
                            district=self._district(v.district),
                            date=closes,
                        )
                    )
                else:
                    lines.append(
                        self._t(
                            call,
                            N_("• {title}, {employer}, ditutup {date}"),
                            title=v.title,
                            employer=v.employer,
                            date=closes,
                        )
                    )
            if lines and query:
                text = self._listing(
                    call, N_("Lowongan kerja untuk “{query}”:"), lines, query=query
                )
            elif lines:
                text = self._listing(call, N_("Lowongan kerja yang dibuka:"), lines)
            elif query:
                text = self._t(
                    call, N_("Belum ada lowongan kerja yang cocok dengan “{query}”."), query=query
                )
            else:
                text = self._t(call, N_("Belum ada lowongan kerja yang dibuka saat ini."))
            return {"q": query, "count": len(found), "text": text}

        return await self._run("disnakertrans", client, body)

    async def trainings(self, call: ActionCall) -> ActionResult:
        client = self._clients.disnakertrans

        async def body() -> Data:
            assert client is not None
            found = await client.trainings()
            lines = []
            for t in found:
                starts = long_date(t.starts_on, call.locale)
                if t.seats_left > 0:
                    lines.append(
                        self._t(
                            call,
                            N_("• {title}, {place}, mulai {date}, sisa {seats} kursi"),
                            title=t.title,
                            place=t.place,
                            date=starts,
                            seats=t.seats_left,
                        )
                    )
                else:
                    lines.append(
                        self._t(
                            call,
                            N_("• {title}, {place}, mulai {date}, kuota sudah penuh"),
                            title=t.title,
                            place=t.place,
                            date=starts,
                        )
                    )
            if lines:
                text = self._listing(call, N_("Pelatihan kerja yang dibuka:"), lines)
            else:
                text = self._t(call, N_("Belum ada pelatihan kerja yang dibuka saat ini."))
            return {"count": len(found), "text": text}

        return await self._run("disnakertrans", client, body)

    # -- Dinkes --------------------------------------------------------------------------

    async def facilities(self, call: ActionCall) -> ActionResult:
        client = self._clients.dinkes

        async def body() -> Data:
            assert client is not None
            code = _param(call, "district")
            name = self._district(code)
            found = await client.facilities(code)
            lines = []
            for f in found:
                entry = [
                    self._t(
                        call,
                        N_("• {name} ({type})"),
                        name=f.name,
                        type=self._t(call, FACILITY_TYPE_TEXT[f.type]),
                    ),
                    f"  {f.address}",
                ]
                if f.hours:
                    entry.append(self._t(call, N_("  Jam layanan: {hours}"), hours=f.hours))
                if f.phone:
                    entry.append(self._t(call, N_("  Telepon: {phone}"), phone=f.phone))
                lines.append("\n".join(entry))
            if lines:
                text = self._listing(
                    call, N_("Fasilitas kesehatan di Distrik {district}:"), lines, district=name
                )
            else:
                text = self._t(
                    call,
                    N_("Belum ada data fasilitas kesehatan untuk Distrik {district}."),
                    district=name,
                )
            return {"district": code, "district_name": name, "count": len(found), "text": text}

        return await self._run("dinkes", client, body)

    async def immunization_schedule(self, call: ActionCall) -> ActionResult:
        client = self._clients.dinkes

        async def body() -> Data:
            assert client is not None
            code = _param(call, "district")
            name = self._district(code)
            try:
                # Two rounds of calls share one deadline: the citizen waits one timeout, not two.
                async with asyncio.timeout(client.http.timeout):
                    sessions, failed, names = await self._schedules(client, code)
            except TimeoutError:
                raise Unavailable("dinkes", "timeout") from None
            # Sessions carry a day but no hours in the Dinkes contract: one is upcoming
            # through its whole day (WIT) and gone from the next.
            today: date = self._wit_now().date()
            sessions = [s for s in sessions if s.date >= today]
            lines = [
                self._t(
                    call,
                    N_("• {date}, {place}: {vaccines}"),
                    date=long_date(s.date, call.locale),
                    place=place_text(names.get(s.facility, s.facility), s.location),
                    vaccines=", ".join(s.vaccines) or "-",
                )
                for s in sessions
            ]
            if lines:
                text = self._listing(
                    call, N_("Jadwal imunisasi di Distrik {district}:"), lines, district=name
                )
            else:
                text = self._t(
                    call,
                    N_(
                        "Belum ada jadwal imunisasi di Distrik {district}. Silakan tanyakan ke "
                        "puskesmas terdekat."
                    ),
                    district=name,
                )
            if failed:
                text += "\n" + self._t(
                    call,
                    N_("Jadwal dari {count} fasilitas belum dapat dimuat saat ini."),
                    count=failed,
                )
            return {"district": code, "district_name": name, "count": len(sessions), "text": text}

        return await self._run("dinkes", client, body)

    async def _schedules(
        self, client: DinkesClient, district: str
    ) -> tuple[list[ImmunizationSession], int, dict[str, str]]:
        """Sessions of every facility in ``district``; a facility that fails is counted.

        If every facility fails the first error is raised, so the flow says "unavailable"
        rather than "no schedule".
        """
        facilities = await client.facilities(district)
        names = {f.code: f.name for f in facilities}
        results = await asyncio.gather(
            *(client.immunization_schedule(f.code) for f in facilities),
            return_exceptions=True,
        )
        sessions: list[ImmunizationSession] = []
        errors: list[OpdError] = []
        for result in results:
            if isinstance(result, NotFound):
                continue
            if isinstance(result, OpdError):
                errors.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                sessions.extend(result)
        if errors and len(errors) == len(facilities):
            raise errors[0]
        sessions.sort(key=lambda s: (s.date, names.get(s.facility, s.facility)))
        return sessions, len(errors), names

    # -- Bapenda -------------------------------------------------------------------------

    async def pbb_bill(self, call: ActionCall) -> ActionResult:
        client = self._clients.bapenda

        async def body() -> Data:
            assert client is not None
            nop = "".join(ch for ch in _param(call, "nop") if ch not in " .-")
            try:
                year = int(_param(call, "year"))
            except ValueError:
                raise _BadParam("year") from None
            bill = await client.pbb_bill(nop, year)
            principal, penalty, total = (
                rupiah(bill.principal),
                rupiah(bill.penalty),
                rupiah(bill.total),
            )
            due = long_date(bill.due_date, call.locale)
            status_text = self._t(call, PBB_STATUS_TEXT[bill.status])
            # Due "on" the date means payable through that whole day in Timika.
            overdue = bill.status == "unpaid" and self._wit_now().date() > bill.due_date
            if overdue:
                due_text = self._t(
                    call,
                    N_(
                        "Tagihan ini sudah lewat jatuh tempo ({date}). Denda keterlambatan 1% "
                        "per bulan dari pokok, paling lama 24 bulan (UU 1/2022); denda yang "
                        "tercatat di Bapenda saat ini {penalty}. Segera lunasi agar denda tidak "
                        "bertambah."
                    ),
                    date=due,
                    penalty=penalty,
                )
            elif bill.status == "unpaid":
                due_text = self._t(
                    call,
                    N_(
                        "Bayar sebelum jatuh tempo, {date}. Lewat jatuh tempo ada denda 1% per "
                        "bulan, paling lama 24 bulan (UU 1/2022)."
                    ),
                    date=due,
                )
            else:
                due_text = ""
            masked = mask_nop(bill.nop)
            lines = [
                self._t(call, N_("Tagihan PBB-P2 tahun {year}"), year=bill.year),
                self._t(call, N_("NOP: {nop}"), nop=masked),
                self._t(call, N_("Wajib pajak: {name}"), name=bill.taxpayer_name),
                self._t(call, N_("Letak objek pajak: {address}"), address=bill.object_address),
                self._t(call, N_("Pokok: {amount}"), amount=principal),
                self._t(call, N_("Denda: {amount}"), amount=penalty),
                self._t(call, N_("Total: {amount}"), amount=total),
                self._t(call, N_("Jatuh tempo: {date}"), date=due),
                self._t(call, N_("Status: {status}"), status=status_text),
            ]
            return {
                "nop_masked": masked,
                "year": bill.year,
                "taxpayer_name": bill.taxpayer_name,
                "object_address": bill.object_address,
                "principal_text": principal,
                "penalty_text": penalty,
                "total_text": total,
                "due_date_text": due,
                "status": bill.status,
                "status_text": status_text,
                "overdue": overdue,
                "due_text": due_text,
                "text": "\n".join(lines),
            }

        return await self._run("bapenda", client, body)


def register_actions(
    registry: Registry,
    clients: OpdClients,
    translator: Translator,
    region: Mapping[str, str],
    *,
    now: Callable[[], datetime],
) -> None:
    """Registers every OPD action. ``region`` maps distrik codes (94.04.01) to names.

    ``now`` is the front desk's injected clock (an aware datetime; actions read it in WIT):
    whether a visit is over or a bill overdue never depends on the machine's calendar.
    Actions of an OPD that is not configured are still registered (flows name them) and
    answer ``unavailable`` with reason ``not_configured``.
    """
    actions = _Actions(clients, translator, region, now)
    registry.add_action("disdukcapil.application_status", actions.application_status)
    registry.add_action("disdukcapil.mobile_services", actions.mobile_services)
    registry.add_action("disnakertrans.ak1_status", actions.ak1_status)
    registry.add_action("disnakertrans.vacancies", actions.vacancies)
    registry.add_action("disnakertrans.trainings", actions.trainings)
    registry.add_action("dinkes.facilities", actions.facilities)
    registry.add_action("dinkes.immunization_schedule", actions.immunization_schedule)
    registry.add_action("bapenda.pbb_bill", actions.pbb_bill)
