"""GDPR at the counter: retention clocks, legal holds, Art. 15/20 export, erasure, restriction, purge."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from app import retention
from app.db import Database
from app.errors import NotFound, ValidationError
from app.models import (
    Appointment,
    Bay,
    Consent,
    Contact,
    Customer,
    LegalHold,
    MileageReading,
    PrivacyRequest,
    Service,
    Vehicle,
    VehicleEvent,
    appointment_service,
)
from app.services import privacy as privacy_module
from app.services.privacy import PrivacyService

TODAY = dt.date(2026, 6, 1)
EMAIL, PHONE, MOBILE = "juergen.groessmann@example.de", "089 123456", "+49 170 1234567"
CONTACT_EMAIL, CONTACT_PHONE = "aenne@example.de", "0171 7654321"


@dataclass(frozen=True)
class Ids:
    customer: int
    other: int
    held_vehicle: int
    other_vehicle: int
    foreign_vehicle: int


def _vehicle(customer_id: int, plate: str, vin: str, km: list[int], event: str) -> Vehicle:
    vehicle = Vehicle(customer_id=customer_id, plate=plate, vin=vin, make="VW", model="Golf",
                      first_registration=dt.date(2018, 5, 1), hu_due=dt.date(2026, 5, 1))  # fmt: skip
    vehicle.mileages = [MileageReading(date=dt.date(2025, 1 + i, 10), km=k) for i, k in enumerate(km)]
    vehicle.events = [
        VehicleEvent(at=dt.datetime(2025, 3, 1, 9, 30), kind="visit", text=event, user="Theke"),
        VehicleEvent(at=dt.datetime(2025, 9, 1, 8, 0), kind="hu", text="HU/AU ohne Mängel", user="Theke"),
    ]
    return vehicle


@pytest.fixture
def ids(db: Database) -> Ids:
    """Jürgen Größmann with contacts, consents, two vehicles and appointments; plus another customer."""
    with db.unit() as s:
        service = Service(code="INSP", category="Wartung", name="Inspektion", aw=Decimal("12"))
        bay = Bay(name="Bühne 1")
        customer = Customer(number="K-1001", salutation="Herr", first_name="Jürgen", last_name="Größmann",
                            street="Hauptstraße 5", postcode="80331", city="München", email=EMAIL,
                            phone=PHONE, mobile=MOBILE, notes="=HYPERLINK(\"x\") zahlt bar")  # fmt: skip
        customer.contacts = [Contact(name="Änne Größmann", role="Ehefrau", phone=CONTACT_PHONE, email=CONTACT_EMAIL)]
        customer.consents = [
            Consent(channel="email", purpose="reminders", granted=True, recorded_at=dt.datetime(2025, 1, 10, 9)),
            Consent(channel="sms", purpose="reminders", granted=True, recorded_at=dt.datetime(2025, 1, 10, 9)),
            Consent(channel="sms", purpose="reminders", granted=False, recorded_at=dt.datetime(2025, 6, 2, 15)),
        ]
        other = Customer(number="K-1002", first_name="Petra", last_name="Schulz", email="petra@example.de")
        s.add_all([service, bay, customer, other])
        s.flush()
        held = _vehicle(customer.id, "M-AB 1234", "WVWZZZ1KZAW000001", [41000, 52000], "Ölwechsel und Bremsen")
        unheld = _vehicle(customer.id, "M-XY 987", "WVWZZZ1KZAW000002", [12000], "Zahnriemen gewechselt")
        foreign = _vehicle(other.id, "B-CD 55", "WVWZZZ1KZAW000003", [5000], "Inspektion")
        s.add_all([held, unheld, foreign])
        s.flush()
        for vehicle, day in ((held, 3), (unheld, 4)):
            s.add(Appointment(start=dt.datetime(2026, 6, day, 8), end=dt.datetime(2026, 6, day, 10),
                              bay_id=bay.id, customer_id=customer.id, vehicle_id=vehicle.id,
                              title="Inspektion & Ölwechsel", services=[service]))  # fmt: skip
        s.add(Appointment(start=dt.datetime(2026, 6, 5, 8), end=dt.datetime(2026, 6, 5, 9), customer_id=other.id,
                          vehicle_id=foreign.id, title="Reifenwechsel"))  # fmt: skip
        return Ids(customer.id, other.id, held.id, unheld.id, foreign.id)


def _count(db: Database, model: Any, *where: Any) -> int:
    with db.unit() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _search(db: Database, query: str) -> list[int]:
    with db.unit() as s:
        sql = text("SELECT rowid FROM search_index WHERE search_index MATCH :q ORDER BY rowid")
        return list(s.scalars(sql, {"q": query}))


def _requests(db: Database) -> list[PrivacyRequest]:
    with db.unit() as s:
        return list(s.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id)))


def _hold_vehicle(db: Database, ids: Ids) -> None:
    PrivacyService(db).add_hold(customer_id=ids.customer, entity="vehicle", entity_id=ids.held_vehicle,
                                category="voucher_8y", reason="Rechnung B1-2026-000123",
                                event_date=dt.date(2026, 3, 15))  # fmt: skip


def _snapshot(db: Database, ids: Ids) -> dict[str, Any]:
    """Everything the erasure could touch, to compare before and after a failed attempt."""
    with db.unit() as s:
        customer = s.get(Customer, ids.customer)
        assert customer is not None
        fields = (customer.email, customer.phone, customer.notes, customer.restricted_at)
    return {
        "customer": fields,
        "contacts": _count(db, Contact),
        "consents": _count(db, Consent),
        "vehicles": _count(db, Vehicle),
        "mileages": _count(db, MileageReading),
        "events": _count(db, VehicleEvent),
        "appointments": _count(db, Appointment),
        "appointment_services": _count(db, appointment_service),
        "holds": _count(db, LegalHold),
        "requests": _count(db, PrivacyRequest),
        "search": _search(db, "Größmann*") + _search(db, "mab1234*"),
    }


# --- retention clocks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "event", "end"),
    [
        ("voucher_8y", dt.date(2026, 3, 15), dt.date(2034, 12, 31)),
        ("voucher_8y", dt.date(2026, 12, 31), dt.date(2034, 12, 31)),
        ("books_10y", dt.date(2026, 1, 1), dt.date(2036, 12, 31)),
        ("letters_6y", dt.date(2024, 2, 29), dt.date(2030, 12, 31)),
        ("warranty_3y", dt.date(2026, 7, 1), dt.date(2029, 12, 31)),
        ("consent_proof_5y", dt.date(2026, 6, 1), dt.date(2031, 12, 31)),
    ],
)
def test_retention_end_runs_from_the_end_of_the_calendar_year(category: str, event: dt.date, end: dt.date) -> None:
    assert retention.retention_end(category, event) == end


def test_retention_categories_have_german_labels_and_reject_unknown_ones() -> None:
    assert retention.rule("voucher_8y").label == "Buchungsbelege: Rechnungen, Auftragszettel – 8 Jahre"
    assert retention.rule(retention.RetentionCategory.CONSENT_PROOF_5Y).years == 5
    with pytest.raises(ValidationError) as err:
        retention.category("forever")
    assert "forever" in str(err.value) and err.value.field == "category"


# --- legal holds ----------------------------------------------------------------------------


def test_add_hold_computes_until_and_holds_lists_only_active_ones(db: Database, ids: Ids) -> None:
    service = PrivacyService(db)
    hold = service.add_hold(customer_id=ids.customer, entity="vehicle", entity_id=ids.held_vehicle,
                            category="voucher_8y", reason="Rechnung 1", event_date=dt.date(2026, 3, 15))  # fmt: skip
    assert hold.until == dt.date(2034, 12, 31)
    assert "Fahrzeug" in hold.describe() and "31.12.2034" in hold.describe()
    assert [h.id for h in service.holds(ids.customer, today=dt.date(2034, 12, 31))] == [hold.id]
    assert service.holds(ids.customer, today=dt.date(2035, 1, 1)) == []
    # A later voucher for the same vehicle extends the same hold instead of adding a second one.
    later = service.add_hold(customer_id=ids.customer, entity="vehicle", entity_id=ids.held_vehicle,
                             category="voucher_8y", reason="Rechnung 2", event_date=dt.date(2027, 2, 1))  # fmt: skip
    assert (later.id, later.until, later.reason) == (hold.id, dt.date(2035, 12, 31), "Rechnung 2")
    assert _count(db, LegalHold) == 1


def test_add_hold_rejects_foreign_records_unknown_categories_and_customers(db: Database, ids: Ids) -> None:
    service = PrivacyService(db)
    with pytest.raises(ValidationError) as err:
        service.add_hold(customer_id=ids.customer, entity="vehicle", entity_id=ids.foreign_vehicle,
                         category="voucher_8y", reason="", event_date=TODAY)  # fmt: skip
    assert err.value.field == "entity_id"
    with pytest.raises(ValidationError):
        service.add_hold(customer_id=ids.customer, entity="vehicle", entity_id=ids.held_vehicle,
                         category="immer", reason="", event_date=TODAY)  # fmt: skip
    with pytest.raises(NotFound):
        service.add_hold(customer_id=9999, entity="invoice", entity_id=1, category="voucher_8y", reason="",
                         event_date=TODAY)  # fmt: skip
    assert _count(db, LegalHold) == 0


# --- export ---------------------------------------------------------------------------------


def _read_zip(path: Path) -> tuple[dict[str, Any], dict[str, list[list[str]]], dict[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        raw = {name: archive.read(name) for name in archive.namelist()}
    tables = {
        name.removesuffix(".csv"): list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
        for name, body in raw.items()
        if name.endswith(".csv")
    }
    return json.loads(raw["daten.json"].decode("utf-8")), tables, raw


def test_export_zip_has_json_csv_and_readme_with_every_linked_record(db: Database, ids: Ids, tmp_path: Path) -> None:
    _hold_vehicle(db, ids)
    path = PrivacyService(db).export_customer(ids.customer, tmp_path, user="Theke")

    assert path.parent == tmp_path and path.name.startswith("DSGVO-Export_K-1001_") and path.suffix == ".zip"
    data, tables, raw = _read_zip(path)
    assert set(raw) == {"LIESMICH.txt", "daten.json", "kunde.csv", "kontakte.csv", "einwilligungen.csv",
                        "fahrzeuge.csv", "kilometerstaende.csv", "fahrzeughistorie.csv", "termine.csv",
                        "diagnosen.csv", "aufzeichnungen.csv", "aufbewahrung.csv"}  # fmt: skip
    assert {"format", "version", "kunde", "kontakte", "einwilligungen", "fahrzeuge", "termine",
            "aufbewahrung"} <= set(data)  # fmt: skip
    assert data["kunde"]["last_name"] == "Größmann" and data["kunde"]["email"] == EMAIL
    assert [c["email"] for c in data["kontakte"]] == [CONTACT_EMAIL]
    assert [(c["channel"], c["granted"]) for c in data["einwilligungen"]] == [
        ("email", True), ("sms", True), ("sms", False)
    ]  # fmt: skip
    vehicles = {v["plate"]: v for v in data["fahrzeuge"]}
    assert set(vehicles) == {"M-AB 1234", "M-XY 987"}  # not the other customer's car
    assert [m["km"] for m in vehicles["M-AB 1234"]["kilometerstaende"]] == [41000, 52000]
    assert vehicles["M-AB 1234"]["kilometerstaende"][0]["date"] == "2025-01-10"
    assert vehicles["M-XY 987"]["historie"][0]["text"] == "Zahnriemen gewechselt"
    assert [t["services"] for t in data["termine"]] == [["INSP Inspektion"], ["INSP Inspektion"]]
    assert data["termine"][0]["start"] == "2026-06-03T08:00:00" and data["termine"][0]["bay"] == "Bühne 1"
    assert data["aufbewahrung"][0]["until"] == "2034-12-31"

    for name, body in raw.items():
        if name.endswith(".csv"):
            assert body.startswith(b"\xef\xbb\xbf"), name
    assert tables["kunde"][0][:5] == ["Kundennummer", "Art", "Anrede", "Vorname", "Nachname"]
    customer_row = dict(zip(tables["kunde"][0], tables["kunde"][1], strict=True))
    assert customer_row["Nachname"] == "Größmann" and customer_row["Straße"] == "Hauptstraße 5"
    assert customer_row["Mobil"] == MOBILE  # a phone number is not mistaken for a formula
    assert customer_row["Notizen"].startswith("'=HYPERLINK")  # but a formula is defused for Excel
    assert tables["kontakte"] == [["Name", "Funktion", "Telefon", "E-Mail"],
                                  ["Änne Größmann", "Ehefrau", CONTACT_PHONE, CONTACT_EMAIL]]  # fmt: skip
    assert [row[2] for row in tables["einwilligungen"][1:]] == ["ja", "ja", "nein"]
    assert len(tables["fahrzeuge"]) == 3 and len(tables["kilometerstaende"]) == 4
    assert tables["fahrzeughistorie"][0] == [
        "Fahrzeug-Nr.",
        "Kennzeichen",
        "Zeitpunkt (UTC)",
        "Art",
        "Text",
        "Benutzer",
    ]
    assert ["M-AB 1234", "2025-03-01T09:30:00", "visit", "Ölwechsel und Bremsen"] == tables["fahrzeughistorie"][1][1:5]
    assert tables["termine"][1][5] == "Inspektion & Ölwechsel" and len(tables["termine"]) == 3
    assert tables["aufbewahrung"][1][0] == "voucher_8y"

    readme = raw["LIESMICH.txt"].decode("utf-8-sig")
    assert "Art. 15" in readme and "Art. 20" in readme and "kilometerstaende.csv" in readme
    assert "gesperrt" not in readme
    [request] = _requests(db)
    assert (request.kind, request.customer_number, request.performed_by) == ("export", "K-1001", "Theke")
    assert json.loads(request.outcome)["counts"]["fahrzeuge"] == 2


def test_export_of_a_restricted_customer_still_works_for_the_audit(db: Database, ids: Ids, tmp_path: Path) -> None:
    _hold_vehicle(db, ids)
    service = PrivacyService(db)
    service.erase_customer(ids.customer, user="Chef", today=TODAY)
    path = service.export_customer(ids.customer, tmp_path / "auskunft.zip", user="Prüfer")
    data, tables, raw = _read_zip(path)
    assert path == tmp_path / "auskunft.zip"
    assert data["kunde"]["restricted_at"] is not None and data["kunde"]["email"] == ""
    assert [v["plate"] for v in data["fahrzeuge"]] == ["M-AB 1234"]
    assert data["kontakte"] == [] and data["termine"] == [] and len(tables["kunde"]) == 2
    assert "gesperrt (Art. 18 DSGVO)" in raw["LIESMICH.txt"].decode("utf-8-sig")


def test_export_of_an_unknown_customer_writes_nothing(db: Database, tmp_path: Path) -> None:
    target = tmp_path / "exporte"
    target.mkdir()
    with pytest.raises(NotFound):
        PrivacyService(db).export_customer(4711, target, user="Theke")
    assert list(target.iterdir()) == []
    assert _requests(db) == []


# --- erasure --------------------------------------------------------------------------------


def test_erasure_without_hold_deletes_everything_but_the_consent_proof(db: Database, ids: Ids) -> None:
    assert _search(db, "Größmann*") == [ids.customer * 2]
    outcome = PrivacyService(db).erase_customer(ids.customer, user="Chef", today=TODAY)

    assert (outcome.deleted, outcome.restricted, outcome.kept) == (True, False, [])
    assert outcome.removed == {"customer": 1, "contact": 1, "consent": 3, "vehicle": 2, "mileage_reading": 3,
                               "vehicle_event": 4, "appointment": 2, "legal_hold": 0, "obd_scan": 0,
                               "obd_recording": 0, "obd_protocol_memory": 0}  # fmt: skip
    assert outcome.changes.customers and outcome.changes.vehicles and outcome.changes.appointments
    assert _count(db, Customer) == 1 and _count(db, Customer, Customer.id == ids.customer) == 0
    assert _count(db, Contact) == 0 and _count(db, Consent) == 0
    assert _count(db, Vehicle) == 1 and _count(db, Vehicle, Vehicle.id == ids.foreign_vehicle) == 1
    assert _count(db, MileageReading) == 1 and _count(db, VehicleEvent) == 2
    assert _count(db, Appointment) == 1 and _count(db, appointment_service) == 0
    assert _search(db, "Größmann*") == [] and _search(db, "Schulz*") == [ids.other * 2]

    [request] = _requests(db)
    assert (request.kind, request.customer_number, request.performed_by) == ("erasure", "K-1001", "Chef")
    logged = json.loads(request.outcome)
    proof = logged["consent_proof"]
    assert proof["customer_number"] == "K-1001" and proof["keep_until"] == "2031-12-31"
    assert [(c["channel"], c["granted"], c["text_version"], c["source"]) for c in proof["consents"]] == [
        ("email", True, "2026-1", "Theke"), ("sms", True, "2026-1", "Theke"), ("sms", False, "2026-1", "Theke")
    ]  # fmt: skip
    assert proof["consents"][2]["recorded_at"] == "2025-06-02T15:00:00"
    for personal in (EMAIL, PHONE, MOBILE, CONTACT_EMAIL, CONTACT_PHONE, "Größmann", "Hauptstraße"):
        assert personal not in request.outcome


def test_erasure_with_hold_restricts_and_keeps_only_the_held_vehicle(db: Database, ids: Ids) -> None:
    _hold_vehicle(db, ids)
    service = PrivacyService(db)
    assert _search(db, "Größmann*") == [ids.customer * 2]
    assert _search(db, "mab1234*") == [ids.held_vehicle * 2 + 1]
    assert not service.is_restricted(ids.customer)

    outcome = service.erase_customer(ids.customer, user="Chef", today=TODAY)

    assert (outcome.deleted, outcome.restricted) == (False, True)
    assert outcome.removed["vehicle"] == 1 and outcome.removed["customer"] == 0
    assert len(outcome.kept) == 1 and "31.12.2034" in outcome.kept[0] and "B1-2026-000123" in outcome.kept[0]
    assert service.is_restricted(ids.customer)
    with db.unit() as s:
        customer = s.get(Customer, ids.customer)
        assert customer is not None
        assert (customer.first_name, customer.last_name, customer.street, customer.postcode, customer.city) == (
            "Jürgen", "Größmann", "Hauptstraße 5", "80331", "München"
        )  # fmt: skip
        assert (customer.email, customer.phone, customer.mobile, customer.notes) == ("", "", "", "")
        assert customer.restricted_at is not None
    assert _count(db, Vehicle, Vehicle.customer_id == ids.customer) == 1
    assert _count(db, Vehicle, Vehicle.id == ids.other_vehicle) == 0
    assert _count(db, MileageReading, MileageReading.vehicle_id == ids.held_vehicle) == 2
    assert _count(db, VehicleEvent, VehicleEvent.vehicle_id == ids.held_vehicle) == 2
    assert _count(db, MileageReading, MileageReading.vehicle_id == ids.other_vehicle) == 0
    assert _count(db, Contact) == 0 and _count(db, Consent) == 0
    assert _count(db, Appointment, Appointment.customer_id == ids.customer) == 0
    assert _count(db, Appointment) == 1  # the other customer's appointment stays
    # Gone from search: the customer (FTS trigger) and the held vehicle that points to them.
    assert _search(db, "Größmann*") == [] and _search(db, "mab1234*") == []
    assert _search(db, "Schulz*") == [ids.other * 2]
    [request] = _requests(db)
    logged = json.loads(request.outcome)
    assert logged["restricted"] and len(logged["consent_proof"]["consents"]) == 3
    assert EMAIL not in request.outcome and MOBILE not in request.outcome


@pytest.mark.parametrize("with_hold", [False, True])
def test_a_failure_mid_erasure_leaves_everything_intact(
    db: Database, ids: Ids, monkeypatch: pytest.MonkeyPatch, with_hold: bool
) -> None:
    if with_hold:
        _hold_vehicle(db, ids)
    before = _snapshot(db, ids)
    assert before["search"]

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("Festplatte voll")

    # Logging runs after all deletions, so a failure there must roll all of them back.
    monkeypatch.setattr(privacy_module, "_log_request", boom)
    with pytest.raises(RuntimeError):
        PrivacyService(db).erase_customer(ids.customer, user="Chef", today=TODAY)
    assert _snapshot(db, ids) == before
    assert not PrivacyService(db).is_restricted(ids.customer)


def test_erasure_of_an_unknown_customer_is_not_found(db: Database) -> None:
    with pytest.raises(NotFound):
        PrivacyService(db).erase_customer(4711, user="Chef", today=TODAY)


# --- final deletion -------------------------------------------------------------------------


def test_purge_deletes_a_restricted_customer_only_after_the_hold_has_ended(db: Database, ids: Ids) -> None:
    _hold_vehicle(db, ids)
    service = PrivacyService(db)
    service.erase_customer(ids.customer, user="Chef", today=TODAY)

    assert service.purge_expired(today=dt.date(2031, 12, 31), user="System") == 0
    assert json.loads(_requests(db)[0].outcome)["consent_proof"]["keep_until"] == "2031-12-31"
    assert service.purge_expired(today=dt.date(2034, 12, 31), user="System") == 0
    assert service.is_restricted(ids.customer)
    assert _count(db, Vehicle, Vehicle.id == ids.held_vehicle) == 1 and _count(db, LegalHold) == 1
    assert len(_requests(db)) == 1  # nothing happened, nothing logged

    assert service.purge_expired(today=dt.date(2035, 1, 1), user="System") == 1
    assert _count(db, Customer, Customer.id == ids.customer) == 0
    assert _count(db, Vehicle, Vehicle.id == ids.held_vehicle) == 0
    assert _count(db, MileageReading, MileageReading.vehicle_id == ids.held_vehicle) == 0
    assert _count(db, LegalHold) == 0
    assert _count(db, Customer, Customer.id == ids.other) == 1  # never restricted, never purged
    erasure, final = _requests(db)
    assert json.loads(final.outcome)["final"] and json.loads(final.outcome)["deleted"]
    assert final.performed_by == "System"
    # The consent proof of the erasure (kept until 31.12.2031) left the log in 2034; the entry stays.
    logged = json.loads(erasure.outcome)
    assert logged["consent_proof"] is None and logged["consent_proof_deleted_on"] == "2034-12-31"
    assert logged["restricted"] is True


def test_purge_deletes_a_record_whose_own_hold_ended_while_the_customer_stays_restricted(
    db: Database, ids: Ids
) -> None:
    service = PrivacyService(db)
    service.add_hold(customer_id=ids.customer, entity="vehicle", entity_id=ids.held_vehicle,
                     category="warranty_3y", reason="Gewährleistung Bremsen", event_date=TODAY)  # fmt: skip
    service.add_hold(customer_id=ids.customer, entity="customer", entity_id=ids.customer,
                     category="letters_6y", reason="Kostenvoranschlag", event_date=TODAY)  # fmt: skip
    service.erase_customer(ids.customer, user="Chef", today=TODAY)
    assert _count(db, Vehicle, Vehicle.customer_id == ids.customer) == 1

    assert service.purge_expired(today=dt.date(2030, 1, 1), user="System") == 0
    assert _count(db, Vehicle, Vehicle.customer_id == ids.customer) == 0
    assert service.is_restricted(ids.customer)
    assert [h.category for h in service.holds(ids.customer, today=dt.date(2030, 1, 1))] == ["letters_6y"]

    assert service.purge_expired(today=dt.date(2033, 1, 1), user="System") == 1
    assert _count(db, Customer, Customer.id == ids.customer) == 0
