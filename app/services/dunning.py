"""Dunning: the Zahlungserinnerung and the 1. and 2. Mahnung of an overdue invoice, with their letters.

Level 0 is a reminder without fee, then the 1. and 2. Mahnung with the workshop's fees; each letter sets a new
due date (its date + ``REMINDER_PERIOD_DAYS``) and the next level waits for it. The letter (PDF) is stored
with the reminder, byte for byte as sent. Payments, open amounts and the service API stay in
``app.services.payments`` (``PaymentService.create_reminder`` calls :func:`write_reminder`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import formatting
from app.errors import ValidationError
from app.i18n import N_, _
from app.models import Customer, Invoice, Reminder
from app.money import round_money
from app.services.audit import log_in
from app.services.settings import workshop_row

LEVEL_NAMES = (N_("Zahlungserinnerung"), N_("1. Mahnung"), N_("2. Mahnung"))
LAST_LEVEL = len(LEVEL_NAMES) - 1
REMINDER_PERIOD_DAYS = 10
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ReminderDTO:
    """A payment reminder or dunning letter; its PDF comes from :meth:`PaymentService.reminder_pdf`."""

    id: int
    invoice_id: int
    invoice_number: str
    level: int
    date: dt.date
    fee: Decimal
    open_amount: Decimal
    new_due_date: dt.date
    user: str

    @property
    def level_name(self) -> str:
        """ "Zahlungserinnerung", "1. Mahnung" or "2. Mahnung" in the current language."""
        return _(LEVEL_NAMES[self.level])


def reminder_dto(r: Reminder, number: str, open_amount: Decimal) -> ReminderDTO:
    return ReminderDTO(r.id, r.invoice_id, number, r.level, r.date, r.fee, open_amount, r.new_due_date, r.user)


def write_reminder(
    s: Session,
    inv: Invoice,
    *,
    open_amount: Decimal,
    invoice_due: dt.date | None,
    paid: Decimal,
    user: str,
    day: dt.date,
) -> ReminderDTO:
    """The next reminder of ``inv`` on ``day``, in the caller's transaction (``open_amount``, ``invoice_due`` and
    ``paid`` as ``app.services.payments`` computes them)."""
    if open_amount <= 0:
        raise ValidationError(
            "Die Rechnung {number} ist bereits vollständig bezahlt.", field="invoice_id", number=inv.number
        )
    previous = s.scalars(
        select(Reminder).where(Reminder.invoice_id == inv.id).order_by(Reminder.level.desc()).limit(1)
    ).first()
    level = previous.level + 1 if previous else 0
    if level > LAST_LEVEL:
        raise ValidationError("Die zweite Mahnung ist die letzte Stufe – bitte Inkasso/Anwalt.", field="invoice_id")
    # The next step waits for the due date the previous letter set, not the invoice's.
    due = previous.new_due_date if previous else invoice_due
    if due is None or day <= due:
        raise ValidationError(
            "Die Rechnung {number} ist erst nach dem {due} überfällig.",
            field="date",
            number=inv.number,
            due=formatting.date(due) if due else "–",
        )
    shop = workshop_row(s)
    fee = round_money({0: ZERO, 1: shop.reminder_fee_1, 2: shop.reminder_fee_2}[level])
    new_due = day + dt.timedelta(days=REMINDER_PERIOD_DAYS)
    pdf = reminder_letter(s, inv, level=level, date=day, fee=fee, new_due=new_due, invoice_due=invoice_due, paid=paid)
    reminder = Reminder(invoice_id=inv.id, level=level, date=day, fee=fee, new_due_date=new_due, pdf=pdf, user=user)
    s.add(reminder)
    s.flush()
    log_in(
        s,
        user=user,
        entity="reminder",
        entity_id=reminder.id,
        action="create",
        old=None,
        new={
            "invoice": inv.number,
            "level": level,
            "date": day,
            "fee": str(fee),
            "open": str(open_amount),
            "new_due_date": new_due,
        },
    )
    return reminder_dto(reminder, inv.number or "", open_amount)


def reminder_letter(
    s: Session,
    inv: Invoice,
    *,
    level: int,
    date: dt.date,
    fee: Decimal,
    new_due: dt.date,
    invoice_due: dt.date | None,
    paid: Decimal,
) -> bytes:
    """The letter for one invoice, addressed to the customer's current address (they may have moved)."""
    # Imported here: ReportLab is only needed when a letter is written (as in invoice_build.issue_files).
    from app.pdf.dunning import OpenInvoice, ReminderDocument, ReminderLevel, render_reminder_pdf
    from app.pdf.layout import PdfStyle
    from app.services.invoice_build import buyer_party, seller_party

    shop = workshop_row(s)
    customer = s.get(Customer, inv.customer_id) if inv.customer_id is not None else None
    issued = inv.issue_date or date
    item = OpenInvoice(inv.number or "", issued, invoice_due or issued, round_money(inv.gross_total), paid)
    doc = ReminderDocument(
        level=ReminderLevel(level),
        issue_date=date,
        due_date=new_due,
        seller=seller_party(shop),
        customer=buyer_party(customer),
        items=(item,),
        fee=fee,
        iban=shop.iban,
        bic=shop.bic,
        bank_name=shop.bank_name,
        customer_number=customer.number if customer else "",
    )
    logo = Path(shop.logo_path) if shop.logo_path and Path(shop.logo_path).is_file() else None
    return render_reminder_pdf(doc, style=PdfStyle(accent=shop.accent_color or "#1f4e79", logo_path=logo))
