"""Dinkes (health): facilities per distrik and their immunisation sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, cast

from integrations.http import OpdHttp
from integrations.shapes import Shape

FacilityType = Literal["puskesmas", "pustu", "rumah_sakit", "klinik"]
FACILITY_TYPES: tuple[FacilityType, ...] = ("puskesmas", "pustu", "rumah_sakit", "klinik")


@dataclass(frozen=True, slots=True)
class Facility:
    code: str
    name: str
    type: FacilityType
    district: str
    address: str
    hours: str | None
    phone: str | None
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImmunizationSession:
    date: date
    facility: str
    vaccines: tuple[str, ...]
    location: str


def parse_facilities(value: Any, opd: str = "dinkes") -> tuple[Facility, ...]:
    shape = Shape(opd)
    facilities = []
    for item in shape.array(value):
        data = shape.obj(item, "facility")
        facilities.append(
            Facility(
                code=shape.text(data, "code"),
                name=shape.text(data, "name"),
                type=cast(FacilityType, shape.choice(data, "type", FACILITY_TYPES)),
                district=shape.text(data, "district"),
                address=shape.text(data, "address"),
                hours=shape.opt_text(data, "hours"),
                phone=shape.opt_text(data, "phone"),
                services=shape.texts(data, "services"),
            )
        )
    return tuple(facilities)


def parse_immunization_schedule(
    value: Any, opd: str = "dinkes"
) -> tuple[ImmunizationSession, ...]:
    shape = Shape(opd)
    sessions = []
    for item in shape.array(value):
        data = shape.obj(item, "session")
        sessions.append(
            ImmunizationSession(
                date=shape.day(data, "date"),
                facility=shape.text(data, "facility"),
                vaccines=shape.texts(data, "vaccines"),
                location=shape.text(data, "location"),
            )
        )
    return tuple(sorted(sessions, key=lambda s: (s.date, s.facility)))


class DinkesClient:
    """Typed calls to the Dinkes API (see ``integrations/openapi/dinkes.yaml``)."""

    def __init__(self, http: OpdHttp) -> None:
        self.http = http

    async def facilities(self, district: str) -> tuple[Facility, ...]:
        body = await self.http.get_json(("v1", "facilities"), {"district": district})
        return parse_facilities(body, self.http.opd)

    async def immunization_schedule(self, facility: str) -> tuple[ImmunizationSession, ...]:
        body = await self.http.get_json(("v1", "immunization-schedule"), {"facility": facility})
        return parse_immunization_schedule(body, self.http.opd)
