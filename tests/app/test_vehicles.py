"""Vehicles: VIN/plate checks, VIN decoding into the record, HU default, mileage, history."""

from __future__ import annotations

import datetime as dt

import pytest

from app.errors import ConflictError, ValidationError
from app.services.customers import CustomerInput, CustomerService
from app.services.vehicles import VehicleInput, VehicleService
from app.vehicle_rules import HuStatus

TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def owner(db) -> int:  # type: ignore[no-untyped-def]
    dto, _ = CustomerService(db).create(CustomerInput(last_name="Müller", first_name="Anna"))
    return dto.id


def test_create_normalises_and_decodes(db, owner) -> None:  # type: ignore[no-untyped-def]
    service = VehicleService(db, today=TODAY)
    dto, changes = service.create(
        VehicleInput(
            customer_id=owner,
            vin="wvwzzz1kzaw123456",
            plate="m ab 123",
            model="Golf",
            first_registration=dt.date(2024, 5, 10),
        ),
        mileage=12_345,
    )
    assert changes.vehicles
    assert dto.data.vin == "WVWZZZ1KZAW123456"
    assert dto.data.plate == "M-AB 123"
    assert dto.data.make == "Volkswagen"
    assert dto.customer_name == "Müller, Anna"
    assert dto.last_mileage == 12_345
    # a new car: the first HU is 36 months after first registration
    assert dto.data.hu_due == dt.date(2027, 5, 1)
    assert dto.hu_status is HuStatus.OK
    assert dto.title == "M-AB 123 · Volkswagen Golf"


def test_old_car_without_sticker_month_has_unknown_hu(db, owner) -> None:  # type: ignore[no-untyped-def]
    dto, _ = VehicleService(db, today=TODAY).create(
        VehicleInput(customer_id=owner, plate="M-XY 1", first_registration=dt.date(2012, 3, 1))
    )
    assert dto.data.hu_due is None
    assert dto.hu_status is HuStatus.UNKNOWN


def test_every_bad_field_is_named(db, owner) -> None:  # type: ignore[no-untyped-def]
    from app.services.vehicles import validate_vehicle

    _, errors = validate_vehicle(
        VehicleInput(
            vin="WVWZZZ1KZAW12345O", plate="MAB123", hsn="12", tsn="1", first_registration=dt.date(2030, 1, 1)
        ),
        TODAY,
    )
    assert {e.field for e in errors} >= {"vin", "plate", "hsn", "tsn", "first_registration"}
    with pytest.raises(ValidationError):
        VehicleService(db, today=TODAY).create(VehicleInput(customer_id=owner))


def test_vin_is_unique(db, owner) -> None:  # type: ignore[no-untyped-def]
    service = VehicleService(db, today=TODAY)
    service.create(VehicleInput(customer_id=owner, vin="WVWZZZ1KZAW123456", plate="M-AB 1"))
    with pytest.raises(ConflictError):
        service.create(VehicleInput(customer_id=owner, vin="WVWZZZ1KZAW123456", plate="M-AB 2"))


def test_mileage_may_not_go_backwards_unless_allowed(db, owner) -> None:  # type: ignore[no-untyped-def]
    service = VehicleService(db, today=TODAY)
    dto, _ = service.create(VehicleInput(customer_id=owner, plate="M-AB 1"), mileage=50_000)
    with pytest.raises(ValidationError):
        service.record_mileage(dto.id, 40_000)
    dto, _ = service.record_mileage(dto.id, 40_000, allow_lower=True)
    assert dto.last_mileage == 40_000
    with pytest.raises(ValidationError):
        service.record_mileage(dto.id, -5)


def test_hu_recorded_moves_due_month_by_24_months(db, owner) -> None:  # type: ignore[no-untyped-def]
    service = VehicleService(db, today=TODAY)
    dto, _ = service.create(VehicleInput(customer_id=owner, plate="M-AB 1", hu_due=dt.date(2026, 8, 15)))
    assert dto.data.hu_due == dt.date(2026, 8, 1)
    assert dto.hu_status is HuStatus.OVERDUE_2M
    dto, _ = service.record_hu(dto.id, dt.date(2026, 11, 20), user="Theke")
    assert dto.data.hu_due == dt.date(2028, 11, 1)
    kinds = [h.kind for h in service.history(dto.id)]
    assert "hu" in kinds and "km" not in kinds


def test_owner_change_and_history(db, owner) -> None:  # type: ignore[no-untyped-def]
    other, _ = CustomerService(db).create(CustomerInput(last_name="Weber"))
    service = VehicleService(db, today=TODAY)
    dto, _ = service.create(VehicleInput(customer_id=owner, plate="M-AB 1"), mileage=1000)
    service.update(dto.id, VehicleInput(customer_id=other.id, plate="M-AB 1"), user="Theke")
    service.add_note(dto.id, "Kunde wünscht Rückruf", user="Theke")
    history = service.history(dto.id)
    assert {h.kind for h in history} >= {"owner", "note", "km"}
    assert service.for_customer(other.id)[0].id == dto.id
    assert service.for_customer(owner) == []


def test_hu_due_between(db, owner) -> None:  # type: ignore[no-untyped-def]
    service = VehicleService(db, today=TODAY)
    service.create(VehicleInput(customer_id=owner, plate="M-AB 1", hu_due=dt.date(2026, 12, 1)))
    service.create(VehicleInput(customer_id=owner, plate="M-AB 2", hu_due=dt.date(2027, 6, 1)))
    due = service.hu_due_between(TODAY, TODAY + dt.timedelta(days=60))
    assert [v.data.plate for v in due] == ["M-AB 1"]
