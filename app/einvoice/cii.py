"""EN 16931 CII XML (ZUGFeRD/Factur-X EN 16931, XRechnung 3.0) from an InvoiceDocument.

Written with an lxml template in the element order of the Factur-X 1.09 EN16931 XSD (checked by
``app.einvoice.validate``); drafthorse would add a second XSD copy (1.0.07) and an untyped object model
for no gain. Amounts are written with exactly two decimals, unit prices with two to four.

Stornorechnung: BT-3 = 384 (corrected invoice) with the same negative quantities and amounts the PDF
prints, plus BG-3 (BT-25 number, BT-26 date of the original). 381 would be a "credit note" with
positive amounts: the XML would then differ in sign from the printed Stornorechnung (hybrid invoices must
carry identical content), and 381 reads as "Gutschrift", a word kept for self-billing (BMF 25.10.2013).
EN 16931 forbids negative net prices (BR-27), so the sign always sits in the quantity.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from lxml import etree

from app.errors import ValidationError
from app.invoice_document import DocLine, InvoiceDocument, Party, TaxBreakdown, VatCategory
from app.money import round_money

Profile = Literal["en16931", "xrechnung"]

EN16931_ID = "urn:cen.eu:en16931:2017"
XRECHNUNG_ID = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
GUIDELINE_IDS: dict[str, str] = {"en16931": EN16931_ID, "xrechnung": XRECHNUNG_ID}

NS_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
NS_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NS_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NSMAP = {"rsm": NS_RSM, "ram": NS_RAM, "qdt": NS_QDT, "udt": NS_UDT}

TYPE_INVOICE = "380"
TYPE_CORRECTED = "384"
PAYMENT_SEPA_TRANSFER = "58"
PAYMENT_CASH = "10"
PAYMENT_NOT_DEFINED = "1"

# Fallback texts for BT-120 when the breakdown carries none (BR-E-10, BR-AE-10 require a reason).
_DEFAULT_REASON = {
    VatCategory.REVERSE_CHARGE: "Steuerschuldnerschaft des Leistungsempfängers",
    VatCategory.EXEMPT: "Steuerbefreit",
}
_KLEINUNTERNEHMER_REASON = "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."
_REASON_CODES = {VatCategory.REVERSE_CHARGE: "VATEX-EU-AE"}

_Element = Any  # lxml ships no type stubs; keep the helpers readable


def amount(value: Decimal) -> str:
    """An amount of money with exactly two decimals, rounded half-up ("-0.00" becomes "0.00")."""
    rounded = round_money(value)
    return format(rounded if rounded != 0 else Decimal("0.00"), "f")


def unit_price(value: Decimal) -> str:
    """A net unit price with two to four decimals (AW prices may carry more than cents)."""
    text = format(abs(value).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), "f")
    whole, frac = text.split(".")
    return f"{whole}.{frac.rstrip('0').ljust(2, '0')}"


def quantity(value: Decimal) -> str:
    """A quantity without needless trailing zeros, at most four decimals."""
    text = format(value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), "f").rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def percent(value: Decimal) -> str:
    """A VAT rate in percent with two decimals."""
    return format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")


def _sub(parent: _Element, tag: str, text: str | None = None, **attrib: str) -> _Element:
    prefix, local = tag.split(":")
    node = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{local}", attrib)
    if text is not None:
        node.text = text
    return node


def _date(parent: _Element, tag: str, value: dt.date, *, qualified: bool = False) -> None:
    wrapper = _sub(parent, tag)
    _sub(
        wrapper,
        "qdt:DateTimeString" if qualified else "udt:DateTimeString",
        value.strftime("%Y%m%d"),
        format="102",
    )


def _check(doc: InvoiceDocument) -> None:
    """Refuse documents that cannot become a valid EN 16931 invoice, with a message the user can act on."""
    if not doc.lines:
        raise ValidationError("Die Rechnung hat keine Positionen.", field="lines")
    if doc.is_storno and doc.cancels is None:
        raise ValidationError("Die Stornorechnung nennt keine Originalrechnung (Nummer und Datum).", field="cancels")
    if doc.reverse_charge and not doc.buyer.vat_id.strip():
        raise ValidationError(
            "Für die Steuerschuldnerschaft des Leistungsempfängers fehlt die USt-IdNr. des Kunden „{name}“.",
            field="vat_id",
            name=doc.buyer.name,
        )
    if not (doc.seller.vat_id.strip() or doc.seller.tax_number.strip()):
        raise ValidationError("Für die E-Rechnung fehlt die USt-IdNr. oder Steuernummer der Werkstatt.", field="vat_id")


def _party(parent: _Element, tag: str, party: Party, *, seller: bool) -> None:
    node = _sub(parent, tag)
    if seller and not party.vat_id.strip() and party.tax_number.strip():
        # BR-CO-26 wants BT-29, BT-30 or BT-31; a Kleinunternehmer often has only the Steuernummer.
        _sub(node, "ram:ID", party.tax_number.strip())
    _sub(node, "ram:Name", party.name)
    if seller:
        contact = _sub(node, "ram:DefinedTradeContact")
        _sub(contact, "ram:PersonName", party.contact_name or party.name)
        if party.phone:
            _sub(_sub(contact, "ram:TelephoneUniversalCommunication"), "ram:CompleteNumber", party.phone)
        if party.email:
            _sub(_sub(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", party.email)
    address = _sub(node, "ram:PostalTradeAddress")
    if party.postcode:
        _sub(address, "ram:PostcodeCode", party.postcode)
    if party.street:
        _sub(address, "ram:LineOne", party.street)
    if party.city:
        _sub(address, "ram:CityName", party.city)
    _sub(address, "ram:CountryID", party.country.strip().upper())
    if party.email:
        _sub(_sub(node, "ram:URIUniversalCommunication"), "ram:URIID", party.email, schemeID="EM")
    if party.vat_id.strip():
        _sub(_sub(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id.replace(" ", ""), schemeID="VA")
    if seller and party.tax_number.strip():
        _sub(_sub(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.tax_number.strip(), schemeID="FC")


def _line(parent: _Element, line: DocLine) -> None:
    # BR-27: the net price must not be negative, so a negative price moves its sign into the quantity.
    qty = line.quantity if line.unit_price_net >= 0 else -line.quantity
    item = _sub(parent, "ram:IncludedSupplyChainTradeLineItem")
    _sub(_sub(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))
    product = _sub(item, "ram:SpecifiedTradeProduct")
    if line.part_no:
        _sub(product, "ram:SellerAssignedID", line.part_no)
    _sub(product, "ram:Name", line.text)
    if line.aw is not None and line.unit_label:
        # Labour in AW goes out as C62; the attribute tells the buyer what one unit is (BG-32).
        characteristic = _sub(product, "ram:ApplicableProductCharacteristic")
        _sub(characteristic, "ram:Description", "Einheit")
        _sub(characteristic, "ram:Value", line.unit_label)
    agreement = _sub(item, "ram:SpecifiedLineTradeAgreement")
    _sub(_sub(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", unit_price(line.unit_price_net))
    _sub(
        _sub(item, "ram:SpecifiedLineTradeDelivery"),
        "ram:BilledQuantity",
        quantity(qty),
        unitCode=line.unit_code,
    )
    settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
    tax = _sub(settlement, "ram:ApplicableTradeTax")
    _sub(tax, "ram:TypeCode", "VAT")
    _sub(tax, "ram:CategoryCode", str(line.vat_category))
    _sub(tax, "ram:RateApplicablePercent", percent(line.vat_rate))
    _sub(
        _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
        "ram:LineTotalAmount",
        amount(line.net),
    )


def _reason(doc: InvoiceDocument, tax: TaxBreakdown) -> str:
    if tax.exemption_reason.strip():
        return tax.exemption_reason.strip()
    if tax.category is VatCategory.EXEMPT and doc.kleinunternehmer:
        return _KLEINUNTERNEHMER_REASON
    return _DEFAULT_REASON.get(tax.category, "")


def _header_tax(parent: _Element, doc: InvoiceDocument, tax: TaxBreakdown) -> None:
    node = _sub(parent, "ram:ApplicableTradeTax")
    _sub(node, "ram:CalculatedAmount", amount(tax.tax))
    _sub(node, "ram:TypeCode", "VAT")
    reason = _reason(doc, tax) if tax.category in (VatCategory.EXEMPT, VatCategory.REVERSE_CHARGE) else ""
    if reason:
        _sub(node, "ram:ExemptionReason", reason)
    _sub(node, "ram:BasisAmount", amount(tax.net))
    _sub(node, "ram:CategoryCode", str(tax.category))
    if tax.category in _REASON_CODES:
        _sub(node, "ram:ExemptionReasonCode", _REASON_CODES[tax.category])
    _sub(node, "ram:RateApplicablePercent", percent(tax.rate))


def _payment_means_code(doc: InvoiceDocument) -> str:
    if doc.iban.strip():
        return PAYMENT_SEPA_TRANSFER
    if doc.prepaid != 0 and doc.amount_due == 0:
        return PAYMENT_CASH  # settled in full at the counter
    return PAYMENT_NOT_DEFINED


def _settlement(trade: _Element, doc: InvoiceDocument) -> None:
    node = _sub(trade, "ram:ApplicableHeaderTradeSettlement")
    _sub(node, "ram:PaymentReference", doc.number)
    _sub(node, "ram:InvoiceCurrencyCode", doc.currency)
    means = _sub(node, "ram:SpecifiedTradeSettlementPaymentMeans")
    code = _payment_means_code(doc)
    _sub(means, "ram:TypeCode", code)
    if code == PAYMENT_SEPA_TRANSFER:
        account = _sub(means, "ram:PayeePartyCreditorFinancialAccount")
        _sub(account, "ram:IBANID", doc.iban.replace(" ", "").upper())
        if doc.bic.strip():
            _sub(
                _sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"),
                "ram:BICID",
                doc.bic.replace(" ", "").upper(),
            )
    for tax in doc.taxes:
        _header_tax(node, doc, tax)
    terms = _sub(node, "ram:SpecifiedTradePaymentTerms")
    if doc.payment_terms.strip():
        _sub(terms, "ram:Description", doc.payment_terms.strip())
    _date(terms, "ram:DueDateDateTime", doc.due_date)
    totals = _sub(node, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(totals, "ram:LineTotalAmount", amount(sum((round_money(ln.net) for ln in doc.lines), Decimal(0))))
    _sub(totals, "ram:TaxBasisTotalAmount", amount(doc.net_total))
    _sub(totals, "ram:TaxTotalAmount", amount(doc.tax_total), currencyID=doc.currency)
    _sub(totals, "ram:GrandTotalAmount", amount(doc.gross_total))
    _sub(totals, "ram:TotalPrepaidAmount", amount(doc.prepaid))
    _sub(totals, "ram:DuePayableAmount", amount(doc.amount_due))
    if doc.cancels is not None:
        original = _sub(node, "ram:InvoiceReferencedDocument")
        _sub(original, "ram:IssuerAssignedID", doc.cancels[0])
        _date(original, "ram:FormattedIssueDateTime", doc.cancels[1], qualified=True)


def _vehicle_note(doc: InvoiceDocument) -> str:
    vehicle = doc.vehicle
    parts = [
        vehicle.make_model,
        vehicle.plate and f"Kennzeichen {vehicle.plate}",
        vehicle.vin and f"FIN {vehicle.vin}",
        f"km-Stand {vehicle.mileage}" if vehicle.mileage is not None else "",
    ]
    shown = [p for p in parts if p]
    return "Fahrzeug: " + ", ".join(shown) if shown else ""


def build_cii(doc: InvoiceDocument, *, profile: Profile) -> bytes:
    """The invoice as EN 16931 CII XML (UTF-8 bytes); ``profile`` picks BT-24 (never MINIMUM/BASIC WL).

    Raises ValidationError when the document lacks what every e-invoice needs (lines, seller tax id,
    the buyer's VAT id under reverse charge, the original of a Stornorechnung).
    """
    if profile not in GUIDELINE_IDS:
        raise ValidationError("Unbekanntes E-Rechnungsprofil „{profile}“.", field="profile", profile=profile)
    _check(doc)
    root = etree.Element(f"{{{NS_RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _sub(root, "rsm:ExchangedDocumentContext")
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE_IDS[profile])

    header = _sub(root, "rsm:ExchangedDocument")
    _sub(header, "ram:ID", doc.number)
    _sub(header, "ram:TypeCode", TYPE_CORRECTED if doc.is_storno else TYPE_INVOICE)
    _date(header, "ram:IssueDateTime", doc.issue_date)
    vehicle_note = _vehicle_note(doc)
    for text in (*doc.notes, vehicle_note):
        if text.strip():
            _sub(_sub(header, "ram:IncludedNote"), "ram:Content", text.strip())

    trade = _sub(root, "rsm:SupplyChainTradeTransaction")
    for line in doc.lines:
        _line(trade, line)
    agreement = _sub(trade, "ram:ApplicableHeaderTradeAgreement")
    _sub(agreement, "ram:BuyerReference", doc.buyer_reference.strip() or "n/a")
    _party(agreement, "ram:SellerTradeParty", doc.seller, seller=True)
    _party(agreement, "ram:BuyerTradeParty", doc.buyer, seller=False)
    if doc.order_number.strip():
        _sub(
            _sub(agreement, "ram:BuyerOrderReferencedDocument"),
            "ram:IssuerAssignedID",
            doc.order_number.strip(),
        )
    delivery = _sub(trade, "ram:ApplicableHeaderTradeDelivery")
    _date(_sub(delivery, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime", doc.service_date)
    _settlement(trade, doc)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
