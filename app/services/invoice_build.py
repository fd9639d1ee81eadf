"""Turning a stored invoice draft into the legal document: §14 checks, VAT, the InvoiceDocument, and the
issued files (ReportLab PDF + Factur-X/ZUGFeRD EN 16931 XML, validated before issue)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from app.errors import ValidationError
from app.invoice_document import InvoiceDocument, Party, VehicleInfo
from app.models import Customer, Invoice, InvoiceLine, Vehicle, Workshop
from app.services.customers import display_name
from app.tax import TaxContext, TaxResult, compute
from app.tax_lines import InputLine

REQUIRED_SELLER = (
    ("name", "Name der Werkstatt"),
    ("street", "Straße der Werkstatt"),
    ("postcode", "PLZ der Werkstatt"),
    ("city", "Ort der Werkstatt"),
)
REQUIRED_BUYER = (("street", "Straße des Kunden"), ("postcode", "PLZ des Kunden"), ("city", "Ort des Kunden"))


@dataclass(frozen=True)
class IssuedFiles:
    """The bytes that go into the archive."""

    pdf: bytes
    xml: bytes


def check_seller(workshop: Workshop) -> None:
    """§14 Abs. 4 Nr. 1–2: the supplier's name, address and Steuernummer or USt-IdNr. (INV-01)."""
    for field, label in REQUIRED_SELLER:
        if not str(getattr(workshop, field) or "").strip():
            raise ValidationError(
                "Rechnung kann nicht festgeschrieben werden: „{label}“ fehlt (Einstellungen → Werkstatt).",
                field=field,
                label=label,
            )
    if not (workshop.tax_number.strip() or workshop.vat_id.strip()):
        raise ValidationError(
            "Rechnung kann nicht festgeschrieben werden: Steuernummer oder USt-IdNr. der Werkstatt fehlt "
            "(§ 14 Abs. 4 Nr. 2 UStG, Einstellungen → Werkstatt).",
            field="tax_number",
        )


def check_buyer(customer: Customer | None, *, small_invoice: bool) -> None:
    """§14 Abs. 4 Nr. 1: the customer's name and address; a Kleinbetragsrechnung (§33 UStDV) needs neither."""
    if small_invoice:
        return
    if customer is None:
        raise ValidationError("Rechnung kann nicht festgeschrieben werden: kein Kunde zugeordnet.", field="customer")
    name = display_name(customer.kind, customer.company, customer.first_name, customer.last_name)
    if not name.strip():
        raise ValidationError("Rechnung kann nicht festgeschrieben werden: Name des Kunden fehlt.", field="last_name")
    for field, label in REQUIRED_BUYER:
        if not str(getattr(customer, field) or "").strip():
            raise ValidationError(
                "Rechnung kann nicht festgeschrieben werden: „{label}“ fehlt – bitte die Anschrift des Kunden "
                "ergänzen (§ 14 Abs. 4 Nr. 1 UStG).",
                field=field,
                label=label,
            )


def tax_context(workshop: Workshop, customer: Customer | None, vehicle: Vehicle | None) -> TaxContext:
    """Who is taxed how: private or business, business vehicle, EU reverse charge, Kleinunternehmer."""
    business = customer is not None and customer.kind == "business"
    return TaxContext(
        customer_business=business,
        business_vehicle=business and (vehicle.business_use if vehicle is not None else True),
        customer_country=(customer.country if customer else "DE") or "DE",
        customer_vat_id=(customer.vat_id if customer else "") or "",
        kleinunternehmer=workshop.kleinunternehmer,
    )


def input_lines(lines: list[InvoiceLine]) -> list[InputLine]:
    """Stored draft lines → VAT engine input."""
    result = []
    for ln in lines:
        result.append(
            InputLine(
                kind=ln.kind,  # type: ignore[arg-type]
                text=ln.text,
                quantity=ln.quantity,
                unit_price_net=ln.unit_price_net if ln.unit_price_net is not None else Decimal(0),
                vat_rate=ln.vat_rate,
                unit_code=ln.unit_code,
                unit_label=ln.unit_label,
                part_no=ln.part_no,
                aw=ln.aw,
                aw_per_hour=ln.aw_per_hour,
                hourly_rate=ln.hourly_rate,
                percent=ln.discount_percent,
                amount_net=ln.discount_amount_net,
            )
        )
    return result


def compute_invoice(invoice: Invoice, ctx: TaxContext) -> TaxResult:
    """VAT for the draft's lines (a Storno carries negative quantities and is computed the same way)."""
    return compute(input_lines(list(invoice.lines)), ctx)


def result_of(doc: InvoiceDocument) -> TaxResult:
    """The VAT result frozen into an issued document (the basis of its Storno)."""
    return TaxResult(
        lines=doc.lines,
        taxes=doc.taxes,
        net_total=doc.net_total,
        tax_total=doc.tax_total,
        gross_total=doc.gross_total,
        altteil_tax=doc.altteil_tax,
        reverse_charge=doc.reverse_charge,
        kleinunternehmer=doc.kleinunternehmer,
        small_invoice_allowed=False,
        notes=tuple(n for n in doc.notes if not n.startswith(("Stornorechnung", "Grund:"))),
    )


def seller_party(w: Workshop) -> Party:
    """The workshop as supplier."""
    return Party(
        name=w.name,
        street=w.street,
        postcode=w.postcode,
        city=w.city,
        country=w.country or "DE",
        vat_id=w.vat_id,
        tax_number=w.tax_number,
        email=w.email,
        phone=w.phone,
        contact_name=w.owner_name,
    )


def buyer_party(c: Customer | None) -> Party:
    """The customer as buyer (frozen into the document at finalising)."""
    if c is None:
        return Party(name="Barverkauf", street="", postcode="", city="")
    name = display_name(c.kind, c.company, c.first_name, c.last_name)
    if c.kind == "private" and c.first_name:
        name = f"{c.salutation + ' ' if c.salutation else ''}{c.first_name} {c.last_name}".strip()
    return Party(
        name=name,
        street=c.street,
        postcode=c.postcode,
        city=c.city,
        country=c.country or "DE",
        vat_id=c.vat_id,
        email=c.email,
        phone=c.phone or c.mobile,
        contact_name=f"{c.first_name} {c.last_name}".strip() if c.kind == "business" else "",
    )


def vehicle_info(v: Vehicle | None, mileage: int | None) -> VehicleInfo:
    """Plate, VIN and mileage printed on the invoice."""
    if v is None:
        return VehicleInfo(mileage=mileage)
    return VehicleInfo(plate=v.plate, vin=v.vin, mileage=mileage, make_model=f"{v.make} {v.model}".strip())


def payment_terms(days: int, due: dt.date) -> str:
    """German payment terms text."""
    if days == 0:
        return "Zahlbar sofort ohne Abzug."
    return f"Zahlbar ohne Abzug innerhalb von {days} Tagen bis {due:%d.%m.%Y}."


def issue_files(doc: InvoiceDocument, *, workshop: Workshop, validate: bool) -> IssuedFiles:
    """Render the PDF, build and (unless switched off for benchmarks) validate the XML, embed it as PDF/A-3."""
    from app.einvoice.cii import build_cii
    from app.einvoice.pdfa import make_facturx_pdf
    from app.einvoice.validate import ensure_valid
    from app.pdf.invoice import render_invoice_pdf
    from app.pdf.layout import PdfStyle

    xml = build_cii(doc, profile="en16931")
    if validate:
        ensure_valid(xml, profile="en16931")
    logo = Path(workshop.logo_path) if workshop.logo_path and Path(workshop.logo_path).is_file() else None
    style = PdfStyle(accent=workshop.accent_color or "#1f4e79", logo_path=logo)
    visual = render_invoice_pdf(doc, style=style)
    title = ("Stornorechnung " if doc.is_storno else "Rechnung ") + doc.number
    pdf = make_facturx_pdf(visual, xml, title=title, author=workshop.name)
    return IssuedFiles(pdf=pdf, xml=xml)
