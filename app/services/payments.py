"""Payments on finalised invoices, open items, and the service entry to dunning (``app.services.dunning``).

GoBD: a payment is never changed or deleted (database triggers guard the table); a correction is a
new, negative payment (:meth:`PaymentService.refund`). Every payment is written to the audit log and
the hash chain in the same transaction. Cash goes through :class:`app.services.cash_register.CashRegister`,
the single place that creates cash records (and where the TSE will sign, KassenSichV). One invoice can
take several payments, e.g. cash + girocard (:meth:`PaymentService.record_split`, all or nothing).

The open amount of an invoice is its gross total minus the sum of its payments (refunds count
negative). A cancelled invoice (a Stornorechnung points at it) and the Storno itself are never open.
Reminder fees are shown on the letters but are not part of the open amount of the invoice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import formatting
from app.db import Database
from app.errors import NotFound, ValidationError
from app.models import Customer, Invoice, Payment, Reminder
from app.money import decimal_places, parse_decimal, round_money
from app.services.audit import chain_in, log_in
from app.services.cash_register import CashRegister
from app.services.customers import display_name
from app.services.dunning import (
    ReminderDTO,
    reminder_dto,
    write_reminder,
)

METHODS = ("cash", "card", "transfer", "sepa_dd")
REFERENCE_MAX = 140
ZERO = Decimal("0.00")

Amount = Decimal | str | int


@dataclass(frozen=True)
class PaymentDTO:
    """One recorded payment (negative: a refund/correction)."""

    id: int
    invoice_id: int
    invoice_number: str
    date: dt.date
    amount: Decimal
    method: str
    reference: str
    user: str
    cash_record_id: int | None


@dataclass(frozen=True)
class OpenItem:
    """An invoice with an open amount (Offener Posten)."""

    invoice_id: int
    number: str
    customer_name: str
    issue_date: dt.date | None
    due_date: dt.date | None
    gross: Decimal
    paid: Decimal
    open: Decimal
    days_overdue: int
    reminder_level: int | None  # highest level sent so far, None = no reminder yet


def payment_payload(payment: Payment, invoice_number: str) -> dict[str, Any]:
    """The chained content of a stored payment; must equal what ``app.services.audit`` rebuilds."""
    return {
        "invoice": invoice_number,
        "amount": str(payment.amount),
        "method": payment.method,
        "date": payment.date,
        "reference": payment.reference,
    }


def parse_amount(value: Amount, *, field: str = "amount") -> Decimal:
    """A positive amount of money with at most two decimals ("12,50", "12.5", Decimal)."""
    try:
        amount = parse_decimal(value)
    except ValueError as exc:
        raise ValidationError("Bitte einen gültigen Betrag eingeben.", field=field) from exc
    if not amount.is_finite():
        raise ValidationError("Bitte einen gültigen Betrag eingeben.", field=field)
    if amount <= 0:
        raise ValidationError("Der Betrag muss größer als 0 sein.", field=field)
    if decimal_places(amount.normalize()) > 2:
        raise ValidationError("Der Betrag darf höchstens zwei Nachkommastellen haben.", field=field)
    return round_money(amount)


def _invoice(s: Session, invoice_id: int) -> Invoice:
    inv = s.get(Invoice, invoice_id)
    if inv is None:
        raise NotFound("Die Rechnung Nr. {id} wurde nicht gefunden.", id=invoice_id)
    return inv


def _is_cancelled(s: Session, invoice_id: int) -> bool:
    return s.scalar(select(Invoice.id).where(Invoice.cancels_id == invoice_id).limit(1)) is not None


def _final_invoice(s: Session, invoice_id: int) -> Invoice:
    inv = _invoice(s, invoice_id)
    if inv.status != "final":
        raise ValidationError(
            "Die Rechnung ist noch ein Entwurf – bezahlt werden können nur festgeschriebene Rechnungen.",
            field="invoice_id",
        )
    if inv.kind != "invoice":
        raise ValidationError("Eine Stornorechnung kann nicht bezahlt werden.", field="invoice_id")
    return inv


def _payable(s: Session, invoice_id: int) -> Invoice:
    inv = _final_invoice(s, invoice_id)
    if _is_cancelled(s, inv.id):
        raise ValidationError(
            "Die Rechnung {number} ist storniert und kann nicht bezahlt werden.", field="invoice_id", number=inv.number
        )
    return inv


def _paid(s: Session, invoice_id: int) -> Decimal:
    # Summed in Python: SQLite would add the amounts as floats.
    amounts = s.scalars(select(Payment.amount).where(Payment.invoice_id == invoice_id))
    return round_money(sum(amounts, ZERO))


def _open(s: Session, inv: Invoice) -> Decimal:
    return round_money(inv.gross_total) - _paid(s, inv.id)


def _due(inv: Invoice) -> dt.date | None:
    if inv.due_date is not None:
        return inv.due_date
    if inv.issue_date is not None:
        return inv.issue_date + dt.timedelta(days=inv.payment_terms_days)
    return None


def _to_dto(p: Payment, number: str, cash_record_id: int | None = None) -> PaymentDTO:
    return PaymentDTO(p.id, p.invoice_id, number, p.date, p.amount, p.method, p.reference, p.user, cash_record_id)


class PaymentService:
    """Records payments and refunds, lists open items and writes reminders.

    ``today`` pins the date (tests, reports "as of"); ``register`` is the cash register (its signer is
    the TSE seam).
    """

    def __init__(
        self,
        db: Database,
        *,
        today: dt.date | None = None,
        register: CashRegister | None = None,
    ) -> None:
        self._db = db
        self._today = today
        self._register = register if register is not None else CashRegister()

    def today(self) -> dt.date:
        """The service's notion of today."""
        return self._today or dt.date.today()

    # -- payments -------------------------------------------------------------------------------------

    def record(
        self,
        invoice_id: int,
        *,
        amount: Amount,
        method: str,
        date: dt.date | None = None,
        reference: str = "",
        user: str,
    ) -> PaymentDTO:
        """Record one (partial) payment; refuses drafts, Stornos, cancelled invoices and overpayments."""
        with self._db.unit() as s:
            return self._pay(s, _payable(s, invoice_id), amount, method, date, reference, user)

    def record_split(
        self,
        invoice_id: int,
        parts: Sequence[tuple[Amount, str]],
        *,
        user: str,
        date: dt.date | None = None,
        reference: str = "",
    ) -> list[PaymentDTO]:
        """Record several payments, e.g. ``[(50, "cash"), (70, "card")]``, in ONE transaction: all or nothing."""
        if not parts:
            raise ValidationError("Bitte mindestens einen Teilbetrag angeben.", field="parts")
        with self._db.unit() as s:
            inv = _payable(s, invoice_id)
            # Each part is checked against what the earlier parts left open; any failure rolls back all.
            return [self._pay(s, inv, amount, method, date, reference, user) for amount, method in parts]

    def refund(
        self,
        invoice_id: int,
        *,
        amount: Amount,
        method: str,
        reason: str,
        date: dt.date | None = None,
        user: str,
    ) -> PaymentDTO:
        """Pay money back as a negative correction payment (never an edit); also for cancelled invoices.

        ``amount`` is given positive; at most what was paid can be refunded. ``reason`` is required so the
        correction stays traceable (GoBD).
        """
        if not reason.strip():
            raise ValidationError("Bitte den Grund der Erstattung angeben.", field="reason")
        value = parse_amount(amount)
        with self._db.unit() as s:
            inv = _final_invoice(s, invoice_id)
            paid = _paid(s, inv.id)
            if value > paid:
                raise ValidationError(
                    "Es kann höchstens der bezahlte Betrag von {paid} erstattet werden.",
                    field="amount",
                    paid=formatting.money(max(paid, ZERO)),
                )
            return self._insert(s, inv, -value, method, date, reason.strip(), user)

    def _pay(
        self, s: Session, inv: Invoice, amount: Amount, method: str, date: dt.date | None, reference: str, user: str
    ) -> PaymentDTO:
        value = parse_amount(amount)
        open_amount = _open(s, inv)
        if value > open_amount:
            raise ValidationError(
                "Der Betrag ist höher als der offene Betrag von {open} – eine Überzahlung ist nicht möglich.",
                field="amount",
                open=formatting.money(max(open_amount, ZERO)),
            )
        return self._insert(s, inv, value, method, date, reference, user)

    def _insert(
        self, s: Session, inv: Invoice, value: Decimal, method: str, date: dt.date | None, reference: str, user: str
    ) -> PaymentDTO:
        if method not in METHODS:
            raise ValidationError("Unbekannte Zahlungsart „{method}“.", field="method", method=method)
        day = date or self.today()
        if day > self.today():
            raise ValidationError("Das Zahlungsdatum darf nicht in der Zukunft liegen.", field="date")
        reference = reference.strip()
        if len(reference) > REFERENCE_MAX:
            raise ValidationError(
                "Der Verwendungszweck ist zu lang (höchstens {max} Zeichen).", field="reference", max=REFERENCE_MAX
            )
        number = inv.number or ""
        payment = Payment(invoice_id=inv.id, date=day, amount=value, method=method, reference=reference, user=user)
        s.add(payment)
        s.flush()
        payload = payment_payload(payment, number)
        chain_in(s, entity="payment", entity_id=payment.id)
        log_in(
            s,
            user=user,
            entity="payment",
            entity_id=payment.id,
            action="create",
            old=None,
            new={**payload, "invoice_id": inv.id, "user": user},
        )
        cash_id = self._register.record_in(s, payment, user=user).id if method == "cash" else None
        return _to_dto(payment, number, cash_id)

    # -- queries --------------------------------------------------------------------------------------

    def open_amount(self, invoice_id: int) -> Decimal:
        """What is still to pay; 0.00 for drafts, Stornos and cancelled invoices."""
        with self._db.unit() as s:
            inv = _invoice(s, invoice_id)
            if inv.status != "final" or inv.kind != "invoice" or _is_cancelled(s, inv.id):
                return ZERO
            return _open(s, inv)

    def payments(self, invoice_id: int) -> list[PaymentDTO]:
        """Every payment and refund of an invoice, oldest first."""
        with self._db.unit() as s:
            inv = _invoice(s, invoice_id)
            return [_to_dto(p, inv.number or "") for p in inv.payments]

    def open_items(self, *, customer_id: int | None = None, overdue_only: bool = False) -> list[OpenItem]:
        """Final, not cancelled invoices with an open amount, oldest due date first."""
        today = self.today()
        with self._db.unit() as s:
            cancelled = select(Invoice.cancels_id).where(Invoice.cancels_id.is_not(None))
            where = [Invoice.status == "final", Invoice.kind == "invoice", Invoice.id.not_in(cancelled)]
            if customer_id is not None:
                where.append(Invoice.customer_id == customer_id)
            ids = select(Invoice.id).where(*where)
            paid: defaultdict[int, Decimal] = defaultdict(lambda: ZERO)
            for invoice_id, amount in s.execute(
                select(Payment.invoice_id, Payment.amount).where(Payment.invoice_id.in_(ids))
            ):
                paid[invoice_id] += amount  # in Python: SQLite would sum floats
            levels = dict(
                s.execute(
                    select(Reminder.invoice_id, func.max(Reminder.level))
                    .where(Reminder.invoice_id.in_(ids))
                    .group_by(Reminder.invoice_id)
                ).all()
            )
            query = select(Invoice, Customer).outerjoin(Customer, Customer.id == Invoice.customer_id).where(*where)
            items: list[OpenItem] = []
            for inv, cust in s.execute(query):
                gross = round_money(inv.gross_total)
                due = _due(inv)
                overdue = max((today - due).days, 0) if due else 0
                if gross - paid[inv.id] <= 0 or (overdue_only and overdue == 0):
                    continue
                name = display_name(cust.kind, cust.company, cust.first_name, cust.last_name) if cust else ""
                items.append(
                    OpenItem(
                        inv.id,
                        inv.number or "",
                        name,
                        inv.issue_date,
                        due,
                        gross,
                        paid[inv.id],
                        gross - paid[inv.id],
                        overdue,
                        levels.get(inv.id),
                    )
                )
        items.sort(key=lambda i: (i.due_date or dt.date.max, i.number))
        return items

    # -- dunning --------------------------------------------------------------------------------------

    def create_reminder(self, invoice_id: int, *, user: str, date: dt.date | None = None) -> ReminderDTO:
        """Write the next reminder of an overdue invoice (rules: ``app.services.dunning``)."""
        day = date or self.today()
        if day > self.today():
            raise ValidationError("Das Datum der Mahnung darf nicht in der Zukunft liegen.", field="date")
        with self._db.unit() as s:
            inv = _payable(s, invoice_id)
            return write_reminder(
                s, inv, open_amount=_open(s, inv), invoice_due=_due(inv), paid=_paid(s, inv.id), user=user, day=day
            )

    def reminders(self, invoice_id: int) -> list[ReminderDTO]:
        """The reminders of an invoice, lowest level first (``open_amount`` as of today)."""
        with self._db.unit() as s:
            inv = _invoice(s, invoice_id)
            open_amount = _open(s, inv)
            rows = s.scalars(select(Reminder).where(Reminder.invoice_id == inv.id).order_by(Reminder.level))
            return [reminder_dto(r, inv.number or "", open_amount) for r in rows]

    def reminder_pdf(self, reminder_id: int) -> bytes:
        """The stored PDF of a reminder, byte for byte as it was sent."""
        with self._db.unit() as s:
            reminder = s.get(Reminder, reminder_id)
            if reminder is None:
                raise NotFound("Die Mahnung Nr. {id} wurde nicht gefunden.", id=reminder_id)
            return reminder.pdf
