"""Payments, the cash register, open items and dunning against a real migrated database."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DatabaseError as SADatabaseError

from app.db import Database
from app.errors import NotFound, ValidationError
from app.models import AuditEntry, CashRecord, ChainEntry, Customer, Invoice, Payment, Reminder
from app.services.audit import AuditService
from app.services.cash_register import CashRegister, NoTse, TseResult
from app.services.payments import PaymentService
from app.services.settings import workshop_row

TODAY = dt.date(2026, 11, 27)
NBSP = "\u00a0"


def _customer(db: Database, last_name: str = "Müller", first_name: str = "Anna") -> int:
    with db.unit() as s:
        customer = Customer(number=f"K{last_name}", first_name=first_name, last_name=last_name)
        s.add(customer)
        s.flush()
        return customer.id


def _invoice(
    db: Database,
    number: str,
    gross: str,
    *,
    due: dt.date = TODAY - dt.timedelta(days=5),
    customer_id: int | None = None,
    status: str = "final",
    kind: str = "invoice",
    cancels_id: int | None = None,
) -> int:
    with db.unit() as s:
        inv = Invoice(
            number=number,
            status=status,
            kind=kind,
            cancels_id=cancels_id,
            customer_id=customer_id,
            gross_total=Decimal(gross),
            net_total=(Decimal(gross) / Decimal("1.19")).quantize(Decimal("0.01")),
            issue_date=due - dt.timedelta(days=14),
            due_date=due,
        )
        s.add(inv)
        s.flush()
        return inv.id


def _count(db: Database, model: type[object], **where: object) -> int:
    with db.unit() as s:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return int(s.scalar(query) or 0)


def _service(db: Database, today: dt.date = TODAY, **kwargs: object) -> PaymentService:
    return PaymentService(db, today=today, **kwargs)  # type: ignore[arg-type]


# -- payments ---------------------------------------------------------------------------------------------


def test_partial_payments_reduce_the_open_amount(db: Database) -> None:
    inv = _invoice(db, "W1-2026-000001", "300.00")
    service = _service(db)
    first = service.record(inv, amount="100,50", method="transfer", reference="RE W1-2026-000001", user="Theke")
    assert first.amount == Decimal("100.50") and first.invoice_number == "W1-2026-000001"
    assert first.date == TODAY and first.cash_record_id is None
    assert service.open_amount(inv) == Decimal("199.50")
    service.record(inv, amount=Decimal("99.5"), method="card", date=TODAY - dt.timedelta(days=1), user="Theke")
    assert service.open_amount(inv) == Decimal("100.00")
    assert [p.amount for p in service.payments(inv)] == [Decimal("100.50"), Decimal("99.50")]


def test_split_payment_cash_and_card_in_one_go(db: Database) -> None:
    inv = _invoice(db, "W1-2026-000002", "120.00")
    service = _service(db)
    cash, card = service.record_split(inv, [("50", "cash"), (Decimal("70.00"), "card")], user="Theke")
    assert (cash.method, card.method) == ("cash", "card")
    assert cash.cash_record_id is not None and card.cash_record_id is None
    assert service.open_amount(inv) == Decimal("0.00")
    assert _count(db, CashRecord) == 1
    with db.unit() as s:
        record = s.scalars(select(CashRecord)).one()
        assert (record.payment_id, record.amount, record.tse_status) == (cash.id, Decimal("50.00"), "no_tse")


def test_overpayment_is_refused_with_the_open_amount_in_german(db: Database) -> None:
    inv = _invoice(db, "W1-2026-000003", "2000.00")
    service = _service(db)
    service.record(inv, amount="500", method="transfer", user="Theke")
    with pytest.raises(ValidationError) as info:
        service.record(inv, amount="1.500,01", method="cash", user="Theke")
    assert info.value.field == "amount"
    assert f"1.500,00{NBSP}€" in str(info.value) and "Überzahlung" in str(info.value)
    assert _count(db, Payment) == 1 and _count(db, CashRecord) == 0
    service.record(inv, amount="1.500,00", method="cash", user="Theke")  # exactly the rest is fine
    assert service.open_amount(inv) == Decimal("0.00")


@pytest.mark.parametrize(
    ("amount", "method", "field"),
    [
        ("0", "cash", "amount"),
        ("-5", "cash", "amount"),
        ("12,345", "cash", "amount"),
        ("zwölf", "cash", "amount"),
        ("10", "cheque", "method"),
    ],
)
def test_invalid_amounts_and_methods_are_refused(db: Database, amount: str, method: str, field: str) -> None:
    inv = _invoice(db, "W1-2026-000004", "100.00")
    with pytest.raises(ValidationError) as info:
        _service(db).record(inv, amount=amount, method=method, user="Theke")
    assert info.value.field == field
    assert _count(db, Payment) == 0


def test_payment_date_in_the_future_is_refused(db: Database) -> None:
    inv = _invoice(db, "W1-2026-000005", "100.00")
    with pytest.raises(ValidationError) as info:
        _service(db).record(inv, amount="10", method="transfer", date=TODAY + dt.timedelta(days=1), user="Theke")
    assert info.value.field == "date"


def test_only_final_uncancelled_invoices_can_be_paid(db: Database) -> None:
    original = _invoice(db, "W1-2026-000006", "100.00")
    storno = _invoice(db, "W1-2026-000007", "-100.00", kind="storno", cancels_id=original)
    with db.unit() as s:
        draft = Invoice(status="draft", gross_total=Decimal("50.00"))
        s.add(draft)
        s.flush()
        draft_id = draft.id
    service = _service(db)
    for invoice_id, words in ((original, "storniert"), (storno, "Stornorechnung"), (draft_id, "Entwurf")):
        with pytest.raises(ValidationError) as info:
            service.record(invoice_id, amount="10", method="cash", user="Theke")
        assert words in str(info.value)
    with pytest.raises(NotFound):
        service.record(9999, amount="10", method="cash", user="Theke")
    assert _count(db, Payment) == 0
    assert service.open_amount(original) == Decimal("0.00") and service.open_amount(storno) == Decimal("0.00")
    assert service.open_items() == []


def test_cash_creates_exactly_one_cash_record_card_and_transfer_none(db: Database) -> None:
    inv = _invoice(db, "W1-2026-000008", "300.00")
    service = _service(db)
    cash = service.record(inv, amount="100", method="cash", user="Theke")
    service.record(inv, amount="100", method="card", user="Theke")
    service.record(inv, amount="50", method="transfer", user="Theke")
    service.record(inv, amount="50", method="sepa_dd", user="Theke")
    with db.unit() as s:
        records = s.scalars(select(CashRecord)).all()
        assert [(r.payment_id, r.amount, r.tse_status, r.tse_signature) for r in records] == [
            (cash.id, Decimal("100.00"), "no_tse", "")
        ]


def test_every_payment_and_cash_record_is_chained_and_audit_logged(db: Database) -> None:
    inv = _invoice(db, "W1-2026-000009", "80.00")
    service = _service(db)
    cash, card = service.record_split(inv, [("30", "cash"), ("50", "card")], user="Meister")
    with db.unit() as s:
        chain = [(c.entity, c.entity_id) for c in s.scalars(select(ChainEntry).order_by(ChainEntry.id))]
        audit = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        audited = [(a.entity, a.entity_id, a.action, a.user) for a in audit]
        cash_record_id = s.scalars(select(CashRecord.id)).one()
        payment_new = audit[0].new
    assert chain == [("payment", cash.id), ("cash_record", cash_record_id), ("payment", card.id)]
    assert audited == [
        ("payment", cash.id, "create", "Meister"),
        ("cash_record", cash_record_id, "create", "Meister"),
        ("payment", card.id, "create", "Meister"),
    ]
    assert '"amount":"30.00"' in payment_new and '"invoice":"W1-2026-000009"' in payment_new
    assert AuditService(db).verify().ok


def test_payments_and_cash_records_cannot_be_updated_or_deleted(db: Database) -> None:
    inv = _invoice(db, "W1-2026-000010", "100.00")
    paid = _service(db).record(inv, amount="40", method="cash", user="Theke")
    statements = [
        update(Payment).where(Payment.id == paid.id).values(amount=Decimal("4.00")),
        delete(Payment).where(Payment.id == paid.id),
        update(CashRecord).values(amount=Decimal("4.00")),
        delete(CashRecord),
    ]
    for statement in statements:
        with pytest.raises(SADatabaseError, match="Nur Anfügen erlaubt"), db.unit() as s:
            s.execute(statement)
    with db.unit() as s:
        assert s.get(Payment, paid.id).amount == Decimal("40.00")  # type: ignore[union-attr]
    assert _count(db, CashRecord) == 1


def test_refund_is_a_negative_payment_never_an_edit(db: Database) -> None:
    inv = _invoice(db, "W1-2026-000011", "100.00")
    service = _service(db)
    paid = service.record(inv, amount="100", method="cash", user="Theke")
    with pytest.raises(ValidationError) as info:
        service.refund(inv, amount="100.01", method="cash", reason="Doppelt kassiert", user="Theke")
    assert f"100,00{NBSP}€" in str(info.value)
    with pytest.raises(ValidationError) as info:
        service.refund(inv, amount="10", method="cash", reason="  ", user="Theke")
    assert info.value.field == "reason"
    refund = service.refund(inv, amount="30", method="cash", reason="Kulanz Bremsscheiben", user="Meister")
    assert refund.amount == Decimal("-30.00") and refund.reference == "Kulanz Bremsscheiben"
    assert service.open_amount(inv) == Decimal("30.00")
    with db.unit() as s:
        assert s.get(Payment, paid.id).amount == Decimal("100.00")  # type: ignore[union-attr]
        amounts = s.scalars(select(CashRecord.amount).order_by(CashRecord.id)).all()
    assert amounts == [Decimal("100.00"), Decimal("-30.00")]
    assert AuditService(db).verify().ok


def test_paid_money_of_a_cancelled_invoice_can_be_refunded(db: Database) -> None:
    inv = _invoice(db, "W1-2026-000012", "100.00")
    service = _service(db)
    service.record(inv, amount="100", method="card", user="Theke")
    _invoice(db, "W1-2026-000013", "-100.00", kind="storno", cancels_id=inv)
    refund = service.refund(inv, amount="100", method="transfer", reason="Storno W1-2026-000013", user="Theke")
    assert refund.amount == Decimal("-100.00")
    assert service.open_items() == []


# -- split payments are all or nothing ----------------------------------------------------------------------


def test_split_payment_failing_in_its_second_part_writes_nothing(db: Database) -> None:
    inv = _invoice(db, "W1-2026-000014", "100.00")
    service = _service(db)
    with pytest.raises(ValidationError) as info:
        service.record_split(inv, [("60", "cash"), ("50", "card")], user="Theke")  # 110 > 100
    assert f"40,00{NBSP}€" in str(info.value)  # the 2nd part was checked against what the 1st left open
    for model in (Payment, CashRecord, ChainEntry, AuditEntry):
        assert _count(db, model) == 0
    assert service.open_amount(inv) == Decimal("100.00")
    with pytest.raises(ValidationError):
        service.record_split(inv, [], user="Theke")


class _BrokenTse(NoTse):
    """A TSE that fails while finishing its transaction (device unplugged)."""

    def finish(self, handle: str, *, amount: Decimal, payment_type: str, process_data: str) -> TseResult:
        raise OSError("TSE nicht erreichbar")


def test_a_failing_signer_rolls_back_the_whole_split(db: Database) -> None:
    inv = _invoice(db, "W1-2026-000015", "100.00")
    service = _service(db, register=CashRegister(_BrokenTse()))
    with pytest.raises(OSError, match="TSE"):
        service.record_split(inv, [("70", "card"), ("30", "cash")], user="Theke")
    for model in (Payment, CashRecord, ChainEntry, AuditEntry):
        assert _count(db, model) == 0


class _FakeTse:
    """Stands in for a certified TSE: numbered transactions and a signature over the process data."""

    def __init__(self) -> None:
        self.started: list[Decimal] = []

    def start(self, *, amount: Decimal, payment_id: int) -> str:
        self.started.append(amount)
        return f"tx-{payment_id}"

    def finish(self, handle: str, *, amount: Decimal, payment_type: str, process_data: str) -> TseResult:
        return TseResult(transaction=handle, signature=f"sig({payment_type}|{process_data})", status="signed")


def test_a_signer_plugs_in_without_touching_callers(db: Database) -> None:
    inv = _invoice(db, "W1-2026-000016", "100.00")
    tse = _FakeTse()
    paid = _service(db, register=CashRegister(tse)).record(inv, amount="25", method="cash", user="Theke")
    assert tse.started == [Decimal("25.00")]
    with db.unit() as s:
        record = s.scalars(select(CashRecord)).one()
        assert (record.tse_transaction, record.tse_status) == (f"tx-{paid.id}", "signed")
        assert record.tse_signature.startswith("sig(Bar|payment=")
    with pytest.raises(ValueError, match="only cash"), db.unit() as s:
        CashRegister().record_in(s, Payment(invoice_id=inv, date=TODAY, amount=Decimal("1"), method="card"), user="x")


# -- open items -----------------------------------------------------------------------------------------


def test_open_items_with_partial_payments_customer_and_overdue_filter(db: Database) -> None:
    anna = _customer(db)
    bernd = _customer(db, "Brandl", "Bernd")
    overdue = _invoice(db, "W1-2026-000020", "200.00", due=TODAY - dt.timedelta(days=12), customer_id=anna)
    not_due = _invoice(db, "W1-2026-000021", "50.00", due=TODAY, customer_id=anna)
    paid = _invoice(db, "W1-2026-000022", "80.00", due=TODAY - dt.timedelta(days=30), customer_id=bernd)
    other = _invoice(db, "W1-2026-000023", "10.00", due=TODAY - dt.timedelta(days=1), customer_id=bernd)
    service = _service(db)
    service.record(overdue, amount="75", method="transfer", user="Theke")
    service.record(paid, amount="80", method="card", user="Theke")

    items = service.open_items()
    assert [i.invoice_id for i in items] == [overdue, other, not_due]
    first = items[0]
    assert (first.number, first.customer_name, first.gross, first.paid, first.open) == (
        "W1-2026-000020",
        "Müller, Anna",
        Decimal("200.00"),
        Decimal("75.00"),
        Decimal("125.00"),
    )
    assert (first.days_overdue, first.reminder_level) == (12, None)
    assert items[2].days_overdue == 0  # due today is not overdue yet
    assert [i.invoice_id for i in service.open_items(overdue_only=True)] == [overdue, other]
    assert [i.invoice_id for i in service.open_items(customer_id=anna)] == [overdue, not_due]
    assert [i.invoice_id for i in service.open_items(customer_id=bernd, overdue_only=True)] == [other]
    later = _service(db, TODAY + dt.timedelta(days=1))
    assert [i.invoice_id for i in later.open_items(overdue_only=True)] == [overdue, other, not_due]


# -- dunning ----------------------------------------------------------------------------------------------


def _pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return text.replace(NBSP, " ")


def _fees(db: Database, fee_1: str, fee_2: str) -> None:
    with db.unit() as s:
        shop = workshop_row(s)
        shop.name = "Kfz-Meisterbetrieb Huber"
        shop.reminder_fee_1 = Decimal(fee_1)
        shop.reminder_fee_2 = Decimal(fee_2)


def test_dunning_levels_fees_and_new_due_dates(db: Database) -> None:
    _fees(db, "2.50", "7.50")
    due = dt.date(2026, 10, 1)
    inv = _invoice(db, "W1-2026-000030", "250.00", due=due, customer_id=_customer(db))
    service = _service(db)
    service.record(inv, amount="50", method="transfer", date=dt.date(2026, 9, 20), user="Theke")

    first = service.create_reminder(inv, user="Theke", date=dt.date(2026, 10, 2))
    assert (first.level, first.level_name, first.fee) == (0, "Zahlungserinnerung", Decimal("0.00"))
    assert first.new_due_date == dt.date(2026, 10, 12) and first.open_amount == Decimal("200.00")
    with pytest.raises(ValidationError) as info:  # the customer has until the new due date
        service.create_reminder(inv, user="Theke", date=dt.date(2026, 10, 12))
    assert "12.10.2026" in str(info.value)
    second = service.create_reminder(inv, user="Theke", date=dt.date(2026, 10, 13))
    assert (second.level, second.level_name, second.fee) == (1, "1. Mahnung", Decimal("2.50"))
    third = service.create_reminder(inv, user="Theke", date=dt.date(2026, 10, 30))
    assert (third.level, third.level_name, third.fee) == (2, "2. Mahnung", Decimal("7.50"))
    assert third.new_due_date == dt.date(2026, 11, 9)
    with pytest.raises(ValidationError) as info:
        service.create_reminder(inv, user="Theke", date=dt.date(2026, 11, 20))
    assert str(info.value) == "Die zweite Mahnung ist die letzte Stufe – bitte Inkasso/Anwalt."

    assert [r.level for r in service.reminders(inv)] == [0, 1, 2]
    assert service.open_items()[0].reminder_level == 2
    letters = {r.level: _pdf_text(service.reminder_pdf(r.id)) for r in service.reminders(inv)}
    assert "Zahlungserinnerung" in letters[0] and "Mahngebühr" not in letters[0]
    assert "200,00 €" in letters[0] and "12.10.2026" in letters[0]
    assert "1. Mahnung" in letters[1] and "2,50 €" in letters[1] and "202,50 €" in letters[1]
    assert "2. Mahnung" in letters[2] and "W1-2026-000030" in letters[2] and "Anna Müller" in letters[2]
    assert "7,50 €" in letters[2] and "207,50 €" in letters[2] and "09.11.2026" in letters[2]
    assert _count(db, AuditEntry, entity="reminder") == 3
    with pytest.raises(SADatabaseError, match="Nur Anfügen erlaubt"), db.unit() as s:
        s.execute(update(Reminder).values(fee=Decimal("0")))


def test_no_reminder_before_the_due_date_nor_for_paid_or_cancelled_invoices(db: Database) -> None:
    service = _service(db)
    not_due = _invoice(db, "W1-2026-000031", "100.00", due=TODAY)
    with pytest.raises(ValidationError) as info:
        service.create_reminder(not_due, user="Theke")
    assert info.value.field == "date" and "27.11.2026" in str(info.value)
    paid = _invoice(db, "W1-2026-000032", "100.00")
    service.record(paid, amount="100", method="card", user="Theke")
    with pytest.raises(ValidationError, match="vollständig bezahlt"):
        service.create_reminder(paid, user="Theke")
    cancelled = _invoice(db, "W1-2026-000033", "100.00")
    _invoice(db, "W1-2026-000034", "-100.00", kind="storno", cancels_id=cancelled)
    with pytest.raises(ValidationError, match="storniert"):
        service.create_reminder(cancelled, user="Theke")
    with pytest.raises(ValidationError) as info:
        service.create_reminder(not_due, user="Theke", date=TODAY + dt.timedelta(days=1))
    assert info.value.field == "date"
    assert _count(db, Reminder) == 0
