"""Synthetic, deterministic records the sandbox serves (made-up numbers and people).

The fixed records below are documented in ``README.md`` so tests and people can rely on them:
one application per status, one AK/I card per status, paid and unpaid PBB bills, visits and
facilities for some distrik and none for others. ``seed`` only adds further generated
records (never changes the documented ones), so load-style tests get volume that is still
the same on every run. Facility names are real Mimika puskesmas; their codes, addresses,
hours and phone numbers are invented.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]

APPLICATIONS: tuple[Record, ...] = (
    {
        "number": "9404-2026-000101",
        "service": "KTP-el baru",
        "status": "received",
        "updated_at": "2026-11-20T09:15:00+09:00",
        "note": None,
        "pickup_location": None,
    },
    {
        "number": "9404-2026-000102",
        "service": "Kartu Keluarga (perubahan data)",
        "status": "in_process",
        "updated_at": "2026-11-21T10:30:00+09:00",
        "note": "Menunggu verifikasi data anggota keluarga.",
        "pickup_location": None,
    },
    {
        "number": "9404-2026-000103",
        "service": "Akta Kelahiran",
        "status": "completed",
        "updated_at": "2026-11-22T13:05:00+09:00",
        "note": "Akta sudah diserahkan kepada pemohon.",
        "pickup_location": None,
    },
    {
        "number": "9404-2026-000104",
        "service": "Kartu Identitas Anak (KIA)",
        "status": "ready_for_pickup",
        "updated_at": "2026-11-23T08:45:00+09:00",
        "note": "Bawa bukti permohonan saat mengambil.",
        "pickup_location": "Loket pengambilan, MPP Mimika (Kantor Disdukcapil), Jl. Cenderawasih",
    },
    {
        "number": "9404-2026-000105",
        "service": "Akta Kematian",
        "status": "rejected",
        "updated_at": "2026-11-24T11:20:00+09:00",
        "note": "Surat keterangan kematian dari dokter atau kepala kampung belum dilampirkan.",
        "pickup_location": None,
    },
    {
        "number": "7301-2026-000481",
        "service": "KTP-el hilang",
        "status": "in_process",
        "updated_at": "2026-11-25T14:00:00+09:00",
        "note": None,
        "pickup_location": None,
    },
)

# Visits and immunisation sessions are dated relative to the sandbox's "today" (``day`` is an
# offset in days), so the sample schedule never expires: each distrik with visits has one today
# and later ones; Mimika Baru also has one yesterday (a real OPD may still list it) and one
# today that ends at 11.00 WIT, so "already over" can be seen on the same day.
MOBILE_SERVICES: tuple[Record, ...] = (
    {
        "day": -1,
        "district": "94.04.01",
        "location": "Kampung Kadun Jaya",
        "services": ["Perekaman KTP-el"],
        "start_time": "09:00",
        "end_time": "12:00",
    },
    {
        "day": 0,
        "district": "94.04.01",
        "location": "Kantor Kelurahan Kwamki",
        "services": ["Perekaman KTP-el", "KIA", "Akta Kelahiran"],
        "start_time": "09:00",
        "end_time": "11:00",
    },
    {
        "day": 6,
        "district": "94.04.01",
        "location": "Kampung Nayaro",
        "services": ["Perekaman KTP-el", "Kartu Keluarga"],
        "start_time": "09:00",
        "end_time": "13:00",
    },
    {
        "day": 1,
        "district": "94.04.03",
        "location": "Kantor Distrik Mimika Timur, Mapurujaya",
        "services": ["Perekaman KTP-el", "Akta Kelahiran", "KIA"],
        "start_time": "08:30",
        "end_time": "15:00",
    },
    {
        "day": 4,
        "district": "94.04.09",
        "location": "Balai Kampung Karang Senang",
        "services": ["Perekaman KTP-el"],
        "start_time": "09:00",
        "end_time": "12:00",
    },
    {
        "day": 8,
        "district": "94.04.10",
        "location": "Kantor Distrik Tembagapura",
        "services": ["Perekaman KTP-el", "Kartu Keluarga", "Akta Kematian"],
        "start_time": "10:00",
        "end_time": "14:00",
    },
    {
        "day": 0,
        "district": "94.04.16",
        "location": "Balai Kampung SP4",
        "services": ["KIA", "Akta Kelahiran"],
        "start_time": "09:00",
        "end_time": "13:00",
    },
    {
        "day": 11,
        "district": "94.04.16",
        "location": "Kantor Distrik Wania",
        "services": ["Perekaman KTP-el"],
        "start_time": "09:00",
        "end_time": "12:30",
    },
)

AK1_CARDS: tuple[Record, ...] = (
    {"number": "AK1-2026-000201", "status": "in_process", "valid_until": None},
    {"number": "AK1-2026-000202", "status": "active", "valid_until": "2028-02-14"},
    {"number": "AK1-2024-000203", "status": "expired", "valid_until": "2026-01-31"},
    {"number": "AK1-2026-000204", "status": "rejected", "valid_until": None},
)

VACANCIES: tuple[Record, ...] = (
    {
        "title": "Operator Alat Berat",
        "employer": "PT Contoh Karya Mimika",
        "district": "94.04.09",
        "closes_on": "2026-12-20",
    },
    {
        "title": "Barista",
        "employer": "Kedai Kopi Contoh Timika",
        "district": "94.04.01",
        "closes_on": "2026-12-12",
    },
    {
        "title": "Tenaga Administrasi",
        "employer": "CV Contoh Sejahtera",
        "district": "94.04.01",
        "closes_on": "2027-01-05",
    },
    {
        "title": "Teknisi Listrik",
        "employer": "PT Contoh Energi Papua",
        "district": "94.04.03",
        "closes_on": "2026-12-31",
    },
    {
        "title": "Satpam",
        "employer": "PT Contoh Jaga Aman",
        "district": None,
        "closes_on": "2026-12-18",
    },
)

TRAININGS: tuple[Record, ...] = (
    {
        "title": "Pelatihan Barista",
        "place": "Aula Disnakertrans Mimika",
        "starts_on": "2027-01-11",
        "seats_left": 12,
    },
    {
        "title": "Pelatihan Las (Welder)",
        "place": "Aula Disnakertrans Mimika",
        "starts_on": "2027-01-18",
        "seats_left": 0,
    },
    {
        "title": "Pelatihan K3 dan Kelistrikan",
        "place": "Gedung Pelatihan Kwamki Baru",
        "starts_on": "2027-02-01",
        "seats_left": 5,
    },
)

_HOURS_TOWN = "Senin–Kamis 08.00–14.00 WIT, Jumat 08.00–11.00 WIT, Sabtu 08.00–12.00 WIT"
_HOURS_REMOTE = "Senin–Sabtu 08.00–13.00 WIT"
_SERVICES = ["Pemeriksaan umum", "KIA dan KB", "Imunisasi", "Gizi"]


def _facility(
    code: str,
    name: str,
    district: str,
    address: str,
    *,
    kind: str = "puskesmas",
    town: bool = False,
    phone: str | None = None,
) -> Record:
    return {
        "code": code,
        "name": name,
        "type": kind,
        "district": district,
        "address": address,
        "hours": _HOURS_TOWN if town else _HOURS_REMOTE,
        "phone": phone,
        "services": list(_SERVICES if kind == "puskesmas" else _SERVICES[:3]),
    }


FACILITIES: tuple[Record, ...] = (
    _facility(
        "PKM-01-1",
        "Puskesmas Timika",
        "94.04.01",
        "Kota Timika, Distrik Mimika Baru",
        town=True,
        phone="+62-000-0000-0101",
    ),
    _facility(
        "PKM-01-2",
        "Puskesmas Pasar Sentral",
        "94.04.01",
        "Kel. Pasar Sentral, Distrik Mimika Baru",
        town=True,
        phone="+62-000-0000-0102",
    ),
    _facility(
        "PKM-01-3",
        "Puskesmas Kwamki Baru",
        "94.04.01",
        "Kwamki Baru, Distrik Mimika Baru",
        town=True,
    ),
    _facility(
        "PST-01-1", "Pustu Nayaro", "94.04.01", "Kampung Nayaro, Distrik Mimika Baru", kind="pustu"
    ),
    _facility("PKM-02-1", "Puskesmas Agimuga", "94.04.02", "Distrik Agimuga"),
    _facility(
        "PKM-03-1",
        "Puskesmas Mapurujaya",
        "94.04.03",
        "Mapurujaya, Distrik Mimika Timur",
        town=True,
    ),
    _facility(
        "PKM-04-1", "Puskesmas Kokonao", "94.04.04", "Kampung Kokonao, Distrik Mimika Barat"
    ),
    _facility("PKM-05-1", "Puskesmas Jita", "94.04.05", "Distrik Jita"),
    _facility("PKM-07-1", "Puskesmas Manasari", "94.04.07", "Distrik Mimika Timur Jauh"),
    _facility("PKM-08-1", "Puskesmas Atuka", "94.04.08", "Distrik Mimika Tengah"),
    _facility("PKM-10-1", "Puskesmas Tsinga", "94.04.10", "Distrik Tembagapura"),
    _facility("PKM-10-2", "Puskesmas Arwanop", "94.04.10", "Distrik Tembagapura"),
    _facility("PKM-11-1", "Puskesmas Potowayburu", "94.04.11", "Distrik Mimika Barat Jauh"),
    _facility("PKM-11-2", "Puskesmas Tapormai", "94.04.11", "Distrik Mimika Barat Jauh"),
    _facility("PKM-12-1", "Puskesmas Mapar", "94.04.12", "Distrik Mimika Barat Tengah"),
    _facility("PKM-12-2", "Puskesmas Uta", "94.04.12", "Distrik Mimika Barat Tengah"),
    _facility(
        "PKM-13-1",
        "Puskesmas Kwamki Narama",
        "94.04.13",
        "Jl. Mambruk, Kel. Harapan, Distrik Kwamki Narama",
        town=True,
    ),
    _facility("PKM-13-2", "Puskesmas Iliale", "94.04.13", "Distrik Kwamki Narama", town=True),
    _facility("PKM-14-1", "Puskesmas Hoya", "94.04.14", "Distrik Hoya"),
    _facility(
        "PKM-16-1",
        "Puskesmas Wania",
        "94.04.16",
        "SP4, Distrik Wania",
        town=True,
        phone="+62-000-0000-1601",
    ),
    _facility("PKM-17-1", "Puskesmas Ipaya", "94.04.17", "Distrik Amar"),
    _facility("PKM-18-1", "Puskesmas Alama", "94.04.18", "Distrik Alama"),
)

# ``day`` as above. Puskesmas Pasar Sentral holds one session in its own building (location
# equals the facility's name: shown once) and PKM-01-1 had one two days ago.
IMMUNIZATION: tuple[Record, ...] = (
    {
        "day": -2,
        "facility": "PKM-01-1",
        "vaccines": ["HB-0", "BCG", "OPV 1"],
        "location": "Posyandu Mawar, Kel. Kwamki",
    },
    {
        "day": 5,
        "facility": "PKM-01-2",
        "vaccines": ["DPT-HB-Hib 1", "OPV 1", "PCV 1", "Rotavirus 1"],
        "location": "Puskesmas Pasar Sentral",
    },
    {
        "day": 12,
        "facility": "PKM-01-2",
        "vaccines": ["MR"],
        "location": "Posyandu Melati, Kel. Pasar Sentral",
    },
    {
        "day": 3,
        "facility": "PKM-03-1",
        "vaccines": ["DPT-HB-Hib 2", "OPV 2", "PCV 2"],
        "location": "Posyandu Mapurujaya",
    },
    {
        "day": 7,
        "facility": "PKM-13-1",
        "vaccines": ["DPT-HB-Hib 3", "OPV 3", "IPV"],
        "location": "Puskesmas Kwamki Narama",
    },
    {
        "day": 10,
        "facility": "PKM-16-1",
        "vaccines": ["MR", "BCG"],
        "location": "Posyandu SP4",
    },
)

PBB_BILLS: tuple[Record, ...] = (
    {
        "nop": "941201000100100010",
        "year": 2026,
        "taxpayer_name": "B*** S******",
        "object_address": "Jl. Contoh Raya No. 1, Kel. Kebun Sirih, Mimika Baru",
        "principal": 1150000,
        "penalty": 100000,
        "total": 1250000,
        "due_date": "2026-08-31",
        "status": "unpaid",
    },
    {
        "nop": "941201000100100010",
        "year": 2025,
        "taxpayer_name": "B*** S******",
        "object_address": "Jl. Contoh Raya No. 1, Kel. Kebun Sirih, Mimika Baru",
        "principal": 1100000,
        "penalty": 0,
        "total": 1100000,
        "due_date": "2025-08-31",
        "status": "paid",
    },
    {
        "nop": "941201000100100020",
        "year": 2026,
        "taxpayer_name": "M**** W*****",
        "object_address": "Jl. Contoh Indah No. 7, Kel. Timika Jaya, Mimika Baru",
        "principal": 450000,
        "penalty": 0,
        "total": 450000,
        "due_date": "2026-08-31",
        "status": "paid",
    },
    {
        "nop": "941209000200300450",
        "year": 2026,
        "taxpayer_name": "Y***** K*****",
        "object_address": "Kampung Contoh, Distrik Kuala Kencana",
        "principal": 87500,
        "penalty": 0,
        "total": 87500,
        "due_date": "2026-08-31",
        "status": "unpaid",
    },
)


@dataclass(slots=True)
class SandboxData:
    """Mutable per-app copy of the records (the admin route changes applications)."""

    applications: dict[str, Record] = field(default_factory=dict)
    mobile_services: list[Record] = field(default_factory=list)
    ak1_cards: dict[str, Record] = field(default_factory=dict)
    vacancies: list[Record] = field(default_factory=list)
    trainings: list[Record] = field(default_factory=list)
    facilities: list[Record] = field(default_factory=list)
    immunization: list[Record] = field(default_factory=list)
    pbb_bills: dict[tuple[str, int], Record] = field(default_factory=dict)


def _copy(record: Record) -> Record:
    return {k: list(v) if isinstance(v, list) else v for k, v in record.items()}


def _dated(record: Record, today: dt.date) -> Record:
    """A copy with ``day`` (an offset) turned into the ``date`` the contract serves."""
    copy = _copy(record)
    copy["date"] = (today + dt.timedelta(days=copy.pop("day"))).isoformat()
    return copy


def build_data(seed: int = 0, extra: int = 20, *, today: dt.date) -> SandboxData:
    """The documented records plus ``extra`` generated ones per kind, from ``seed``.

    Schedules are dated from ``today`` (the sandbox's own calendar, like a real OPD's), so
    the same offsets hold on any date.
    """
    data = SandboxData(
        applications={r["number"]: _copy(r) for r in APPLICATIONS},
        mobile_services=[_dated(r, today) for r in MOBILE_SERVICES],
        ak1_cards={r["number"]: _copy(r) for r in AK1_CARDS},
        vacancies=[_copy(r) for r in VACANCIES],
        trainings=[_copy(r) for r in TRAININGS],
        facilities=[_copy(r) for r in FACILITIES],
        immunization=[_dated(r, today) for r in IMMUNIZATION],
        pbb_bills={(r["nop"], r["year"]): _copy(r) for r in PBB_BILLS},
    )
    rng = random.Random(seed)
    statuses = ("received", "in_process", "completed", "ready_for_pickup", "rejected")
    services = ("KTP-el baru", "Kartu Keluarga", "Akta Kelahiran", "KIA", "Akta Kematian")
    for i in range(extra):
        number = f"SBX-{seed}-A{i:04d}"
        status = statuses[rng.randrange(len(statuses))]
        data.applications[number] = {
            "number": number,
            "service": services[rng.randrange(len(services))],
            "status": status,
            "updated_at": f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T09:00:00+09:00",
            "note": "Catatan contoh." if status == "rejected" else None,
            "pickup_location": "MPP Mimika" if status == "ready_for_pickup" else None,
        }
        card = f"SBX-{seed}-K{i:04d}"
        ak1_status = ("in_process", "active", "expired", "rejected")[rng.randrange(4)]
        data.ak1_cards[card] = {
            "number": card,
            "status": ak1_status,
            "valid_until": "2027-06-30" if ak1_status in ("active", "expired") else None,
        }
        nop = f"9412{rng.randrange(10**13, 10**14):014d}"
        principal = rng.randrange(50, 5000) * 1000
        penalty = 0 if rng.random() < 0.5 else principal // 50
        data.pbb_bills.setdefault(
            (nop, 2026),
            {
                "nop": nop,
                "year": 2026,
                "taxpayer_name": "S**** C*****",
                "object_address": "Alamat contoh, Mimika",
                "principal": principal,
                "penalty": penalty,
                "total": principal + penalty,
                "due_date": "2026-08-31",
                "status": "paid" if rng.random() < 0.5 else "unpaid",
            },
        )
    return data
