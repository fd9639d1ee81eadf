"""Catalogue CSV import/export with the files German users really have (app.catalog_csv)."""

from __future__ import annotations

import codecs
from decimal import Decimal
from pathlib import Path

import pytest

from app.catalog_csv import read_catalog_csv, sniff_separator
from app.db import Database, open_database
from app.errors import ImportProblem, ImportRejected
from app.services.catalog import CatalogService, ServiceDTO

GERMAN_HEADER = "Nr;Kategorie;Bezeichnung;AW;Teile;Preisregel;Preis netto;MwSt"


@pytest.fixture
def catalog(db: Database) -> CatalogService:
    return CatalogService(db)


def csv_text(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


def rejected(data: bytes) -> list[ImportProblem]:
    with pytest.raises(ImportRejected) as err:
        read_catalog_csv(data)
    return err.value.problems


def without_id(dto: ServiceDTO) -> tuple[object, ...]:
    return (dto.code, dto.category, dto.name, dto.aw, dto.parts, dto.price_rule, dto.price_net, dto.vat_rate)


# ---------------------------------------------------------------------------------- encodings


def test_cp1252_file_from_excel_keeps_umlauts_and_euro_sign() -> None:
    text = csv_text(
        GERMAN_HEADER,
        "KÜ-1;Kühlung;Kühlmittelschlauch oben erneuern;4;Kühlmittelschlauch|Schellen;;;19",
        "ÖL-1;Ölservice;Ölwechsel inkl. Ölfilter (Öl 5W-30);3;Motoröl|Ölfilter;Festpreis;89,00 €;19 %",
        "ST-1;Karosserie;Stoßfänger lackieren – Größe M;12;;ab;189,50;19",
    )
    rows = read_catalog_csv(text.encode("cp1252"))
    assert [r.code for r in rows] == ["KÜ-1", "ÖL-1", "ST-1"]
    assert rows[0].name == "Kühlmittelschlauch oben erneuern"
    assert rows[1].parts == ("Motoröl", "Ölfilter")
    assert (rows[1].price_rule, rows[1].price_net) == ("fixed", Decimal("89.00"))
    assert rows[2].name == "Stoßfänger lackieren – Größe M"
    assert (rows[2].price_rule, rows[2].price_net) == ("from", Decimal("189.50"))


def test_latin1_umlauts_come_out_right() -> None:
    data = csv_text("Code;Name;AW", "X-1;Spurstangenkopf prüfen (Übergröße, Maß);1,5").encode("latin-1")
    (row,) = read_catalog_csv(data)
    assert row.name == "Spurstangenkopf prüfen (Übergröße, Maß)"
    assert row.aw == Decimal("1.5")


def test_utf8_with_bom_does_not_spoil_the_first_header() -> None:
    data = codecs.BOM_UTF8 + csv_text("Nr;Bezeichnung;AW", "A-1;Lüfter prüfen;2").encode("utf-8")
    (row,) = read_catalog_csv(data)
    assert (row.code, row.name, row.category) == ("A-1", "Lüfter prüfen", "Sonstiges")


def test_utf16_unicode_text_from_excel_is_read() -> None:
    data = csv_text("Nr\tBezeichnung\tAW", "A-1\tÖlstand prüfen\t0,5").encode("utf-16")
    (row,) = read_catalog_csv(data)
    assert (row.name, row.aw) == ("Ölstand prüfen", Decimal("0.5"))


# ---------------------------------------------------------------------------------- separators and numbers


def test_comma_separated_with_quoted_decimal_commas() -> None:
    data = csv_text(
        "Code,Name,AW,Preis,Preisregel",
        'X-1,"Ölwechsel, inkl. Filter","1,5","1.234,50",fixed',
        "X-2,Luftfilter erneuern,2.5,,aw",
    ).encode("utf-8")
    rows = read_catalog_csv(data)
    assert rows[0].name == "Ölwechsel, inkl. Filter"
    assert (rows[0].aw, rows[0].price_net) == (Decimal("1.5"), Decimal("1234.50"))
    assert (rows[1].aw, rows[1].price_net, rows[1].price_rule) == (Decimal("2.5"), None, "aw")


def test_tab_separated() -> None:
    rows = read_catalog_csv(csv_text("Nr\tBezeichnung\tAW", "T-1\tTest\t3").encode())
    assert rows[0].aw == Decimal("3")


@pytest.mark.parametrize(
    ("line", "expected"), [("a;b,c;d", ";"), ("a,b,c;d", ","), ("a\tb\tc,d", "\t"), ("abc", ";"), ("a;b,c", ";")]
)
def test_separator_sniffing(line: str, expected: str) -> None:
    assert sniff_separator(line) == expected


def test_decimal_comma_and_point_and_thousands() -> None:
    rows = read_catalog_csv(
        csv_text(
            "Nr;Bezeichnung;AW;Preis netto;Preisregel",
            "A;Eins;1,25;1.234,50;fixed",
            "B;Zwei;12.5;99.9;ab",
            "C;Drei;0,5;2.490;from",
        ).encode()
    )
    assert [(r.aw, r.price_net) for r in rows] == [
        (Decimal("1.25"), Decimal("1234.50")),
        (Decimal("12.5"), Decimal("99.9")),
        (Decimal("0.5"), Decimal("2490")),
    ]


def test_thousands_point_without_any_decimal_comma_is_ambiguous() -> None:
    problems = rejected(csv_text("Nr;Bezeichnung;AW;Preis", "A;Motor tauschen;150;2.490", "B;Öl;1.5;49").encode())
    assert [(p.row, p.column) for p in problems] == [(2, "Preis")]
    assert "2490" in problems[0].message


def test_headers_are_case_insensitive_with_german_aliases_and_unknown_columns_ignored() -> None:
    data = csv_text(
        "ARTIKELNUMMER;Leistung;Arbeitswerte;Warengruppe;Bemerkung;Preisregel;Preis (netto);USt.;Material",
        "Z-1;Zündkerzen erneuern;4;Motor;egal;AW;;7;Zündkerzen|Dichtringe",
    ).encode()
    (row,) = read_catalog_csv(data)
    assert (row.code, row.name, row.aw, row.category) == ("Z-1", "Zündkerzen erneuern", Decimal("4"), "Motor")
    assert (row.price_rule, row.vat_rate, row.parts) == ("aw", Decimal("7"), ("Zündkerzen", "Dichtringe"))


def test_price_without_rule_column_is_a_fixed_price() -> None:
    rows = read_catalog_csv(csv_text("Nr;Bezeichnung;AW;Preis", "A;Räderwechsel;3;25,00", "B;Fehlersuche;5;").encode())
    assert [(r.price_rule, r.price_net) for r in rows] == [("fixed", Decimal("25.00")), ("aw", None)]


def test_excel_leftovers_blank_lines_and_sep_hint() -> None:
    data = csv_text("sep=;", "Nr;Bezeichnung;AW", "A;Eins;1", ";;", "", "B;Zwei;2", ";;").encode()
    assert [r.code for r in read_catalog_csv(data)] == ["A", "B"]


# ---------------------------------------------------------------------------------- problems


def test_missing_required_columns_are_named_in_row_one() -> None:
    problems = rejected(csv_text("Nr;Kategorie;Preis", "A;Bremsen;10").encode())
    assert {(p.row, p.column) for p in problems} == {(1, "name"), (1, "aw")}
    messages = " ".join(p.message for p in problems)
    assert "Bezeichnung" in messages and "Arbeitswerte" in messages


def test_duplicate_column_is_reported() -> None:
    problems = rejected(csv_text("Nr;Bezeichnung;AW;Name", "A;x;1;y").encode())
    assert [(p.row, p.column) for p in problems] == [(1, "Name")]


def test_every_bad_cell_is_reported_with_row_and_column() -> None:
    data = csv_text(
        GERMAN_HEADER,
        "A-1;Bremsen;Gute Zeile;8;;aw;;19",  # row 2: fine
        "A-2;Bremsen;Falsche Zahl;acht;;aw;;19",  # row 3
        "A-3;Bremsen;Negativ;-2;;aw;;19",  # row 4
        "A-4;Bremsen;Regel;2;;pauschalisiert;10;19",  # row 5
        "A-5;Bremsen;Fest ohne Preis;2;;fixed;;19",  # row 6
        "A-6;Bremsen;Drei Stellen;2;;fixed;12,345;19",  # row 7
        "A-1;Bremsen;Doppelt;2;;aw;;19",  # row 8
        "A-7;Bremsen;;2;;aw;;19",  # row 9
        "A-8;Bremsen;Steuer;2;;aw;;16",  # row 10
        "A-9;Bremsen;Zwei Fehler;x;;ab;;19",  # row 11
    ).encode("cp1252")
    problems = rejected(data)
    assert [(p.row, p.column) for p in problems] == [
        (3, "AW"),
        (4, "AW"),
        (5, "Preisregel"),
        (6, "Preis netto"),
        (7, "Preis netto"),
        (8, "Nr"),
        (9, "Bezeichnung"),
        (10, "MwSt"),
        (11, "AW"),
        (11, "Preis netto"),
    ]
    text = {p.row: p.message for p in problems}
    assert "„acht“ ist keine gültige Zahl" in text[3]
    assert "negativ" in text[4]
    assert "pauschalisiert" in text[5]
    assert "Preis" in text[6]
    assert "2 Nachkommastellen" in text[7]
    assert "Zeile 2" in text[8]
    assert "Bezeichnung fehlt" in text[9]
    assert str(problems[0]) == "Zeile 3, Spalte „AW“: „acht“ ist keine gültige Zahl."


def test_rejected_import_writes_nothing_and_keeps_existing_rows(catalog: CatalogService) -> None:
    catalog.import_csv(csv_text(GERMAN_HEADER, "A-1;Bremsen;Alt;8;;aw;;19").encode())
    before = catalog.get_by_code("A-1")
    data = csv_text(
        GERMAN_HEADER,
        "A-1;Bremsen;Neu;9;;aw;;19",
        "B-1;Bremsen;Auch neu;9;;aw;;19",
        "B-2;Bremsen;Kaputt;-1;;aw;;19",
        "B-3;Bremsen;Kaputt;1;;fest;;19",
    ).encode()
    with pytest.raises(ImportRejected) as err:
        catalog.import_csv(data)
    assert [(p.row, p.column) for p in err.value.problems] == [(4, "AW"), (5, "Preis netto")]
    assert catalog.count() == 1
    assert catalog.get_by_code("A-1") == before


def test_excel_workbook_and_empty_file_are_rejected_with_a_hint() -> None:
    assert "Excel" in rejected(b"PK\x03\x04rest-of-a-zip")[0].message
    assert rejected(b"")[0].row == 1
    assert rejected(b"Nr;Bezeichnung;AW\r\n;;\r\n")[0].row == 2


# ---------------------------------------------------------------------------------- import into the database


def test_import_is_an_upsert_by_code(catalog: CatalogService, tmp_path: Path) -> None:
    first = catalog.import_csv(csv_text(GERMAN_HEADER, "A;Bremsen;Eins;1;;aw;;19", "B;Bremsen;Zwei;2;;aw;;19").encode())
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    b_id = catalog.get_by_code("B").id
    catalog.deactivate(b_id)
    path = tmp_path / "neu.csv"
    path.write_bytes(
        csv_text(
            GERMAN_HEADER, "A;Bremsen;Eins;1;;aw;;19", "B;Bremsen;Zwei neu;2,5;;aw;;19", "C;Glas;Drei;3;;aw;;19"
        ).encode("cp1252")
    )
    second = catalog.import_csv(path)
    assert (second.created, second.updated, second.unchanged) == (1, 1, 1)
    assert second.changes.catalog
    b = catalog.get(b_id)
    assert (b.name, b.aw, b.active) == ("Zwei neu", Decimal("2.5"), False)  # no "aktiv" column: flag kept
    assert catalog.count() == 3


def test_active_column_is_applied(catalog: CatalogService) -> None:
    catalog.import_csv(csv_text("Nr;Bezeichnung;AW;Aktiv", "A;Eins;1;ja", "B;Zwei;1;nein").encode())
    assert [catalog.get_by_code(c).active for c in "AB"] == [True, False]
    problems = rejected(csv_text("Nr;Bezeichnung;AW;Aktiv", "A;Eins;1;vielleicht").encode())
    assert [(p.row, p.column) for p in problems] == [(2, "Aktiv")]


def test_ten_thousand_rows_all_or_nothing(catalog: CatalogService) -> None:
    lines = [GERMAN_HEADER] + [f"M-{i:05d};Motor;Leistung {i};{i % 30},5;Teil {i};aw;;19" for i in range(10_000)]
    bad = [*lines[:-1], "M-X;Motor;Kaputt;-1;;aw;;19"]
    with pytest.raises(ImportRejected):
        catalog.import_csv(csv_text(*bad).encode())
    assert catalog.count() == 0
    summary = catalog.import_csv(csv_text(*lines).encode())
    assert summary.created == 10_000 and catalog.count() == 10_000
    assert catalog.get_by_code("M-09999").aw == Decimal("9.5")
    assert [r.code for r in catalog.search("leistung 4242")] == ["M-04242"]


# ---------------------------------------------------------------------------------- export


def test_export_is_excel_friendly(catalog: CatalogService, tmp_path: Path) -> None:
    catalog.import_csv(csv_text(GERMAN_HEADER, "Ö-1;Ölservice;Ölwechsel; 3,5 ;Öl|Filter;ab;1234,5;19").encode())
    path = tmp_path / "export.csv"
    assert catalog.export_csv(path) == 1
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    lines = data[3:].decode("utf-8").split("\r\n")
    assert lines[0] == "code;category;name;aw;parts;price_rule;price_net;vat_rate;active"
    assert lines[1] == "Ö-1;Ölservice;Ölwechsel;3,50;Öl|Filter;from;1234,50;19,00;ja"


def test_round_trip_export_import(catalog: CatalogService, tmp_path: Path) -> None:
    catalog.load_defaults()
    some = catalog.search("klimaservice")[0]
    catalog.deactivate(some.id)
    path = tmp_path / "katalog.csv"
    catalog.export_csv(path)

    again = catalog.import_csv(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, catalog.count())

    other_db = open_database(tmp_path / "other.db")
    try:
        other = CatalogService(other_db)
        assert other.import_csv(path).created == catalog.count()
        original = sorted(without_id(s) for s in catalog.search("", limit=10_000, include_inactive=True))
        copied = sorted(without_id(s) for s in other.search("", limit=10_000, include_inactive=True))
        assert copied == original
        assert other.get_by_code(some.code).active is False
    finally:
        other_db.close()
