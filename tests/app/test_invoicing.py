"""InvoiceService end to end on a real database, part 1: INV-01…07 of german-workshop-law.md §4 (legal fields,
small invoices, numbering, ranges, immutability, Storno, reprints) with the reference's values."""

from __future__ import annotations

import hashlib
import json
import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import IntegrityError

from app.errors import ConflictError, InvalidTransition, NotFound, ValidationError
from app.models import AuditEntry, ChainEntry, Invoice, InvoiceArchive, InvoiceLine, LegalHold, NumberCounter
from app.services import invoice_build
from app.services.numbering import NumberingService
from app.services.order_import_service import OrderImportService
from app.services.settings import SettingsService, workshop_row
from app.services.work_orders import WorkOrderService
from tests.app.invoicing_support import (
    ANNA,
    DATA,
    TODAY,
    WIEN,
    ZERO,
    Shop,
    exchange,
    part,
    xpath,
)

# --- INV-01: every §14 Abs. 4 field ---------------------------------------------------------------------

# What the PDF of tests/data/order_private.json must show, by §14 Abs. 4 S. 1 UStG (the Altteil value itself
# is not printed, only its tax; the Altteil-free 19 % net is 1,224.25).
PARAGRAPH_14 = {
    "Nr. 1 supplier": ("Kfz-Meisterbetrieb Huber GmbH", "Landsberger Straße 312", "80687 München"),
    "Nr. 1 customer": ("Anna Müller", "Hauptstraße 1", "80331 München"),
    "Nr. 2 tax ids": ("Steuernummer\n181/815/08155", "USt-IdNr. DE136695976"),
    "Nr. 3 issue date": ("Rechnungsdatum\n27.11.2026",),
    "Nr. 4 number": ("Rechnung Nr. W1-2026-000001",),
    "Nr. 5 goods and service": ("Ölfilter", "4,5 l", "Motoröl 5W-30", "12 AW", "Austausch-Lichtmaschine"),
    "Nr. 6 service date": ("Leistungsdatum\n26.11.2026",),
    "Nr. 7 net per rate": ("Nettobetrag 19 %\n 1.224,25 €", "Nettobetrag 7 %\n 10,00 €"),
    "Nr. 8 rate and tax": (
        "19 % USt auf 1.224,25 €\n 232,61 €",
        "7 % USt auf 10,00 €\n 0,70 €",
        "Altteilsteuer 19 % (UStAE 10.5 Abs. 3)\n 19,00 €",
        "Gesamtbetrag\n 1.486,56 €",
    ),
}


def test_inv01_every_paragraph_14_field_is_in_the_pdf_and_the_xml(shop: Shop) -> None:
    order_id = OrderImportService(shop.db, today=TODAY).import_file((DATA / "order_private.json").read_bytes())[0]
    result = shop.invoices.finalize(shop.invoices.create_draft_from_order(order_id, user="Theke")[0])
    assert result.number == "W1-2026-000001" and result.gross == Decimal("1486.56")
    pdf = shop.text(result.number)
    for number, expected in PARAGRAPH_14.items():
        missing = [e for e in expected if e not in pdf]
        assert not missing, (number, missing)
    root = shop.xml(result.number)
    seller, buyer = "//ram:SellerTradeParty", "//ram:BuyerTradeParty"
    assert xpath(root, f"{seller}/ram:Name") == ["Kfz-Meisterbetrieb Huber GmbH"]
    assert xpath(root, f"{seller}/ram:PostalTradeAddress/ram:LineOne") == ["Landsberger Straße 312"]
    assert xpath(root, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID") == ["DE136695976", "181/815/08155"]
    assert xpath(root, f"{buyer}/ram:Name") == ["Anna Müller"]
    assert xpath(root, f"{buyer}/ram:PostalTradeAddress/*") == ["80331", "Hauptstraße 1", "München", "DE"]
    assert xpath(root, "//rsm:ExchangedDocument/ram:ID") == ["W1-2026-000001"]
    assert xpath(root, "//ram:IssueDateTime/udt:DateTimeString") == ["20261127"]
    assert xpath(root, "//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString") == ["20261126"]
    assert "Motoröl 5W-30" in xpath(root, "//ram:SpecifiedTradeProduct/ram:Name")
    assert "4.5" in [q.rstrip("0").rstrip(".") for q in xpath(root, "//ram:BilledQuantity[@unitCode='LTR']")]
    header = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    rows = zip(
        *(
            xpath(root, f"{header}/ram:{n}")
            for n in ("CategoryCode", "RateApplicablePercent", "BasisAmount", "CalculatedAmount")
        ),
        strict=True,
    )
    assert [(c, Decimal(r), Decimal(b), Decimal(t)) for c, r, b, t in rows] == [
        ("S", Decimal(19), Decimal("1324.25"), Decimal("251.61")),
        ("S", Decimal(7), Decimal("10.00"), Decimal("0.70")),
        ("E", Decimal(0), Decimal("-100.00"), Decimal("0.00")),
    ]


def test_inv01_finalising_needs_the_workshops_tax_number_or_vat_id(shop: Shop) -> None:
    settings = SettingsService(shop.db)
    settings.update(tax_number="", vat_id="")
    draft = shop.draft(part("300.00"))
    with pytest.raises(ValidationError) as info:
        shop.invoices.finalize(draft)
    assert info.value.field == "tax_number"
    assert "Steuernummer oder USt-IdNr. der Werkstatt fehlt" in str(info.value)
    settings.update(tax_number="181/815/08155")  # either of both is enough
    result = shop.invoices.finalize(draft)
    assert result.number == "W1-2026-000001"  # the refused attempt used no number
    assert "181/815/08155" in shop.text(result.number)


@pytest.mark.parametrize(
    ("missing", "field", "label"),
    [("street", "street", "Straße des Kunden"), ("postcode", "postcode", "PLZ des Kunden")],
)
def test_inv01_finalising_needs_the_customers_address(shop: Shop, missing: str, field: str, label: str) -> None:
    customer = {k: v for k, v in ANNA.items() if k != missing}
    draft = shop.draft(part("300.00"), customer=customer)
    with pytest.raises(ValidationError) as info:
        shop.invoices.finalize(draft)
    assert info.value.field == field
    assert f"„{label}“ fehlt" in str(info.value) and "§ 14 Abs. 4 Nr. 1 UStG" in str(info.value)
    assert shop.sql("SELECT count(*) FROM number_counter") == [(0,)]


# --- INV-02: Kleinbetragsrechnung -----------------------------------------------------------------------


def test_inv02_small_invoice_up_to_250_euro_gross(shop: Shop) -> None:
    small = shop.invoice(part("210.08"), customer={"name": "Bert Bar"})  # no address needed (§33 UStDV)
    assert (small.gross, small.small_invoice) == (Decimal("250.00"), True)
    assert "Summe 19 % (brutto)\n 250,00 €\ndarin enthalten 19 % USt\n 39,92 €" in shop.text(small.number)
    full = shop.invoice(part("210.09"))
    assert (full.gross, full.small_invoice) == (Decimal("250.01"), False)
    assert "Gesamt netto" in shop.text(full.number) and "(brutto)" not in shop.text(full.number)
    with pytest.raises(ValidationError, match="Straße des Kunden"):
        shop.invoice(part("210.09"), customer={"name": "Bert Bar"})


def test_inv02_reverse_charge_never_uses_the_small_invoice(shop: Shop) -> None:
    result = shop.invoice(part("100.00"), customer=WIEN)
    assert (result.gross, result.reverse_charge, result.small_invoice) == (Decimal("100.00"), True, False)


# --- INV-03: numbers only on finalising, unique ---------------------------------------------------------


def test_inv03_a_deleted_draft_uses_no_number(shop: Shop) -> None:
    draft = shop.draft(part("300.00"))
    shop.invoices.delete_draft(draft, user="Theke")
    with pytest.raises(NotFound):
        shop.invoices.finalize(draft)
    assert shop.invoice(part("400.00")).number == "W1-2026-000001"


def test_inv03_a_failing_finalisation_leaves_nothing_behind(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.einvoice.cii as cii

    real = cii.build_cii

    def wrong_total(doc: Any, *, profile: Any) -> bytes:
        return real(doc, profile=profile).replace(b"<ram:GrandTotalAmount>357.00", b"<ram:GrandTotalAmount>357.01")

    monkeypatch.setattr(cii, "build_cii", wrong_total)
    order_id = shop.order(part("300.00"))
    draft, _ = shop.invoices.create_draft_from_order(order_id)
    with pytest.raises(ValidationError, match="E-Rechnung ist ungültig") as info:
        shop.invoices.finalize(draft)
    assert info.value.field == "einvoice"
    with shop.db.unit() as s:
        row = s.get_one(Invoice, draft)
        assert (row.status, row.number) == ("draft", None)
        assert s.scalars(select(InvoiceArchive)).all() == [] and s.scalars(select(NumberCounter)).all() == []
        assert s.scalars(select(ChainEntry)).all() == [] and s.scalars(select(LegalHold)).all() == []
    assert WorkOrderService(shop.db).get(order_id).status == "completed"
    monkeypatch.undo()
    assert shop.invoices.finalize(draft).number == "W1-2026-000001"
    assert WorkOrderService(shop.db).get(order_id).status == "invoiced"


def test_inv03_a_second_draft_of_an_invoiced_order_cannot_be_finalised(shop: Shop) -> None:
    order_id = shop.order(part("300.00"))
    first, _ = shop.invoices.create_draft_from_order(order_id)
    second, _ = shop.invoices.create_draft_from_order(order_id)
    shop.invoices.finalize(first)
    with pytest.raises(InvalidTransition, match="abgerechnet"):
        shop.invoices.finalize(second)
    assert shop.invoice(part("10.00")).number == "W1-2026-000002"


def test_inv03_the_database_rejects_a_duplicate_number(shop: Shop) -> None:
    number = shop.invoice(part("300.00")).number
    with pytest.raises(IntegrityError, match="UNIQUE"), shop.db.unit() as s:
        s.add(Invoice(number=number, status="final", issue_date=TODAY, document_json="{}"))


# --- INV-04: ranges with prefix and start value ---------------------------------------------------------


def test_inv04_a_second_range_with_its_own_prefix_and_start_value(shop: Shop) -> None:
    assert shop.invoice(part("300.00")).number == "W1-2026-000001"
    numbering = NumberingService(shop.db)
    numbering.create_range("B1", 123)
    order_id = shop.order(part("300.00"))
    draft, _ = shop.invoices.create_draft_from_order(order_id, number_range="B1")
    assert shop.invoices.finalize(draft).number == "B1-2026-000123"
    again, _ = shop.invoices.create_draft_from_order(shop.order(part("50.00")), number_range="b1")
    assert shop.invoices.finalize(again).number == "B1-2026-000124"
    assert shop.invoice(part("300.00")).number == "W1-2026-000002"  # W1 runs on undisturbed
    with pytest.raises(ConflictError, match="schon festgelegt"):
        numbering.set_start_value("B1", 500)
    with pytest.raises(NotFound):
        shop.invoices.create_draft_from_order(shop.order(part("1.00")), number_range="X9")
    numbering.create_range("C2")
    assert numbering.set_start_value("C2", 50).start_value == 50  # settable until its first number
    assert {(r.prefix, r.start_value, r.used) for r in numbering.ranges()} == {
        ("W1", 1, True),
        ("B1", 123, True),
        ("C2", 50, False),
    }


# --- INV-05: final invoices are immutable ---------------------------------------------------------------


def test_inv05_sql_cannot_change_a_final_invoice_or_its_lines(shop: Shop) -> None:
    result = shop.invoice(part("300.00"))
    for statement in (
        "UPDATE invoice SET gross_total = 1 WHERE id = :i",
        "UPDATE invoice SET customer_id = NULL WHERE id = :i",
        "DELETE FROM invoice WHERE id = :i",
        "UPDATE invoice_line SET vat_rate = 7 WHERE invoice_id = :i",
        "DELETE FROM invoice_line WHERE invoice_id = :i",
        "INSERT INTO invoice_line (invoice_id, position, kind, text, part_no, quantity, unit_code, unit_label, "
        "vat_rate) VALUES (:i, 9, 'part', 'x', '', 1, 'C62', 'Stk', 19)",
        "UPDATE invoice_archive SET pdf = x'00' WHERE invoice_id = :i",
    ):
        with pytest.raises(SADatabaseError, match="GoBD"):
            shop.sql(statement, i=result.id)
    assert shop.sql("SELECT gross_total FROM invoice WHERE id = :i", i=result.id) == [(357.0,)]


def test_inv05_the_service_refuses_edits_of_a_final_invoice_and_logs_them(shop: Shop) -> None:
    result = shop.invoice(part("300.00"))
    with pytest.raises(InvalidTransition, match="festgeschrieben"):
        shop.invoices.set_draft_line_text(result.id, 1, "Bremsscheibe (geändert)", user="Meister")
    with pytest.raises(InvalidTransition):
        shop.invoices.delete_draft(result.id, user="Meister")
    with pytest.raises(InvalidTransition):
        shop.invoices.finalize(result.id, user="Meister")
    with shop.db.unit() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.action == "denied").order_by(AuditEntry.id)).all()
        assert [(e.entity, e.entity_id, e.user) for e in denied] == [("invoice", result.id, "Meister")] * 3
        assert json.loads(denied[0].new)["text"] == "Bremsscheibe (geändert)"
        assert s.scalars(select(InvoiceLine.text).where(InvoiceLine.invoice_id == result.id)).all() == ["Bremsscheibe"]
    draft = shop.draft(part("10.00"))
    shop.invoices.set_draft_line_text(draft, 1, "  Wischblatt  ")  # drafts stay editable
    assert shop.invoices.document(shop.invoices.finalize(draft).number).lines[0].text == "Wischblatt"


# --- INV-06: Stornorechnung -----------------------------------------------------------------------------


def _raw(shop: Shop, invoice_id: int) -> tuple[Any, ...]:
    return (
        shop.sql("SELECT * FROM invoice WHERE id = :i", i=invoice_id),
        shop.sql("SELECT * FROM invoice_line WHERE invoice_id = :i ORDER BY id", i=invoice_id),
        shop.sql("SELECT * FROM invoice_archive WHERE invoice_id = :i", i=invoice_id),
    )


def test_inv06_storno_has_its_own_number_cites_the_original_and_nets_to_zero(shop: Shop) -> None:
    original = shop.invoice(
        {"kind": "labour", "text": "Lichtmaschine tauschen", "aw": 9},
        exchange("1000.00"),
        part("10.00", rate="7"),
        {"kind": "discount", "text": "Stammkundenrabatt", "percent": "5"},
    )
    before = _raw(shop, original.id)
    storno = shop.invoices.cancel(original.number, reason="Rechnung an falschen Kunden", user="Meister")
    assert (storno.kind, storno.number) == ("storno", "W1-2026-000002")
    assert _raw(shop, original.id) == before  # the original row, lines and archive: byte-identical
    assert (original.net + storno.net, original.tax + storno.tax, original.gross + storno.gross) == (ZERO,) * 3
    assert original.altteil_tax == -storno.altteil_tax == Decimal("19.00")
    assert [(t.category, t.rate, -t.net, -t.tax) for t in storno.taxes] == [
        (t.category, t.rate, t.net, t.tax) for t in original.taxes
    ]
    first, second = shop.invoices.document(original.number), shop.invoices.document(storno.number)
    assert [(ln.text, -ln.quantity, ln.unit_price_net, -ln.net) for ln in second.lines] == [
        (ln.text, ln.quantity, ln.unit_price_net, ln.net) for ln in first.lines
    ]
    assert second.notes[:2] == (
        "Stornorechnung zur Rechnung Nr. W1-2026-000001 vom 27.11.2026.",
        "Grund: Rechnung an falschen Kunden",
    )
    pdf = shop.text(storno.number)
    assert "Stornorechnung Nr. W1-2026-000002" in pdf and "zur Rechnung Nr. W1-2026-000001 vom 27.11.2026" in pdf
    root = shop.xml(storno.number)
    assert xpath(root, "//rsm:ExchangedDocument/ram:TypeCode") == ["384"]
    assert xpath(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == ["W1-2026-000001"]
    everything = pdf + shop.text(original.number) + shop.invoices.xml(storno.number).decode() + repr(second)
    assert "gutschrift" not in everything.lower()


def test_inv06_a_second_cancellation_and_cancelling_a_storno_are_refused(shop: Shop) -> None:
    original = shop.invoice(part("300.00"))
    storno = shop.invoices.cancel(original.number, reason="Doppelt erfasst")
    with pytest.raises(InvalidTransition, match="bereits storniert"):
        shop.invoices.cancel(original.number, reason="noch einmal")
    with pytest.raises(InvalidTransition, match="Nur festgeschriebene Rechnungen"):
        shop.invoices.cancel(storno.number, reason="Storno vom Storno")
    with pytest.raises(ValidationError, match="Grund"):
        shop.invoices.cancel(shop.invoice(part("5.00")).number, reason="  ")
    assert shop.sql("SELECT count(*) FROM invoice WHERE kind = 'storno'") == [(1,)]


# --- INV-07: reprints are the archived bytes ------------------------------------------------------------


def test_inv07_reprint_and_regeneration_give_the_archived_bytes(shop: Shop) -> None:
    number = shop.invoice(part("300.00"), {"kind": "labour", "text": "Einbau", "aw": 5}).number
    first, second = shop.invoices.pdf(number), shop.invoices.pdf(number)
    assert first == second
    with shop.db.unit() as s:
        archive = s.get_one(InvoiceArchive, shop.invoices.document_id(number))
        assert archive.pdf_sha256 == hashlib.sha256(first).hexdigest()
    time.sleep(1.1)  # a later second must not leak into the PDF (creation dates, IDs)
    with shop.db.unit() as s:
        files = invoice_build.issue_files(shop.invoices.document(number), workshop=workshop_row(s), validate=False)
    assert files.pdf == first and files.xml == shop.invoices.xml(number)
