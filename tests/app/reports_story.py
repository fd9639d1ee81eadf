"""Shared story of the report tests (test_reports*.py): the owner's reports against a hand-computed
workshop (February 2028, compared with January 2028).

Every invoice, payment, Storno, estimate and appointment below goes through the real services; the
expected figures are worked out by hand in the comments and written down as literals – never recomputed
by the report code. Today is 2028-03-10; AW price 118.00 € / 10 AW = 11.80 €.

Invoices (net / VAT / gross):
  INV_D   2026-01-10  Dora   part 150.00                              150.00 / 28.50  / 178.50   paid
  INV_E   2026-09-15  Emil   part 60.00                                60.00 / 11.40  / 71.40    paid
  INV_C0  2027-06-01  Carl   part 80.00                                80.00 / 15.20  / 95.20    paid
  INV_C1  2027-10-01  Carl   part 40.00                                40.00 / 7.60   / 47.60    paid
  INV1    2028-01-15  Carl   labour 10 AW 118.00 + part 100.00        218.00 / 41.42  / 259.42
          paid 100.00 on 01-20 and 159.42 on 03-05 (after February)
  INV5    2028-01-20  Carl   part 300.00                              300.00 / 57.00  / 357.00   Storno 02-05
  INV2    2028-02-01  Anna   work order: IN-0001 (8 AW = 94.40, Tobias, actual 9 AW), part 20.00,
                             Kaffee-Gutschein 10.00 at 7 %            124.40 / 22.44  / 146.84
          (19 %: 114.40 → 21.74; 7 %: 10.00 → 0.70)                   paid 50.00 on 02-10
  INV4    2028-02-10  Anna   part 200.00                              200.00 / 38.00  / 238.00
          paid 238.00 on 02-11, Storno 02-12
  INV6    2028-02-20  Carl   fee "Altöl-Entsorgung" 50.00              50.00 / 9.50   / 59.50    paid
  INV3    2028-02-29  Bernd  exchange part 500.00 + labour 20 AW 236.00 → Altteil +50.00 (19 %) / −50.00 (0 %)
                                                                      736.00 / 149.34 / 885.34   paid 85.34 on 03-10
  a draft of 1,000.00 for Anna is never finalised.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.db import Database, open_database
from app.demo import setup_workshop
from app.reports.period import Period
from app.reports.types import KpiReport
from app.services.appointments import AppointmentInput, AppointmentService
from app.services.customers import CustomerInput, CustomerService
from app.services.estimates import EstimateService
from app.services.invoicing import InvoiceService
from app.services.order_import_service import OrderImportService
from app.services.order_lines import LineInput
from app.services.payments import PaymentService
from app.services.registry import Services
from app.services.reports import ReportService
from app.services.vehicles import VehicleInput, VehicleService
from app.services.work_orders import Intake, WorkOrderService

TODAY = dt.date(2028, 3, 10)
FEB = Period(dt.date(2028, 2, 1), dt.date(2028, 2, 29))
JAN = Period(dt.date(2028, 1, 1), dt.date(2028, 1, 31))
D = Decimal


def person(first: str, last: str) -> dict[str, Any]:
    return {
        "name": f"{first} {last}",
        "street": "Hauptstraße 1",
        "postcode": "80331",
        "city": "München",
        "email": f"{first.lower()}@example.org",
    }


@dataclass
class Shop:
    """The hand-computed workshop."""

    db: Database
    reports: ReportService
    ids: dict[str, int]


def _build(db: Database) -> Shop:  # noqa: PLR0915 - one linear story of a workshop's two months
    services = Services.for_database(db, today=TODAY)
    setup_workshop(services)
    services.catalog.load_defaults()
    mechanics = {m.name.split()[0]: m.id for m in services.settings.mechanics()}
    for name in ("Emre", "Piotr", "Max"):
        services.settings.set_mechanic_active(mechanics[name], False)
    invoices = InvoiceService(db, today=TODAY, validate=False)
    payments = PaymentService(db, today=TODAY)
    ids: dict[str, int] = {}
    anna, _changes = CustomerService(db).create(
        CustomerInput(
            first_name="Anna",
            last_name="Müller",
            street="Hauptstraße 1",
            postcode="80331",
            city="München",
            email="anna@example.org",
        )
    )

    def imported(customer: dict[str, Any], day: str, *lines: dict[str, Any]) -> int:
        data = {"customer": customer, "date_of_service": day, "lines": list(lines)}
        return OrderImportService(db, today=TODAY).import_file(json.dumps(data))[0]

    def issue(key: str, order_id: int, day: dt.date) -> int:
        draft, _changes = invoices.create_draft_from_order(order_id, user="Theke")
        result = invoices.finalize(draft, user="Theke", issue_date=day)
        ids[key] = result.id
        return result.id

    def part(price: str, text_: str = "Bremsscheibe", rate: str = "19") -> dict[str, Any]:
        return {"kind": "part", "text": text_, "unit_price_net": price, "vat_rate": rate}

    def pay(key: str, amount: str, day: dt.date, method: str = "transfer") -> None:
        payments.record(ids[key], amount=amount, method=method, date=day, user="Theke")

    dora, emil, carl = person("Dora", "Lang"), person("Emil", "Wagner"), person("Carl", "Schmidt")
    for key, customer, day, price in (
        ("INV_D", dora, "2026-01-10", "150.00"),
        ("INV_E", emil, "2026-09-15", "60.00"),
        ("INV_C0", carl, "2027-06-01", "80.00"),
        ("INV_C1", carl, "2027-10-01", "40.00"),
    ):
        issue(key, imported(customer, day, part(price)), dt.date.fromisoformat(day))
    pay("INV_D", "178.50", dt.date(2026, 1, 10))
    pay("INV_E", "71.40", dt.date(2026, 9, 15))
    pay("INV_C0", "95.20", dt.date(2027, 6, 1))
    pay("INV_C1", "47.60", dt.date(2027, 10, 1))

    labour = {"kind": "labour", "text": "Inspektion nach Herstellervorgabe", "aw": 10}
    issue("INV1", imported(carl, "2028-01-15", labour, part("100.00")), dt.date(2028, 1, 15))
    pay("INV1", "100.00", dt.date(2028, 1, 20))
    pay("INV1", "159.42", dt.date(2028, 3, 5))
    issue("INV5", imported(carl, "2028-01-20", part("300.00")), dt.date(2028, 1, 20))
    invoices.cancel(_number(db, ids["INV5"]), reason="Falscher Kunde", issue_date=dt.date(2028, 2, 5))

    orders = WorkOrderService(db, today=TODAY)
    order = orders.create(anna.id, None, intake=Intake(date_of_service=dt.date(2028, 2, 1))).order
    service_id = services.catalog.get_by_code("IN-0001").id
    orders.add_service(order.id, service_id)
    orders.add_line(order.id, LineInput(kind="part", text="Ölfilter", unit_price_net="20.00"))
    lines = orders.add_line(
        order.id, LineInput(kind="part", text="Kaffee-Gutschein", unit_price_net="10.00", vat_rate="7")
    ).order.lines
    line = next(item for item in lines if item.kind == "labour")
    orders.assign_mechanic(line.id, mechanics["Tobias"])
    orders.open(order.id)
    orders.start(order.id)
    orders.record_actual_aw(line.id, 9)
    orders.complete(order.id)
    issue("INV2", order.id, dt.date(2028, 2, 1))
    pay("INV2", "50.00", dt.date(2028, 2, 10))

    issue("INV4", imported(anna_json := person("Anna", "Müller"), "2028-02-10", part("200.00")), dt.date(2028, 2, 10))
    pay("INV4", "238.00", dt.date(2028, 2, 11), "card")
    invoices.cancel(_number(db, ids["INV4"]), reason="Doppelt berechnet", issue_date=dt.date(2028, 2, 12))
    fee = {"kind": "fee", "text": "Altöl-Entsorgung", "unit_price_net": "50.00"}
    issue("INV6", imported(carl, "2028-02-20", fee), dt.date(2028, 2, 20))
    pay("INV6", "59.50", dt.date(2028, 2, 20), "cash")
    bernd = person("Bernd", "Berger")
    exchange = {"kind": "exchange_part", "text": "Austausch-Lichtmaschine", "unit_price_net": "500.00"}
    alternator = {"kind": "labour", "text": "Lichtmaschine aus- und einbauen", "aw": 20}
    issue("INV3", imported(bernd, "2028-02-29", exchange, alternator), dt.date(2028, 2, 29))
    pay("INV3", "85.34", TODAY, "card")
    invoices.create_draft_from_order(imported(anna_json, "2028-02-25", part("1000.00")), user="Theke")

    # Work not (yet) invoiced: Sandra's order in progress counts, a cancelled order does not.
    sandra = orders.create(anna.id, None, intake=Intake(date_of_service=dt.date(2028, 2, 15))).order
    orders.add_line(sandra.id, LineInput(kind="labour", text="Bremsen prüfen", aw=10, mechanic_id=mechanics["Sandra"]))
    orders.open(sandra.id)
    orders.start(sandra.id)
    dropped = orders.create(anna.id, None, intake=Intake(date_of_service=dt.date(2028, 2, 16))).order
    orders.add_line(dropped.id, LineInput(kind="labour", text="Motor", aw=50, mechanic_id=mechanics["Tobias"]))
    orders.cancel(dropped.id)

    _estimates(db, anna.id)
    _calendar(db, anna.id)
    customer_ids = {row[0]: row[1] for row in _sql(db, "SELECT first_name, id FROM customer")}
    vehicles = VehicleService(db, today=TODAY)
    for owner, plate, due in (
        ("Anna", "M-AB 1", dt.date(2028, 3, 1)),
        ("Bernd", "M-AB 2", dt.date(2028, 5, 1)),
        ("Carl", "M-AB 3", dt.date(2028, 6, 1)),
        ("Dora", "M-AB 4", dt.date(2028, 2, 1)),
        ("Emil", "M-AB 5", dt.date(2028, 4, 1)),
    ):
        vehicles.create(VehicleInput(customer_id=customer_ids[owner], plate=plate, make="VW", model="Golf", hu_due=due))
    _sql(db, "UPDATE customer SET restricted_at = '2028-03-01 10:00:00' WHERE first_name = 'Emil'")
    return Shop(db, ReportService(db, today=TODAY), ids)


def _estimates(db: Database, customer_id: int) -> None:
    """Created (local time) → status: the 23:30 ones sit on both sides of midnight, in UTC on the same day."""
    service = EstimateService(db, today=TODAY)
    line = LineInput(kind="part", text="Bremsscheiben", unit_price_net="100.00")
    for created_utc, action in (
        ("2028-01-10 09:00:00", "reject"),
        ("2028-02-03 09:00:00", "accept"),
        ("2028-02-15 08:00:00", "reject"),
        ("2028-02-10 12:00:00", "send"),
        ("2028-02-29 22:30:00", "accept"),  # 23:30 local on 29 Feb → February
        ("2028-02-29 23:30:00", "reject"),
    ):  # 00:30 local on 1 March → March
        estimate = service.create(customer_id, lines=[line]).estimate
        getattr(service, action)(estimate.id)
        _sql(db, "UPDATE estimate SET created_at = :at WHERE id = :id", at=created_utc, id=estimate.id)


def _calendar(db: Database, customer_id: int) -> None:
    service = AppointmentService(db)
    for start, status in (
        ("2028-01-10 08:00", "done"),
        ("2028-01-11 08:00", "done"),
        ("2028-02-03 08:00", "done"),
        ("2028-02-14 09:00", "done"),
        ("2028-02-29 17:00", "done"),
        ("2028-02-21 10:00", "no_show"),
        ("2028-02-22 10:00", "cancelled"),
        ("2028-02-28 11:00", "confirmed"),
        ("2028-03-01 07:30", "done"),
        ("2028-03-10 09:00", "confirmed"),
    ):
        begin = dt.datetime.fromisoformat(start)
        data = AppointmentInput(
            start=begin, end=begin + dt.timedelta(minutes=30), customer_id=customer_id, title="Service"
        )
        appointment = service.book(data, force=True).appointment
        if status == "cancelled":
            service.cancel(appointment.id)
        elif status != "confirmed":
            service.set_status(appointment.id, status)


def _sql(db: Database, statement: str, **params: Any) -> list[Any]:
    with db.engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return list(result.all()) if result.returns_rows else []


def _number(db: Database, invoice_id: int) -> str:
    return str(_sql(db, "SELECT number FROM invoice WHERE id = :id", id=invoice_id)[0][0])


def values(report: KpiReport, kpi_id: str) -> tuple[Any, Any, Any, Any]:
    item = report.kpi(kpi_id)
    return item.value, item.previous, item.delta, item.delta_percent


def open_story(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """A private copy of the migrated template with the whole hand-computed story built into it."""
    path = tmp_path_factory.mktemp("reports") / "carbot.db"
    path.write_bytes(template_db.read_bytes())
    db = open_database(path)
    yield _build(db)
    db.close()
