"""Service catalogue: the shipped CSV, search, prices and maintenance (app.services.catalog)."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from importlib import resources

import pytest

from app.catalog_csv import ServiceRow, read_catalog_csv
from app.db import Database
from app.errors import ConflictError, NotFound, ValidationError
from app.services.catalog import CatalogService, ServiceDTO, labour_price, price_for

SHIPPED = resources.files("resources") / "catalog" / "services.csv"
HEADER = "code;category;name;aw;parts;price_rule;price_net;vat_rate"


@pytest.fixture
def catalog(db: Database) -> CatalogService:
    return CatalogService(db)


@pytest.fixture
def loaded(catalog: CatalogService) -> CatalogService:
    catalog.load_defaults()
    return catalog


def row(code: str = "T-0001", name: str = "Testleistung", **kw: object) -> ServiceRow:
    fields: dict[str, object] = {"category": "Test", "aw": Decimal("5")} | kw
    return ServiceRow(code=code, name=name, **fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- shipped catalogue


def test_shipped_csv_has_500_valid_unique_rows_in_15_categories() -> None:
    data = SHIPPED.read_bytes()
    assert data.decode("utf-8").splitlines()[0] == HEADER  # plain UTF-8, the documented header
    rows = read_catalog_csv(data)  # raises ImportRejected on any invalid cell
    assert len(rows) >= 500
    assert len({r.code for r in rows}) == len(rows)
    assert len({(r.category, r.name) for r in rows}) == len(rows)
    categories = Counter(r.category for r in rows)
    assert len(categories) >= 15
    assert min(categories.values()) >= 10
    assert all(re.fullmatch(r"[A-Z]{2}-\d{4}", r.code) for r in rows)
    assert all(r.vat_rate == Decimal("19") for r in rows)
    assert {r.price_rule for r in rows} == {"aw", "fixed", "from"}


def test_shipped_csv_uses_the_trades_words_and_plausible_numbers() -> None:
    rows = read_catalog_csv(SHIPPED.read_bytes())
    names = {r.name for r in rows}
    for expected in ("Bremsbeläge vorne erneuern", "Fehlerspeicher auslesen"):
        assert expected in names
    for start in ("Zahnriemen mit Wasserpumpe erneuern", "Klimaservice inkl. Desinfektion", "HU/AU-Vorführung"):
        assert any(n.startswith(start) for n in names), start
    by_name = {r.name: r for r in rows}
    assert by_name["Bremsbeläge vorne erneuern"].parts == ("Bremsbeläge", "Verschleißanzeiger")
    assert all(r.aw <= 200 for r in rows)
    assert all(r.price_net is not None and r.price_net > 0 for r in rows if r.price_rule != "aw")
    assert all(r.price_net is None for r in rows if r.price_rule == "aw")
    # Codes share one prefix per category.
    prefixes: dict[str, set[str]] = {}
    for r in rows:
        prefixes.setdefault(r.category, set()).add(r.code.split("-")[0])
    assert all(len(p) == 1 for p in prefixes.values())


def test_load_defaults_imports_once(catalog: CatalogService) -> None:
    expected = len(read_catalog_csv(SHIPPED.read_bytes()))
    assert catalog.load_defaults() == expected
    assert catalog.count() == expected
    assert catalog.load_defaults() == 0
    assert catalog.count() == expected


def test_load_defaults_leaves_a_non_empty_catalogue_alone(catalog: CatalogService) -> None:
    catalog.create(row())
    assert catalog.load_defaults() == 0
    assert catalog.count() == 1


# ---------------------------------------------------------------------------------- search


def names(results: list[ServiceDTO]) -> list[str]:
    return [r.name for r in results]


@pytest.mark.parametrize("query", ["oelwechsel", "ÖLWECHSEL", "olwechsel", "Ölwechsel"])
def test_search_ignores_case_and_umlaut_spelling(loaded: CatalogService, query: str) -> None:
    found = loaded.search(query, limit=100)
    assert found
    assert all("ölwechsel" in r.name.lower() for r in found)


def test_search_requires_every_word(loaded: CatalogService) -> None:
    found = loaded.search("bremsbelage hinten", limit=100)
    assert found
    for r in found:
        assert "bremsbeläge" in r.name.lower() and "hinten" in r.name.lower()
    assert "Bremsbeläge vorne erneuern" not in names(found)


def test_search_ranks_the_name_that_starts_with_the_query_first(loaded: CatalogService) -> None:
    assert loaded.search("bremsbeläge vorne")[0].name == "Bremsbeläge vorne erneuern"
    assert loaded.search("HU/AU")[0].name.startswith("HU/AU-Vorführung")
    assert loaded.search("fehlerspeicher")[0].name == "Fehlerspeicher auslesen"


def test_search_by_code_puts_the_exact_code_first(loaded: CatalogService) -> None:
    target = loaded.search("Bremsbeläge vorne erneuern")[0]
    assert loaded.search(target.code.lower())[0] == target
    assert loaded.search(target.code.replace("-", ""))[0] == target


def test_search_finds_parts_and_categories(loaded: CatalogService) -> None:
    by_part = loaded.search("verschleißanzeiger", limit=200)
    assert any("Verschleißanzeiger" in r.parts for r in by_part)
    assert any("Verschleißanzeiger" not in r.name for r in by_part)
    assert {r.category for r in loaded.search("wohnmobil gasprüfung")} == {"Wohnmobil"}


def test_search_category_filter_and_limit(loaded: CatalogService) -> None:
    found = loaded.search("erneuern", category="Bremsen", limit=7)
    assert len(found) == 7
    assert {r.category for r in found} == {"Bremsen"}
    assert loaded.search("klimaservice", category="Bremsen") == []


def test_empty_query_lists_by_category(loaded: CatalogService) -> None:
    found = loaded.search("   ", limit=1000)
    assert len(found) == loaded.count()
    keys = [(r.category, r.code) for r in found]
    assert keys == sorted(keys)


def test_search_without_hits_is_empty(loaded: CatalogService) -> None:
    assert loaded.search("bremsbeläge xylophon") == []


# ---------------------------------------------------------------------------------- prices


def test_labour_price_examples_from_the_requirements() -> None:
    assert labour_price(Decimal("6"), Decimal("120"), 12) == Decimal("60.00")
    assert labour_price(Decimal("3.5"), Decimal("95"), 10) == Decimal("33.25")


def test_labour_price_rounds_half_up_once_at_the_end() -> None:
    # 0.5 AW × 120.50 / 10 = 6.025 → 6.03 (half-even would give 6.02)
    assert labour_price(Decimal("0.5"), Decimal("120.50"), 10) == Decimal("6.03")
    # 7 AW at 12 AW/h and €100/h: 58.333… – rounding the AW price first would give 58.31
    assert labour_price(Decimal("7"), Decimal("100"), 12) == Decimal("58.33")
    # VW time units: 100 per hour
    assert labour_price(Decimal("150"), Decimal("110"), 100) == Decimal("165.00")


def test_labour_price_rejects_zero_aw_per_hour() -> None:
    with pytest.raises(ValidationError):
        labour_price(Decimal("1"), Decimal("100"), 0)


def test_price_for_each_rule() -> None:
    rate = Decimal("110")
    by_aw = row(aw=Decimal("8"))
    fixed = row(aw=Decimal("5"), price_rule="fixed", price_net=Decimal("99.00"))
    cheap_from = row(aw=Decimal("3"), price_rule="from", price_net=Decimal("49.00"))
    long_from = row(aw=Decimal("10"), price_rule="from", price_net=Decimal("49.00"))
    assert price_for(by_aw, rate, 10) == Decimal("88.00")
    assert price_for(fixed, rate, 10) == Decimal("99.00")
    assert price_for(cheap_from, rate, 10) == Decimal("49.00")  # the "ab" price is the minimum
    assert price_for(long_from, rate, 10) == Decimal("110.00")  # more AW cost more


def test_price_for_a_stored_service(loaded: CatalogService) -> None:
    pads = loaded.search("bremsbeläge vorne")[0]
    assert price_for(pads, Decimal("120"), 12) == labour_price(pads.aw, Decimal("120"), 12)


# ---------------------------------------------------------------------------------- maintenance


def test_create_get_and_get_by_code(catalog: CatalogService) -> None:
    saved = catalog.create(row("t-77 ", "  Sonder  leistung ", parts=("Schraube", " ", "Mutter")))
    assert saved.changes.catalog
    dto = catalog.get(saved.service.id)
    assert dto == saved.service == catalog.get_by_code("t-77")
    assert (dto.code, dto.name, dto.parts, dto.active) == ("t-77", "Sonder leistung", ("Schraube", "Mutter"), True)
    assert dto.aw == Decimal("5") and dto.vat_rate == Decimal("19")


def test_create_validates_like_the_import(catalog: CatalogService) -> None:
    with pytest.raises(ValidationError) as err:
        catalog.create(row(price_rule="fixed"))
    assert err.value.field == "price_net"
    with pytest.raises(ValidationError) as err:
        catalog.create(row(aw=Decimal("-1")))
    assert err.value.field == "aw"
    with pytest.raises(ValidationError) as err:
        catalog.create(row(name=" "))
    assert err.value.field == "name"
    assert "Bezeichnung" in str(err.value)
    assert catalog.count() == 0


def test_duplicate_code_is_a_conflict(catalog: CatalogService) -> None:
    catalog.create(row("T-1"))
    with pytest.raises(ConflictError):
        catalog.create(row("T-1", "Andere Leistung"))
    other = catalog.create(row("T-2")).service
    with pytest.raises(ConflictError):
        catalog.update(other.id, row("T-1"))


def test_update_replaces_fields(catalog: CatalogService) -> None:
    dto = catalog.create(row("T-1")).service
    updated = catalog.update(
        dto.id, row("T-1", "Neu", category="Bremsen", price_rule="from", price_net=Decimal("59.90"))
    ).service
    assert catalog.get(dto.id) == updated
    assert (updated.name, updated.category, updated.price_rule, updated.price_net) == (
        "Neu",
        "Bremsen",
        "from",
        Decimal("59.90"),
    )


def test_deactivate_hides_from_search_and_categories(catalog: CatalogService) -> None:
    keep = catalog.create(row("T-1", "Ölwechsel", category="Ölservice")).service
    gone = catalog.create(row("T-2", "Ölwechsel Spezial", category="Sonderöl")).service
    assert catalog.deactivate(gone.id).catalog
    assert catalog.search("ölwechsel") == [keep]
    assert [r.id for r in catalog.search("ölwechsel", include_inactive=True)] == [keep.id, gone.id]
    assert catalog.categories() == ["Ölservice"]
    assert catalog.count() == 2 and catalog.count(active_only=True) == 1
    catalog.activate(gone.id)
    assert catalog.get(gone.id).active


def test_unknown_ids_raise_not_found(catalog: CatalogService) -> None:
    with pytest.raises(NotFound):
        catalog.get(999)
    with pytest.raises(NotFound):
        catalog.get_by_code("NIX-1")
    with pytest.raises(NotFound):
        catalog.update(999, row())
    with pytest.raises(NotFound):
        catalog.deactivate(999)


def test_categories_sorted_with_umlauts_at_their_base_letter(loaded: CatalogService) -> None:
    cats = loaded.categories()
    assert len(cats) >= 15
    assert cats.index("Motor") < cats.index("Ölservice") < cats.index("Pflege")
    assert cats.index("Kühlung") < cats.index("Kupplung & Getriebe")
