"""Workshop settings: validation per field, all-or-nothing updates, bays and mechanics."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.errors import ConflictError, ValidationError
from app.services.settings import SettingsService


def test_defaults_on_a_new_database(db) -> None:  # type: ignore[no-untyped-def]
    settings = SettingsService(db).get()
    assert settings.aw_per_hour == 10
    assert settings.bundesland == "BY"
    assert settings.labour_rate_net == Decimal("0.00")


def test_update_validates_and_normalises(db) -> None:  # type: ignore[no-untyped-def]
    service = SettingsService(db)
    settings, changes = service.update(
        name="Kfz Huber",
        iban="DE89 3704 0044 0532 0130 00",
        vat_id="DE136695976",
        labour_rate_net="118,50",
        aw_per_hour="12",
        tax_number="181/815/08155",
        bundesland="by",
    )
    assert changes.settings
    assert settings.iban == "DE89370400440532013000"
    assert settings.labour_rate_net == Decimal("118.50")
    assert settings.aw_per_hour == 12
    assert settings.bundesland == "BY"
    # AW price = hourly rate / AW per hour
    assert settings.aw_price == Decimal("118.50") / 12


@pytest.mark.parametrize(
    ("key", "value", "field", "words"),
    [
        ("iban", "DE89370400440532013001", "iban", "IBAN"),
        ("vat_id", "DE123456789", "vat_id", "USt-IdNr."),
        ("aw_per_hour", "11", "aw_per_hour", "10, 12 oder 100"),
        ("labour_rate_net", "12,345", "labour_rate_net", "2 Nachkommastellen"),
        ("labour_rate_net", "abc", "labour_rate_net", "keine Zahl"),
        ("bundesland", "XX", "bundesland", "Bundesland"),
        ("postcode", "1234", "postcode", "Postleitzahl"),
        ("bic", "XYZ", "bic", "BIC"),
        ("unknown_key", "1", "unknown_key", "Unbekannte Einstellung"),
    ],
)
def test_bad_values_name_the_field_and_change_nothing(db, key, value, field, words) -> None:  # type: ignore[no-untyped-def]
    service = SettingsService(db)
    service.update(name="Kfz Huber", labour_rate_net="100")
    with pytest.raises(ValidationError) as info:
        service.update(name="Anderer Name", **{key: value})
    assert info.value.field == field
    assert words in info.value.message
    assert service.get().name == "Kfz Huber"


def test_tax_number_is_checked_against_the_bundesland(db) -> None:  # type: ignore[no-untyped-def]
    service = SettingsService(db)
    service.update(bundesland="BY", tax_number="181/815/08155")
    with pytest.raises(ValidationError) as info:
        service.update(bundesland="HH")
    assert info.value.field == "tax_number"


def test_bays_and_mechanics(db) -> None:  # type: ignore[no-untyped-def]
    service = SettingsService(db)
    b1 = service.add_bay("Bühne 1")
    service.add_bay("Bühne 2")
    with pytest.raises(ConflictError):
        service.add_bay("Bühne 1")
    service.set_bay_active(b1.id, False)
    assert [b.name for b in service.bays()] == ["Bühne 2"]
    assert len(service.bays(include_inactive=True)) == 2
    service.add_mechanic("Emre Yılmaz")
    with pytest.raises(ValidationError):
        service.add_mechanic("  ")
    assert [m.name for m in service.mechanics()] == ["Emre Yılmaz"]
