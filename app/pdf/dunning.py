"""Payment reminder ("Zahlungserinnerung") and dunning letters ("1. Mahnung", "2. Mahnung") as PDF.

Same letter frame as the invoice (letterhead, address field, footer, "Seite X von Y"); the open invoices
are listed with number, date, due date, amount, paid and open; an optional reminder fee follows (no VAT:
a dunning fee is damages, not a supply), then the new due date and a GiroCode for the whole open amount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from typing import Any

from reportlab.lib.colors import Color
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table

from app.errors import ValidationError
from app.invoice_document import Party
from app.pdf import text
from app.pdf.fonts import register_fonts
from app.pdf.girocode import girocode_payload
from app.pdf.layout import CONTENT_WIDTH, Letter, PdfStyle, build_pdf, paragraph_style, payment_block, table_style
from app.pdf.table import CarryTable, Row

_BODY = paragraph_style("reminder-body", size=9.5, leading=13.5, spaceAfter=6)
_HEADING = paragraph_style("reminder-heading", size=13, bold=True, leading=16)
_SUBHEADING = paragraph_style("reminder-subheading", size=9, leading=12)
_TOTAL = paragraph_style("reminder-total", size=9, leading=11.5)
_TOTAL_RIGHT = paragraph_style("reminder-total-right", size=9, leading=11.5, alignment=TA_RIGHT)
_STRONG = paragraph_style("reminder-strong", size=9.5, bold=True, leading=12)
_STRONG_RIGHT = paragraph_style("reminder-strong-right", size=9.5, bold=True, leading=12, alignment=TA_RIGHT)


class ReminderLevel(IntEnum):
    """How far the dunning has gone."""

    REMINDER = 0  # Zahlungserinnerung
    FIRST = 1  # 1. Mahnung
    SECOND = 2  # 2. Mahnung


TITLES = {
    ReminderLevel.REMINDER: "Zahlungserinnerung",
    ReminderLevel.FIRST: "1. Mahnung",
    ReminderLevel.SECOND: "2. Mahnung",
}


@dataclass(frozen=True)
class OpenInvoice:
    """One invoice that is not (fully) paid."""

    number: str
    issue_date: dt.date
    due_date: dt.date
    gross: Decimal
    paid: Decimal = Decimal("0.00")

    @property
    def open_amount(self) -> Decimal:
        """Gross minus what has been paid."""
        return self.gross - self.paid


@dataclass(frozen=True)
class ReminderDocument:
    """Everything printed on one reminder letter."""

    level: ReminderLevel
    issue_date: dt.date
    due_date: dt.date
    seller: Party
    customer: Party
    items: tuple[OpenInvoice, ...]
    fee: Decimal = Decimal("0.00")
    iban: str = ""
    bic: str = ""
    bank_name: str = ""
    customer_number: str = ""

    @property
    def open_total(self) -> Decimal:
        """The open invoice amounts plus the fee: what the GiroCode asks for."""
        return sum((item.open_amount for item in self.items), Decimal(0)) + self.fee


def render_reminder_pdf(doc: ReminderDocument, *, style: PdfStyle | None = None) -> bytes:
    """Render the reminder of ``doc.level`` (0 Zahlungserinnerung, 1 and 2 Mahnung) and return the bytes."""
    level = _level(doc.level)
    if not doc.items:
        raise ValidationError("Eine Mahnung braucht mindestens eine offene Rechnung.", field="items")
    register_fonts()
    style = style or PdfStyle()
    accent = style.accent_colour()
    title = TITLES[level]
    story: list[Any] = [Paragraph(title, _HEADING)]
    if len(doc.items) == 1:
        item = doc.items[0]
        story.append(
            Paragraph(f"zur Rechnung Nr. {text.xml(item.number)} vom {text.date(item.issue_date)}", _SUBHEADING)
        )
    story += [Spacer(1, 4 * mm), *[Paragraph(part, _BODY) for part in _letter_text(doc, level)], Spacer(1, 4 * mm)]
    story += [_items_table(doc, accent), Spacer(1, 3 * mm), KeepTogether([_totals(doc, accent)]), Spacer(1, 5 * mm)]
    numbers = ", ".join(item.number for item in doc.items)
    payload = girocode_payload(name=doc.seller.name, iban=doc.iban, amount=doc.open_total, text=numbers)
    request = Paragraph(
        f"Bitte überweisen Sie <b>{text.money(doc.open_total)}</b> bis zum <b>{text.date(doc.due_date)}</b>"
        + (" auf das unten genannte Konto." if doc.iban else "."),
        _BODY,
    )
    closing = [
        Paragraph("Mit freundlichen Grüßen", _BODY),
        Spacer(1, 2 * mm),
        Paragraph(text.xml(doc.seller.name), _BODY),
    ]
    story.append(KeepTogether(payment_block([request, Spacer(1, 5 * mm), *closing], payload)))
    letter = Letter(
        seller=doc.seller,
        recipient=doc.customer,
        info_rows=tuple(
            (label, value)
            for label, value in (
                ("Datum", text.date(doc.issue_date)),
                ("Kundennummer", doc.customer_number),
                ("Zahlbar bis", text.date(doc.due_date)),
                ("Ansprechpartner", doc.seller.contact_name),
            )
            if value
        ),
        running_title=f"{title} vom {text.date(doc.issue_date)}",
        pdf_title=title,
        iban=doc.iban,
        bic=doc.bic,
        bank_name=doc.bank_name,
    )
    return build_pdf(letter, story, style)


def _level(level: int) -> ReminderLevel:
    try:
        return ReminderLevel(level)
    except ValueError as exc:
        raise ValidationError("Die Mahnstufe {level} gibt es nicht (0, 1 oder 2).", field="level", level=level) from exc


def _letter_text(doc: ReminderDocument, level: ReminderLevel) -> list[str]:
    several = len(doc.items) > 1
    invoices = "die unten aufgeführten Rechnungen" if several else "die unten aufgeführte Rechnung"
    amount, due = text.money(doc.open_total), text.date(doc.due_date)
    # A business customer's contact person is greeted by name, not the company.
    greeting = f"Guten Tag {text.xml(doc.customer.contact_name or doc.customer.name)},"
    if level is ReminderLevel.REMINDER:
        body = (
            f"sicher ist es im Alltag untergegangen: Für {invoices} konnten wir bis heute keinen "
            f"Zahlungseingang feststellen. Bitte überweisen Sie den offenen Betrag von {amount} bis zum {due}."
        )
    elif level is ReminderLevel.FIRST:
        body = (
            f"leider ist für {invoices} trotz Fälligkeit noch keine Zahlung bei uns eingegangen. "
            f"Wir bitten Sie, den offenen Betrag von {amount} bis zum {due} zu überweisen."
        )
    else:
        body = (
            f"trotz unserer bisherigen Erinnerungen ist der Betrag für {invoices} weiterhin offen. Bitte "
            f"überweisen Sie {amount} bis spätestens {due}. Geht bis dahin keine Zahlung ein, behalten wir uns "
            "weitere Schritte vor, die mit zusätzlichen Kosten für Sie verbunden sein können."
        )
    overlap = "Sollte sich Ihre Zahlung mit diesem Schreiben überschnitten haben, betrachten Sie es bitte als erledigt."
    return [greeting, body, overlap]


def _items_table(doc: ReminderDocument, accent: Color) -> CarryTable:
    header = ["Rechnung Nr.", "Rechnungsdatum", "fällig am", "Betrag", "bezahlt", "offen"]
    widths = [CONTENT_WIDTH - 2 * 31 * mm - 3 * 23 * mm, 31 * mm, 31 * mm, 23 * mm, 23 * mm, 23 * mm]
    rows = [
        Row(
            (
                item.number,
                text.date(item.issue_date),
                text.date(item.due_date),
                text.money(item.gross),
                text.money(item.paid),
                text.money(item.open_amount),
            ),
            item.open_amount,
        )
        for item in doc.items
    ]
    return CarryTable(header, rows, widths, accent=accent, money=text.money, right=[3, 4, 5])


def _totals(doc: ReminderDocument, accent: Color) -> Table:
    open_sum = doc.open_total - doc.fee
    data = []
    if doc.fee:
        data += [
            [Paragraph("Summe offene Rechnungen", _TOTAL), Paragraph(text.money(open_sum), _TOTAL_RIGHT)],
            [Paragraph("Mahngebühr", _TOTAL), Paragraph(text.money(doc.fee), _TOTAL_RIGHT)],
        ]
    data.append([Paragraph("Gesamt offen", _STRONG), Paragraph(text.money(doc.open_total), _STRONG_RIGHT)])
    last = len(data) - 1
    table = Table(data, colWidths=[78 * mm, 32 * mm], hAlign="RIGHT")
    table.setStyle(
        table_style(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LINEABOVE", (0, last), (-1, last), 0.8, accent),
                ("TOPPADDING", (0, last), (-1, last), 3),
            ]
        )
    )
    return table
