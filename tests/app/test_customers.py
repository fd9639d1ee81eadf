"""Customers: validation with every problem named, numbers, consent history, contacts."""

from __future__ import annotations

import pytest

from app.errors import NotFound, ValidationError
from app.services.customers import ConsentChange, CustomerInput, CustomerService, validate_customer

ANNA = CustomerInput(
    kind="private",
    salutation="Frau",
    first_name="Anna",
    last_name="Müller",
    street="Hauptstraße 1",
    postcode="80331",
    city="München",
    email="anna@mail.example",
    phone="089 123456",
)


def test_create_private_customer_gets_a_number(db) -> None:  # type: ignore[no-untyped-def]
    service = CustomerService(db)
    dto, changes = service.create(ANNA)
    assert changes.customers
    assert dto.number == "K10001"
    assert dto.display_name == "Müller, Anna"
    assert dto.address_line == "Hauptstraße 1, 80331 München"
    second, _ = service.create(CustomerInput(last_name="Weber"))
    assert second.number == "K10002"
    assert service.get_by_number("k10002").id == second.id


def test_business_customer_needs_company_and_valid_vat_id(db) -> None:  # type: ignore[no-untyped-def]
    service = CustomerService(db)
    data = CustomerInput(
        kind="business", company="Elektro Brandl GmbH", vat_id="DE 136 695 976", postcode="85354", city="Freising"
    )
    dto, _ = service.create(data)
    assert dto.data.vat_id == "DE136695976"
    assert dto.display_name == "Elektro Brandl GmbH"
    with pytest.raises(ValidationError) as info:
        service.create(CustomerInput(kind="business", company=""))
    assert info.value.field == "company"


def test_every_problem_is_reported_for_inline_display() -> None:
    data = CustomerInput(
        kind="private", last_name="", postcode="8033", email="anna(at)mail", phone="abc", vat_id="DE123"
    )
    _, errors = validate_customer(data)
    fields = {e.field for e in errors}
    assert {"last_name", "postcode", "email", "phone", "vat_id"} <= fields
    messages = " ".join(e.message for e in errors)
    assert "Postleitzahl" in messages and "E-Mail" in messages and "Nachname" in messages


def test_invalid_update_changes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    service = CustomerService(db)
    dto, _ = service.create(ANNA)
    with pytest.raises(ValidationError):
        service.update(dto.id, CustomerInput(last_name="Müller-Lüdenscheidt", postcode="ABCDE"))
    assert service.get(dto.id).data.last_name == "Müller"


def test_foreign_postcodes_follow_their_country(db) -> None:  # type: ignore[no-untyped-def]
    service = CustomerService(db)
    dto, _ = service.create(CustomerInput(last_name="Gruber", postcode="1010", city="Wien", country="at"))
    assert dto.data.country == "AT"
    with pytest.raises(ValidationError):
        service.create(CustomerInput(last_name="Gruber", postcode="1010", city="Berlin", country="DE"))


def test_consent_history_is_append_only_and_newest_wins(db) -> None:  # type: ignore[no-untyped-def]
    service = CustomerService(db)
    dto, _ = service.create(ANNA, consents=(ConsentChange("email", True),), user="Theke")
    assert dto.consent("email")
    dto, _ = service.set_consent(dto.id, ConsentChange("email", False, source="Telefon"), user="Theke")
    assert not dto.consent("email")
    from app.models import Consent

    with db.unit() as s:
        history = s.query(Consent).filter_by(customer_id=dto.id).order_by(Consent.id).all()
        assert [c.granted for c in history] == [True, False]
        assert history[1].source == "Telefon"
    with pytest.raises(ValidationError):
        service.set_consent(dto.id, ConsentChange("fax", True))


def test_contacts(db) -> None:  # type: ignore[no-untyped-def]
    service = CustomerService(db)
    dto, _ = service.create(CustomerInput(kind="business", company="Taxi Isar GmbH"))
    service.add_contact(dto.id, name="Herr Obermaier", role="Fuhrpark", phone="0170 1234567")
    contacts = service.get(dto.id).contacts
    assert [c.name for c in contacts] == ["Herr Obermaier"]
    service.remove_contact(dto.id, contacts[0].id)
    assert service.get(dto.id).contacts == ()


def test_unknown_customer(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        CustomerService(db).get(999)
