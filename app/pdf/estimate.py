"""The Kostenvoranschlag (KVA, §2.12) as a PDF: the invoice's DIN 5008 letter, line table and totals
(``app.pdf.layout``, ``app.pdf.priced``), then the terms the customer agrees to and a signature line.

The terms say whether the KVA is binding (it works like a fixed price) or not (the workshop may exceed it
by its threshold, default 15 %, and must ask before a larger overrun), how long it is valid, and whether
drawing it up is free or charged (only when agreed, §632 Abs. 3 BGB – the fee is credited when the
customer places the order). Like the invoice it is always German and reproducible (same bytes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table

from app.invoice_document import DocLine, Party, TaxBreakdown, VehicleInfo
from app.pdf import text
from app.pdf.fonts import register_fonts
from app.pdf.invoice_totals import TotalLine, tax_notes, tax_total_lines, unique_notes
from app.pdf.layout import GREY, Letter, PdfStyle, build_pdf, paragraph_style, table_style
from app.pdf.priced import BODY, HEADING, SMALL, SUBHEADING, line_table, totals_table

TITLE = "Kostenvoranschlag"
_TERMS = paragraph_style("terms", size=9, leading=12.5, spaceAfter=3)
_CAPTION = paragraph_style("caption", size=7.5, leading=9.5, textColor=GREY)


@dataclass(frozen=True)
class EstimateDocument:
    """Everything printed on one KVA. Lines, taxes and totals are the VAT engine's, as on the invoice
    the order will get; ``notes`` are the engine's tax notes, ``remarks`` the counter's own text.

    ``overrun_percent`` is the workshop's allowed overrun of a non-binding KVA; ``fee_net``/``fee_gross``
    what drawing up a charged KVA costs (zero when it is free).
    """

    number: str
    issue_date: dt.date
    valid_until: dt.date | None
    seller: Party
    buyer: Party
    lines: tuple[DocLine, ...]
    taxes: tuple[TaxBreakdown, ...]
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    vehicle: VehicleInfo = field(default_factory=VehicleInfo)
    binding: bool = False
    overrun_percent: Decimal = Decimal("15.00")
    charged: bool = False
    fee_net: Decimal = Decimal("0.00")
    fee_gross: Decimal = Decimal("0.00")
    altteil_tax: Decimal = Decimal("0.00")
    reverse_charge: bool = False
    kleinunternehmer: bool = False
    notes: tuple[str, ...] = ()
    remarks: str = ""
    customer_number: str = ""
    iban: str = ""
    bic: str = ""
    bank_name: str = ""
    currency: str = "EUR"

    @property
    def small_invoice(self) -> bool:
        """Never: the Kleinbetragsrechnung layout is for invoices only; a KVA shows net per line."""
        return False

    @property
    def title(self) -> str:
        """ "Kostenvoranschlag Nr. KVA-2026-0001"."""
        return f"{TITLE} Nr. {self.number}"


def binding_text(doc: EstimateDocument) -> str:
    """Binding or not, valid until when, and what that means for the customer."""
    kind = "verbindlich" if doc.binding else "unverbindlich"
    valid = f" und gültig bis {text.date(doc.valid_until)}" if doc.valid_until is not None else ""
    if doc.binding:
        meaning = (
            "Die aufgeführten Arbeiten führen wir zum genannten Gesamtbetrag aus; weitere Arbeiten nur nach Ihrer "
            "Zustimmung."
        )
    else:
        meaning = (
            f"Abweichungen von bis zu {text.percent(doc.overrun_percent)} sind möglich; bei größerer "
            "Überschreitung informieren wir Sie vorher."
        )
    return f"Dieser Kostenvoranschlag ist {kind}{valid}. {meaning}"


def fee_text(doc: EstimateDocument) -> str:
    """Whether drawing up the KVA is free or what it costs (credited when the order is placed)."""
    if not doc.charged:
        return "Die Erstellung dieses Kostenvoranschlags ist kostenlos."
    amount = text.money(doc.fee_gross, doc.currency)
    if doc.fee_gross != doc.fee_net:
        amount += f" (netto {text.money(doc.fee_net, doc.currency)})"
    return f"Die Erstellung dieses Kostenvoranschlags wird mit {amount} berechnet und bei Auftragserteilung verrechnet."


def terms_texts(doc: EstimateDocument) -> list[str]:
    """The terms under the totals, in print order: binding or not with the validity, then the fee."""
    return [binding_text(doc), fee_text(doc)]


def estimate_notes(doc: EstimateDocument) -> list[str]:
    """The tax notes (reverse charge, § 19, Altteilsteuer), each once."""
    return unique_notes([*doc.notes, *tax_notes(doc)])


def total_entries(doc: EstimateDocument) -> list[TotalLine]:
    """The totals block; the gross sum says whether it is a fixed or an expected amount."""
    label = "Gesamtbetrag (verbindlich)" if doc.binding else "Voraussichtlicher Gesamtbetrag"
    return tax_total_lines(doc, gross_label=label)


def render_estimate_pdf(doc: EstimateDocument, *, style: PdfStyle | None = None) -> bytes:
    """Render ``doc`` as an A4 PDF and return its bytes; the same document gives the same bytes."""
    register_fonts()  # paragraphs measure text while the story is built
    style = style or PdfStyle()
    accent = style.accent_colour()
    story: list[Any] = [*_heading(doc), Spacer(1, 5 * mm), line_table(doc, accent), Spacer(1, 4 * mm)]
    story.append(KeepTogether([totals_table(total_entries(doc), doc.currency, accent)]))
    story += [Spacer(1, 5 * mm), *_remarks(doc), *_terms(doc), Spacer(1, 4 * mm)]
    story.append(KeepTogether(_signature()))  # never a signature line without its sentence
    date = text.date(doc.issue_date)
    letter = Letter(
        seller=doc.seller,
        recipient=doc.buyer if doc.buyer.name.strip() else None,
        info_rows=_info_rows(doc),
        running_title=f"{TITLE} {doc.number} vom {date}",
        pdf_title=f"{TITLE} {doc.number}",
        iban=doc.iban,
        bic=doc.bic,
        bank_name=doc.bank_name,
    )
    return build_pdf(letter, story, style)


def _info_rows(doc: EstimateDocument) -> tuple[tuple[str, str], ...]:
    vehicle = doc.vehicle
    rows = [
        ("KVA-Nummer", doc.number),
        ("Datum", text.date(doc.issue_date)),
        ("Gültig bis", text.date(doc.valid_until) if doc.valid_until is not None else ""),
        ("Kundennummer", doc.customer_number),
        ("Kennzeichen", vehicle.plate),
        ("Fahrzeug", vehicle.make_model),
        ("FIN", vehicle.vin),
        ("Kilometerstand", text.kilometres(vehicle.mileage) if vehicle.mileage is not None else ""),
        ("Ihre USt-IdNr.", doc.buyer.vat_id),
        ("Ansprechpartner", doc.seller.contact_name),
    ]
    return tuple((label, value) for label, value in rows if value)


def _heading(doc: EstimateDocument) -> list[Any]:
    flow: list[Any] = [Paragraph(text.xml(doc.title), HEADING)]
    vehicle = " · ".join(part for part in (doc.vehicle.plate.strip(), doc.vehicle.make_model.strip()) if part)
    if vehicle:
        flow.append(Paragraph(f"für Ihr Fahrzeug {text.xml(vehicle)}", SUBHEADING))
    intro = (
        "Für die gewünschten Arbeiten an Ihrem Fahrzeug veranschlagen wir:"
        if vehicle
        else "Für die gewünschten Leistungen veranschlagen wir:"
    )
    return [*flow, Spacer(1, 3 * mm), Paragraph(intro, BODY)]


def _remarks(doc: EstimateDocument) -> list[Any]:
    lines = [line.strip() for line in doc.remarks.splitlines() if line.strip()]
    if not lines:
        return []
    body = "<br/>".join(text.xml(line) for line in lines)
    return [Paragraph(f"<b>Hinweise:</b> {body}", _TERMS), Spacer(1, 2 * mm)]


def _terms(doc: EstimateDocument) -> list[Any]:
    terms = [Paragraph(text.xml(entry), _TERMS) for entry in terms_texts(doc)]
    return terms + [Paragraph(text.xml(note), SMALL) for note in estimate_notes(doc)]


def _signature() -> list[Any]:
    """ "Auftrag erteilt:" with lines for the date and the customer's signature."""
    table = Table(
        [["", "", ""], [Paragraph("Datum", _CAPTION), "", Paragraph("Unterschrift des Auftraggebers", _CAPTION)]],
        colWidths=[50 * mm, 12 * mm, 90 * mm],
        rowHeights=[10 * mm, None],
        hAlign="LEFT",
    )
    table.setStyle(
        table_style(
            [
                ("LINEABOVE", (0, 1), (0, 1), 0.6, GREY),
                ("LINEABOVE", (2, 1), (2, 1), 0.6, GREY),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 1), (-1, 1), 2),
            ]
        )
    )
    order = "Ich beauftrage die Arbeiten zu den Bedingungen dieses Kostenvoranschlags."
    return [Paragraph(f"<b>Auftrag erteilt:</b> {order}", BODY), table]
