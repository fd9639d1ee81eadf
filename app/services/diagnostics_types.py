"""Plain data of the diagnostics service and their stored forms: what a scan or recording hands in, the
DTOs handed out, the versioned scan JSON, the history summary and the recording CSV (stored and for Excel).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from app import dtc
from app import vehicle_rules as rules
from app.changes import Changes
from app.errors import ValidationError
from app.models.base import utcnow

SCAN_FORMAT: Final = 1  # version of ObdScan.result_json
DTC_KINDS: Final = ("stored", "pending", "permanent")
PROTOCOL = re.compile(r"^A?[0-9A-C]$")  # ELM327 ATSP argument ("6", "A6" = automatic, try 6 first)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_USER = 80
MAX_ADAPTER_KEY = 120

FrameValue = str | int | float | None
Sample = float | int | Decimal | str | None


@dataclass(frozen=True)
class ScanData:
    """What the driver read: ``dtcs`` per kind (stored/pending/permanent), readiness as (name, available,
    complete), freeze frame as (pid, value, unit)."""

    adapter: str = ""
    protocol: str = ""
    vin: str = ""
    voltage: float | None = None
    mil: bool | None = None
    dtcs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    readiness: Sequence[tuple[str, bool, bool]] = ()
    freeze_frame: Sequence[tuple[str, FrameValue, str]] = ()


@dataclass(frozen=True)
class ScanDTO:
    """A stored scan; ``vehicle_vin`` is the VIN in the vehicle's master data now."""

    id: int
    vehicle_id: int | None
    work_order_id: int | None
    at: dt.datetime
    user: str
    adapter: str
    protocol: str
    vin: str
    voltage: float | None
    mil: bool | None
    dtcs: dict[str, tuple[str, ...]]
    readiness: tuple[tuple[str, bool, bool], ...]
    freeze_frame: tuple[tuple[str, FrameValue, str], ...]
    summary: str
    vehicle_vin: str

    @property
    def vin_mismatch(self) -> bool:
        """The control unit reports another VIN than the vehicle's master data (wrong car? swapped ECU?)."""
        return bool(self.vin and self.vehicle_vin and self.vin != self.vehicle_vin)

    @property
    def can_adopt_vin(self) -> bool:
        """The vehicle has no VIN yet and the scan read a valid one: offer :meth:`DiagnosticsService.adopt_vin`."""
        return bool(self.vin and not self.vehicle_vin)

    @property
    def codes(self) -> tuple[str, ...]:
        """All trouble codes once, stored first."""
        return tuple(dict.fromkeys(c for kind in DTC_KINDS for c in self.dtcs.get(kind, ())))

    @property
    def changes(self) -> Changes:
        """What saving this scan touched: the vehicle history, and the order it is attached to."""
        return Changes(vehicles=True, orders=self.work_order_id is not None)


@dataclass(frozen=True)
class Suggestion:
    """A catalogue service suggested for a trouble code."""

    code: str
    dtc_text: str
    service_id: int
    service_code: str
    service_name: str
    aw: Decimal


@dataclass(frozen=True)
class RecordingData:
    """A live-data session: ``columns`` (pid, unit), ``rows`` (t in seconds since ``started_at``, values…)."""

    columns: Sequence[tuple[str, str]]
    rows: Sequence[Sequence[Sample]]
    started_at: dt.datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class RecordingDTO:
    """A stored recording without its samples (those come as CSV)."""

    id: int
    vehicle_id: int | None
    work_order_id: int | None
    started_at: dt.datetime
    seconds: float
    user: str
    note: str
    columns: tuple[tuple[str, str], ...]
    sample_count: int

    @property
    def changes(self) -> Changes:
        """What saving this recording touched."""
        return Changes(vehicles=True, orders=self.work_order_id is not None)


# --- plain data <-> stored form ------------------------------------------------------------------


def clean_user(user: str, *, required: bool = False) -> str:
    """The user name stripped; ValidationError if too long (or empty when ``required``)."""
    user = user.strip()
    if (required and not user) or len(user) > MAX_USER:
        raise ValidationError("Bitte den Benutzer angeben (höchstens {max} Zeichen).", field="user", max=MAX_USER)
    return user


def clean_codes(codes: Sequence[str], field_name: str = "dtcs") -> list[str]:
    """Trouble codes normalised by app.dtc ("p0420", raw "0420" → "P0420"), each once, in the given order."""
    cleaned: list[str] = []
    for code in codes:
        if not str(code).strip():
            continue
        try:
            cleaned.append(dtc.normalize_code(code))
        except ValidationError as exc:
            raise ValidationError(exc.message_id, field=field_name, **exc.params) from exc
    return list(dict.fromkeys(cleaned))


def scanned_vin(text: str) -> str:
    """The VIN a control unit reported if it is a valid one, else "" (padding, garbage, old ECUs)."""
    try:
        return rules.validate_vin(text)
    except ValidationError:
        return ""


def _frame_value(value: object) -> FrameValue:
    if isinstance(value, Decimal | float):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, int | str):
        return value
    return str(value)


def result_json(data: ScanData) -> str:
    """The versioned JSON of a scan's codes, readiness and freeze frame (ValidationError on bad codes)."""
    unknown = set(data.dtcs) - set(DTC_KINDS)
    if unknown:
        raise ValidationError("Unbekannte Fehlerart „{kind}“.", field="dtcs", kind=sorted(unknown)[0])
    result = {
        "version": SCAN_FORMAT,
        "dtcs": {kind: clean_codes(data.dtcs.get(kind, ())) for kind in DTC_KINDS},
        "readiness": [{"name": n.strip(), "available": bool(a), "complete": bool(c)} for n, a, c in data.readiness],
        "freeze_frame": [
            {"pid": p.strip(), "value": _frame_value(v), "unit": u.strip()} for p, v, u in data.freeze_frame
        ],
    }
    return json.dumps(result, ensure_ascii=False)


def decode_result(
    text: str,
) -> tuple[dict[str, tuple[str, ...]], tuple[tuple[str, bool, bool], ...], tuple[tuple[str, FrameValue, str], ...]]:
    """DTCs, readiness and freeze frame of a stored ``result_json`` (newer versions: the known keys)."""
    raw: dict[str, Any] = json.loads(text or "{}")
    dtcs = {kind: tuple(raw.get("dtcs", {}).get(kind, ())) for kind in DTC_KINDS}
    readiness = tuple((r["name"], r["available"], r["complete"]) for r in raw.get("readiness", ()))
    frame = tuple((f["pid"], f["value"], f["unit"]) for f in raw.get("freeze_frame", ()))
    return dtcs, readiness, frame


def summary(dtcs: Mapping[str, Sequence[str]], mil: bool | None) -> str:
    """ "Diagnose: 2 Fehler gespeichert (P0420, P0300), MIL an" – the line for the vehicle history."""
    stored = list(dtcs.get("stored", ()))
    parts = [f"{len(stored)} Fehler gespeichert ({', '.join(stored)})" if stored else "kein Fehler gespeichert"]
    for kind, word in (("pending", "ausstehend"), ("permanent", "permanent")):
        if codes := list(dtcs.get(kind, ())):
            parts.append(f"{len(codes)} Fehler {word} ({', '.join(codes)})")
    if mil is not None:
        parts.append("MIL an" if mil else "MIL aus")
    return "Diagnose: " + ", ".join(parts)


def _sample(value: Sample, row: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            return ""
        # Fixed notation via the shortest repr: "1e-05" would not be a number for a German Excel.
        return format(Decimal(repr(value)) if isinstance(value, float) else value, "f")
    if isinstance(value, str):
        return value.strip()
    raise ValidationError("Zeile {row} der Aufzeichnung enthält einen ungültigen Wert.", field="rows", row=row)


def samples_csv(data: RecordingData) -> tuple[str, int, float]:
    """The stored CSV text, its sample count and the duration in seconds."""
    if not data.columns or not data.rows:
        raise ValidationError("Die Aufzeichnung enthält keine Messwerte.", field="rows")
    if any(not pid.strip() for pid, _unit in data.columns):
        raise ValidationError("Jede Spalte der Aufzeichnung braucht einen Namen.", field="columns")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(["t_s", *(pid.strip() for pid, _unit in data.columns)])
    last = 0.0
    for number, values in enumerate(data.rows, start=1):
        if len(values) != len(data.columns) + 1:
            raise ValidationError("Zeile {row} der Aufzeichnung hat {found} statt {expected} Werte.", field="rows",
                                  row=number, found=len(values), expected=len(data.columns) + 1)  # fmt: skip
        t = values[0]
        if isinstance(t, str | bool) or t is None or not math.isfinite(t) or t < last:
            raise ValidationError("Die Zeit in Zeile {row} der Aufzeichnung fehlt oder ist nicht aufsteigend.",
                                  field="rows", row=number)  # fmt: skip
        last = float(t)
        writer.writerow([_sample(v, number) for v in values])
    return buffer.getvalue(), len(data.rows), round(last, 3)


def samples_text(blob: bytes) -> str:
    """The stored CSV of a recording (``t_s;PID…``, decimal point) as text."""
    return zlib.decompress(blob).decode("utf-8") if blob else ""


def _excel_cell(cell: str) -> str:
    if _NUMBER.match(cell):
        return cell.replace(".", ",")
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def excel_csv(columns: Sequence[tuple[str, str]], stored: str) -> bytes:
    """The recording for a German Excel: BOM, ``;``, decimal comma, header "RPM (rpm)"."""
    rows = list(csv.reader(io.StringIO(stored), delimiter=";"))[1:]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Zeit (s)", *(_excel_cell(f"{pid} ({unit})" if unit else pid) for pid, unit in columns)])
    writer.writerows([_excel_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def naive_utc(moment: dt.datetime | None) -> dt.datetime:
    if moment is None:
        return utcnow()
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment
