"""Disnakertrans (manpower): AK/I job-seeker cards, vacancies and training places."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, cast

from integrations.http import OpdHttp
from integrations.shapes import Shape

Ak1Status = Literal["in_process", "active", "expired", "rejected"]
AK1_STATUSES: tuple[Ak1Status, ...] = ("in_process", "active", "expired", "rejected")


@dataclass(frozen=True, slots=True)
class Ak1Card:
    """A job-seeker card (kartu kuning); ``valid_until`` is set once the card is issued."""

    number: str
    status: Ak1Status
    valid_until: date | None


@dataclass(frozen=True, slots=True)
class Vacancy:
    title: str
    employer: str
    district: str | None
    closes_on: date


@dataclass(frozen=True, slots=True)
class Training:
    title: str
    place: str
    starts_on: date
    seats_left: int


def parse_ak1(value: Any, opd: str = "disnakertrans") -> Ak1Card:
    shape = Shape(opd)
    data = shape.obj(value)
    return Ak1Card(
        number=shape.text(data, "number"),
        status=cast(Ak1Status, shape.choice(data, "status", AK1_STATUSES)),
        valid_until=shape.opt_day(data, "valid_until"),
    )


def parse_vacancies(value: Any, opd: str = "disnakertrans") -> tuple[Vacancy, ...]:
    shape = Shape(opd)
    vacancies = []
    for item in shape.array(value):
        data = shape.obj(item, "vacancy")
        vacancies.append(
            Vacancy(
                title=shape.text(data, "title"),
                employer=shape.text(data, "employer"),
                district=shape.opt_text(data, "district"),
                closes_on=shape.day(data, "closes_on"),
            )
        )
    return tuple(sorted(vacancies, key=lambda v: (v.closes_on, v.title)))


def parse_trainings(value: Any, opd: str = "disnakertrans") -> tuple[Training, ...]:
    shape = Shape(opd)
    trainings = []
    for item in shape.array(value):
        data = shape.obj(item, "training")
        trainings.append(
            Training(
                title=shape.text(data, "title"),
                place=shape.text(data, "place"),
                starts_on=shape.day(data, "starts_on"),
                seats_left=shape.integer(data, "seats_left"),
            )
        )
    return tuple(sorted(trainings, key=lambda t: (t.starts_on, t.title)))


class DisnakertransClient:
    """Typed calls to the Disnakertrans API (see ``integrations/openapi/disnakertrans.yaml``)."""

    def __init__(self, http: OpdHttp) -> None:
        self.http = http

    async def ak1(self, number: str) -> Ak1Card:
        body = await self.http.get_json(("v1", "ak1", number))
        card = parse_ak1(body, self.http.opd)
        if card.number.upper() != number.upper():
            raise Shape(self.http.opd).fail("reply is for another card number")
        return card

    async def vacancies(self, query: str = "") -> tuple[Vacancy, ...]:
        body = await self.http.get_json(("v1", "vacancies"), {"q": query})
        return parse_vacancies(body, self.http.opd)

    async def trainings(self) -> tuple[Training, ...]:
        body = await self.http.get_json(("v1", "trainings"))
        return parse_trainings(body, self.http.opd)
