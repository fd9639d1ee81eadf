"""Search as you type over customers and vehicles (FTS5 kept current by triggers)."""

from __future__ import annotations

import datetime as dt

from app.models import Customer, Vehicle
from app.services.search import SearchService, fts_query


def _seed(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit() as s:
        anna = Customer(number="K10001", last_name="Müller", first_name="Anna", city="München", phone="089 123456")
        firm = Customer(number="K10002", kind="business", company="Elektro Brandl GmbH", city="Freising")
        s.add_all([anna, firm])
        s.flush()
        s.add_all(
            [
                Vehicle(
                    customer_id=anna.id, plate="M-AB 123", vin="WVWZZZ1KZAW123456", make="Volkswagen", model="Golf"
                ),
                Vehicle(
                    customer_id=firm.id, plate="FS-XY 9", vin="WDD2050041R654321", make="Mercedes-Benz", model="C 220 d"
                ),
            ]
        )


def test_query_building() -> None:
    assert fts_query("  ") is None
    assert fts_query("Mül") == '"Mül"*'
    assert fts_query("M AB 12") == '("M"* AND "AB"* AND "12"*) OR "MAB12"*'
    assert fts_query('a"b') == '("a"* AND "b"*) OR "ab"*'


def test_plate_fragments_find_the_vehicle_with_its_owner(db) -> None:  # type: ignore[no-untyped-def]
    _seed(db)
    search = SearchService(db)
    for typed in ("M AB", "m-ab 12", "MAB1", "mab123"):
        hits = search.search(typed)
        assert hits and hits[0].kind == "vehicle", typed
        assert hits[0].title.startswith("M-AB 123")
        assert "Müller, Anna" in hits[0].subtitle


def test_names_without_umlauts_and_vin_fragments(db) -> None:  # type: ignore[no-untyped-def]
    _seed(db)
    search = SearchService(db)
    assert [h.title for h in search.search("mull")] == ["Müller, Anna"]
    assert [h.title for h in search.search("Brandl")] == ["Elektro Brandl GmbH"]
    assert search.search("654321")[0].title.startswith("FS-XY 9")
    assert search.search("WDD205")[0].vehicle_id is not None
    assert search.search("089 123")[0].kind == "customer"
    assert search.search("xyzzy") == []


def test_index_follows_updates_deletes_and_restriction(db) -> None:  # type: ignore[no-untyped-def]
    _seed(db)
    search = SearchService(db)
    with db.unit() as s:
        vehicle = s.query(Vehicle).filter_by(plate="M-AB 123").one()
        vehicle.plate = "M-CD 456"
    assert search.search("M AB") == []
    assert search.search("M CD 4")[0].kind == "vehicle"
    with db.unit() as s:
        anna = s.query(Customer).filter_by(number="K10001").one()
        anna.restricted_at = dt.datetime(2026, 1, 1)
    assert search.search("Müller") == []
    # the restricted customer's vehicle is hidden too
    assert search.search("M CD 4") == []
