"""DiagnosticsService: scans and clears in the vehicle history, VIN checks, link to the open order, repair
suggestions as proposed lines, recordings (stored CSV and the Excel file), protocol memory, GDPR export/erasure."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import dtc
from app.db import Database
from app.errors import ConflictError, InvalidTransition, NotFound, ValidationError
from app.models import ObdProtocolMemory, ObdRecording, ObdScan, OrderLine, Vehicle, VehicleEvent
from app.services.catalog import CatalogService
from app.services.customers import CustomerInput, CustomerService
from app.services.diagnostics import DiagnosticsService, RecordingData, ScanData
from app.services.privacy import PrivacyService
from app.services.settings import SettingsService
from app.services.vehicles import VehicleInput, VehicleService
from app.services.work_orders import WorkOrderService

TODAY = dt.date(2026, 3, 10)
VIN = "WVWZZZ1KZAW000123"
OTHER_VIN = "WAUZZZ8V5KA000456"
ADAPTER = "OBDLink MX+ 5.6.19"


@dataclass(frozen=True)
class Shop:
    db: Database
    diag: DiagnosticsService
    orders: WorkOrderService
    vehicles: VehicleService
    customer: int
    car: int  # has VIN and one open (draft) order
    order: int


@pytest.fixture
def shop(db: Database) -> Shop:
    SettingsService(db).update(labour_rate_net="120", aw_per_hour=12, name="Kfz Meier")
    CatalogService(db).load_defaults()
    customer, _ = CustomerService(db).create(CustomerInput(first_name="Jürgen", last_name="Größmann"))
    vehicles = VehicleService(db, today=TODAY)
    car, _ = vehicles.create(VehicleInput(customer_id=customer.id, plate="M-AB 123", vin=VIN, model="Golf"))
    orders = WorkOrderService(db, today=TODAY)
    order = orders.create(customer.id, car.id).order.id
    return Shop(db, DiagnosticsService(db, today=TODAY), orders, vehicles, customer.id, car.id, order)


def _car(shop: Shop, plate: str, vin: str = "") -> int:
    vehicle, _ = shop.vehicles.create(VehicleInput(customer_id=shop.customer, plate=plate, vin=vin))
    return vehicle.id


def _scan(**changes: object) -> ScanData:
    values: dict[str, object] = {
        "adapter": ADAPTER,
        "protocol": "ISO 15765-4 (CAN 11/500)",
        "vin": VIN,
        "voltage": 12.46,
        "mil": True,
        "dtcs": {"stored": ["P0420", "p0300 "], "pending": ["0171"], "permanent": []},  # raw hex from Mode 07
        "readiness": [("Katalysator", True, False), ("Zündaussetzer", True, True), ("EGR", False, False)],
        "freeze_frame": [("RPM", 850.0, "rpm"), ("COOLANT_TEMP", 88, "°C"), ("FUEL_STATUS", "Closed loop", "")],
    }
    return ScanData(**(values | changes))  # type: ignore[arg-type]


def _count(db: Database, model: type[object]) -> int:
    with db.unit() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


# --- scans and history ------------------------------------------------------------------------------


def test_scan_is_stored_versioned_and_written_into_the_vehicle_history(shop: Shop) -> None:
    dto = shop.diag.save_scan(_scan(), vehicle_id=shop.car, user="Jonas")

    assert dto.dtcs == {"stored": ("P0420", "P0300"), "pending": ("P0171",), "permanent": ()}
    assert dto.codes == ("P0420", "P0300", "P0171")
    assert dto.readiness[0] == ("Katalysator", True, False) and dto.freeze_frame[2] == (
        "FUEL_STATUS",
        "Closed loop",
        "",
    )
    assert (dto.adapter, dto.vin, dto.voltage, dto.mil, dto.user) == (ADAPTER, VIN, 12.46, True, "Jonas")
    assert dto.summary == "Diagnose: 2 Fehler gespeichert (P0420, P0300), 1 Fehler ausstehend (P0171), MIL an"
    assert not dto.vin_mismatch and not dto.can_adopt_vin
    assert dto.changes.vehicles and dto.changes.orders
    with shop.db.unit() as s:
        stored = json.loads(s.scalars(select(ObdScan.result_json)).one())
    assert stored["version"] == 1 and stored["dtcs"]["stored"] == ["P0420", "P0300"]
    assert stored["freeze_frame"][0] == {"pid": "RPM", "value": 850.0, "unit": "rpm"}

    [entry] = [e for e in shop.vehicles.history(shop.car) if e.kind == "obd"]
    assert entry.text == dto.summary and entry.user == "Jonas" and entry.at == dto.at
    assert shop.diag.scan(dto.id) == dto and shop.diag.scans(shop.car) == [dto]


def test_scan_without_codes_and_unknown_mil_has_a_short_summary(shop: Shop) -> None:
    dto = shop.diag.save_scan(_scan(dtcs={}, mil=None), vehicle_id=shop.car, user="")
    assert dto.summary == "Diagnose: kein Fehler gespeichert" and dto.codes == ()
    dto = shop.diag.save_scan(_scan(dtcs={"permanent": ["P0420"]}, mil=False), vehicle_id=shop.car, user="")
    assert dto.summary == "Diagnose: kein Fehler gespeichert, 1 Fehler permanent (P0420), MIL aus"
    assert [s.id for s in shop.diag.scans(shop.car)][0] == dto.id  # newest first


@pytest.mark.parametrize(
    ("dtcs", "field"),
    [
        ({"stored": ["P04201"]}, "dtcs"),
        ({"stored": ["X0420"]}, "dtcs"),
        ({"pending": ["P4420"]}, "dtcs"),
        ({"history": []}, "dtcs"),
    ],
)
def test_malformed_scans_are_rejected_and_nothing_is_written(
    shop: Shop, dtcs: dict[str, list[str]], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        shop.diag.save_scan(_scan(dtcs=dtcs), vehicle_id=shop.car, user="Jonas")
    assert info.value.field == field
    assert _count(shop.db, ObdScan) == 0
    assert [e for e in shop.vehicles.history(shop.car) if e.kind == "obd"] == []


def test_other_vin_is_flagged_but_never_overwrites_the_vehicle(shop: Shop) -> None:
    dto = shop.diag.save_scan(_scan(vin=OTHER_VIN), vehicle_id=shop.car, user="Jonas")
    assert dto.vin_mismatch and dto.vin == OTHER_VIN and dto.vehicle_vin == VIN and not dto.can_adopt_vin
    assert shop.vehicles.get(shop.car).data.vin == VIN
    [entry] = [e for e in shop.vehicles.history(shop.car) if e.kind == "obd"]
    assert entry.text.endswith(f"Achtung: das Steuergerät meldet die FIN {OTHER_VIN}")
    # garbage from an old ECU is not a VIN: no warning, nothing stored
    dto = shop.diag.save_scan(_scan(vin="\x00\x00ABC"), vehicle_id=shop.car, user="Jonas")
    assert dto.vin == "" and not dto.vin_mismatch


def test_vehicle_without_vin_is_offered_the_scanned_one(shop: Shop) -> None:
    car = _car(shop, "M-XY 987")
    dto = shop.diag.save_scan(_scan(vin=OTHER_VIN), vehicle_id=car, user="Jonas")
    assert dto.can_adopt_vin and not dto.vin_mismatch
    assert shop.vehicles.get(car).data.vin == ""  # only offered, not taken

    with pytest.raises(ConflictError):  # the VIN belongs to the other car of the shop
        shop.diag.adopt_vin(car, VIN, user="Jonas")
    changes = shop.diag.adopt_vin(car, dto.vin.lower(), user="Jonas")
    assert changes.vehicles
    vehicle = shop.vehicles.get(car)
    assert vehicle.data.vin == OTHER_VIN and vehicle.data.make == "Audi"
    assert any(e.text == f"FIN aus der Diagnose übernommen: {OTHER_VIN}" for e in shop.vehicles.history(car))
    with pytest.raises(ConflictError):
        shop.diag.adopt_vin(car, OTHER_VIN, user="Jonas")
    assert shop.diag.scan(dto.id).vin_mismatch is False and shop.diag.scan(dto.id).can_adopt_vin is False


def test_scan_is_linked_to_the_single_open_order_only(shop: Shop) -> None:
    assert shop.diag.save_scan(_scan(), vehicle_id=shop.car, user="").work_order_id == shop.order
    second = shop.orders.create(shop.customer, shop.car).order.id
    ambiguous = shop.diag.save_scan(_scan(), vehicle_id=shop.car, user="")
    assert ambiguous.work_order_id is None and not ambiguous.changes.orders
    assert shop.diag.save_scan(_scan(), vehicle_id=shop.car, work_order_id=second, user="").work_order_id == second
    shop.orders.cancel(second)
    assert shop.diag.save_scan(_scan(), vehicle_id=shop.car, user="").work_order_id == shop.order
    with pytest.raises(ValidationError, match="nicht mehr offen"):
        shop.diag.save_scan(_scan(), vehicle_id=shop.car, work_order_id=second, user="")
    other_car = _car(shop, "M-XY 987")
    with pytest.raises(ValidationError, match="anderen Fahrzeug"):
        shop.diag.save_scan(_scan(), vehicle_id=other_car, work_order_id=shop.order, user="")
    assert shop.diag.save_scan(_scan(), vehicle_id=other_car, user="").work_order_id is None
    with pytest.raises(NotFound):
        shop.diag.save_scan(_scan(), vehicle_id=4711, user="")


def test_clearing_is_recorded_with_user_time_and_codes(shop: Shop) -> None:
    changes = shop.diag.record_clear(shop.car, codes=["P0420", "p0300"], user="Jonas")
    assert changes.vehicles
    [entry] = [e for e in shop.vehicles.history(shop.car) if e.kind == "dtc_cleared"]
    assert entry.user == "Jonas"
    assert entry.text.startswith("Fehlerspeicher gelöscht: P0420, P0300.")
    assert "Freeze-Frame und Bereitschaftstests wurden zurückgesetzt." in entry.text
    assert entry.text.endswith(f"Auftrag {shop.orders.get(shop.order).number}.")
    assert abs(entry.at - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(minutes=1)

    shop.diag.record_clear(_car(shop, "M-XY 987"), codes=[], user="Ali")
    with pytest.raises(ValidationError) as info:
        shop.diag.record_clear(shop.car, codes=["P0420"], user="  ")
    assert info.value.field == "user"
    with pytest.raises(ValidationError) as info:
        shop.diag.record_clear(shop.car, codes=["kaputt"], user="Jonas")
    assert info.value.field == "codes"
    with shop.db.unit() as s:
        texts = s.scalars(select(VehicleEvent.text).where(VehicleEvent.kind == "dtc_cleared")).all()
    assert len(texts) == 2 and texts[1].startswith("Fehlerspeicher gelöscht (war leer).")


# --- suggestions ----------------------------------------------------------------------------------


def test_suggestions_catalytic_converter_for_p0420_and_diagnosis_for_an_unknown_code(shop: Shop) -> None:
    catalog = CatalogService(shop.db)
    scan = shop.diag.save_scan(_scan(dtcs={"stored": ["P0420"]}), vehicle_id=shop.car, user="")
    found = shop.diag.suggestions(scan.id)
    assert [s.service_code for s in found] == dtc.suggest_for(["P0420"])  # the shipped catalogue has them all
    converter = next(s for s in found if s.service_name == "Katalysator erneuern")
    assert (converter.code, converter.aw) == ("P0420", Decimal("14.0"))
    assert converter.dtc_text == dtc.describe("P0420", "de").text and "Katalysator" in converter.dtc_text
    assert catalog.get(found[-1].service_id).category == "Diagnose"  # the generic fallback comes last

    unknown = shop.diag.save_scan(_scan(dtcs={"stored": ["P3FFF"]}), vehicle_id=shop.car, user="")
    found = shop.diag.suggestions(unknown.id)
    assert found and {s.code for s in found} == {"P3FFF"}
    assert {catalog.get(s.service_id).category for s in found} == {"Diagnose"}

    both = shop.diag.save_scan(_scan(dtcs={"stored": ["P3FFF", "P0420"]}), vehicle_id=shop.car, user="")
    found = shop.diag.suggestions(both.id)
    assert len({s.service_id for s in found}) == len(found)  # each service once
    assert next(s for s in found if s.service_code == converter.service_code).code == "P0420"

    catalog.deactivate(converter.service_id)
    assert converter.service_id not in {s.service_id for s in shop.diag.suggestions(scan.id)}
    no_codes = shop.diag.save_scan(_scan(dtcs={}), vehicle_id=shop.car, user="")
    assert shop.diag.suggestions(no_codes.id) == []


def test_suggestions_become_proposed_lines_once(shop: Shop) -> None:
    scan = shop.diag.save_scan(_scan(dtcs={"stored": ["P0420"]}), vehicle_id=_car(shop, "M-XY 987"), user="")
    with pytest.raises(ValidationError, match="anderen Fahrzeug"):
        shop.diag.add_suggestions(scan.id, [1], order_id=shop.order)

    scan = shop.diag.save_scan(_scan(dtcs={"stored": ["P0420", "P3FFF"]}), vehicle_id=shop.car, user="")
    ids = list(dict.fromkeys(s.service_id for s in shop.diag.suggestions(scan.id)))
    assert len(ids) >= 2
    changes = shop.diag.add_suggestions(scan.id, ids + ids[:1], order_id=shop.order)
    assert changes.orders
    shop.diag.add_suggestions(scan.id, ids, order_id=shop.order)  # a second click adds nothing

    order = shop.orders.get(shop.order)
    assert [line.service_id for line in order.lines] == ids
    assert all(line.proposed for line in order.lines)
    assert order.totals.net > 0
    shop.orders.open(shop.order)
    shop.orders.start(shop.order)
    with pytest.raises(ValidationError, match="nur vorgeschlagen"):
        shop.orders.complete(shop.order)
    with pytest.raises(NotFound):
        shop.diag.add_suggestions(scan.id, [999_999], order_id=shop.order)
    with shop.db.unit() as s:
        assert s.scalar(select(func.count()).select_from(OrderLine)) == len(ids)


def test_suggestions_cannot_change_a_closed_order(shop: Shop) -> None:
    scan = shop.diag.save_scan(_scan(dtcs={"stored": ["P0420"]}), vehicle_id=shop.car, user="")
    [first, *_] = shop.diag.suggestions(scan.id)
    shop.orders.cancel(shop.order)
    with pytest.raises(InvalidTransition, match="Storniert"):
        shop.diag.add_suggestions(scan.id, [first.service_id], order_id=shop.order)
    with pytest.raises(NotFound):
        shop.diag.suggestions(4711)


# --- recordings -----------------------------------------------------------------------------------


def _recording() -> RecordingData:
    return RecordingData(
        columns=[("RPM", "rpm"), ("SPEED", "km/h"), ("LTFT", "%")],
        rows=[(0, 850, 0, -3.5), (0.5, 1200.25, 12, None), (1.0, 2100, 30.0, 0.00001)],
        started_at=dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        note="Probefahrt, Ruckeln bei 2000/min",
    )


def test_recording_round_trip_stored_csv_and_excel_file(shop: Shop) -> None:
    dto = shop.diag.save_recording(_recording(), vehicle_id=shop.car, user="Jonas")
    assert (dto.sample_count, dto.seconds, dto.work_order_id, dto.user) == (3, 1.0, shop.order, "Jonas")
    assert dto.started_at == dt.datetime(2026, 3, 10, 8, 30)  # stored as naive UTC
    assert dto.columns == (("RPM", "rpm"), ("SPEED", "km/h"), ("LTFT", "%"))
    with shop.db.unit() as s:
        blob = s.scalars(select(ObdRecording.samples)).one()
    assert (
        zlib.decompress(blob).decode("utf-8")
        == "t_s;RPM;SPEED;LTFT\n0;850;0;-3.5\n0.5;1200.25;12;\n1.0;2100;30.0;0.00001\n"
    )

    data = shop.diag.recording_csv(dto.id)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["Zeit (s)", "RPM (rpm)", "SPEED (km/h)", "LTFT (%)"],
        ["0", "850", "0", "-3,5"],
        ["0,5", "1200,25", "12", ""],
        ["1,0", "2100", "30,0", "0,00001"],
    ]
    assert b"\r\n" in data
    assert shop.diag.recordings(shop.car) == [dto]
    with pytest.raises(NotFound):
        shop.diag.recording_csv(4711)


@pytest.mark.parametrize(
    "data",
    [
        RecordingData(columns=[], rows=[(0,)]),
        RecordingData(columns=[("RPM", "rpm")], rows=[]),
        RecordingData(columns=[("RPM", "rpm")], rows=[(0, 1, 2)]),
        RecordingData(columns=[("RPM", "rpm")], rows=[(1, 800), (0.5, 900)]),
        RecordingData(columns=[("RPM", "rpm")], rows=[(None, 800)]),
        RecordingData(columns=[(" ", "rpm")], rows=[(0, 800)]),
    ],
)
def test_broken_recordings_are_rejected(shop: Shop, data: RecordingData) -> None:
    with pytest.raises(ValidationError):
        shop.diag.save_recording(data, vehicle_id=shop.car, user="Jonas")
    assert _count(shop.db, ObdRecording) == 0


def test_text_values_in_a_recording_are_kept_and_defused_for_excel(shop: Shop) -> None:
    data = RecordingData(columns=[("STATUS", "")], rows=[(0, "Closed loop"), (1, "=SUM(A1)")])
    dto = shop.diag.save_recording(data, vehicle_id=shop.car, user="")
    rows = list(csv.reader(io.StringIO(shop.diag.recording_csv(dto.id).decode("utf-8-sig")), delimiter=";"))
    assert rows == [["Zeit (s)", "STATUS"], ["0", "Closed loop"], ["1", "'=SUM(A1)"]]


# --- protocol memory ------------------------------------------------------------------------------


def test_protocol_memory_by_vin_or_vehicle_is_upserted(shop: Shop) -> None:
    diag = shop.diag
    assert diag.remembered_protocol(vin=VIN, vehicle_id=shop.car, adapter_key=ADAPTER) is None
    diag.remember_protocol(vin=None, vehicle_id=shop.car, adapter_key=ADAPTER, protocol="6")
    assert diag.remembered_protocol(vin=None, vehicle_id=shop.car, adapter_key=ADAPTER) == "6"
    assert diag.remembered_protocol(vin=VIN, vehicle_id=shop.car, adapter_key=ADAPTER) == "6"  # falls back

    diag.remember_protocol(vin=VIN.lower(), vehicle_id=shop.car, adapter_key=ADAPTER, protocol="a8")
    diag.remember_protocol(vin=VIN, vehicle_id=None, adapter_key=f" {ADAPTER} ", protocol="7")
    assert diag.remembered_protocol(vin=VIN, vehicle_id=None, adapter_key=ADAPTER) == "7"
    assert diag.remembered_protocol(vin=VIN, vehicle_id=None, adapter_key="vLinker FS") is None
    assert diag.remembered_protocol(vin=None, vehicle_id=None, adapter_key=ADAPTER) is None
    with shop.db.unit() as s:
        keys = sorted(s.scalars(select(ObdProtocolMemory.vehicle_key)))
    assert keys == [VIN, f"vehicle:{shop.car}"]

    with pytest.raises(ValidationError):
        diag.remember_protocol(vin=VIN, vehicle_id=None, adapter_key=ADAPTER, protocol="ISO 15765")
    with pytest.raises(ValidationError):
        diag.remember_protocol(vin=None, vehicle_id=None, adapter_key=ADAPTER, protocol="6")


# --- GDPR -----------------------------------------------------------------------------------------


def test_customer_export_contains_scans_and_recordings(shop: Shop, tmp_path: Path) -> None:
    shop.diag.save_scan(_scan(), vehicle_id=shop.car, user="Jonas")
    shop.diag.save_recording(_recording(), vehicle_id=shop.car, user="Jonas")
    stranger, _ = CustomerService(shop.db).create(CustomerInput(last_name="Schulz"))
    other, _ = shop.vehicles.create(VehicleInput(customer_id=stranger.id, plate="B-CD 1"))
    shop.diag.save_scan(_scan(dtcs={"stored": ["P0101"]}), vehicle_id=other.id, user="Ali")

    path = PrivacyService(shop.db).export_customer(shop.customer, tmp_path, user="Theke")
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("daten.json"))
        table = list(csv.reader(io.StringIO(archive.read("diagnosen.csv").decode("utf-8-sig")), delimiter=";"))
        readme = archive.read("LIESMICH.txt").decode("utf-8-sig")
    [scan] = data["diagnosen"]
    assert (scan["vin"], scan["stored"], scan["pending"], scan["plate"]) == (
        VIN,
        ["P0420", "P0300"],
        ["P0171"],
        "M-AB 123",
    )
    assert "Katalysator: offen" in scan["readiness"] and "EGR: nicht unterstützt" in scan["readiness"]
    [recording] = data["aufzeichnungen"]
    assert recording["csv"].startswith("t_s;RPM;SPEED;LTFT\n0;850;0;-3.5\n")
    assert recording["columns"] == ["RPM (rpm)", "SPEED (km/h)", "LTFT (%)"] and recording["sample_count"] == 3
    header = dict(zip(table[0], table[1], strict=True))
    assert len(table) == 2 and header["FIN (gelesen)"] == VIN and header["Gespeicherte Fehler"] == "P0420, P0300"
    assert header["MIL an"] == "ja"
    assert "diagnosen.csv" in readme


def test_erasure_removes_diagnostics_with_the_vehicle(shop: Shop) -> None:
    car = _car(shop, "M-XY 987", OTHER_VIN)  # no order: the vehicle is deleted
    shop.diag.save_scan(_scan(vin=OTHER_VIN), vehicle_id=car, user="")
    shop.diag.save_recording(_recording(), vehicle_id=car, user="")
    shop.diag.remember_protocol(vin=OTHER_VIN, vehicle_id=car, adapter_key=ADAPTER, protocol="6")
    shop.diag.remember_protocol(vin=None, vehicle_id=car, adapter_key=ADAPTER, protocol="6")
    # the car with the order stays for the voucher; so does the scan attached to that order, not the rest
    kept = shop.diag.save_scan(_scan(), vehicle_id=shop.car, user="")
    shop.orders.cancel(shop.order)
    shop.diag.save_scan(_scan(), vehicle_id=shop.car, user="")
    shop.diag.save_recording(_recording(), vehicle_id=shop.car, user="")

    privacy = PrivacyService(shop.db)
    privacy.add_hold(customer_id=shop.customer, entity="order", entity_id=shop.order, category="voucher_8y",
                     reason="Auftrag", event_date=TODAY)  # fmt: skip
    outcome = privacy.erase_customer(shop.customer, user="Chef", today=TODAY)

    assert (outcome.removed["vehicle"], outcome.removed["obd_scan"], outcome.removed["obd_recording"]) == (1, 2, 2)
    assert outcome.removed["obd_protocol_memory"] == 2
    with shop.db.unit() as s:
        assert s.scalars(select(ObdScan.id)).all() == [kept.id]
        assert s.scalar(select(func.count()).select_from(ObdRecording)) == 0
        assert s.scalar(select(func.count()).select_from(ObdProtocolMemory)) == 0
        assert s.get(Vehicle, car) is None and s.get(Vehicle, shop.car) is not None


def test_deleting_a_vehicle_cascades_to_its_diagnostics(shop: Shop) -> None:
    car = _car(shop, "M-XY 987")
    shop.diag.save_scan(_scan(), vehicle_id=car, user="")
    shop.diag.save_recording(_recording(), vehicle_id=car, user="")
    with shop.db.unit() as s:
        vehicle = s.get(Vehicle, car)
        assert vehicle is not None
        s.delete(vehicle)
    assert _count(shop.db, ObdScan) == 0 and _count(shop.db, ObdRecording) == 0
