"""InvoiceService end to end on a real database: the checklist INV-01…14, EINV-01/02 and GOBD-01…03 of
german-workshop-law.md §4 with the reference's values. Orders come in through the JSON import service."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.demo import setup_workshop
from app.einvoice import EN16931_ID, XRECHNUNG_ID, build_cii, extract_xml, preflight, validate_cii
from app.einvoice.validate import blocking
from app.errors import ConflictError, InvalidTransition, NotFound, ValidationError
from app.models import AuditEntry, ChainEntry, Invoice, InvoiceArchive, InvoiceLine, LegalHold, NumberCounter
from app.pdf.girocode import girocode_payload
from app.pdf.invoice import render_invoice_pdf
from app.services import invoice_build
from app.services.audit import AuditService
from app.services.customers import CustomerInput, CustomerService
from app.services.estimates import EstimateService
from app.services.invoicing import FinalizeResult, InvoiceService
from app.services.numbering import NumberingService
from app.services.order_import_service import OrderImportService
from app.services.order_lines import LineInput
from app.services.payments import PaymentService
from app.services.privacy import PrivacyService
from app.services.registry import Services
from app.services.settings import SettingsService, workshop_row
from app.services.work_orders import WorkOrderService

TODAY = dt.date(2026, 11, 27)
ZERO = Decimal("0.00")
DATA = Path(__file__).resolve().parent.parent / "data"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
ANNA = {"name": "Anna Müller", "street": "Hauptstraße 1", "postcode": "80331", "city": "München"}
FIRMA = {
    "name": "Spedition Berger GmbH",
    "street": "Industriestraße 7",
    "postcode": "85748",
    "city": "Garching",
    "business": True,
    "vat_id": "DE812345673",
}
WIEN = {
    "name": "Wiener Transporte GmbH",
    "street": "Ring 1",
    "postcode": "1010",
    "city": "Wien",
    "country": "AT",
    "business": True,
    "vat_id": "ATU13585627",
}  # ATU13585627 passes python-stdnum


def part(price: str, text: str = "Bremsscheibe", rate: str = "19", quantity: object = 1) -> dict[str, Any]:
    return {"kind": "part", "text": text, "unit_price_net": price, "vat_rate": rate, "quantity": quantity}


def exchange(price: str) -> dict[str, Any]:
    return {"kind": "exchange_part", "text": "Austausch-Lichtmaschine", "unit_price_net": price}


@dataclass
class Shop:
    """The demo workshop with an invoice service pinned to TODAY."""

    db: Database
    invoices: InvoiceService

    def order(self, *lines: dict[str, Any], customer: dict[str, Any] = ANNA, **extra: Any) -> int:
        data = {"customer": customer, "date_of_service": "2026-11-26", "lines": list(lines), **extra}
        return OrderImportService(self.db, today=TODAY).import_file(json.dumps(data))[0]

    def draft(self, *lines: dict[str, Any], **kw: Any) -> int:
        return self.invoices.create_draft_from_order(self.order(*lines, **kw), user="Theke")[0]

    def invoice(self, *lines: dict[str, Any], **kw: Any) -> FinalizeResult:
        return self.invoices.finalize(self.draft(*lines, **kw), user="Theke")

    def text(self, number: str) -> str:
        return pdf_text(self.invoices.pdf(number))

    def xml(self, number: str) -> Any:
        return etree.fromstring(self.invoices.xml(number))

    def sql(self, statement: str, **params: Any) -> Any:
        with self.db.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else None


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\u00a0", " ")


def xpath(root: Any, path: str) -> list[str]:
    return [str(v).strip() if isinstance(v, str) else (v.text or "").strip() for v in root.xpath(path, namespaces=NS)]


def total(root: Any, name: str) -> Decimal:
    return Decimal(xpath(root, f"//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}")[0])


@pytest.fixture
def shop(db: Database) -> Shop:
    setup_workshop(Services.for_database(db))  # Huber GmbH: €118/h, 10 AW/h, valid tax ids and IBAN
    return Shop(db, InvoiceService(db, today=TODAY))


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


# --- INV-08, INV-09, INV-10, INV-11, INV-12 -------------------------------------------------------------


def test_inv08_mixed_rates_are_rounded_once_per_rate(shop: Shop) -> None:
    result = shop.invoice(
        *[part("100.03", f"Teil {i}") for i in range(3)], *[part("10.07", f"Buch {i}", rate="7") for i in range(3)]
    )
    # Per line it would be 3 × 19.01 = 57.03 and 3 × 0.70 = 2.10.
    assert [(t.rate, t.net, t.tax) for t in result.taxes] == [
        (Decimal("19.00"), Decimal("300.09"), Decimal("57.02")),
        (Decimal("7.00"), Decimal("30.21"), Decimal("2.11")),
    ]
    assert (result.net, result.tax, result.gross) == (Decimal("330.30"), Decimal("59.13"), Decimal("389.43"))
    pdf = shop.text(result.number)
    for expected in (
        "Nettobetrag 19 %\n 300,09 €",
        "Nettobetrag 7 %\n 30,21 €",
        "19 % USt auf 300,09 €\n 57,02 €",
        "7 % USt auf 30,21 €\n 2,11 €",
        "Gesamtbetrag\n 389,43 €",
    ):
        assert expected in pdf, expected


def test_inv09_altteilsteuer_for_a_private_customer_not_for_a_business_vehicle(shop: Shop) -> None:
    private = shop.invoice(exchange("1000.00"))
    assert (private.altteil_tax, private.net, private.gross) == (
        Decimal("19.00"),
        Decimal("1000.00"),
        Decimal("1209.00"),
    )
    assert "Altteilsteuer 19 % (UStAE 10.5 Abs. 3)\n 19,00 €" in shop.text(private.number)
    assert "Altteilwert" not in shop.text(private.number)  # only the tax amount is printed
    business = shop.invoice(exchange("1000.00"), customer=FIRMA, vehicle={"plate": "FS-SB 1", "business_use": True})
    assert (business.altteil_tax, business.gross) == (Decimal("0.00"), Decimal("1190.00"))
    assert "Altteilsteuer" not in shop.text(business.number)
    private_car = shop.invoice(exchange("1000.00"), customer=FIRMA, vehicle={"plate": "FS-SB 2", "business_use": False})
    assert (private_car.altteil_tax, private_car.gross) == (Decimal("19.00"), Decimal("1209.00"))


def test_inv10_eu_reverse_charge_for_an_austrian_business(shop: Shop) -> None:
    result = shop.invoice(part("800.00"), {"kind": "labour", "text": "Achsvermessung", "aw": 10}, customer=WIEN)
    assert result.reverse_charge and (result.tax, result.gross) == (Decimal("0.00"), Decimal("918.00"))
    assert [(t.category, t.rate) for t in result.taxes] == [("AE", Decimal("0.00"))]
    pdf = " ".join(shop.text(result.number).split())
    assert "Steuerschuldnerschaft des Leistungsempfängers" in pdf
    assert "USt-IdNr. des Leistenden: DE136695976" in pdf and "USt-IdNr. des Leistungsempfängers: ATU13585627" in pdf
    assert "19 %" not in pdf
    root = shop.xml(result.number)
    assert xpath(root, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == ["ATU13585627"]
    assert xpath(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == ["AE"]


def test_inv11_kleinunternehmer_shows_no_vat_and_the_paragraph_19_note(shop: Shop) -> None:
    SettingsService(shop.db).update(kleinunternehmer=True)
    result = shop.invoice(part("300.00"), exchange("1000.00"))
    assert (result.net, result.tax, result.gross, result.altteil_tax) == (
        Decimal("1300.00"),
        Decimal("0.00"),
        Decimal("1300.00"),
        Decimal("0.00"),
    )
    pdf = shop.text(result.number)
    assert "§ 19 UStG" in pdf and "USt auf" not in pdf and "19 %" not in pdf
    assert xpath(
        shop.xml(result.number), "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode"
    ) == ["E"]


def test_inv12_labour_in_aw_at_12_aw_per_hour(shop: Shop) -> None:
    SettingsService(shop.db).update(labour_rate_net="120.00", aw_per_hour=12)
    result = shop.invoice({"kind": "labour", "text": "Bremsbeläge vorn erneuern", "aw": 6}, part("200.00"))
    with shop.db.unit() as s:
        labour = s.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id == result.id, InvoiceLine.kind == "labour")
        ).one()
        assert (labour.aw, labour.aw_per_hour, labour.hourly_rate, labour.net) == (
            Decimal("6"),
            12,
            Decimal("120.00"),
            Decimal("60.00"),
        )
    assert result.net == Decimal("260.00")
    pdf = shop.text(result.number)
    assert "6 AW × 10,00 € · 12 AW = 1 Std. · Stundensatz 120,00 €" in " ".join(pdf.split())
    assert "6 AW\n10,00 €\n19 %\n60,00 €" in pdf  # quantity, AW price, rate, line total


# --- INV-13: GiroCode -----------------------------------------------------------------------------------


def test_inv13_girocode_for_the_amount_due_none_when_nothing_is_due(shop: Shop) -> None:
    result = shop.invoice(part("300.00"))
    doc = shop.invoices.document(result.number)

    def payload(d: Any) -> str | None:
        return girocode_payload(name=d.seller.name, iban=d.iban, amount=d.amount_due, text=d.number)

    assert payload(doc) == "\n".join(
        [
            "BCD",
            "002",
            "2",
            "SCT",
            "",
            "Kfz-Meisterbetrieb Huber GmbH",
            "DE89370400440532013000",
            "EUR357.00",
            "",
            "",
            "W1-2026-000001",
        ]
    )
    assert "Bequem bezahlen mit GiroCode" in shop.text(result.number)
    prepaid = replace(doc, prepaid=doc.gross_total)
    assert payload(prepaid) is None and "GiroCode" not in pdf_text(render_invoice_pdf(prepaid))
    storno = shop.invoices.cancel(result.number, reason="Irrtum")
    assert payload(shop.invoices.document(storno.number)) is None
    assert "GiroCode" not in shop.text(storno.number)


# --- INV-14: KVA overrun --------------------------------------------------------------------------------


def test_inv14_an_overrun_blocks_invoicing_until_the_customer_approves(shop: Shop) -> None:
    customer_id = (
        CustomerService(shop.db)
        .create(
            CustomerInput(
                first_name="Anna", last_name="Müller", street="Hauptstraße 1", postcode="80331", city="München"
            )
        )[0]
        .id
    )
    estimates, orders = EstimateService(shop.db, today=TODAY), WorkOrderService(shop.db, today=TODAY)
    kva = estimates.create(customer_id, lines=[LineInput(kind="part", text="Kupplung", unit_price_net="1000")])
    estimates.accept(kva.estimate.id)
    work = estimates.convert_to_order(kva.estimate.id).order.id
    orders.open(work)
    orders.start(work)
    orders.add_line(work, LineInput(kind="fee", text="Mehraufwand", unit_price_net="151"))
    orders.complete(work)
    with pytest.raises(ValidationError, match="um 15,1 %") as info:
        shop.invoices.create_draft_from_order(work)
    assert info.value.field == "approval"
    orders.record_approval(work, "phone", "Theke Maria", note="Kundin einverstanden")
    result = shop.invoices.finalize(shop.invoices.create_draft_from_order(work)[0])
    assert result.net == Decimal("1151.00") and orders.get(work).status == "invoiced"


# --- EINV-01/02 -----------------------------------------------------------------------------------------


def test_einv_archived_pdf_is_pdfa3_with_a_valid_en16931_xml_matching_the_invoice(shop: Shop) -> None:
    result = shop.invoice(exchange("1000.00"), part("10.00", rate="7"), {"kind": "labour", "text": "Einbau", "aw": 7})
    pdf, xml = shop.invoices.pdf(result.number), shop.invoices.xml(result.number)
    assert extract_xml(pdf) == xml
    assert preflight(pdf) == []
    assert blocking(validate_cii(xml, profile="en16931")) == []
    root = etree.fromstring(xml)
    assert xpath(root, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [EN16931_ID]
    with shop.db.unit() as s:
        row = s.get_one(Invoice, result.id)
        stored = (row.gross_total, row.tax_total, row.net_total)
    assert (
        (total(root, "GrandTotalAmount"), total(root, "TaxTotalAmount"), total(root, "TaxBasisTotalAmount"))
        == (stored)
        == (result.gross, result.tax, result.net)
    )
    assert f"Gesamtbetrag\n {result.gross:,.2f} €".translate(str.maketrans(",.", ".,")) in pdf_text(pdf)
    doc = shop.invoices.document(result.number)
    for profile in ("minimum", "basicwl", "basic-wl", "BASIC WL"):
        with pytest.raises(ValidationError, match="Unbekanntes E-Rechnungsprofil"):
            build_cii(doc, profile=profile)  # type: ignore[arg-type]
    xrechnung = shop.invoices.xrechnung(result.number)
    assert xpath(etree.fromstring(xrechnung), "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [
        XRECHNUNG_ID
    ]
    assert blocking(validate_cii(xrechnung, profile="xrechnung")) == []


# --- GOBD-01…03 -----------------------------------------------------------------------------------------


def _paid_and_cancelled(shop: Shop) -> tuple[FinalizeResult, FinalizeResult, int]:
    paid = shop.invoice(part("300.00"))
    payments = PaymentService(shop.db, today=TODAY)
    payments.record(paid.id, amount="100.00", method="cash", user="Kasse")
    payment = payments.record(paid.id, amount="257.00", method="transfer", user="Buchhaltung")
    cancelled = shop.invoice(part("50.00"))
    shop.invoices.cancel(cancelled.number, reason="Kulanz", user="Meister")
    return paid, cancelled, payment.id


def test_gobd01_audit_entries_and_an_append_only_log(shop: Shop) -> None:
    paid, cancelled, _ = _paid_and_cancelled(shop)
    with shop.db.unit() as s:
        entries = {(e.entity, e.entity_id, e.action, e.user) for e in s.scalars(select(AuditEntry))}
    for expected in (
        ("invoice", paid.id, "create", "Theke"),
        ("invoice", paid.id, "finalize", "Theke"),
        ("invoice", cancelled.id, "cancel", "Meister"),
        ("payment", 1, "create", "Kasse"),
        ("cash_record", 1, "create", "Kasse"),
        ("payment", 2, "create", "Buchhaltung"),
    ):
        assert expected in entries
    with pytest.raises(SADatabaseError, match="Nur Anfügen erlaubt: audit_log"):
        shop.sql("UPDATE audit_log SET user = 'x'")
    with pytest.raises(SADatabaseError, match="Nur Anfügen erlaubt: audit_log"):
        shop.sql("DELETE FROM audit_log")


TAMPERING = {  # what → (guard dropped, statement, the record verify must name)
    "invoice total": ("invoice_final_no_update", "UPDATE invoice SET gross_total = 1 WHERE id = :inv", "invoice"),
    "invoice line": (
        "invoice_line_final_no_update",
        "UPDATE invoice_line SET text = 'Bremse' WHERE invoice_id = :inv",
        "invoice",
    ),
    "archived pdf": (
        "invoice_archive_no_update",
        "UPDATE invoice_archive SET pdf = x'255044462d' WHERE invoice_id = :inv",
        "invoice",
    ),
    "payment amount": ("payment_no_update", "UPDATE payment SET amount = 25.7 WHERE id = :pay", "payment"),
    "cash amount": ("cash_record_no_update", "UPDATE cash_record SET amount = 10", "cash_record"),
}


@pytest.mark.parametrize("what", list(TAMPERING))
def test_gobd02_verify_finds_a_record_changed_behind_the_guards(shop: Shop, what: str) -> None:
    paid, _, payment_id = _paid_and_cancelled(shop)
    report = AuditService(shop.db).verify()
    assert report.ok and report.checked == 6  # 3 invoices, 2 payments, 1 cash record
    trigger, statement, entity = TAMPERING[what]
    shop.sql(f"DROP TRIGGER {trigger}")
    shop.sql(statement, **{k: v for k, v in {"inv": paid.id, "pay": payment_id}.items() if f":{k}" in statement})
    entity_id = {"invoice": paid.id, "payment": payment_id, "cash_record": 1}[entity]
    link = shop.sql("SELECT id FROM hash_chain WHERE entity = :e AND entity_id = :i", e=entity, i=entity_id)[0][0]
    report = AuditService(shop.db).verify()
    assert [p for p in report.problems if "verändert" in p] == [f"Glied {link}: {entity} {entity_id} wurde verändert"]


def test_gobd02_a_removed_chain_link_is_found_too(shop: Shop) -> None:
    _paid_and_cancelled(shop)
    newest = shop.invoice(part("70.00"))
    shop.sql("DROP TRIGGER hash_chain_no_delete")
    shop.sql("DROP TRIGGER invoice_final_no_update")
    shop.sql("DELETE FROM hash_chain WHERE id = (SELECT max(id) FROM hash_chain)")
    shop.sql("UPDATE invoice SET gross_total = 1 WHERE id = :i", i=newest.id)
    report = AuditService(shop.db).verify()
    assert not report.ok
    assert any(newest.number in p and "Prüfkette" in p for p in report.problems), report.problems


def test_gobd03_no_hard_delete_and_a_legal_hold_that_turns_erasure_into_restriction(shop: Shop) -> None:
    result = shop.invoice(part("300.00"), vehicle={"vin": "WVWZZZ1KZAW123456", "plate": "M-AB 123"})
    with pytest.raises(SADatabaseError, match="GoBD"):
        shop.sql("DELETE FROM invoice WHERE id = :i", i=result.id)
    customer_id = shop.sql("SELECT customer_id FROM invoice WHERE id = :i", i=result.id)[0][0]
    privacy = PrivacyService(shop.db)
    holds = privacy.holds(customer_id, today=TODAY)
    assert [(h.entity, h.entity_id, h.category, h.until) for h in holds] == [
        ("invoice", result.id, "voucher_8y", dt.date(2034, 12, 31))
    ]
    outcome = privacy.erase_customer(customer_id, user="Datenschutz", today=TODAY)
    assert (outcome.deleted, outcome.restricted) == (False, True)
    assert privacy.is_restricted(customer_id)
    assert shop.invoices.pdf(result.number)  # the voucher and its archive stay
    assert shop.sql("SELECT name FROM sqlite_master WHERE name = 'invoice_final_no_delete'")  # guard untouched
    assert AuditService(shop.db).verify().ok
    assert privacy.purge_expired(today=dt.date(2034, 12, 31), user="Datenschutz") == 0
    assert privacy.is_restricted(customer_id)


def test_after_a_storno_the_order_can_be_invoiced_anew(db) -> None:  # type: ignore[no-untyped-def]
    """Workflow §5.4: "Stornieren" creates the Stornorechnung, then a new invoice from the same order."""
    from app.demo import setup_workshop
    from app.services.invoicing import InvoiceService
    from app.services.order_import_service import OrderImportService
    from app.services.registry import Services
    from app.services.work_orders import WorkOrderService

    setup_workshop(Services.for_database(db))
    order_id = OrderImportService(db).import_file((DATA / "order_private.json").read_bytes())[0]
    invoices = InvoiceService(db)
    first = invoices.finalize(invoices.create_draft_from_order(order_id)[0])
    assert WorkOrderService(db).get(order_id).status == "invoiced"
    invoices.cancel(first.number, reason="Falsche Anschrift")
    assert WorkOrderService(db).get(order_id).status == "completed"
    second = invoices.finalize(invoices.create_draft_from_order(order_id)[0])
    assert second.gross == first.gross and second.number != first.number
    assert WorkOrderService(db).get(order_id).status == "invoiced"


def test_erasure_of_a_customer_named_by_an_order_without_hold_restricts_instead_of_failing(db) -> None:  # type: ignore[no-untyped-def]
    """A work order (no invoice, so no legal hold) still names the customer: restrict, never crash."""
    import datetime as dt

    from app.services.order_import_service import OrderImportService
    from app.services.privacy import PrivacyService
    from app.services.work_orders import WorkOrderService

    order_id = OrderImportService(db).import_file((DATA / "order_private.json").read_bytes())[0]
    customer_id = WorkOrderService(db).get(order_id).customer_id
    outcome = PrivacyService(db).erase_customer(customer_id, user="Theke", today=dt.date(2026, 11, 27))
    assert outcome.restricted and not outcome.deleted
    assert any("Auftrag A-" in text for text in outcome.kept)
    assert PrivacyService(db).purge_expired(today=dt.date(2040, 1, 1), user="Theke") == 0
