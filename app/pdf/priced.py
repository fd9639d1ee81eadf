"""The priced body of a letter, shared by the invoice and the Kostenvoranschlag: the line table (with
"Übertrag" across pages) and the totals block, plus the paragraph styles both documents use.

Two table layouts: the full one (net per line, net and VAT per rate, §14 Abs. 4 UStG) and the
Kleinbetragsrechnung (§33 UStDV, ``doc.small_invoice``) with gross amounts and the rate per line.
Labour in AW prints the AW count, the AW price and the line total (INV-12). The figures are the VAT
engine's (``DocLine``/``TaxBreakdown``); nothing is computed here but the gross of a line for the
small layout.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reportlab.lib.colors import Color
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Table

from app.invoice_document import DocLine, LineKind
from app.money import round_money
from app.pdf import text
from app.pdf.invoice_totals import ALTTEIL_KINDS, PricedDocument, TotalLine, printed_lines
from app.pdf.layout import CONTENT_WIDTH, GREY, paragraph_style, table_style
from app.pdf.table import CarryTable, Row

CELL = paragraph_style("cell", size=8, leading=10)
CELL_NOTE = paragraph_style("cell-note", size=7, leading=9, textColor=GREY)
BODY = paragraph_style("body", size=9, leading=12.5)
SMALL = paragraph_style("small", size=8, leading=10.5, spaceAfter=2)
HEADING = paragraph_style("heading", size=13, bold=True, leading=16)
SUBHEADING = paragraph_style("subheading", size=9, leading=12)
_TOTAL = paragraph_style("total", size=9, leading=11.5)
_TOTAL_RIGHT = paragraph_style("total-right", size=9, leading=11.5, alignment=TA_RIGHT)
_TOTAL_STRONG = paragraph_style("total-strong", size=9.5, bold=True, leading=12)
_TOTAL_STRONG_RIGHT = paragraph_style("total-strong-right", size=9.5, bold=True, leading=12, alignment=TA_RIGHT)


def _altteil_positions(doc: PricedDocument) -> dict[int, list[int]]:
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
    cell: list[Any] = [Paragraph(text.xml(line.text), CELL)]
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
    cell += [Paragraph(text.xml(detail), CELL_NOTE) for detail in details]
    return cell


def _quantity(line: DocLine) -> str:
    unit = line.unit_label.strip()
    return f"{text.quantity(line.quantity)}{text.NBSP}{unit}" if unit else text.quantity(line.quantity)


def line_table(doc: PricedDocument, accent: Color) -> CarryTable:
    """The lines as a table that breaks across pages with "Übertrag"; no VAT column without German VAT."""
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
                Paragraph(text.xml(line.part_no), CELL_NOTE),
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


def totals_table(entries: list[TotalLine], currency: str, accent: Color) -> Table:
    """The totals block at the right margin; strong lines bold, a rule above where asked."""
    data: list[list[Any]] = []
    commands: list[tuple[Any, ...]] = [
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
    ]
    for index, entry in enumerate(entries):
        left, right = (_TOTAL_STRONG, _TOTAL_STRONG_RIGHT) if entry.strong else (_TOTAL, _TOTAL_RIGHT)
        data.append([Paragraph(text.xml(entry.label), left), Paragraph(text.money(entry.amount, currency), right)])
        if entry.rule_above:
            commands += [
                ("LINEABOVE", (0, index), (-1, index), 0.8, accent),
                ("TOPPADDING", (0, index), (-1, index), 3),
            ]
    table = Table(data, colWidths=[78 * mm, 32 * mm], hAlign="RIGHT")
    table.setStyle(table_style(commands))
    return table
