"""A deterministic invoice history for the demo workshop (the last weeks before ``today``): work orders
with catalogue services and parts, finalised invoices with their real PDFs and e-invoices, payments
(cash, card, transfer – some still open or overdue), a Storno with its new invoice, estimates accepted
and rejected, and no-shows. Everything goes through the normal services, so the reports show numbers
that are right to the cent."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select

from app.calendar_rules import is_holiday
from app.errors import ConflictError, ValidationError
from app.models import Service, Vehicle
from app.services.appointments import AppointmentInput
from app.services.estimates import EstimateService
from app.services.invoicing import InvoiceService
from app.services.order_lines import LineInput
from app.services.payments import PaymentService
from app.services.registry import Services
from app.services.work_order_types import Intake
from app.services.work_orders import WorkOrderService

# (text, part number, unit price net, unit, quantity) – typical parts of a small workshop
PARTS = (
    ("Motoröl 5W-30", "", Decimal("14.50"), "l", Decimal("4.5")),
    ("Ölfilter", "OC 593/4", Decimal("12.90"), "Stk", Decimal("1")),
    ("Luftfilter", "C 27 009", Decimal("18.40"), "Stk", Decimal("1")),
    ("Bremsbeläge vorne (Satz)", "0 986 494 160", Decimal("64.90"), "Satz", Decimal("1")),
    ("Bremsscheiben vorne (Paar)", "0 986 479 C20", Decimal("119.00"), "Paar", Decimal("1")),
    ("Zündkerze", "FR7DC+", Decimal("9.80"), "Stk", Decimal("4")),
    ("Wischerblätter (Satz)", "A 297 S", Decimal("24.90"), "Satz", Decimal("1")),
    ("Kältemittel R1234yf", "", Decimal("0.95"), "Stk", Decimal("450")),
)
UNIT_CODES = {"l": "LTR", "Stk": "C62", "Satz": "SET", "Paar": "PR"}
EXCHANGE = ("Austausch-Lichtmaschine", "0 986 049 030", Decimal("289.00"))
ORDERS_PER_DAY = (1, 2, 2, 3)


def _labour_services(services: Services) -> list[int]:
    with services.db.unit() as s:
        return list(
            s.scalars(select(Service.id).where(Service.price_rule == "aw", Service.aw > 0, Service.aw <= Decimal("25")))
        )


def _vehicles(services: Services) -> list[tuple[int, int]]:
    with services.db.unit() as s:
        return [(v, c) for v, c in s.execute(select(Vehicle.id, Vehicle.customer_id).order_by(Vehicle.id)) if c]


def _workdays(today: dt.date, weeks: int, bundesland: str) -> list[dt.date]:
    start = today - dt.timedelta(weeks=weeks)
    days = [start + dt.timedelta(days=i) for i in range((today - start).days)]
    return [d for d in days if d.weekday() < 5 and not is_holiday(d, bundesland)]


def _order(
    services: Services,
    rng: random.Random,
    day: dt.date,
    vehicle: tuple[int, int],
    labour: list[int],
    mechanics: list[int],
) -> int:
    orders = WorkOrderService(services.db, today=day)
    order = orders.create(vehicle[1], vehicle[0], intake=Intake(date_of_service=day)).order
    for service_id in rng.sample(labour, rng.choice((1, 1, 2))):
        order = orders.add_service(order.id, service_id).order
    for text, part_no, price, unit, qty in rng.sample(PARTS, rng.choice((0, 1, 2))):
        order = orders.add_line(
            order.id,
            LineInput(
                kind="part",
                text=text,
                part_no=part_no,
                quantity=qty,
                unit_code=UNIT_CODES[unit],
                unit_label=unit,
                unit_price_net=price,
            ),
        ).order
    if rng.random() < 0.05:
        text, part_no, price = EXCHANGE
        order = orders.add_line(
            order.id, LineInput(kind="exchange_part", text=text, part_no=part_no, unit_price_net=price)
        ).order
    for line in order.lines:
        if line.kind == "labour" and line.aw:
            orders.assign_mechanic(line.id, rng.choice(mechanics))
            factor = Decimal(rng.choice(("0.8", "0.9", "1.0", "1.0", "1.1", "1.3")))
            orders.record_actual_aw(line.id, (line.aw * factor).quantize(Decimal("0.1")))
    orders.open(order.id)
    orders.start(order.id)
    orders.complete(order.id)
    return order.id


def _pay(
    payments: PaymentService, rng: random.Random, invoice_id: int, gross: Decimal, day: dt.date, today: dt.date
) -> None:
    roll = rng.random()
    if roll < 0.45:
        payments.record(invoice_id, amount=gross, method="card", date=day, user="Demo")
    elif roll < 0.65:
        payments.record(invoice_id, amount=gross, method="cash", date=day, user="Demo")
    elif roll < 0.9:
        paid_on = day + dt.timedelta(days=rng.randint(3, 20))
        if paid_on <= today:
            payments.record(
                invoice_id, amount=gross, method="transfer", date=paid_on, reference="Überweisung", user="Demo"
            )
    elif roll < 0.95 and gross > 50:
        part = (gross / 2).quantize(Decimal("0.01"))
        payments.record(invoice_id, amount=part, method="cash", date=day, user="Demo")
    # the rest stays open – some of it overdue, which the receivables report shows


def create_history(services: Services, *, today: dt.date, weeks: int = 10, seed: int = 7) -> int:
    """Fill the weeks before ``today`` with invoiced work; returns the number of invoices."""
    rng = random.Random(seed)
    labour = _labour_services(services)
    vehicles = _vehicles(services)
    mechanics = [m.id for m in services.settings.mechanics()]
    bays = services.settings.bays()
    bundesland = services.settings.get().bundesland
    count = 0
    for day in _workdays(today, weeks, bundesland):
        invoices = InvoiceService(services.db, today=day, validate=False)
        payments = PaymentService(services.db, today=today)
        for _ in range(rng.choice(ORDERS_PER_DAY)):
            vehicle = rng.choice(vehicles)
            try:
                order_id = _order(services, rng, day, vehicle, labour, mechanics)
            except ValidationError:
                continue  # e.g. a catalogue line the order rules refuse – the demo skips it
            _book_visit(services, rng, day, vehicle, bays)
            draft, _changes = invoices.create_draft_from_order(order_id, user="Demo")
            result = invoices.finalize(draft, user="Demo", issue_date=day)
            count += 1
            if rng.random() < 0.02:
                invoices.cancel(result.number, reason="Falsche Rechnungsanschrift", user="Demo", issue_date=day)
                draft, _changes = invoices.create_draft_from_order(order_id, user="Demo")
                result = invoices.finalize(draft, user="Demo", issue_date=day)
                count += 1
            _pay(payments, rng, result.id, result.gross, day, today)
        _estimates(services, rng, day, vehicles, labour)
    return count


def _book_visit(services: Services, rng: random.Random, day: dt.date, vehicle: tuple[int, int], bays: list) -> None:  # type: ignore[type-arg]
    """The appointment behind the visit (done), and now and then a no-show."""
    start = dt.datetime.combine(day, dt.time(rng.choice((7, 8, 9, 10, 13, 14)), rng.choice((0, 30))))
    for status in ("done",) if rng.random() > 0.08 else ("done", "no_show"):
        try:
            booked = services.appointments.book(
                AppointmentInput(
                    start=start,
                    end=start + dt.timedelta(hours=1),
                    bay_id=rng.choice(bays).id,
                    customer_id=vehicle[1],
                    vehicle_id=vehicle[0],
                    title="Werkstatttermin",
                ),
                force=True,
            ).appointment
            services.appointments.set_status(booked.id, status)
        except (ConflictError, ValidationError):
            pass
        start += dt.timedelta(hours=2)


def _estimates(
    services: Services, rng: random.Random, day: dt.date, vehicles: list[tuple[int, int]], labour: list[int]
) -> None:
    if rng.random() > 0.3:
        return
    estimates = EstimateService(services.db, today=day)
    vehicle = rng.choice(vehicles)
    estimate = estimates.create(vehicle[1], vehicle[0]).estimate
    estimates.add_service(estimate.id, rng.choice(labour))
    estimates.send(estimate.id)
    if rng.random() < 0.65:
        estimates.accept(estimate.id)
    else:
        estimates.reject(estimate.id)
