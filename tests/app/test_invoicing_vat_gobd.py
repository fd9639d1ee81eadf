"""InvoiceService end to end on a real database, part 2: INV-08…14 (VAT, Altteilsteuer, reverse charge, §19, AW,
GiroCode, KVA overrun), EINV-01/02 and GOBD-01…03 with the reference's values."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.exc import DatabaseError as SADatabaseError

from app.demo import setup_workshop
from app.einvoice import EN16931_ID, XRECHNUNG_ID, build_cii, extract_xml, preflight, validate_cii
from app.einvoice.validate import blocking
from app.errors import ValidationError
from app.models import AuditEntry, Invoice, InvoiceLine
from app.pdf.girocode import girocode_payload
from app.pdf.invoice import render_invoice_pdf
from app.services.audit import AuditService
from app.services.customers import CustomerInput, CustomerService
from app.services.estimates import EstimateService
from app.services.invoicing import FinalizeResult, InvoiceService
from app.services.order_import_service import OrderImportService
from app.services.order_lines import LineInput
from app.services.payments import PaymentService
from app.services.privacy import PrivacyService
from app.services.registry import Services
from app.services.settings import SettingsService
from app.services.work_orders import WorkOrderService
from tests.app.invoicing_support import (
    DATA,
    FIRMA,
    TODAY,
    WIEN,
    Shop,
    exchange,
    part,
    pdf_text,
    total,
    xpath,
)

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
    from app.services.order_import_service import OrderImportService
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

    from app.services.privacy import PrivacyService
    from app.services.work_orders import WorkOrderService

    order_id = OrderImportService(db).import_file((DATA / "order_private.json").read_bytes())[0]
    customer_id = WorkOrderService(db).get(order_id).customer_id
    outcome = PrivacyService(db).erase_customer(customer_id, user="Theke", today=dt.date(2026, 11, 27))
    assert outcome.restricted and not outcome.deleted
    assert any("Auftrag A-" in text for text in outcome.kept)
    assert PrivacyService(db).purge_expired(today=dt.date(2040, 1, 1), user="Theke") == 0
