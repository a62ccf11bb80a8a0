"""Disdukcapil (population administration): application status and "jemput bola" visits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal, cast

from integrations.http import OpdHttp
from integrations.shapes import Shape

ApplicationStatus = Literal["received", "in_process", "completed", "ready_for_pickup", "rejected"]
APPLICATION_STATUSES: tuple[ApplicationStatus, ...] = (
    "received",
    "in_process",
    "completed",
    "ready_for_pickup",
    "rejected",
)


@dataclass(frozen=True, slots=True)
class Application:
    """One citizen's application (KTP-el, KK, akta…) as the OPD reports it."""

    number: str
    service: str
    status: ApplicationStatus
    updated_at: datetime
    note: str | None
    pickup_location: str | None


@dataclass(frozen=True, slots=True)
class MobileServiceVisit:
    """One planned "jemput bola" visit of the Disdukcapil team to a distrik."""

    date: date
    district: str
    location: str
    services: tuple[str, ...]
    start_time: time
    end_time: time


def parse_application(value: Any, opd: str = "disdukcapil") -> Application:
    shape = Shape(opd)
    data = shape.obj(value)
    return Application(
        number=shape.text(data, "number"),
        service=shape.text(data, "service"),
        status=cast(ApplicationStatus, shape.choice(data, "status", APPLICATION_STATUSES)),
        updated_at=shape.moment(data, "updated_at"),
        note=shape.opt_text(data, "note"),
        pickup_location=shape.opt_text(data, "pickup_location"),
    )


def parse_mobile_services(value: Any, opd: str = "disdukcapil") -> tuple[MobileServiceVisit, ...]:
    shape = Shape(opd)
    visits = []
    for item in shape.array(value):
        data = shape.obj(item, "visit")
        visit = MobileServiceVisit(
            date=shape.day(data, "date"),
            district=shape.text(data, "district"),
            location=shape.text(data, "location"),
            services=shape.texts(data, "services"),
            start_time=shape.clock_time(data, "start_time"),
            end_time=shape.clock_time(data, "end_time"),
        )
        visits.append(visit)
    return tuple(sorted(visits, key=lambda v: (v.date, v.start_time)))


class DisdukcapilClient:
    """Typed calls to the Disdukcapil API (see ``integrations/openapi/disdukcapil.yaml``)."""

    def __init__(self, http: OpdHttp) -> None:
        self.http = http

    async def application(self, number: str) -> Application:
        """Status of application ``number`` (already trimmed and upper-cased by the bot)."""
        body = await self.http.get_json(("v1", "applications", number))
        application = parse_application(body, self.http.opd)
        if application.number.upper() != number.upper():
            # Another citizen's application must never be shown: treat it as a broken reply.
            raise Shape(self.http.opd).fail("reply is for another application number")
        return application

    async def mobile_services(self, district: str) -> tuple[MobileServiceVisit, ...]:
        """Planned visits to distrik ``district`` (a Kemendagri code such as 94.04.01)."""
        body = await self.http.get_json(("v1", "mobile-services"), {"district": district})
        return parse_mobile_services(body, self.http.opd)
