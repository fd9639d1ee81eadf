"""The invoice (or Stornorechnung) as a PDF: DIN 5008 letter, line table, totals, notes, GiroCode.

Two layouts: the full one with every §14 Abs. 4 UStG field (net per line, net and VAT per rate), and
the Kleinbetragsrechnung (§33 UStDV, ``doc.small_invoice``) with gross amounts and the rate per line and
the gross sum per rate. Labour in AW prints the AW count, the AW price and the line total (INV-12).
A cancellation is titled "Stornorechnung" and names the cancelled invoice — never "Gutschrift", which is
reserved for self-billing (§14 Abs. 4 Nr. 10).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reportlab.lib.colors import Color
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table

from app.invoice_document import DocLine, InvoiceDocument, LineKind
from app.money import round_money
from app.pdf import text
from app.pdf.fonts import register_fonts
from app.pdf.girocode import girocode_payload
from app.pdf.invoice_totals import ALTTEIL_KINDS, notes, payment_text, printed_lines, total_lines
from app.pdf.layout import CONTENT_WIDTH, GREY, Letter, PdfStyle, build_pdf, paragraph_style, payment_block, table_style
from app.pdf.table import CarryTable, Row

_CELL = paragraph_style("cell", size=8, leading=10)
_CELL_NOTE = paragraph_style("cell-note", size=7, leading=9, textColor=GREY)
_BODY = paragraph_style("body", size=9, leading=12.5)
_SMALL = paragraph_style("small", size=8, leading=10.5, spaceAfter=2)
_HEADING = paragraph_style("heading", size=13, bold=True, leading=16)
_SUBHEADING = paragraph_style("subheading", size=9, leading=12)
_TOTAL = paragraph_style("total", size=9, leading=11.5)
_TOTAL_RIGHT = paragraph_style("total-right", size=9, leading=11.5, alignment=TA_RIGHT)
_TOTAL_STRONG = paragraph_style("total-strong", size=9.5, bold=True, leading=12)
_TOTAL_STRONG_RIGHT = paragraph_style("total-strong-right", size=9.5, bold=True, leading=12, alignment=TA_RIGHT)


def render_invoice_pdf(doc: InvoiceDocument, *, style: PdfStyle | None = None) -> bytes:
    """Render ``doc`` as an A4 PDF and return its bytes; the same document gives the same bytes."""
    register_fonts()  # paragraphs measure text while the story is built
    style = style or PdfStyle()
    accent = style.accent_colour()
    story: list[Any] = [*_heading(doc), Spacer(1, 5 * mm), _line_table(doc, accent), Spacer(1, 4 * mm)]
    story.append(KeepTogether([_totals_table(doc, accent)]))
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
        flow: list[Any] = [Paragraph(f"Stornorechnung Nr. {text.xml(doc.number)}", _HEADING)]
        if doc.cancels is not None:
            number, issued = doc.cancels
            flow.append(Paragraph(f"zur Rechnung Nr. {text.xml(number)} vom {text.date(issued)}", _SUBHEADING))
        intro = "Wir stornieren die genannte Rechnung mit allen Positionen:"
    else:
        flow = [Paragraph(f"Rechnung Nr. {text.xml(doc.number)}", _HEADING)]
        plate = doc.vehicle.plate.strip()
        intro = (
            f"Für die Arbeiten an Ihrem Fahrzeug {text.xml(plate)} berechnen wir Ihnen:"
            if plate
            else "Für unsere Leistungen berechnen wir Ihnen:"
        )
    return [*flow, Spacer(1, 3 * mm), Paragraph(intro, _BODY)]


def _altteil_positions(doc: InvoiceDocument) -> dict[int, list[int]]:
    """Exchange-part position → the positions of its Altteil lines (the VAT engine puts them right after
    the part). They are not printed, so the part says where its numbers went."""
    result: dict[int, list[int]] = {}
    owner: int | None = None
    for line in doc.lines:
        if line.kind is LineKind.EXCHANGE_PART:
            owner = line.position
        elif line.kind in ALTTEIL_KINDS and owner is not None:
            result.setdefault(owner, []).append(line.position)
        else:
            owner = None
    return result


def _description(line: DocLine, *, with_part_no: bool, currency: str, altteil: list[int] | None = None) -> list[Any]:
    cell: list[Any] = [Paragraph(text.xml(line.text), _CELL)]
    details = []
    if line.kind is LineKind.LABOUR and line.aw is not None and line.aw_price is not None:
        detail = f"{text.quantity(line.aw)} AW × {text.unit_price(line.aw_price, currency)}"
        if line.aw_per_hour:
            detail += f" · {line.aw_per_hour} AW = 1 Std."
        if line.hourly_rate is not None:
            detail += f" · Stundensatz {text.money(line.hourly_rate, currency)}"
        details.append(detail)
    if line.kind is LineKind.EXCHANGE_PART:
        if altteil:
            span = f"{altteil[0]}–{altteil[-1]}" if len(altteil) > 1 else str(altteil[0])
            details.append(f"Austauschteil, Altteil zurückgegeben – Altteilsteuer siehe unten (Pos. {span})")
        else:
            details.append("Austauschteil")
    if with_part_no and line.part_no:
        details.append(f"Art.-Nr. {line.part_no}")
    cell += [Paragraph(text.xml(detail), _CELL_NOTE) for detail in details]
    return cell


def _quantity(line: DocLine) -> str:
    unit = line.unit_label.strip()
    return f"{text.quantity(line.quantity)}{text.NBSP}{unit}" if unit else text.quantity(line.quantity)


def _line_table(doc: InvoiceDocument, accent: Color) -> CarryTable:
    show_vat = not (doc.kleinunternehmer or doc.reverse_charge)
    currency = doc.currency

    def money(value: Decimal) -> str:
        return text.money(value, currency)

    rows = []
    altteil = _altteil_positions(doc)
    cells: tuple[Any, ...]
    if doc.small_invoice:
        header = ["Pos.", "Bezeichnung", "Menge", "Einzelpreis\nbrutto", "USt", "Gesamt\nbrutto"]
        widths = [10 * mm, 0, 20 * mm, 25 * mm, 13 * mm, 25 * mm]
        for line in printed_lines(doc):
            factor = 1 + line.vat_rate / 100
            gross = round_money(line.net * factor)
            cells = (
                str(line.position),
                _description(line, with_part_no=True, currency=currency, altteil=altteil.get(line.position)),
                _quantity(line),
                money(line.unit_price_net * factor),
                text.percent(line.vat_rate),
                money(gross),
            )
            rows.append(Row(cells, gross))
    else:
        header = ["Pos.", "Art.-Nr.", "Bezeichnung", "Menge", "Einzelpreis", "USt", "Gesamt netto"]
        widths = [10 * mm, 24 * mm, 0, 18 * mm, 22 * mm, 13 * mm, 24 * mm]
        for line in printed_lines(doc):
            cells = (
                str(line.position),
                Paragraph(text.xml(line.part_no), _CELL_NOTE),
                _description(line, with_part_no=False, currency=currency, altteil=altteil.get(line.position)),
                _quantity(line),
                text.unit_price(line.unit_price_net, currency),
                text.percent(line.vat_rate),
                money(line.net),
            )
            rows.append(Row(cells, line.net))
    if not show_vat:
        vat_col = header.index("USt")
        header.pop(vat_col)
        widths.pop(vat_col)
        rows = [Row(row.cells[:vat_col] + row.cells[vat_col + 1 :], row.amount) for row in rows]
        header[-1] = "Gesamt" if doc.kleinunternehmer else header[-1]
    widths[widths.index(0)] = CONTENT_WIDTH - sum(widths)
    desc_col = header.index("Bezeichnung")
    right = [i for i in range(len(header)) if i > desc_col]
    return CarryTable(header, rows, widths, accent=accent, money=money, right=right)


def _totals_table(doc: InvoiceDocument, accent: Color) -> Table:
    data: list[list[Any]] = []
    commands: list[tuple[Any, ...]] = [
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
    ]
    for index, entry in enumerate(total_lines(doc)):
        left, right = (_TOTAL_STRONG, _TOTAL_STRONG_RIGHT) if entry.strong else (_TOTAL, _TOTAL_RIGHT)
        data.append([Paragraph(text.xml(entry.label), left), Paragraph(text.money(entry.amount, doc.currency), right)])
        if entry.rule_above:
            commands += [
                ("LINEABOVE", (0, index), (-1, index), 0.8, accent),
                ("TOPPADDING", (0, index), (-1, index), 3),
            ]
    table = Table(data, colWidths=[78 * mm, 32 * mm], hAlign="RIGHT")
    table.setStyle(table_style(commands))
    return table


def _notes_and_payment(doc: InvoiceDocument) -> list[Any]:
    flow: list[Any] = [Paragraph(text.xml(note), _SMALL) for note in notes(doc)]
    payment = payment_text(doc)
    if not payment:
        return flow
    payload = girocode_payload(name=doc.seller.name, iban=doc.iban, amount=doc.amount_due, text=doc.number)
    paragraph = Paragraph(text.xml(payment), _BODY)
    closing = Paragraph("Vielen Dank für Ihren Auftrag und allzeit gute Fahrt!", _BODY)
    return [*flow, Spacer(1, 3 * mm), *payment_block([paragraph, Spacer(1, 3 * mm), closing], payload)]
