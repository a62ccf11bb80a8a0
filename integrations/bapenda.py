"""Bapenda (regional revenue): the PBB-P2 bill of one tax object (NOP) and year."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, cast

from integrations.errors import BadRequest
from integrations.http import OpdHttp
from integrations.shapes import Shape

PbbStatus = Literal["paid", "unpaid"]
PBB_STATUSES: tuple[PbbStatus, ...] = ("paid", "unpaid")
_NOP = re.compile(r"[0-9]{18}", re.ASCII)


@dataclass(frozen=True, slots=True)
class PbbBill:
    """Amounts are whole Rupiah. ``taxpayer_name`` arrives already masked by Bapenda."""

    nop: str
    year: int
    taxpayer_name: str
    object_address: str
    principal: int
    penalty: int
    total: int
    due_date: date
    status: PbbStatus


def parse_pbb_bill(value: Any, opd: str = "bapenda") -> PbbBill:
    shape = Shape(opd)
    data = shape.obj(value)
    nop = shape.text(data, "nop")
    if not _NOP.fullmatch(nop):
        raise shape.fail("nop must be 18 digits")
    return PbbBill(
        nop=nop,
        year=shape.integer(data, "year", minimum=1900),
        taxpayer_name=shape.text(data, "taxpayer_name"),
        object_address=shape.text(data, "object_address"),
        principal=shape.integer(data, "principal"),
        penalty=shape.integer(data, "penalty"),
        total=shape.integer(data, "total"),
        due_date=shape.day(data, "due_date"),
        status=cast(PbbStatus, shape.choice(data, "status", PBB_STATUSES)),
    )


class BapendaClient:
    """Typed calls to the Bapenda API (see ``integrations/openapi/bapenda.yaml``)."""

    def __init__(self, http: OpdHttp) -> None:
        self.http = http

    async def pbb_bill(self, nop: str, year: int) -> PbbBill:
        """The bill for ``nop`` (18 digits, as cleaned by the ``nop`` validator) and ``year``."""
        if not _NOP.fullmatch(nop):
            raise BadRequest(self.http.opd, "nop must be 18 digits")
        body = await self.http.get_json(("v1", "pbb", nop), {"year": str(year)})
        bill = parse_pbb_bill(body, self.http.opd)
        if bill.nop != nop or bill.year != year:
            # Showing another object's bill would leak a neighbour's tax data: refuse it.
            raise Shape(self.http.opd).fail("reply is for another NOP or year")
        return bill
