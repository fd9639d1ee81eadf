"""Vehicle rules (DOM-01, DOM-02): VIN (FIN) check and decoding, German plates, HSN/TSN, HU/AU due dates
and status (§29 StVZO, cars), mileage readings and first registration.

Pure functions without Qt or database access. Validators return the normalised value or raise
``ValidationError`` with a German message naming the field; empty text is allowed and returns "".
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import functools
import re
from dataclasses import dataclass
from importlib import resources

from babel import Locale

from app import formatting
from app.errors import ValidationError
from app.i18n import N_, _, locale_name

# ---------------------------------------------------------------------------------------------- VIN

VIN_LENGTH = 17
# ISO 3779 character order without I, O, Q; also the order of the ISO 3780 region ranges.
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ1234567890"
_VIN_ALLOWED = frozenset(_VIN_CHARS)
_VIN_CONFUSED = {"I": "1", "O": "0", "Q": "0"}
# 49 CFR 565.15: transliteration and position weights of the North American check digit (position 9).
_TRANSLIT = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Model-year codes at position 10 for 1980–2009; the cycle repeats every 30 years (U, Z and 0 unused).
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
_YEAR_CYCLE = 30
# SAE gave the USA the second half of region 7 (7F–70) in addition to 1, 4 and 5; 2 is Canada, 3 Mexico.
_US_RANGE_7 = _VIN_CHARS[_VIN_CHARS.index("F") :]


def normalize_vin(text: str) -> str:
    """Upper case without any whitespace, as VINs are often typed in blocks."""
    return "".join(text.split()).upper()


def validate_vin(text: str, *, field: str = "vin") -> str:
    """A 17-character VIN of A–Z/0–9 without I, O, Q; no check digit is required (EU). Empty → ""."""
    vin = normalize_vin(text)
    if not vin:
        return ""
    # Characters first: a mistyped O or a pasted hyphen is the more useful hint than the length.
    for position, char in enumerate(vin, start=1):
        if char in _VIN_CONFUSED:
            raise ValidationError(
                "Die FIN enthält an Stelle {position} den Buchstaben „{char}“ – I, O und Q kommen in einer FIN "
                "nicht vor (gemeint ist wohl die Ziffer „{suggestion}“).",
                field=field,
                position=position,
                char=char,
                suggestion=_VIN_CONFUSED[char],
            )
        if char not in _VIN_ALLOWED:
            raise ValidationError(
                "Die FIN enthält an Stelle {position} das unzulässige Zeichen „{char}“ – erlaubt sind nur "
                "Ziffern und die Buchstaben A–Z außer I, O und Q.",
                field=field,
                position=position,
                char=char,
            )
    if len(vin) != VIN_LENGTH:
        raise ValidationError(
            "Die FIN muss genau 17 Zeichen lang sein – eingegeben wurden {count}.", field=field, count=len(vin)
        )
    return vin


def _is_north_american(vin: str) -> bool:
    return vin[0] in "12345" or (vin[0] == "7" and vin[1] in _US_RANGE_7)


def _check_digit(vin: str) -> str:
    remainder = sum(_TRANSLIT[c] * w for c, w in zip(vin, _WEIGHTS, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def vin_check_digit_ok(vin: str) -> bool | None:
    """Whether position 9 matches the check digit; None where none is required (outside North America)."""
    checked = validate_vin(vin)
    if not checked or not _is_north_american(checked):
        return None
    return checked[8] == _check_digit(checked)


@dataclass(frozen=True)
class VinInfo:
    """What a VIN reveals offline. ``country`` is an ISO 3166-1 code ("DE"); unknown parts are None."""

    wmi: str
    manufacturer: str | None
    country: str | None
    model_year: int | None
    check_digit_ok: bool | None

    @property
    def country_name(self) -> str | None:
        """The country in the current language ("Deutschland" / "Germany")."""
        if self.country is None:
            return None
        name = Locale.parse(locale_name()).territories.get(self.country)
        return str(name) if name else self.country


@dataclass(frozen=True)
class _Wmi:
    manufacturer: str | None
    country: str
    year_at_10: bool


@functools.cache
def _wmi_table() -> dict[str, _Wmi]:
    """resources/data/wmi.csv: 3-character WMIs plus 1–2 character region prefixes ("#" = comment)."""
    text = resources.files("resources").joinpath("data", "wmi.csv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {
        row["wmi"]: _Wmi(row["manufacturer"] or None, row["country"], row["year_at_10"] == "1")
        for row in csv.DictReader(lines, delimiter=";")
    }


def _lookup_wmi(vin: str) -> _Wmi | None:
    table = _wmi_table()
    for length in (3, 2, 1):
        entry = table.get(vin[:length])
        if entry is not None:
            return entry
    return None


def _model_year(vin: str, north_american: bool, today: dt.date) -> int | None:
    index = _YEAR_CODES.find(vin[9])
    if index < 0:
        return None
    year = 1980 + index
    latest = today.year + 1  # next year's models are sold from summer on
    if north_american:
        # 49 CFR 565.15: from MY 2010 position 7 is a letter, before it was usually a digit. Older VINs
        # with a letter there would land in the future, so fall back to the earlier cycle for them.
        if vin[6].isalpha() and year + _YEAR_CYCLE <= latest:
            year += _YEAR_CYCLE
        return year
    while year + _YEAR_CYCLE <= latest:
        year += _YEAR_CYCLE
    return year


def decode_vin(vin: str, *, today: dt.date | None = None) -> VinInfo:
    """Maker, country, model year (only where the maker encodes it) and check-digit result of a VIN."""
    checked = validate_vin(vin)
    if not checked:
        raise ValidationError("Bitte eine FIN eingeben.", field="vin")
    entry = _lookup_wmi(checked)
    north_american = _is_north_american(checked)
    year_at_10 = north_american or (entry is not None and entry.year_at_10)
    return VinInfo(
        wmi=checked[:3],
        manufacturer=entry.manufacturer if entry else None,
        country=entry.country if entry else None,
        model_year=_model_year(checked, north_american, today or dt.date.today()) if year_at_10 else None,
        check_digit_ok=vin_check_digit_ok(checked),
    )


# -------------------------------------------------------------------------------------------- plates

PLATE_MAX_CHARS = 8  # letters and digits on a one-line plate, including the E/H suffix (FZV)
_SEPARATORS = re.compile(r"[\s\-‐‑–—]+")
_PLATE = re.compile(r"^(?P<district>[A-ZÄÖÜ]{1,3}) (?P<letters>[A-Z]{1,2}) ?(?P<digits>[0-9]{1,4}) ?(?P<suffix>[EH]?)$")
_BUNDESWEHR = re.compile(r"^Y ?(?P<a>[0-9]{3}) ?(?P<b>[0-9]{3})$")
_COMPACT_PLATE = re.compile(r"^[A-ZÄÖÜ]{2,5}[0-9]{1,4}[EH]?$")


def normalize_plate(text: str, *, field: str = "plate") -> str:
    """A German plate in canonical form "M-AB 123" (suffix "M-AB 123E"; Bundeswehr "Y-123 456"). Empty → "".

    Spaces and hyphens are interchangeable, but the district code must be followed by one of them:
    "MAB123" could be M-AB 123 or MA-B 123.
    """
    raw = text.strip()
    if not raw:
        return ""
    value = _SEPARATORS.sub(" ", raw.upper())
    army = _BUNDESWEHR.match(value)
    if army:
        return f"Y-{army['a']} {army['b']}"
    plate = _PLATE.match(value)
    if plate is None:
        if _COMPACT_PLATE.match(value):
            raise ValidationError(
                "Beim Kennzeichen „{value}“ ist nicht erkennbar, wo das Ortskürzel endet – bitte nach dem "
                "Ortskürzel einen Bindestrich oder ein Leerzeichen setzen, z. B. „M-AB 123“.",
                field=field,
                value=raw,
            )
        raise ValidationError(
            "Das Kennzeichen „{value}“ ist ungültig – erwartet: Ortskürzel (1–3 Buchstaben), 1–2 Buchstaben "
            "und 1–4 Ziffern, ggf. mit E oder H am Ende, z. B. „M-AB 123“ oder „KÖN-X 12E“.",
            field=field,
            value=raw,
        )
    district, letters, digits, suffix = plate["district"], plate["letters"], plate["digits"], plate["suffix"]
    if district == "Y":
        raise ValidationError(
            "Das Kennzeichen „{value}“ ist ungültig – Bundeswehr-Kennzeichen bestehen aus Y und 6 Ziffern, "
            "z. B. „Y-123 456“.",
            field=field,
            value=raw,
        )
    if digits.startswith("0"):
        raise ValidationError(
            "Die Zahl im Kennzeichen „{value}“ darf nicht mit 0 beginnen, z. B. „M-AB 123“.",
            field=field,
            value=raw,
        )
    count = len(district) + len(letters) + len(digits) + len(suffix)
    if count > PLATE_MAX_CHARS:
        raise ValidationError(
            "Das Kennzeichen „{value}“ hat {count} Zeichen – erlaubt sind höchstens 8 Buchstaben und Ziffern "
            "einschließlich E bzw. H, z. B. „KÖN-AB 123“.",
            field=field,
            value=raw,
            count=count,
        )
    return f"{district}-{letters} {digits}{suffix}"


def plate_search_key(plate: str) -> str:
    """The plate without separators, upper case ("M-AB 123" → "MAB123") for search while typing."""
    return _SEPARATORS.sub("", plate.strip().upper())


# ------------------------------------------------------------------------------------------- HSN/TSN


def validate_hsn(text: str, *, field: str = "hsn") -> str:
    """Herstellerschlüsselnummer (Zulassungsbescheinigung Teil I, field 2.1): 4 digits. Empty → ""."""
    value = "".join(text.split())
    if value and not re.fullmatch(r"[0-9]{4}", value):
        raise ValidationError(
            "Die HSN „{value}“ ist ungültig – sie besteht aus genau 4 Ziffern (Feld 2.1), z. B. „0603“.",
            field=field,
            value=value,
        )
    return value


def validate_tsn(text: str, *, field: str = "tsn") -> str:
    """Typschlüsselnummer: the first 3 characters of field 2.2, letters or digits, upper case. Empty → ""."""
    value = "".join(text.split()).upper()
    if value and not re.fullmatch(r"[A-Z0-9]{3}", value):
        raise ValidationError(
            "Die TSN „{value}“ ist ungültig – sie besteht aus genau 3 Buchstaben oder Ziffern (die ersten "
            "3 Zeichen in Feld 2.2), z. B. „BQM“.",
            field=field,
            value=value,
        )
    return value


# ------------------------------------------------------------------------------------------------ HU

HU_FIRST_MONTHS = 36  # new car: first HU 36 months after first registration (§29 StVZO, Anlage VIII)
HU_INTERVAL_MONTHS = 24  # then every 24 months, counted from the month of the inspection
HU_SURCHARGE_AFTER_MONTHS = 2  # more than 2 months overdue → extended inspection, higher fee


def _month_start(day: dt.date, months: int = 0) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month (so 29 Feb never needs clamping)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def first_hu_due(first_registration: dt.date) -> dt.date:
    """Due month of a new car's first HU, as its first day: 15.03.2023 → 01.03.2026."""
    return _month_start(first_registration, HU_FIRST_MONTHS)


def next_hu_due(inspection_date: dt.date) -> dt.date:
    """Due month after a passed HU, as its first day: inspection month + 24 (early or late alike)."""
    return _month_start(inspection_date, HU_INTERVAL_MONTHS)


class HuStatus(enum.Enum):
    """HU/AU state on a given day for a due month M (any day of M is fine, §29 StVZO).

    UNKNOWN: no due month. OK: M starts more than ``soon_days`` ahead. DUE_SOON: M starts within
    ``soon_days``. DUE: today is in M (last day included). OVERDUE: from the 1st of M+1.
    OVERDUE_2M: from the 1st of M+3, i.e. more than two full months after the end of M (higher fee).
    """

    UNKNOWN = "unknown"
    OK = "ok"
    DUE_SOON = "due_soon"
    DUE = "due"
    OVERDUE = "overdue"
    OVERDUE_2M = "overdue_2m"

    @property
    def label(self) -> str:
        """Short German badge text without the month, e.g. "HU überfällig"."""
        return _(_HU_LABELS[self])

    def label_for(self, hu_due: dt.date | None) -> str:
        """Badge text with the due month, e.g. "HU fällig 11/2026"."""
        if hu_due is None:
            return self.label
        return _(_HU_MONTH_LABELS[self]).format(month=formatting.month(hu_due))


_HU_LABELS = {
    HuStatus.UNKNOWN: N_("HU-Termin unbekannt"),
    HuStatus.OK: N_("HU gültig"),
    HuStatus.DUE_SOON: N_("HU bald fällig"),
    HuStatus.DUE: N_("HU fällig"),
    HuStatus.OVERDUE: N_("HU überfällig"),
    HuStatus.OVERDUE_2M: N_("HU > 2 Monate überfällig"),
}
_HU_MONTH_LABELS = {
    HuStatus.UNKNOWN: N_("HU-Termin unbekannt"),
    HuStatus.OK: N_("HU gültig bis {month}"),
    HuStatus.DUE_SOON: N_("HU bald fällig: {month}"),
    HuStatus.DUE: N_("HU fällig {month}"),
    HuStatus.OVERDUE: N_("HU überfällig (fällig war {month})"),
    HuStatus.OVERDUE_2M: N_("HU > 2 Monate überfällig (fällig war {month})"),
}


def hu_status(hu_due: dt.date | None, today: dt.date, *, soon_days: int = 60) -> HuStatus:
    """Where ``today`` stands relative to the due month of ``hu_due`` (any day of that month)."""
    if hu_due is None:
        return HuStatus.UNKNOWN
    start = _month_start(hu_due)
    if today < start:
        return HuStatus.DUE_SOON if (start - today).days <= soon_days else HuStatus.OK
    if today < _month_start(start, 1):
        return HuStatus.DUE
    if today < _month_start(start, 1 + HU_SURCHARGE_AFTER_MONTHS):
        return HuStatus.OVERDUE
    return HuStatus.OVERDUE_2M


def hu_badge(hu_due: dt.date | None, today: dt.date, *, soon_days: int = 60) -> str:
    """The vehicle card's badge text, e.g. "HU fällig 11/2026"."""
    return hu_status(hu_due, today, soon_days=soon_days).label_for(hu_due)


# ------------------------------------------------------------------------- mileage, first registration

MAX_MILEAGE_KM = 2_000_000
EARLIEST_FIRST_REGISTRATION = dt.date(1886, 1, 1)  # Benz Patent-Motorwagen


def validate_mileage(km: int | str, *, field: str = "mileage") -> int:
    """An odometer reading in whole km, 0–2,000,000; text may use German grouping ("123.456 km")."""
    if isinstance(km, str):
        text = km.strip().lower().removesuffix("km").replace(".", "").replace(" ", "").replace("\u202f", "")
        if not re.fullmatch(r"-?[0-9]+", text):
            raise ValidationError(
                "Der Kilometerstand „{value}“ ist keine ganze Zahl – bitte nur Ziffern eingeben, z. B. 123.456.",
                field=field,
                value=km.strip(),
            )
        value = int(text)
    elif isinstance(km, int) and not isinstance(km, bool):
        value = km
    else:
        raise ValidationError(
            "Der Kilometerstand „{value}“ ist keine ganze Zahl – bitte nur Ziffern eingeben, z. B. 123.456.",
            field=field,
            value=str(km),
        )
    if not 0 <= value <= MAX_MILEAGE_KM:
        raise ValidationError(
            "Der Kilometerstand muss zwischen 0 und 2.000.000 km liegen – eingegeben: {km} km.",
            field=field,
            km=formatting.number(value, 0),
        )
    return value


def check_mileage_sequence(previous: int | None, new: int, *, allow_lower: bool = False, field: str = "mileage") -> int:
    """The validated new reading; lower than the previous one only when flagged (tachometer exchange)."""
    value = validate_mileage(new, field=field)
    if previous is not None and value < previous and not allow_lower:
        raise ValidationError(
            "Der Kilometerstand {new} km ist niedriger als der letzte erfasste ({previous} km). Das ist nur "
            "nach einem Tachotausch zulässig – dann bitte „Tachotausch“ ankreuzen.",
            field=field,
            new=formatting.number(value, 0),
            previous=formatting.number(previous, 0),
        )
    return value


def validate_first_registration(
    value: dt.date | None, today: dt.date, *, field: str = "first_registration"
) -> dt.date | None:
    """Erstzulassung: not after ``today`` and not before 1886. None (unknown) is allowed."""
    if value is None:
        return None
    if value > today:
        raise ValidationError(
            "Die Erstzulassung {date} liegt in der Zukunft – bitte das Datum prüfen.",
            field=field,
            date=formatting.date(value),
        )
    if value < EARLIEST_FIRST_REGISTRATION:
        raise ValidationError(
            "Die Erstzulassung {date} liegt vor 1886 – bitte das Datum prüfen.",
            field=field,
            date=formatting.date(value),
        )
    return value
