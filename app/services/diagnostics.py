"""OBD diagnostics in the workshop workflow: scans and live-data recordings kept with the vehicle and its
open work order, the vehicle history entries (scan, Mode 04 clear), repair suggestions as proposed order
lines, and the protocol remembered per vehicle and adapter.

The service takes plain data (the drivers read the car). Scan results are versioned JSON; recordings are
zlib-compressed CSV (UTF-8, ``;``, decimal point, first column ``t_s``) and are handed out for Excel with
a BOM, decimal commas and units in the header. VIN-linked data is personal data (EuGH C-319/22): the
customer export includes it and it is deleted with the vehicle (FK CASCADE).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import zlib
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import dtc
from app import vehicle_rules as rules
from app.changes import Changes
from app.db import Database
from app.errors import ConflictError, InvalidTransition, NotFound, ValidationError
from app.i18n import _, language
from app.models import ObdProtocolMemory, ObdRecording, ObdScan, Service, Vehicle, VehicleEvent, WorkOrder
from app.models.base import utcnow
from app.services.diagnostics_types import (
    DTC_KINDS,
    MAX_ADAPTER_KEY,
    PROTOCOL,
    SCAN_FORMAT,
    RecordingData,
    RecordingDTO,
    ScanData,
    ScanDTO,
    Suggestion,
    clean_codes,
    clean_user,
    decode_result,
    excel_csv,
    naive_utc,
    result_json,
    samples_csv,
    samples_text,
    scanned_vin,
    summary,
)
from app.services.order_lines import line_from_service
from app.services.order_rows import add_line_in
from app.services.work_order_types import STATUS_LABELS, load_order
from app.services.work_orders import EDITABLE, OPEN_STATUSES

__all__ = [
    "DTC_KINDS",
    "SCAN_FORMAT",
    "DiagnosticsService",
    "RecordingDTO",
    "RecordingData",
    "ScanDTO",
    "ScanData",
    "Suggestion",
    "decode_result",
    "samples_text",
]


def _scan_dto(row: ObdScan, vehicle_vin: str) -> ScanDTO:
    dtcs, readiness, frame = decode_result(row.result_json)
    return ScanDTO(row.id, row.vehicle_id, row.work_order_id, row.at, row.user, row.adapter, row.protocol, row.vin,
                   row.voltage, row.mil, dtcs, readiness, frame, summary(dtcs, row.mil), vehicle_vin)  # fmt: skip


def _recording_dto(row: ObdRecording) -> RecordingDTO:
    columns = tuple((c["pid"], c["unit"]) for c in json.loads(row.columns_json or "[]"))
    return RecordingDTO(row.id, row.vehicle_id, row.work_order_id, row.started_at, row.seconds, row.user, row.note,
                        columns, row.sample_count)  # fmt: skip


def _vehicle(s: Session, vehicle_id: int) -> Vehicle:
    row = s.get(Vehicle, vehicle_id)
    if row is None:
        raise NotFound("Das Fahrzeug {id} gibt es nicht.", id=vehicle_id)
    return row


def _order_for(s: Session, vehicle_id: int, work_order_id: int | None) -> WorkOrder | None:
    """The given order (checked: same vehicle, still open), else the vehicle's only open order, else None."""
    if work_order_id is None:
        query = select(WorkOrder).where(WorkOrder.vehicle_id == vehicle_id, WorkOrder.status.in_(OPEN_STATUSES))
        open_orders = s.scalars(query.limit(2)).all()
        return open_orders[0] if len(open_orders) == 1 else None
    order = s.get(WorkOrder, work_order_id)
    if order is None:
        raise NotFound("Den Auftrag {id} gibt es nicht.", id=work_order_id)
    if order.vehicle_id != vehicle_id:
        raise ValidationError("Der Auftrag {number} gehört zu einem anderen Fahrzeug.", field="work_order_id",
                              number=order.number)  # fmt: skip
    if order.status not in OPEN_STATUSES:
        raise ValidationError("Der Auftrag {number} ist nicht mehr offen.", field="work_order_id", number=order.number)
    return order


def _memory_keys(vin: str | None, vehicle_id: int | None) -> list[str]:
    """The VIN first (it survives a re-created vehicle), then the vehicle id."""
    keys = [scanned_vin(vin or "")] + ([f"vehicle:{vehicle_id}"] if vehicle_id is not None else [])
    return [key for key in keys if key]


# --- the service ---------------------------------------------------------------------------------


class DiagnosticsService:
    """Use cases of the diagnostics window; each public method is one unit of work on ``db``."""

    def __init__(self, db: Database, *, today: dt.date | None = None) -> None:
        self._db = db
        self._today = today

    @property
    def today(self) -> dt.date:
        """Today (fixed in tests); used to decode the model year from an adopted VIN."""
        return self._today or dt.date.today()

    # --- scans -------------------------------------------------------------------------------------

    def save_scan(self, data: ScanData, *, vehicle_id: int, work_order_id: int | None = None, user: str) -> ScanDTO:
        """Store a scan with the vehicle (and its open order) and note it in the vehicle history.

        A VIN that differs from the vehicle's is only flagged (``vin_mismatch``), never written over it.
        """
        user = clean_user(user)
        result = result_json(data)
        vin = scanned_vin(data.vin)
        voltage = round(float(data.voltage), 2) if data.voltage is not None and math.isfinite(data.voltage) else None
        with self._db.unit() as s:
            vehicle = _vehicle(s, vehicle_id)
            order = _order_for(s, vehicle_id, work_order_id)
            now = utcnow()
            row = ObdScan(vehicle_id=vehicle_id, work_order_id=order.id if order else None, at=now, user=user,
                          adapter=data.adapter.strip()[:120], protocol=data.protocol.strip()[:60], vin=vin,
                          voltage=voltage, mil=data.mil, result_json=result)  # fmt: skip
            s.add(row)
            s.flush()
            dto = _scan_dto(row, vehicle.vin)
            text = dto.summary + (f" – Achtung: das Steuergerät meldet die FIN {vin}" if dto.vin_mismatch else "")
            s.add(VehicleEvent(vehicle_id=vehicle_id, at=now, kind="obd", text=text, user=user))
            return dto

    def adopt_vin(self, vehicle_id: int, vin: str, *, user: str = "") -> Changes:
        """Take the VIN read by a scan into a vehicle that has none yet (make and model year follow)."""
        user = clean_user(user)
        vin = rules.validate_vin(vin)
        if not vin:
            raise ValidationError("Bitte eine FIN angeben.", field="vin")
        with self._db.unit() as s:
            vehicle = _vehicle(s, vehicle_id)
            if vehicle.vin:
                raise ConflictError("Das Fahrzeug hat schon die FIN {vin}.", vin=vehicle.vin)
            other = s.scalar(select(Vehicle).where(Vehicle.vin == vin, Vehicle.id != vehicle_id))
            if other is not None:
                raise ConflictError("Die FIN {vin} ist schon beim Fahrzeug {plate} gespeichert.", vin=vin,
                                    plate=other.plate or other.id)  # fmt: skip
            info = rules.decode_vin(vin, today=self.today)
            vehicle.vin, vehicle.model_year = vin, info.model_year
            vehicle.make = vehicle.make or info.manufacturer or ""
            s.add(VehicleEvent(vehicle_id=vehicle_id, kind="note", text=f"FIN aus der Diagnose übernommen: {vin}",
                               user=user))  # fmt: skip
        return Changes(vehicles=True)

    def record_clear(
        self, vehicle_id: int, *, codes: Sequence[str], user: str, work_order_id: int | None = None
    ) -> Changes:
        """Note in the vehicle history who cleared the fault memory (Mode 04), when, and which codes."""
        user = clean_user(user, required=True)
        cleared = clean_codes(codes, "codes")
        with self._db.unit() as s:
            _vehicle(s, vehicle_id)
            order = _order_for(s, vehicle_id, work_order_id)
            what = (
                f"Fehlerspeicher gelöscht: {', '.join(cleared)}." if cleared else "Fehlerspeicher gelöscht (war leer)."
            )
            text = f"{what} Freeze-Frame und Bereitschaftstests wurden zurückgesetzt."
            text += f" Auftrag {order.number}." if order else ""
            s.add(VehicleEvent(vehicle_id=vehicle_id, kind="dtc_cleared", text=text, user=user))
        return Changes(vehicles=True)

    def scan(self, scan_id: int) -> ScanDTO:
        """One scan; NotFound if it does not exist."""
        with self._db.unit() as s:
            row = self._scan_row(s, scan_id)
            vehicle = s.get(Vehicle, row.vehicle_id) if row.vehicle_id is not None else None
            return _scan_dto(row, vehicle.vin if vehicle else "")

    def scans(self, vehicle_id: int) -> list[ScanDTO]:
        """The vehicle's scans, newest first."""
        with self._db.unit() as s:
            vehicle = _vehicle(s, vehicle_id)
            query = (
                select(ObdScan).where(ObdScan.vehicle_id == vehicle_id).order_by(ObdScan.at.desc(), ObdScan.id.desc())
            )
            return [_scan_dto(row, vehicle.vin) for row in s.scalars(query)]

    # --- suggestions -------------------------------------------------------------------------------

    def suggestions(self, scan_id: int) -> list[Suggestion]:
        """The active catalogue services app.dtc suggests for the scan's codes, the specific ones first and
        each once; ``code`` is the first trouble code that suggested it."""
        with self._db.unit() as s:
            codes = _scan_dto(self._scan_row(s, scan_id), "").codes
            per_code = {code: dtc.suggest_for([code]) for code in codes}
            ranked = dtc.suggest_for(codes)
            query = select(Service).where(Service.code.in_(ranked), Service.active.is_(True))
            catalogue = {row.code: row for row in s.scalars(query)}
            texts = {code: dtc.describe(code, language()).text for code in codes}
            found = []
            for service_code in (c for c in ranked if c in catalogue):
                svc = catalogue[service_code]
                code = next(code for code in codes if service_code in per_code[code])
                found.append(Suggestion(code, texts[code], svc.id, svc.code, svc.name, svc.aw))
            return found

    def add_suggestions(self, scan_id: int, service_ids: Sequence[int], *, order_id: int) -> Changes:
        """Add the chosen services to the order as proposed lines (the customer still has to agree);
        a service the order already has is not added twice. The scan is attached to the order."""
        with self._db.unit() as s:
            scan = self._scan_row(s, scan_id)
            order = load_order(s, order_id)
            if order.status not in EDITABLE:
                raise InvalidTransition("Ein Auftrag im Status „{status}“ kann nicht mehr geändert werden.",
                                        status=_(STATUS_LABELS.get(order.status, order.status)))  # fmt: skip
            if scan.vehicle_id != order.vehicle_id:
                raise ValidationError("Die Diagnose gehört zu einem anderen Fahrzeug als der Auftrag {number}.",
                                      field="order_id", number=order.number)  # fmt: skip
            present = {line.service_id for line in order.lines}
            for service_id in dict.fromkeys(service_ids):
                service = s.get(Service, service_id)
                if service is None:
                    raise NotFound("Die Leistung {id} gibt es nicht.", id=service_id)
                if not service.active:
                    raise ValidationError("Die Leistung „{name}“ ist deaktiviert.", field="service_ids",
                                          name=service.name)  # fmt: skip
                if service_id not in present:
                    add_line_in(s, order.lines, replace(line_from_service(service), proposed=True))
            scan.work_order_id = scan.work_order_id or order.id
            s.flush()
        return Changes(orders=True)

    # --- recordings --------------------------------------------------------------------------------

    def save_recording(
        self, data: RecordingData, *, vehicle_id: int, work_order_id: int | None = None, user: str
    ) -> RecordingDTO:
        """Store a live-data recording with the vehicle (and its open order)."""
        user = clean_user(user)
        text, count, seconds = samples_csv(data)
        columns = [{"pid": pid.strip(), "unit": unit.strip()} for pid, unit in data.columns]
        with self._db.unit() as s:
            _vehicle(s, vehicle_id)
            order = _order_for(s, vehicle_id, work_order_id)
            row = ObdRecording(vehicle_id=vehicle_id, work_order_id=order.id if order else None,
                               started_at=naive_utc(data.started_at), seconds=seconds, user=user,
                               note=data.note.strip(), columns_json=json.dumps(columns, ensure_ascii=False),
                               samples=zlib.compress(text.encode("utf-8"), 9), sample_count=count)  # fmt: skip
            s.add(row)
            s.flush()
            return _recording_dto(row)

    def recordings(self, vehicle_id: int) -> list[RecordingDTO]:
        """The vehicle's recordings, newest first."""
        with self._db.unit() as s:
            _vehicle(s, vehicle_id)
            query = select(ObdRecording).where(ObdRecording.vehicle_id == vehicle_id)
            rows = s.scalars(query.order_by(ObdRecording.started_at.desc(), ObdRecording.id.desc()))
            return [_recording_dto(row) for row in rows]

    def recording_csv(self, recording_id: int) -> bytes:
        """The recording as an Excel-friendly CSV file (BOM, ``;``, decimal comma, units in the header)."""
        with self._db.unit() as s:
            row = s.get(ObdRecording, recording_id)
            if row is None:
                raise NotFound("Die Aufzeichnung {id} gibt es nicht.", id=recording_id)
            return excel_csv(_recording_dto(row).columns, samples_text(row.samples))

    # --- protocol memory ---------------------------------------------------------------------------

    def remembered_protocol(self, *, vin: str | None, vehicle_id: int | None, adapter_key: str) -> str | None:
        """The protocol that worked last time on this adapter (by VIN, else by vehicle), or None."""
        adapter_key = adapter_key.strip()[:MAX_ADAPTER_KEY]
        with self._db.unit() as s:
            for key in _memory_keys(vin, vehicle_id):
                found = s.scalar(select(ObdProtocolMemory.protocol).where(
                    ObdProtocolMemory.vehicle_key == key, ObdProtocolMemory.adapter_key == adapter_key))  # fmt: skip
                if found:
                    return found
        return None

    def remember_protocol(self, *, vin: str | None, vehicle_id: int | None, adapter_key: str, protocol: str) -> None:
        """Remember the protocol for the vehicle (key: its VIN if known, else "vehicle:<id>") and adapter."""
        protocol, adapter_key = protocol.strip().upper(), adapter_key.strip()[:MAX_ADAPTER_KEY]
        if not PROTOCOL.match(protocol):
            raise ValidationError("„{protocol}“ ist keine ELM327-Protokollnummer.", field="protocol",
                                  protocol=protocol)  # fmt: skip
        keys = _memory_keys(vin, vehicle_id)
        if not keys or not adapter_key:
            raise ValidationError("Fahrzeug und Adapter müssen bekannt sein.", field="vehicle_id")
        with self._db.unit() as s:
            row = s.scalar(select(ObdProtocolMemory).where(
                ObdProtocolMemory.vehicle_key == keys[0], ObdProtocolMemory.adapter_key == adapter_key))  # fmt: skip
            if row is None:
                s.add(ObdProtocolMemory(vehicle_key=keys[0], adapter_key=adapter_key, protocol=protocol))
            else:
                row.protocol, row.updated_at = protocol, utcnow()

    # --- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _scan_row(s: Session, scan_id: int) -> ObdScan:
        row = s.get(ObdScan, scan_id)
        if row is None:
            raise NotFound("Die Diagnose {id} gibt es nicht.", id=scan_id)
        return row
