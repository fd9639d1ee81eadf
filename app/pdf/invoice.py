"""The invoice (or Stornorechnung) as a PDF: DIN 5008 letter, line table, totals, notes, GiroCode.

Two layouts (``app.pdf.priced``): the full one with every §14 Abs. 4 UStG field (net per line, net and
VAT per rate), and the Kleinbetragsrechnung (§33 UStDV, ``doc.small_invoice``) with gross amounts and the
rate per line and the gross sum per rate. Labour in AW prints the AW count, the AW price and the line
total (INV-12). A cancellation is titled "Stornorechnung" and names the cancelled invoice — never
"Gutschrift", which is reserved for self-billing (§14 Abs. 4 Nr. 10).
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer

from app.invoice_document import InvoiceDocument
from app.pdf import text
from app.pdf.fonts import register_fonts
from app.pdf.girocode import girocode_payload
from app.pdf.invoice_totals import notes, payment_text, total_lines
from app.pdf.layout import Letter, PdfStyle, build_pdf, payment_block
from app.pdf.priced import BODY, HEADING, SMALL, SUBHEADING, line_table, totals_table


def render_invoice_pdf(doc: InvoiceDocument, *, style: PdfStyle | None = None) -> bytes:
    """Render ``doc`` as an A4 PDF and return its bytes; the same document gives the same bytes."""
    register_fonts()  # paragraphs measure text while the story is built
    style = style or PdfStyle()
    accent = style.accent_colour()
    story: list[Any] = [*_heading(doc), Spacer(1, 5 * mm), line_table(doc, accent), Spacer(1, 4 * mm)]
    story.append(KeepTogether([totals_table(total_lines(doc), doc.currency, accent)]))
    closing = _notes_and_payment(doc)
    if closing:
        story += [Spacer(1, 5 * mm), KeepTogether(closing)]
    title = "Stornorechnung" if doc.is_storno else "Rechnung"
    letter = Letter(
        seller=doc.seller,
        recipient=doc.buyer if doc.buyer.name.strip() else None,
        info_rows=_info_rows(doc),
        running_title=f"{title} {doc.number} vom {text.date(doc.issue_date)}",
        pdf_title=f"{title} {doc.number}",
        iban=doc.iban,
        bic=doc.bic,
        bank_name=doc.bank_name,
    )
    return build_pdf(letter, story, style)


def _info_rows(doc: InvoiceDocument) -> tuple[tuple[str, str], ...]:
    vehicle = doc.vehicle
    # BT-10 (buyer reference) is mandatory in the XML, so it may hold a placeholder ("n/a") or, while
    # ``customer_number`` is not filled, the customer number itself; print it only when it says something new.
    reference = "" if doc.buyer_reference.strip().lower() in ("", "n/a") else doc.buyer_reference.strip()
    customer_number = doc.customer_number or reference
    if reference == customer_number:
        reference = ""
    rows = [
        ("Rechnungsnummer", doc.number),
        ("Rechnungsdatum", text.date(doc.issue_date)),
        ("Leistungsdatum", text.date(doc.service_date)),
        ("Kundennummer", customer_number),
        ("Auftrag", doc.order_number),
        ("Ihre Referenz", reference),
        ("Kennzeichen", vehicle.plate),
        ("Fahrzeug", vehicle.make_model),
        ("FIN", vehicle.vin),
        ("Kilometerstand", text.kilometres(vehicle.mileage) if vehicle.mileage is not None else ""),
        ("Ihre USt-IdNr.", doc.buyer.vat_id),
        ("Ansprechpartner", doc.seller.contact_name),
    ]
    return tuple((label, value) for label, value in rows if value)


def _heading(doc: InvoiceDocument) -> list[Any]:
    if doc.is_storno:
        flow: list[Any] = [Paragraph(f"Stornorechnung Nr. {text.xml(doc.number)}", HEADING)]
        if doc.cancels is not None:
            number, issued = doc.cancels
            flow.append(Paragraph(f"zur Rechnung Nr. {text.xml(number)} vom {text.date(issued)}", SUBHEADING))
        intro = "Wir stornieren die genannte Rechnung mit allen Positionen:"
    else:
        flow = [Paragraph(f"Rechnung Nr. {text.xml(doc.number)}", HEADING)]
        plate = doc.vehicle.plate.strip()
        intro = (
            f"Für die Arbeiten an Ihrem Fahrzeug {text.xml(plate)} berechnen wir Ihnen:"
            if plate
            else "Für unsere Leistungen berechnen wir Ihnen:"
        )
    return [*flow, Spacer(1, 3 * mm), Paragraph(intro, BODY)]


def _notes_and_payment(doc: InvoiceDocument) -> list[Any]:
    flow: list[Any] = [Paragraph(text.xml(note), SMALL) for note in notes(doc)]
    payment = payment_text(doc)
    if not payment:
        return flow
    payload = girocode_payload(name=doc.seller.name, iban=doc.iban, amount=doc.amount_due, text=doc.number)
    paragraph = Paragraph(text.xml(payment), BODY)
    closing = Paragraph("Vielen Dank für Ihren Auftrag und allzeit gute Fahrt!", BODY)
    return [*flow, Spacer(1, 3 * mm), *payment_block([paragraph, Spacer(1, 3 * mm), closing], payload)]
