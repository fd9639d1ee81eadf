"""`carbot orders import`, `invoice finalize|pdf|xrechnung|cancel`, `payments record`, `audit verify` and
`numbers`, called in-process through main(argv) against a migrated database with the demo workshop."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import text

from app.cli import main
from app.db import open_database
from app.demo import setup_workshop
from app.einvoice import XRECHNUNG_ID, extract_xml, validate_cii
from app.einvoice.validate import blocking
from app.services.invoicing import InvoiceService
from app.services.registry import Services

DATA = Path(__file__).resolve().parent.parent / "data"
YEAR = dt.date.today().year  # the CLI issues invoices today


def run(capsys: pytest.CaptureFixture[str], db_path: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db_path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def count(db_path: Path, table: str) -> int:
    db = open_database(db_path)
    try:
        with db.engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        db.close()


@pytest.fixture
def shop(db_path: Path) -> Path:
    services = Services.open(db_path)
    setup_workshop(services)
    services.close()
    return db_path


def imported(capsys: pytest.CaptureFixture[str], shop: Path, name: str) -> list[int]:
    code, out, err = run(capsys, shop, "orders", "import", str(DATA / name))
    assert (code, err) == (0, "")
    ids: list[int] = json.loads(out)["order_ids"]
    return ids


def finalize(capsys: pytest.CaptureFixture[str], shop: Path, order_id: int) -> dict[str, Any]:
    code, out, err = run(capsys, shop, "invoice", "finalize", str(order_id), "--json")
    assert (code, err) == (0, "")
    result: dict[str, Any] = json.loads(out)
    return result


# --- orders import --------------------------------------------------------------------------------------


def test_import_prints_the_new_order_ids_one_order_and_a_list(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    assert imported(capsys, shop, "order_private.json") == [1]
    assert imported(capsys, shop, "orders_two.json") == [2, 3]
    assert count(shop, "work_order WHERE status = 'completed'") == 3
    assert count(shop, "order_line") == 6 + 2 + 2
    assert count(shop, "audit_log WHERE entity = 'work_order' AND action = 'import'") == 3


def test_import_of_a_malformed_file_is_refused(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    code, out, err = run(capsys, shop, "orders", "import", str(DATA / "order_malformed.json"))
    assert (code, out) == (1, "")
    assert "Import abgelehnt – 1 Fehler" in err and "„$“: Kein gültiges JSON" in err
    assert count(shop, "work_order") == count(shop, "customer") == 0


def test_import_names_every_bad_field_and_writes_nothing(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    code, out, err = run(capsys, shop, "orders", "import", str(DATA / "order_bad_fields.json"))
    assert (code, out) == (1, "")
    assert err.startswith("Fehler: Import abgelehnt – 7 Fehler, es wurde nichts übernommen.")
    for path, message in (
        ("bemerkung", "Unbekanntes Feld."),
        ("customer.postcode", "8033"),
        ("date_of_service", "„2026-13-01“ ist kein gültiges Datum"),
        ("lines[0].farbe", "Unbekanntes Feld."),
        ("lines[1].vat_rate", "Unbekannter Steuersatz 16 %"),
        ("lines[2].unit_price_net", "Höchstens 2 Nachkommastellen erlaubt."),
        ("lines[3].quantity", "Die Menge muss größer als 0 sein."),
    ):
        line = next((ln for ln in err.splitlines() if ln.startswith(f"„{path}“: ")), "")
        assert message in line, (path, err)
    assert count(shop, "work_order") == count(shop, "customer") == count(shop, "vehicle") == 0


def test_an_error_in_the_second_order_of_a_list_rejects_both(
    capsys: pytest.CaptureFixture[str], shop: Path, tmp_path: Path
) -> None:
    orders = json.loads((DATA / "orders_two.json").read_text(encoding="utf-8"))
    orders[1]["lines"][0]["aw"] = 2  # not a key of a fee line
    bad = tmp_path / "orders.json"
    bad.write_text(json.dumps(orders), encoding="utf-8")
    code, _, err = run(capsys, shop, "orders", "import", str(bad))
    assert code == 1 and "„[1].lines[0].aw“: Unbekanntes Feld." in err
    assert count(shop, "work_order") == 0


def test_import_of_a_missing_file_is_a_german_error(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    code, _, err = run(capsys, shop, "orders", "import", str(DATA / "gibt-es-nicht.json"))
    assert code == 1 and "gibt-es-nicht.json" in err and "kann nicht gelesen werden" in err


# --- invoices -------------------------------------------------------------------------------------------


def test_finalize_json_has_number_and_the_amounts_per_rate(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    result = finalize(capsys, shop, imported(capsys, shop, "order_private.json")[0])
    assert set(result) == {
        "id",
        "number",
        "kind",
        "issue_date",
        "net",
        "vat",
        "gross",
        "altteil_tax",
        "small_invoice",
        "reverse_charge",
        "rates",
    }
    assert result["number"] == f"W1-{YEAR}-000001" and result["kind"] == "invoice"
    assert (result["net"], result["vat"], result["gross"], result["altteil_tax"]) == (
        "1234.25",
        "252.31",
        "1486.56",
        "19.00",
    )
    assert result["rates"] == [
        {"category": "S", "rate": "19.00", "net": "1324.25", "vat": "251.61"},
        {"category": "S", "rate": "7.00", "net": "10.00", "vat": "0.70"},
        {"category": "E", "rate": "0.00", "net": "-100.00", "vat": "0.00"},
    ]
    code, out, err = run(capsys, shop, "invoice", "finalize", "1")  # the order is invoiced now
    assert (code, out) == (1, "") and "Nur abgeschlossene Aufträge können abgerechnet werden" in err


def test_finalize_human_output_and_an_unknown_order(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    first, second = imported(capsys, shop, "orders_two.json")
    code, out, _ = run(capsys, shop, "invoice", "finalize", str(second))
    assert code == 0 and out.startswith(f"Rechnung W1-{YEAR}-000001 festgeschrieben: brutto 183")
    code, _, err = run(capsys, shop, "invoice", "finalize", "99")
    assert code == 1 and err.startswith("Fehler: ")
    assert finalize(capsys, shop, first)["number"] == f"W1-{YEAR}-000002"


def test_pdf_xrechnung_cancel_payment_and_audit_verify(
    capsys: pytest.CaptureFixture[str], shop: Path, tmp_path: Path
) -> None:
    first, second = imported(capsys, shop, "orders_two.json")
    invoice = finalize(capsys, shop, first)
    number = invoice["number"]

    pdf = tmp_path / "rechnung.pdf"
    assert run(capsys, shop, "invoice", "pdf", number, "-o", str(pdf))[0] == 0
    db = open_database(shop)
    try:
        service = InvoiceService(db)
        assert pdf.read_bytes() == service.pdf(number) and extract_xml(pdf.read_bytes()) == service.xml(number)
    finally:
        db.close()

    xml = tmp_path / "xrechnung.xml"
    code, out, _ = run(capsys, shop, "invoice", "xrechnung", number, "-o", str(xml))
    assert code == 0 and str(xml) in out
    root = etree.fromstring(xml.read_bytes())
    assert root.findtext(".//{*}GuidelineSpecifiedDocumentContextParameter/{*}ID") == XRECHNUNG_ID
    assert blocking(validate_cii(xml.read_bytes(), profile="xrechnung")) == []

    code, out, _ = run(capsys, shop, "payments", "record", number, "100,00", "--method", "cash")
    assert code == 0 and json.loads(out) == {"invoice": number, "paid": "100.00", "open": "119.32"}
    code, _, err = run(capsys, shop, "payments", "record", number, "500", "--method", "card")
    assert code == 1 and "Überzahlung" in err

    other = finalize(capsys, shop, second)
    code, out, _ = run(capsys, shop, "invoice", "cancel", other["number"], "--reason", "Doppelt erfasst", "--json")
    storno = json.loads(out)
    assert code == 0 and storno["cancels"] == other["number"] and storno["kind"] == "storno"
    assert storno["number"] == f"W1-{YEAR}-000003" and storno["gross"] == "-" + other["gross"]
    code, _, err = run(capsys, shop, "invoice", "cancel", other["number"], "--reason", "nochmal")
    assert code == 1 and "bereits storniert" in err

    code, out, _ = run(capsys, shop, "audit", "verify", "--json")
    assert code == 0 and json.loads(out) == {"ok": True, "checked": 5, "problems": []}
    code, out, _ = run(capsys, shop, "audit", "verify")
    assert code == 0 and out == "Prüfkette in Ordnung: 5 Einträge geprüft.\n"

    db = open_database(shop)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER payment_no_update"))
            conn.execute(text("UPDATE payment SET amount = 10"))
    finally:
        db.close()
    code, out, _ = run(capsys, shop, "audit", "verify")
    assert code == 1 and "payment 1 wurde verändert" in out


def test_numbers_add_and_set_start(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    code, out, _ = run(capsys, shop, "numbers", "add", "B1", "123")
    row = json.loads(out)[0]
    assert code == 0 and (row["prefix"], row["start_value"], row["used"]) == ("B1", 123, False)
    assert run(capsys, shop, "numbers", "set-start", "B1", "200")[0] == 0
    finalize(capsys, shop, imported(capsys, shop, "order_private.json")[0])  # B1 is the only range: it is used
    code, _, err = run(capsys, shop, "numbers", "set-start", "B1", "300")
    assert code == 1 and "schon festgelegt" in err
    ranges = json.loads(run(capsys, shop, "numbers", "show")[1])
    assert [(r["prefix"], r["start_value"], r["used"]) for r in ranges] == [("B1", 200, True)]
