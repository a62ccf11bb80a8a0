"""Checks of what a citizen types, with messages that show what a valid answer looks like.

Each validator returns a :class:`~bot.registry.Validation`: the cleaned value when the answer
is usable, otherwise an Indonesian message (marked with ``N_`` for translation) that says
exactly what is wrong and gives an example. Messages never repeat a whole NIK or NOP back:
the chat may be read over the citizen's shoulder and identifiers are personal data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date

from bot.i18n import N_
from bot.registry import Registry, Validation

# Current Kemendagri province codes (Aceh 11 … Papua Barat Daya 96).
PROVINCE_CODES: frozenset[str] = frozenset(
    f"{code:02d}"
    for code in (
        *range(11, 20),
        21,
        *range(31, 37),
        *range(51, 54),
        *range(61, 66),
        *range(71, 77),
        81,
        82,
        *range(91, 97),
    )
)

_NIK_SEPARATORS = re.compile(r"[\s.\-]+")
_DIGITS = re.compile(r"[0-9]*", re.ASCII)
_NOP_FORMAT = re.compile(
    r"[0-9]{2}\.?[0-9]{2}\.?[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-?[0-9]{4}\.?[0-9]", re.ASCII
)
_NOP_CHARS = re.compile(r"[0-9.\-]*", re.ASCII)
_NUMBER_CHARS = re.compile(r"[A-Z0-9-]*", re.ASCII)
_YEAR = re.compile(r"[0-9]{4}", re.ASCII)
# Digits with spaces or dashes between them, optionally after a leading "+".
_PHONE_CHARS = re.compile(r"\+?[0-9]+(?:[ \-]+[0-9]+)*", re.ASCII)
PHONE_DIGITS = (10, 13)  # counted from the leading 0: 0812-3456-78 … 0812-3456-7890-12
FREE_TEXT_MAX = 1000
_ALLOWED_CONTROLS = frozenset("\n\t")


def _fail(message: str, **params: object) -> Validation:
    return Validation(ok=False, error=message, params=params)


def _birth_date_exists(day: int, month: int, yy: int) -> bool:
    """Whether DD-MM exists in 19YY or 20YY (the NIK does not say which century)."""
    for century in (1900, 2000):
        try:
            date(century + yy, month, day)
        except ValueError:
            continue
        return True
    return False


def validate_nik(text: str) -> Validation:
    """A 16-digit NIK: province, kab/kota, kecamatan, DDMMYY (+40 for women), serial."""
    cleaned = _NIK_SEPARATORS.sub("", text)
    if not _DIGITS.fullmatch(cleaned):
        return _fail(
            N_(
                "NIK hanya berisi angka (16 angka), tanpa huruf atau tanda lain. "
                "Contoh: 9109014107950001."
            )
        )
    if len(cleaned) != 16:
        return _fail(
            N_("NIK harus 16 angka; yang Anda kirim {count} angka. Contoh: 9109014107950001."),
            count=len(cleaned),
        )
    province = cleaned[:2]
    if province not in PROVINCE_CODES:
        return _fail(
            N_(
                "Dua angka pertama NIK ({code}) bukan kode provinsi. NIK diawali kode "
                "provinsi, misalnya 91 (Papua) atau 94 (Papua Tengah). "
                "Contoh: 9109014107950001."
            ),
            code=province,
        )
    day, month, yy = int(cleaned[6:8]), int(cleaned[8:10]), int(cleaned[10:12])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        return _fail(
            N_(
                "Angka ke-7 sampai ke-12 NIK adalah tanggal lahir (DDMMYY; untuk perempuan "
                "tanggal ditambah 40). Tanggal lahir di NIK Anda ({day}) tidak mungkin: harus "
                "01–31, atau 41–71 untuk perempuan. "
                "Contoh: 9109014107950001 (perempuan, lahir 1 Juli 1995)."
            ),
            day=cleaned[6:8],
        )
    if not 1 <= month <= 12:
        return _fail(
            N_(
                "Angka ke-7 sampai ke-12 NIK adalah tanggal lahir (DDMMYY; untuk perempuan "
                "tanggal ditambah 40). Bulan lahir di NIK Anda ({month}) tidak ada: harus "
                "01–12. Contoh: 9109014107950001 (perempuan, lahir 1 Juli 1995)."
            ),
            month=cleaned[8:10],
        )
    real_day = day - 40 if day > 40 else day
    if not _birth_date_exists(real_day, month, yy):
        return _fail(
            N_(
                "Angka ke-7 sampai ke-12 NIK adalah tanggal lahir (DDMMYY; untuk perempuan "
                "tanggal ditambah 40). Tanggal {day} bulan {month} tidak ada di kalender. "
                "Contoh: 9109014107950001 (perempuan, lahir 1 Juli 1995)."
            ),
            day=f"{real_day:02d}",
            month=cleaned[8:10],
        )
    if cleaned[12:] == "0000":
        return _fail(
            N_(
                "Empat angka terakhir NIK adalah nomor urut dan tidak mungkin 0000. "
                "Periksa lagi NIK di KTP-el atau Kartu Keluarga Anda. "
                "Contoh: 9109014107950001."
            )
        )
    return Validation(ok=True, value=cleaned)


def validate_nop(text: str) -> Validation:
    """An 18-digit NOP, bare or in the dotted SPPT form PP.KK.CCC.DDD.BBB-NNNN.J."""
    compact = "".join(text.split())
    if not _NOP_CHARS.fullmatch(compact):
        return _fail(
            N_(
                "NOP hanya berisi angka, boleh dengan titik dan tanda hubung seperti di SPPT. "
                "Contoh: 94.12.010.001.001-0001.0 atau 941201000100100010."
            )
        )
    digits = compact.replace(".", "").replace("-", "")
    if len(digits) != 18:
        return _fail(
            N_(
                "NOP harus 18 angka; yang Anda kirim {count} angka. "
                "Contoh: 94.12.010.001.001-0001.0 atau 941201000100100010."
            ),
            count=len(digits),
        )
    if not _NOP_FORMAT.fullmatch(compact):
        return _fail(
            N_(
                "Titik dan tanda hubung di NOP tidak pada tempatnya. Tulis 18 angka saja, atau "
                "seperti di SPPT: PP.KK.CCC.DDD.BBB-NNNN.J. "
                "Contoh: 94.12.010.001.001-0001.0 atau 941201000100100010."
            )
        )
    return Validation(ok=True, value=digits)


def _number_validator(too_short_or_long: str, bad_chars: str) -> Callable[[str], Validation]:
    def validate(text: str) -> Validation:
        cleaned = text.strip().upper()
        if not _NUMBER_CHARS.fullmatch(cleaned):
            return _fail(bad_chars)
        if not 6 <= len(cleaned) <= 32:
            return _fail(too_short_or_long, count=len(cleaned))
        return Validation(ok=True, value=cleaned)

    return validate


validate_application_number = _number_validator(
    N_(
        "Nomor permohonan terdiri dari 6 sampai 32 karakter; yang Anda kirim {count} "
        "karakter. Salin nomor dari bukti permohonan Anda. Contoh: 9404-2026-000481."
    ),
    N_(
        "Nomor permohonan hanya berisi huruf, angka, dan tanda hubung (-), tanpa spasi. "
        "Salin nomor dari bukti permohonan Anda. Contoh: 9404-2026-000481."
    ),
)
validate_ak1_number = _number_validator(
    N_(
        "Nomor kartu AK/I terdiri dari 6 sampai 32 karakter; yang Anda kirim {count} "
        "karakter. Salin nomor dari kartu kuning Anda. Contoh: AK1-2026-000123."
    ),
    N_(
        "Nomor kartu AK/I hanya berisi huruf, angka, dan tanda hubung (-), tanpa spasi. "
        "Salin nomor dari kartu kuning Anda. Contoh: AK1-2026-000123."
    ),
)


def make_year_validator(today: Callable[[], date]) -> Callable[[str], Validation]:
    """A tax or report year: four digits from 2000 to next year. ``today`` is the region's
    local date (WIT), never the machine's: the year turns at midnight in Timika."""

    def validate(text: str) -> Validation:
        cleaned = text.strip()
        this_year = today().year
        if not _YEAR.fullmatch(cleaned):
            return _fail(N_("Tahun ditulis dengan 4 angka. Contoh: {example}."), example=this_year)
        if not 2000 <= int(cleaned) <= this_year + 1:
            return _fail(
                N_("Tahun harus antara 2000 dan {last}. Contoh: {example}."),
                last=this_year + 1,
                example=this_year,
            )
        return Validation(ok=True, value=cleaned)

    return validate


def validate_phone(text: str) -> Validation:
    """An Indonesian mobile number for an officer to call back, stored as ``08…``.

    Written ``0812-3456-7890``, ``+62 812 3456 7890`` or ``62812…`` (spaces and dashes
    anywhere between digits); 10 to 13 digits counted from the leading 0. Landlines are
    refused: the officer calls or messages a mobile (WhatsApp), and a wrong prefix is the
    commonest typo. The message never repeats the number back.
    """
    cleaned = text.strip()
    if not cleaned:
        return _fail(
            N_("Anda belum menulis nomor HP. Tulis nomor HP Anda, misalnya 0812-3456-7890.")
        )
    if not _PHONE_CHARS.fullmatch(cleaned):
        return _fail(
            N_(
                "Nomor HP ditulis dengan angka saja, boleh dengan spasi atau tanda hubung (-). "
                "Contoh: 0812-3456-7890 atau +62 812-3456-7890."
            )
        )
    digits = "".join(ch for ch in cleaned if ch.isdigit())
    if digits.startswith("628"):
        national = "0" + digits[2:]
    elif digits.startswith("08") and not cleaned.startswith("+"):
        national = digits
    else:
        return _fail(
            N_(
                "Nomor HP diawali 08, +628, atau 628 (nomor telepon rumah atau kantor belum "
                "bisa kami terima). Contoh: 0812-3456-7890."
            )
        )
    low, high = PHONE_DIGITS
    if not low <= len(national) <= high:
        return _fail(
            N_(
                "Nomor HP terdiri dari {low} sampai {high} angka (dihitung dari 08); yang Anda "
                "kirim {count} angka. Contoh: 0812-3456-7890."
            ),
            low=low,
            high=high,
            count=len(national),
        )
    return Validation(ok=True, value=national)


def validate_free_text(text: str) -> Validation:
    """A message in the citizen's own words: 1–1000 characters, no control characters.

    Line breaks and tabs are allowed (a complaint often has several lines); ``\\r\\n`` is
    stored as ``\\n``.
    """
    cleaned = text.replace("\r\n", "\n").strip()
    if not cleaned:
        return _fail(
            N_(
                "Pesan tidak boleh kosong. Tulis dengan kata-kata Anda sendiri, misalnya: "
                "Lampu jalan di depan Pasar Sentral sudah seminggu mati."
            )
        )
    if len(cleaned) > FREE_TEXT_MAX:
        return _fail(
            N_(
                "Pesan terlalu panjang: {count} karakter, paling banyak {limit}. Ringkas pesan "
                "Anda, misalnya: Lampu jalan di depan Pasar Sentral sudah seminggu mati."
            ),
            count=len(cleaned),
            limit=FREE_TEXT_MAX,
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS for ch in cleaned):
        return _fail(
            N_(
                "Pesan berisi karakter kontrol yang tidak bisa disimpan. Kirim teks biasa, "
                "misalnya: Lampu jalan di depan Pasar Sentral sudah seminggu mati."
            )
        )
    return Validation(ok=True, value=cleaned)


def register_validators(registry: Registry, *, today: Callable[[], date]) -> None:
    """Registers ``nik``, ``nop``, ``application_number``, ``ak1_number``, ``year``,
    ``free_text``, ``phone``. ``today`` decides the latest accepted year (inject it in tests)."""
    registry.add_validator("nik", validate_nik)
    registry.add_validator("nop", validate_nop)
    registry.add_validator("application_number", validate_application_number)
    registry.add_validator("ak1_number", validate_ak1_number)
    registry.add_validator("year", make_year_validator(today))
    registry.add_validator("free_text", validate_free_text)
    registry.add_validator("phone", validate_phone)
