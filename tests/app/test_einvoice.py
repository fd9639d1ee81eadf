"""E-invoice: workshop invoices as CII XML pass XSD + EN 16931 schematron; Factur-X PDF round trip."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D
from typing import Any

import pytest
from lxml import etree
from pypdf import PdfReader

from app.einvoice import (
    EN16931_ID,
    XRECHNUNG_ID,
    Profile,
    build_cii,
    ensure_valid,
    extract_xml,
    make_facturx_pdf,
    preflight,
    validate_cii,
)
from app.einvoice.cii import amount, quantity, unit_price
from app.einvoice.validate import warm_up
from app.errors import ValidationError
from app.invoice_document import (
    DocLine,
    InvoiceDocument,
    LineKind,
    Party,
    TaxBreakdown,
    VatCategory,
    VehicleInfo,
)
from app.money import round_money

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

SELLER = Party(
    name="Kfz-Werkstatt Müller GmbH",
    street="Hauptstraße 5",
    postcode="80331",
    city="München",
    vat_id="DE123456789",
    tax_number="143/123/45678",
    email="rechnung@werkstatt-mueller.de",
    phone="+49 89 123456",
    contact_name="Anna Müller",
)
KLEIN_SELLER = Party(
    name="Schrauberei Öztürk",
    street="Am Bach 2",
    postcode="93047",
    city="Regensburg",
    tax_number="244/567/89012",
    email="info@schrauberei-oeztuerk.de",
    contact_name="Cem Öztürk",
)
B2B_BUYER = Party(
    name="Spedition Schmidt GmbH",
    street="Industriestraße 12",
    postcode="85748",
    city="Garching",
    vat_id="DE987654321",
    email="buchhaltung@spedition-schmidt.de",
)
PRIVATE_BUYER = Party(name="Erika Mustermann", street="Lindenweg 3", postcode="80999", city="München")
AT_BUYER = Party(
    name="Transporte Huber GmbH",
    street="Salzachstraße 8",
    postcode="5020",
    city="Salzburg",
    country="AT",
    vat_id="ATU12345678",
    email="office@huber-transporte.at",
)
REVERSE_REASON = "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, § 13b UStG)"
KLEIN_REASON = "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."
ALTTEIL_REASON = "Altteil-Gegenwert verrechnet (Tausch mit Baraufgabe, UStAE 10.5 Abs. 3)"


S, E, AE = VatCategory.STANDARD, VatCategory.EXEMPT, VatCategory.REVERSE_CHARGE


def line(
    pos: int,
    kind: LineKind,
    text: str,
    qty: str,
    price: str,
    *,
    rate: str = "19",
    cat: VatCategory = S,
    unit: str = "C62",
    label: str = "Stk.",
    **extra: Any,
) -> DocLine:
    net = round_money(D(qty) * D(price))
    return DocLine(pos, kind, text, D(qty), unit, label, D(price), net, D(rate), cat, **extra)


def aw_line(pos: int, text: str, aw: str, *, rate: str = "19", cat: VatCategory = S) -> DocLine:
    """Labour in AW (10 AW per hour at 119.50 € → 11.95 € per AW), sent as C62 with the label "AW"."""
    return line(
        pos,
        LineKind.LABOUR,
        text,
        aw,
        "11.95",
        rate=rate,
        cat=cat,
        label="AW",
        aw=D(aw),
        aw_price=D("11.95"),
        aw_per_hour=10,
        hourly_rate=D("119.50"),
    )


def invoice(
    number: str,
    lines: list[DocLine],
    buyer: Party,
    *,
    reasons: dict[VatCategory, str] | None = None,
    **fields: Any,
) -> InvoiceDocument:
    """Sum the lines per category and rate like the invoicing service does (rounded per rate)."""
    groups: dict[tuple[VatCategory, D], D] = {}
    for ln in lines:
        groups[(ln.vat_category, ln.vat_rate)] = groups.get((ln.vat_category, ln.vat_rate), D(0)) + ln.net
    taxes = tuple(
        TaxBreakdown(cat, rate, net, round_money(net * rate / 100), (reasons or {}).get(cat, ""))
        for (cat, rate), net in groups.items()
    )
    net = sum((t.net for t in taxes), D(0))
    tax = sum((t.tax for t in taxes), D(0))
    values: dict[str, Any] = {
        "number": number, "issue_date": dt.date(2025, 3, 14), "service_date": dt.date(2025, 3, 13),
        "seller": SELLER, "buyer": buyer, "lines": tuple(lines), "taxes": taxes, "net_total": net,
        "tax_total": tax, "gross_total": net + tax, "due_date": dt.date(2025, 3, 28),
        "payment_terms": "Zahlbar innerhalb von 14 Tagen ohne Abzug.", "iban": "DE02 1203 0000 0000 2020 51",
        "bic": "BYLADEM1001", "bank_name": "Deutsche Kreditbank",
    }  # fmt: skip
    values.update(fields)
    return InvoiceDocument(**values)


def b2b_invoice() -> InvoiceDocument:
    """German B2B: labour in AW and parts at 19 %, one 7 % line."""
    lines = [
        aw_line(1, "Bremsbeläge vorne erneuern", "12"),
        line(2, LineKind.PART, "Bremsbelagsatz vorne", "1", "89.90", part_no="BP-4711"),
        line(3, LineKind.PART, "Motoröl 5W-30", "4.5", "14.2333", unit="LTR", label="l", part_no="OEL-530"),
        line(4, LineKind.PART, "Pannenhilfe-Broschüre", "1", "24.30", rate="7"),
    ]
    vehicle = VehicleInfo(plate="M-AB 1234", vin="WVWZZZ1JZXW000001", mileage=123456, make_model="VW Golf VII")
    return invoice("RE-2025-0042", lines, B2B_BUYER, buyer_reference="K-10023", order_number="PO-7781",
                   vehicle=vehicle, notes=("Vielen Dank für Ihren Auftrag.",))  # fmt: skip


def altteil_invoice() -> InvoiceDocument:
    """Private customer, exchange alternator: old-part value +32.00 at 19 %, set off −32.00 exempt."""
    lines = [
        aw_line(1, "Lichtmaschine aus- und einbauen", "15"),
        line(2, LineKind.EXCHANGE_PART, "Lichtmaschine (Austauschteil)", "1", "320.00", part_no="AT-0815"),
        line(3, LineKind.ALTTEIL_VALUE, "Altteil-Gegenwert (10 % des Austauschteils)", "1", "32.00"),
        line(4, LineKind.ALTTEIL_SETOFF, "Verrechnung Altteil-Gegenwert", "1", "-32.00", rate="0", cat=E),
    ]
    doc = invoice("RE-2025-0043", lines, PRIVATE_BUYER, reasons={E: ALTTEIL_REASON}, altteil_tax=D("6.08"),
                  iban="", bic="", bank_name="")  # fmt: skip
    return dataclasses.replace(doc, prepaid=doc.gross_total)  # paid in full at the counter


def reverse_charge_invoice() -> InvoiceDocument:
    lines = [
        aw_line(1, "Kupplung erneuern", "40", rate="0", cat=AE),
        line(2, LineKind.PART, "Kupplungssatz", "1", "612.40", rate="0", cat=AE),
    ]
    return invoice("RE-2025-0044", lines, AT_BUYER, reasons={AE: REVERSE_REASON}, reverse_charge=True,
                   notes=("Steuerschuldnerschaft des Leistungsempfängers.",))  # fmt: skip


def kleinunternehmer_invoice() -> InvoiceDocument:
    lines = [
        line(1, LineKind.LABOUR, "Inspektion", "1.5", "65.00", rate="0", cat=E, unit="HUR", label="Std."),
        line(2, LineKind.PART, "Ölfilter", "1", "12.90", rate="0", cat=E),
    ]
    return invoice("2025-017", lines, PRIVATE_BUYER, reasons={E: KLEIN_REASON}, seller=KLEIN_SELLER,
                   kleinunternehmer=True, notes=(KLEIN_REASON,))  # fmt: skip


def storno_of(original: InvoiceDocument) -> InvoiceDocument:
    """Stornorechnung: own number, every line and sum negated, refers to the original number and date."""
    lines = tuple(dataclasses.replace(ln, quantity=-ln.quantity, net=-ln.net) for ln in original.lines)
    taxes = tuple(dataclasses.replace(t, net=-t.net, tax=-t.tax) for t in original.taxes)
    return dataclasses.replace(
        original, number="RE-2025-0050", issue_date=dt.date(2025, 3, 20), lines=lines, taxes=taxes,
        net_total=-original.net_total, tax_total=-original.tax_total, gross_total=-original.gross_total,
        prepaid=-original.prepaid, altteil_tax=-original.altteil_tax, is_storno=True,
        cancels=(original.number, original.issue_date), due_date=dt.date(2025, 3, 20),
        notes=(f"Stornorechnung zu Rechnung {original.number} vom 14.03.2025.",),
    )  # fmt: skip


CASES: dict[str, Callable[[], InvoiceDocument]] = {
    "b2b": b2b_invoice,
    "altteil": altteil_invoice,
    "reverse_charge": reverse_charge_invoice,
    "kleinunternehmer": kleinunternehmer_invoice,
    "storno": lambda: storno_of(b2b_invoice()),
    "storno_altteil": lambda: storno_of(altteil_invoice()),
}


@pytest.fixture(scope="session", autouse=True)
def _schematron_compiled() -> Iterator[None]:
    """Compile the EN 16931 XSLT once for the whole run (0.2–0.4 s), not per test."""
    warm_up()
    yield


def xpath(xml: bytes, path: str) -> list[str]:
    return [
        str(v).strip() if isinstance(v, str) else (v.text or "").strip()
        for v in etree.fromstring(xml).xpath(path, namespaces=NS)
    ]


def total(xml: bytes, name: str) -> D:
    (value,) = xpath(xml, f"//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}")
    return D(value)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("profile", ["en16931", "xrechnung"])
def test_workshop_invoices_pass_xsd_and_schematron(case: str, profile: Profile) -> None:
    xml = build_cii(CASES[case](), profile=profile)
    findings = validate_cii(xml, profile=profile)
    assert [f for f in findings if f.blocking] == []
    assert ensure_valid(xml, profile) == findings


@pytest.mark.parametrize("case", CASES)
def test_xml_totals_equal_document_totals(case: str) -> None:
    doc = CASES[case]()
    xml = build_cii(doc, profile="en16931")
    assert total(xml, "LineTotalAmount") == sum((ln.net for ln in doc.lines), D(0))
    assert total(xml, "TaxBasisTotalAmount") == doc.net_total
    assert total(xml, "TaxTotalAmount") == doc.tax_total
    assert total(xml, "GrandTotalAmount") == doc.gross_total
    assert total(xml, "TotalPrepaidAmount") == doc.prepaid
    assert total(xml, "DuePayableAmount") == doc.amount_due
    header_taxes = xpath(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount")
    assert [D(v) for v in header_taxes] == [t.tax for t in doc.taxes]


def test_amounts_have_two_decimals_and_prices_up_to_four() -> None:
    xml = build_cii(b2b_invoice(), profile="en16931")
    amounts = xpath(
        xml,
        "//ram:LineTotalAmount | //ram:CalculatedAmount | //ram:BasisAmount"
        " | //ram:GrandTotalAmount | //ram:DuePayableAmount | //ram:TaxTotalAmount",
    )
    assert amounts and all(len(a.split(".")[1]) == 2 for a in amounts)
    assert xpath(xml, "//ram:NetPriceProductTradePrice/ram:ChargeAmount") == [
        "11.95",
        "89.90",
        "14.2333",
        "24.30",
    ]
    assert xpath(xml, "//ram:BilledQuantity") == ["12", "1", "4.5", "1"]
    assert xpath(xml, "//ram:BilledQuantity/@unitCode") == ["C62", "C62", "LTR", "C62"]
    assert xpath(xml, "//ram:RateApplicablePercent") == ["19.00", "19.00", "19.00", "7.00", "19.00", "7.00"]


@pytest.mark.parametrize(
    ("func", "value", "expected"),
    [
        (amount, D("-0.004"), "0.00"),
        (amount, D("12.345"), "12.35"),
        (amount, D("7"), "7.00"),
        (unit_price, D("8.33333"), "8.3333"),
        (unit_price, D("-32"), "32.00"),
        (unit_price, D("1.2340"), "1.234"),
        (quantity, D("2.500"), "2.5"),
        (quantity, D("-3"), "-3"),
        (quantity, D("0.00001"), "0"),
    ],
)
def test_number_formats(func: Callable[[D], str], value: D, expected: str) -> None:
    assert func(value) == expected


def test_unpaid_invoice_without_iban_has_payment_means_not_defined() -> None:
    doc = dataclasses.replace(b2b_invoice(), iban="", bic="")
    xml = build_cii(doc, profile="en16931")
    assert xpath(xml, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["1"]
    assert validate_cii(xml, profile="en16931") == []


def test_header_fields_of_a_b2b_invoice() -> None:
    xml = build_cii(b2b_invoice(), profile="en16931")
    assert xpath(xml, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [EN16931_ID]
    assert xpath(xml, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID") == ["RE-2025-0042"]
    assert xpath(xml, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert xpath(xml, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == ["20250314"]
    assert xpath(xml, "//ram:BuyerReference") == ["K-10023"]
    assert xpath(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/@schemeID") == ["VA", "FC"]
    assert xpath(xml, "//ram:SellerTradeParty/ram:URIUniversalCommunication/ram:URIID") == [SELLER.email]
    assert xpath(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == ["DE987654321"]
    assert xpath(xml, "//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString") == ["20250313"]
    assert xpath(xml, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["58"]
    assert xpath(xml, "//ram:IBANID") == ["DE02120300000000202051"]
    assert xpath(xml, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == ["20250328"]
    notes = xpath(xml, "//rsm:ExchangedDocument/ram:IncludedNote/ram:Content")
    assert notes[0] == "Vielen Dank für Ihren Auftrag."
    assert "Kennzeichen M-AB 1234" in notes[1]


def test_xrechnung_profile_id_and_mismatch_is_reported() -> None:
    xml = build_cii(b2b_invoice(), profile="xrechnung")
    assert xpath(xml, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [XRECHNUNG_ID]
    assert validate_cii(xml, profile="xrechnung") == []
    # Checked as plain EN 16931: our profile check and the Factur-X code list for BT-24 both object.
    rules = [f.rule_id for f in validate_cii(xml, profile="en16931") if f.blocking]
    assert rules == ["BT-24", "FX-SCH-A-000556"]


def test_counter_paid_invoice_without_iban_uses_cash_and_no_buyer_vat_id() -> None:
    xml = build_cii(altteil_invoice(), profile="en16931")
    assert xpath(xml, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["10"]
    assert xpath(xml, "//ram:IBANID") == []
    assert xpath(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration") == []
    assert total(xml, "DuePayableAmount") == D("0.00")


def test_altteilsteuer_lines_and_breakdowns() -> None:
    xml = build_cii(altteil_invoice(), profile="en16931")
    # The negative set-off price moves its sign into the quantity (BR-27: no negative net price).
    assert xpath(xml, "//ram:IncludedSupplyChainTradeLineItem[4]//ram:BilledQuantity") == ["-1"]
    assert xpath(xml, "//ram:IncludedSupplyChainTradeLineItem[4]//ram:ChargeAmount") == ["32.00"]
    assert xpath(xml, "//ram:IncludedSupplyChainTradeLineItem[4]//ram:LineTotalAmount") == ["-32.00"]
    exempt = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax[ram:CategoryCode='E']"
    assert xpath(xml, f"{exempt}/ram:BasisAmount") == ["-32.00"]
    assert xpath(xml, f"{exempt}/ram:ExemptionReason") == [ALTTEIL_REASON]
    standard = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax[ram:CategoryCode='S']"
    assert xpath(xml, f"{standard}/ram:BasisAmount") == ["531.25"]  # 179.25 + 320.00 + 32.00


def test_reverse_charge_carries_both_vat_ids_and_the_note() -> None:
    xml = build_cii(reverse_charge_invoice(), profile="en16931")
    assert xpath(xml, "//ram:BuyerTradeParty//ram:CountryID") == ["AT"]
    assert xpath(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == ["ATU12345678"]
    assert xpath(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:ExemptionReason") == [
        REVERSE_REASON
    ]
    assert total(xml, "TaxTotalAmount") == D("0.00")


def test_reverse_charge_without_buyer_vat_id_is_refused() -> None:
    doc = dataclasses.replace(reverse_charge_invoice(), buyer=dataclasses.replace(AT_BUYER, vat_id=""))
    with pytest.raises(ValidationError, match="USt-IdNr. des Kunden „Transporte Huber GmbH“"):
        build_cii(doc, profile="en16931")


def test_kleinunternehmer_has_tax_number_and_exemption() -> None:
    xml = build_cii(kleinunternehmer_invoice(), profile="xrechnung")
    assert xpath(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/@schemeID") == ["FC"]
    assert xpath(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == ["E"]
    assert xpath(xml, "//ram:ExemptionReason") == [KLEIN_REASON]
    assert total(xml, "TaxTotalAmount") == D("0.00")


def test_storno_is_a_corrected_invoice_with_negative_amounts_referencing_the_original() -> None:
    original = b2b_invoice()
    xml = build_cii(storno_of(original), profile="xrechnung")
    assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode") == ["384"]
    assert xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == ["RE-2025-0042"]
    assert xpath(xml, "//ram:InvoiceReferencedDocument//qdt:DateTimeString") == ["20250314"]
    assert total(xml, "GrandTotalAmount") == -original.gross_total
    assert xpath(xml, "//ram:IncludedSupplyChainTradeLineItem[1]//ram:BilledQuantity") == ["-12"]
    assert all(not p.startswith("-") for p in xpath(xml, "//ram:NetPriceProductTradePrice/ram:ChargeAmount"))


def test_storno_without_original_is_refused() -> None:
    doc = dataclasses.replace(storno_of(b2b_invoice()), cancels=None)
    with pytest.raises(ValidationError, match="Originalrechnung"):
        build_cii(doc, profile="en16931")


def test_wrong_grand_total_is_caught_with_a_german_message() -> None:
    doc = b2b_invoice()
    xml = build_cii(dataclasses.replace(doc, gross_total=doc.gross_total + D("10.00")), profile="en16931")
    rules = {f.rule_id for f in validate_cii(xml, profile="en16931") if f.blocking}
    assert "BR-CO-15" in rules
    with pytest.raises(ValidationError) as caught:
        ensure_valid(xml, "en16931")
    message = str(caught.value)
    assert message.startswith("Die E-Rechnung ist ungültig – Regel BR-CO-15: Die Summe brutto (BT-112) stimmt nicht")


def test_wrong_amount_due_is_caught_as_br_co_16() -> None:
    root = etree.fromstring(build_cii(b2b_invoice(), profile="en16931"))
    (due,) = root.xpath("//ram:DuePayableAmount", namespaces=NS)
    due.text = "1.00"
    xml = etree.tostring(root)
    with pytest.raises(ValidationError, match="Regel BR-CO-16: Der Zahlbetrag"):
        ensure_valid(xml, "en16931")


def test_invalid_country_code_is_caught() -> None:
    doc = dataclasses.replace(b2b_invoice(), buyer=dataclasses.replace(B2B_BUYER, country="XX"))
    findings = [f for f in validate_cii(build_cii(doc, profile="en16931"), profile="en16931") if f.blocking]
    assert findings
    assert {f.location for f in findings} == {
        "ApplicableHeaderTradeAgreement/BuyerTradeParty/PostalTradeAddress/CountryID"
    }
    assert "„XX“" in findings[0].text
    with pytest.raises(ValidationError, match="Der Wert „XX“ in „ram:CountryID“ ist nicht zulässig"):
        ensure_valid(build_cii(doc, profile="en16931"), "en16931")


def test_broken_structure_is_reported_as_xsd_error() -> None:
    xml = build_cii(b2b_invoice(), profile="en16931")
    root = etree.fromstring(xml)
    header = root.find("rsm:ExchangedDocument", NS)
    header.remove(header.find("ram:TypeCode", NS))
    findings = validate_cii(etree.tostring(root), profile="en16931")
    assert "XSD" in {f.rule_id for f in findings if f.blocking}
    assert validate_cii(b"<kein xml", profile="en16931")[0].rule_id == "XML"


def test_warnings_do_not_block() -> None:
    root = etree.fromstring(build_cii(b2b_invoice(), profile="en16931"))
    (address,) = root.xpath("//ram:BuyerTradeParty/ram:PostalTradeAddress", namespaces=NS)
    address.insert(2, etree.Element(f"{{{NS['ram']}}}LineTwo"))  # empty element: PEPPOL-EN16931-R008
    xml = etree.tostring(root)
    findings = ensure_valid(xml, "en16931")
    assert [(f.rule_id, f.severity, f.blocking) for f in findings] == [("PEPPOL-EN16931-R008", "warning", False)]
    assert findings[0].location == "ApplicableHeaderTradeAgreement/BuyerTradeParty/PostalTradeAddress/LineTwo"


def test_validation_from_several_threads_gives_the_same_findings() -> None:
    good = build_cii(b2b_invoice(), profile="en16931")
    doc = b2b_invoice()
    bad = build_cii(dataclasses.replace(doc, gross_total=doc.gross_total + 1), profile="en16931")
    jobs = [good, bad] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda xml: validate_cii(xml, profile="en16931"), jobs))
    assert results[0::2] == [[]] * 4
    assert all(r == results[1] and {f.rule_id for f in r} == {"BR-CO-15"} for r in results[1::2])


# --- PDF ---------------------------------------------------------------------------------------------------


def visual_pdf(doc: InvoiceDocument) -> bytes:
    """A tiny ReportLab invoice page: embedded DejaVu only (no Helvetica), reproducible (invariant)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    pdfmetrics.registerFont(TTFont("DejaVu", DEJAVU))
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, initialFontName="DejaVu", enforceColorSpace="rgb", invariant=1, lang="de-DE")
    canvas.setFont("DejaVu", 11)
    canvas.drawString(60, 780, f"Rechnung {doc.number} – {doc.seller.name}")
    canvas.drawString(60, 760, f"Summe brutto: {doc.gross_total} €")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@pytest.fixture(scope="module")
def facturx_pdf() -> tuple[bytes, bytes, bytes]:
    doc = b2b_invoice()
    xml = build_cii(doc, profile="en16931")
    visual = visual_pdf(doc)
    return visual, xml, make_facturx_pdf(visual, xml, title="Rechnung RE-2025-0042", author=SELLER.name)


def test_pdf_embeds_the_xml_unchanged(facturx_pdf: tuple[bytes, bytes, bytes]) -> None:
    _visual, xml, pdf = facturx_pdf
    assert extract_xml(pdf) == xml
    reader = PdfReader(io.BytesIO(pdf))
    assert list(reader.attachments) == ["factur-x.xml"]
    assert reader.attachments["factur-x.xml"] == [xml]


def test_pdf_passes_preflight_and_has_the_recipe_fixes(facturx_pdf: tuple[bytes, bytes, bytes]) -> None:
    _visual, _xml, pdf = facturx_pdf
    assert preflight(pdf) == []
    assert pdf.startswith(b"%PDF-1.7")
    reader = PdfReader(io.BytesIO(pdf))
    info: Any = reader.metadata
    root: Any = reader.trailer["/Root"]
    assert info is not None
    assert info["/Producer"] == "pypdf"
    assert "/Keywords" not in info and "/Trapped" not in info
    assert info["/CreationDate"] == info["/ModDate"] == "D:20250314000000+00'00'"
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object().get_data()[8] == 2  # ICC v2 profile
    xmp = root["/Metadata"].get_object().get_data()
    assert b"<xmp:CreateDate>2025-03-14T00:00:00+00:00</xmp:CreateDate>" in xmp


def test_two_builds_are_byte_identical(facturx_pdf: tuple[bytes, bytes, bytes]) -> None:
    visual, xml, pdf = facturx_pdf
    again = make_facturx_pdf(visual, xml, title="Rechnung RE-2025-0042", author=SELLER.name)
    assert again == pdf
    other = make_facturx_pdf(visual, xml, title="Rechnung RE-2025-0042 (Kopie)", author=SELLER.name)
    assert PdfReader(io.BytesIO(other)).trailer["/ID"] != PdfReader(io.BytesIO(pdf)).trailer["/ID"]


def test_preflight_finds_problems_of_a_plain_reportlab_pdf() -> None:
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)  # Helvetica, not embedded; no OutputIntent, no XMP, no XML
    canvas.drawString(60, 780, "Rechnung")
    canvas.save()
    problems = preflight(buffer.getvalue())
    assert any("Helvetica" in p for p in problems)
    assert any("OutputIntent" in p for p in problems)
    assert any("XMP" in p for p in problems)
    assert any("factur-x.xml" in p for p in problems)
    assert preflight(b"GIF89a") == ["Die Datei beginnt nicht mit einem PDF-Kopf (%PDF-1.x)."]


def test_preflight_reports_info_not_matching_xmp(facturx_pdf: tuple[bytes, bytes, bytes]) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(facturx_pdf[2]))
    writer.add_metadata({"/Keywords": "Rechnung", "/Producer": "ReportLab PDF Library"})
    out = io.BytesIO()
    writer.write(out)
    problems = preflight(out.getvalue())
    assert problems == [
        "Info-Eintrag Keywords stimmt nicht mit den XMP-Metadaten überein.",
        "Info-Eintrag Producer stimmt nicht mit den XMP-Metadaten überein.",
    ]


def test_xrechnung_xml_can_be_embedded_too() -> None:
    doc = b2b_invoice()
    xml = build_cii(doc, profile="xrechnung")
    pdf = make_facturx_pdf(visual_pdf(doc), xml, title="Rechnung", author=SELLER.name)
    assert extract_xml(pdf) == xml
    assert preflight(pdf) == []


def test_extract_xml_from_a_pdf_without_e_invoice_is_refused() -> None:
    with pytest.raises(ValidationError, match="keine E-Rechnung"):
        extract_xml(visual_pdf(b2b_invoice()))
