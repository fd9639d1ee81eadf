"""The owner's reports against a hand-computed workshop (February 2028, compared with January 2028).

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
import io
import json
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from app.db import Database, open_database
from app.demo import setup_workshop
from app.errors import NotFound, PermissionDenied, ValidationError
from app.models import Invoice, Payment
from app.plans import features_for
from app.reports.export import csv_text, report_dict
from app.reports.period import Period, Scope, buckets, granularity_for, local_date, preset, utc_bounds
from app.reports.receivables import receivables
from app.reports.types import KpiReport
from app.services.appointments import AppointmentInput, AppointmentService
from app.services.customers import CustomerInput, CustomerService
from app.services.daily_facts import DailyFactsService
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


@pytest.fixture(scope="module")
def shop(_template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("reports") / "carbot.db"
    path.write_bytes(_template_db.read_bytes())
    db = open_database(path)
    yield _build(db)
    db.close()


@pytest.fixture(scope="module")
def feb(shop: Shop) -> KpiReport:
    return shop.reports.kpis(FEB)


def values(report: KpiReport, kpi_id: str) -> tuple[Any, Any, Any, Any]:
    item = report.kpi(kpi_id)
    return item.value, item.previous, item.delta, item.delta_percent


# --- revenue --------------------------------------------------------------------------------------------


def test_revenue_nets_stornos_and_splits_vat_per_rate(feb: KpiReport) -> None:
    # Feb documents: INV2 124.40, Storno INV5 −300.00, INV4 200.00, Storno INV4 −200.00, INV6 50.00, INV3 736.00.
    assert values(feb, "revenue_net") == (D("610.40"), D("518.00"), D("92.40"), D("17.8"))  # 92.40 / 518
    # gross 146.84 − 357 + 238 − 238 + 59.50 + 885.34; January 259.42 + 357.00
    assert values(feb, "revenue_gross") == (D("734.68"), D("616.42"), D("118.26"), D("19.2"))
    assert feb.kpi("revenue_net").detail_rows == (
        # 19 %: 114.40 − 300 + 200 − 200 + 50 + 786 (with the Altteil value 50);
        # its tax 21.74 − 57 + 38 − 38 + 9.50 + 149.34
        ("19 %", D("650.40"), D("123.58"), D("773.98")),
        ("7 %", D("10.00"), D("0.70"), D("10.70")),
        ("0 %", D("-50.00"), D("0.00"), D("-50.00")),  # the Altteil set-off
        ("Summe", D("610.40"), D("124.28"), D("734.68")),
        ("darin Stornorechnungen (2)", D("-500.00"), D("-95.00"), D("-595.00")),
    )


def test_a_storno_in_a_later_period_reduces_that_period_and_cancelled_invoices_drop_out_overall(shop: Shop) -> None:
    january = shop.reports.kpis(JAN, compare_to_previous=False)
    assert january.kpi("revenue_net").value == D("518.00")  # INV5 still counts in January: its Storno is in February
    both = shop.reports.kpis(Period(JAN.start, FEB.end), compare_to_previous=False)
    # Over both months only the four invoices that were not cancelled remain: 218 + 124.40 + 50 + 736.
    assert both.kpi("revenue_net").value == D("1128.40")
    assert both.kpi("invoice_count").value == 4
    # The draft of 1,000.00 never counts, in no period.
    assert shop.reports.kpis(Period(dt.date(2028, 2, 25), dt.date(2028, 2, 25))).kpi("revenue_net").value == 0


def test_period_edges_include_the_first_and_the_last_day_leap_day_included(shop: Shop, feb: KpiReport) -> None:
    assert shop.reports.kpis(Period(FEB.start, FEB.start)).kpi("revenue_net").value == D("124.40")
    leap_day = shop.reports.kpis(Period(FEB.end, FEB.end))
    assert leap_day.kpi("revenue_net").value == D("736.00")
    assert leap_day.previous == Period(dt.date(2028, 2, 28), dt.date(2028, 2, 28))
    march = shop.reports.kpis(preset("this_month", TODAY))
    assert march.period == Period(dt.date(2028, 3, 1), dt.date(2028, 3, 31))
    assert march.previous == FEB
    assert march.kpi("revenue_net").value == D("0.00")
    assert march.kpi("revenue_net").previous == D("610.40")
    spark = dict(zip((b.start for b in feb.buckets), feb.kpi("revenue_net").sparkline, strict=True))
    assert (spark[dt.date(2028, 2, 1)], spark[dt.date(2028, 2, 5)], spark[dt.date(2028, 2, 29)]) == (
        D("124.40"),
        D("-300.00"),
        D("736.00"),
    )
    assert sum(spark.values()) == D("610.40")


def test_invoice_count_and_average_invoice(feb: KpiReport) -> None:
    # 4 invoices − 2 Stornos in February; January 2 invoices.
    assert values(feb, "invoice_count") == (2, 2, 0, D("0.0"))
    assert feb.kpi("invoice_count").detail_rows == (
        ("Rechnungen ausgestellt", 4),
        ("Stornorechnungen", 2),
        ("Rechnungen netto (ohne stornierte)", 2),
    )
    assert values(feb, "average_invoice") == (D("305.20"), D("259.00"), D("46.20"), D("17.8"))  # 610.40 / 2, 518 / 2


def test_labour_share_and_aw_sold(feb: KpiReport) -> None:
    # Labour 94.40 + 236.00 = 330.40; parts 30 − 300 + 200 − 200 + 500 = 230.00; 330.40 / 560.40 = 58.96 %.
    # January: 118 / (118 + 400) = 22.78 %.
    assert values(feb, "labour_share") == (D("59.0"), D("22.8"), D("36.2"), D("158.8"))
    assert feb.kpi("labour_share").detail_rows[:3] == (
        ("Lohn", D("330.40"), D("54.1")),
        ("Teile und Austauschteile", D("230.00"), D("37.7")),
        ("Sonstiges (Gebühren, Rabatte, Altteil)", D("50.00"), D("8.2")),
    )
    # AW 8 + 20 (January 10); capacity 3,680 AW (see the utilisation test): 28 / 3680 = 0.76 %.
    assert values(feb, "aw_sold") == (D("28.00"), D("10.00"), D("18.00"), D("180.0"))
    assert dict(feb.kpi("aw_sold").detail_rows)["Verkaufsquote"] == D("0.8")
    assert dict(feb.kpi("aw_sold").detail_rows)["Erlös je AW (netto)"] == D("11.80")


def test_revenue_agrees_with_the_daily_facts_of_the_sync(shop: Shop, feb: KpiReport) -> None:
    days = DailyFactsService(shop.db).between(FEB.start, FEB.end)
    assert sum((d.net_total for d in days), D(0)) == feb.kpi("revenue_net").value
    assert sum((d.gross_total for d in days), D(0)) == feb.kpi("revenue_gross").value
    assert sum((d.aw_sold for d in days), D(0)) == feb.kpi("aw_sold").value
    assert sum((d.labour_net for d in days), D(0)) == D("330.40")


def test_revenue_series_by_week_and_month(shop: Shop) -> None:
    weeks = shop.reports.revenue_series(FEB, "week")
    assert [(p.label, p.net) for p in weeks] == [
        ("KW 5", D("-175.60")),  # 1–6 Feb: 124.40 − 300
        ("KW 6", D("0.00")),  # 7–13 Feb: 200 − 200
        ("KW 7", D("50.00")),  # 14–20 Feb (Sunday the 20th: INV6)
        ("KW 8", D("0.00")),
        ("KW 9", D("736.00")),  # 28–29 Feb
    ]
    months = shop.reports.revenue_series(Period(JAN.start, FEB.end), "month")
    assert [(p.label, p.net, p.gross, p.invoices) for p in months] == [
        ("Jan 2028", D("518.00"), D("616.42"), 2),
        ("Feb 2028", D("610.40"), D("734.68"), 2),
    ]


# --- what was sold --------------------------------------------------------------------------------------


def test_top_services_by_catalogue_code_or_text_and_revenue_by_category(shop: Shop, feb: KpiReport) -> None:
    assert values(feb, "top_services") == (3, 1, 2, D("200.0"))
    assert [row[:5] for row in feb.kpi("top_services").detail_rows] == [
        (1, "Lichtmaschine aus- und einbauen", "Arbeit ohne Katalogbezug", 1, D("236.00")),
        (2, "Inspektion klein (Zwischeninspektion) – Kleinwagen", "Inspektion", 1, D("94.40")),
        (3, "Altöl-Entsorgung", "Gebühren ohne Katalogbezug", 1, D("50.00")),
    ]
    categories = shop.reports.revenue_by_category(FEB)
    assert [(c.category, c.net) for c in categories] == [
        ("Arbeit ohne Katalogbezug", D("236.00")),
        ("Teile und Austauschteile", D("230.00")),
        ("Inspektion", D("94.40")),
        ("Gebühren ohne Katalogbezug", D("50.00")),
    ]
    assert sum((c.net for c in categories), D(0)) == D("610.40")
    assert feb.categories == tuple(categories)
    assert [s.name for s in shop.reports.top_services(FEB, by="count", limit=2)] == [
        "Lichtmaschine aus- und einbauen",
        "Inspektion klein (Zwischeninspektion) – Kleinwagen",
    ]


# --- receivables ----------------------------------------------------------------------------------------


def test_receivables_with_partial_payments_and_stornos(feb: KpiReport) -> None:
    # 29 Feb: INV1 259.42 − 100 (the 159.42 of 5 March comes later) + INV2 146.84 − 50 + INV3 885.34 (its
    # payment of 10 March comes later); INV4 was paid and cancelled, INV5 cancelled: neither is open.
    # Overdue: INV1 (due 29 Jan) and INV2 (due 15 Feb); INV3 is due 14 March.
    # 31 Jan: INV1 159.42 (overdue) + INV5 357.00 – its Storno of 5 Feb does not count yet.
    assert values(feb, "receivables_open") == (D("1141.60"), D("516.42"), D("625.18"), D("121.1"))
    assert values(feb, "receivables_overdue") == (D("256.26"), D("159.42"), D("96.84"), D("60.7"))
    spark_open = dict(zip((b.start for b in feb.buckets), feb.kpi("receivables_open").sparkline, strict=True))
    spark_due = dict(zip((b.start for b in feb.buckets), feb.kpi("receivables_overdue").sparkline, strict=True))
    day = dt.date
    assert spark_open[day(2028, 2, 1)] == D("663.26")  # 159.42 + 357.00 + 146.84
    assert spark_open[day(2028, 2, 5)] == D("306.26")  # INV5 cancelled
    assert spark_open[day(2028, 2, 10)] == D("494.26")  # INV4 issued (238.00), 50.00 paid on INV2
    assert spark_open[day(2028, 2, 11)] == D("256.26")  # INV4 paid
    assert (spark_due[day(2028, 2, 15)], spark_due[day(2028, 2, 16)]) == (D("159.42"), D("256.26"))  # INV2 due 15th
    assert feb.kpi("receivables_open").lower_is_better


def test_receivables_equal_a_naive_computation_on_random_data(db: Database) -> None:
    rng = random.Random(7)
    start = dt.date(2027, 1, 1)
    invoices, payments = [], []
    for number in range(1, 401):
        issued = start + dt.timedelta(days=rng.randint(0, 420))
        gross = D(rng.randint(1000, 90000)) / 100
        invoices.append(
            {
                "id": number,
                "kind": "invoice",
                "status": "draft",
                "number": f"R{number}",
                "cancels_id": None,
                "issue_date": issued,
                "due_date": issued + dt.timedelta(days=rng.choice((0, 14, 30))),
                "gross_total": gross,
            }
        )
        paid = D(0)
        for _n in range(rng.choice((0, 1, 1, 2))):
            amount = min(gross - paid, (gross * D(rng.choice(("0.3", "0.5", "1")))).quantize(D("0.01")))
            if amount > 0:  # some payments before the invoice's date: a typing slip the report must survive
                payments.append(
                    {
                        "invoice_id": number,
                        "date": issued + dt.timedelta(days=rng.randint(-3, 60)),
                        "amount": amount,
                        "method": "transfer",
                    }
                )
                paid += amount
        if rng.random() < 0.1:
            cancelled = issued + dt.timedelta(days=rng.randint(0, 40))
            invoices.append(
                {
                    "id": 1000 + number,
                    "kind": "storno",
                    "status": "draft",
                    "number": f"S{number}",
                    "cancels_id": number,
                    "issue_date": cancelled,
                    "due_date": cancelled,
                    "gross_total": -gross,
                }
            )
    with db.unit() as s:
        s.execute(Invoice.__table__.insert(), invoices)
        s.execute(text("UPDATE invoice SET status = 'final'"))
        s.execute(Payment.__table__.insert(), payments)
    ends = [start + dt.timedelta(days=d) for d in range(-5, 520, 7)]
    with db.unit() as s:
        computed = receivables(s, ends)
    storno_of = {i["cancels_id"]: i["issue_date"] for i in invoices if i["kind"] == "storno"}
    for result in computed:
        when = result.day
        expected_open = expected_overdue = D(0)
        for inv in (i for i in invoices if i["kind"] == "invoice" and i["issue_date"] <= when):
            if inv["id"] in storno_of and storno_of[inv["id"]] <= when:
                continue
            paid = sum((p["amount"] for p in payments if p["invoice_id"] == inv["id"] and p["date"] <= when), D(0))
            expected_open += inv["gross_total"] - paid
            if inv["due_date"] < when:
                expected_overdue += inv["gross_total"] - paid
        assert (result.open, result.overdue) == (int(expected_open * 100), int(expected_overdue * 100)), when


# --- customers ------------------------------------------------------------------------------------------


def test_new_and_returning_customers(feb: KpiReport) -> None:
    # February: Anna (first visit 1 Feb) and Bernd (29 Feb) are new, Carl returns. January: only Carl, returning.
    assert values(feb, "new_customers") == (2, 0, 2, None)
    assert feb.kpi("new_customers").detail_rows == (
        ("Neukunden (erster Besuch im Zeitraum)", 2),
        ("Wiederkehrende Kunden", 1),
        ("Kunden mit Besuch im Zeitraum", 3),
        ("Anteil Neukunden %", D("66.7")),
    )
    spark = dict(zip((b.start for b in feb.buckets), feb.kpi("new_customers").sparkline, strict=True))
    assert (spark[dt.date(2028, 2, 1)], spark[dt.date(2028, 2, 29)], sum(spark.values())) == (1, 1, 2)


def test_customer_retention(feb: KpiReport) -> None:
    # Active at 1 Feb (visit 1 Feb 2026 … 31 Jan 2028): Carl, Emil (Dora's 10 Jan 2026 is too old) → Carl back.
    # Active at 1 Jan (visit 1 Jan 2026 … 31 Dec 2027): Carl, Dora, Emil → Carl back in January.
    assert values(feb, "customer_retention") == (D("50.0"), D("33.3"), D("16.7"), D("50.2"))
    spark = dict(zip((b.start for b in feb.buckets), feb.kpi("customer_retention").sparkline, strict=True))
    assert (spark[dt.date(2028, 2, 19)], spark[dt.date(2028, 2, 20)]) == (D("0.0"), D("50.0"))  # Carl on 20 Feb


def test_customer_lifetime_value_and_rfm_segments(feb: KpiReport) -> None:
    # Lifetime net on 29 Feb: Anna 124.40 (+200 −200), Bernd 736, Carl 80+40+218+300−300+50 = 388, Dora 150,
    # Emil 60 → 1,458.40 / 5 = 291.68. On 31 Jan: Carl 638, Dora 150, Emil 60 → 848 / 3 = 282.67.
    assert values(feb, "customer_value") == (D("291.68"), D("282.67"), D("9.01"), D("3.2"))
    # R: Anna 19 days (INV4 of 10 Feb, 1 visit net), Bernd 0 (1), Carl 9 (4 visits net in 3 years: 5 − 1 Storno),
    # Dora 780 days, Emil 532 days.
    assert [row[:4] for row in feb.kpi("customer_value").detail_rows] == [
        ("Champions", 1, D("388.00"), D("388.00")),
        ("Stammkunden", 0, D("0.00"), None),
        ("Neu/gelegentlich", 2, D("860.40"), D("430.20")),
        ("Gefährdet", 1, D("60.00"), D("60.00")),
        ("Verloren", 1, D("150.00"), D("150.00")),
    ]
    assert feb.kpi("customer_value").sparkline[-1] == D("291.68")
    # At the end of 1 Feb Anna is a customer too: (848 + 124.40) / 4; on 5 Feb INV5's Storno: (972.40 − 300) / 4.
    assert feb.kpi("customer_value").sparkline[:5] == (D("243.10"), D("243.10"), D("243.10"), D("243.10"), D("168.10"))


# --- workshop and front office --------------------------------------------------------------------------


def test_utilisation_per_mechanic_from_working_days_and_holidays(shop: Shop, feb: KpiReport) -> None:
    # February 2028 in Bavaria: 21 weekdays (8 h of 9 h open) and 4 Saturdays (4 h open), no holiday:
    # 21 × 8 + 4 × 4 = 184 h × 10 AW = 1,840 AW per mechanic. Tobias: actual 9 AW (target 8); Sandra: 10 AW
    # target of an order in progress; 20 AW of INV3 unassigned; the cancelled order's 50 AW do not count.
    rows = {r.name: r for r in shop.reports.mechanic_utilisation(FEB)}
    assert set(rows) == {"Tobias Brandl", "Sandra Kögl", "nicht zugeordnet"}
    tobias, sandra = rows["Tobias Brandl"], rows["Sandra Kögl"]
    assert (tobias.working_days, tobias.aw_available, tobias.aw_worked, tobias.utilisation) == (
        25,
        D("1840.00"),
        D("9.00"),
        D("0.5"),
    )
    assert (sandra.aw_worked, sandra.utilisation) == (D("10.00"), D("0.5"))
    assert rows["nicht zugeordnet"].aw_worked == D("20.00")
    # Workshop: 39 / 3,680 = 1.06 %. January: 1 Jan (Sat) and 6 Jan (Thu) are holidays in Bavaria →
    # 20 × 8 + 4 × 4 = 176 h = 1,760 AW each; 10 AW unassigned (INV1) / 3,520 = 0.28 %.
    assert values(feb, "utilisation")[:2] == (D("1.1"), D("0.3"))
    assert feb.mechanics == tuple(shop.reports.mechanic_utilisation(FEB))


def test_estimate_acceptance_uses_the_local_date_of_creation(feb: KpiReport) -> None:
    # February (local): accepted 3 Feb and 29 Feb 23:30, rejected 15 Feb, sent 10 Feb; the one rejected at
    # 00:30 on 1 March (still 29 Feb in UTC) is March's. 2 / (2 + 1); January: 0 / 1.
    assert values(feb, "estimate_acceptance") == (D("66.7"), D("0.0"), D("66.7"), None)
    assert feb.kpi("estimate_acceptance").detail_rows == (
        ("Angenommen", 2),
        ("Abgelehnt", 1),
        ("Versendet", 1),
        ("Entwurf", 0),
        ("Erstellt im Zeitraum", 4),
    )


def test_appointments_and_no_show_rate(feb: KpiReport) -> None:
    # February: 3 done (incl. 29 Feb 17:00), 1 no-show, 1 confirmed, 1 cancelled (not counted); 1 March is March's.
    assert values(feb, "appointments") == (5, 2, 3, D("150.0"))
    assert values(feb, "no_show_rate") == (D("25.0"), D("0.0"), D("25.0"), None)  # 1 / (3 + 1)
    assert feb.kpi("no_show_rate").lower_is_better


def test_hu_due_in_the_next_60_days_as_of_today(feb: KpiReport) -> None:
    # Today 10 March: HU months March … 9 May: Anna (03/2028) and Bernd (05/2028); Carl's June is too late,
    # Dora's February is past, Emil is restricted (GDPR).
    item = feb.kpi("hu_due")
    assert (item.value, item.previous, item.sparkline) == (2, None, (1, 0, 1))
    assert [row[:4] for row in item.detail_rows] == [
        (dt.date(2028, 3, 1), "M-AB 1", "VW Golf", "Müller, Anna"),
        (dt.date(2028, 5, 1), "M-AB 2", "VW Golf", "Berger, Bernd"),
    ]


def test_chat_widget_has_no_numbers_until_the_chat_exists(feb: KpiReport) -> None:
    item = feb.kpi("chat_leads")
    assert (item.available, item.value, item.previous, item.sparkline, item.detail_rows) == (False, None, None, (), ())
    assert item.note == "Chat folgt – noch keine Daten"


def test_at_least_twelve_widgets_each_with_a_sparkline_over_the_buckets(feb: KpiReport) -> None:
    assert len(feb.kpis) >= 12
    assert feb.granularity == "day" and len(feb.buckets) == 29
    for item in feb.kpis:
        assert item.title and item.unit in ("EUR", "%", "AW", "Anzahl")
        if item.available and item.id != "hu_due":
            assert len(item.sparkline) == 29, item.id
    assert report_dict(feb)["kpis"][0]["value"] == "610.40"


# --- permissions, plans, locations ----------------------------------------------------------------------


def test_owner_and_auditor_see_revenue_the_counter_only_its_day(shop: Shop) -> None:
    assert shop.reports.for_role("auditor").kpis(FEB).kpi("revenue_net").value == D("610.40")
    counter = shop.reports.for_role("counter")
    for call in (
        lambda: counter.kpis(FEB),
        lambda: counter.revenue_series(FEB),
        lambda: counter.pdf(period=FEB),
        lambda: counter.mechanic_utilisation(FEB),
        lambda: counter.revenue_by_category(FEB),
    ):
        with pytest.raises(PermissionDenied) as caught:
            call()
        assert str(caught.value) == (
            "Umsatzzahlen und Auswertungen sehen nur Inhaber und Prüfer – die Rolle „Theke“ sieht nur ihren "
            "eigenen Tag."
        )
    day = counter.counter_day()
    # 10 March: one appointment; open orders: INV4's and INV5's (back to completed after the Storno), the
    # draft invoice's (completed) and Sandra's (in progress); one card payment of 85.34 on INV3.
    assert (day.day, day.appointments, day.open_orders, day.payments, day.payments_total) == (
        TODAY,
        1,
        4,
        1,
        D("85.34"),
    )
    assert day.open_orders_by_status == (("completed", 3), ("in_progress", 1))
    assert day.payments_by_method == (("card", D("85.34")),)
    with pytest.raises(PermissionDenied, match="nur den heutigen Tag"):
        counter.counter_day(dt.date(2028, 3, 9))
    with pytest.raises(PermissionDenied, match="„Monteur“ hat keinen Zugriff"):
        shop.reports.for_role("mechanic").counter_day()
    with pytest.raises(ValidationError, match="Unbekannte Rolle"):
        shop.reports.for_role("chef")


def test_advanced_widgets_need_the_professional_plan(shop: Shop) -> None:
    starter = ReportService(shop.db, today=TODAY, features=features_for("starter")).kpis(FEB)
    assert starter.kpi("revenue_net").value == D("610.40")
    for kpi_id in ("customer_retention", "customer_value"):
        item = starter.kpi(kpi_id)
        assert (item.available, item.value, item.detail_rows) == (False, None, ())
        assert "Professional" in item.note
    professional = ReportService(shop.db, today=TODAY, features=features_for("professional")).kpis(FEB)
    assert professional.kpi("customer_value").value == D("291.68")


def test_other_locations_come_from_the_server(shop: Shop) -> None:
    with pytest.raises(ValidationError, match="standortübergreifende Auswertungen kommen vom CarBot-Server"):
        shop.reports.kpis(FEB, location="filiale-2")


# --- periods and time zones -----------------------------------------------------------------------------


def test_presets_previous_periods_and_buckets() -> None:
    assert preset("last_month", TODAY) == FEB
    assert preset("quarter", TODAY) == Period(dt.date(2028, 1, 1), dt.date(2028, 3, 31))
    assert preset("year", TODAY) == Period(dt.date(2028, 1, 1), dt.date(2028, 12, 31))
    assert FEB.previous() == JAN and FEB.days == 29
    assert Period(dt.date(2028, 3, 1), dt.date(2028, 3, 31)).previous() == FEB
    assert preset("year", TODAY).previous() == Period(dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    assert preset("quarter", TODAY).previous() == Period(dt.date(2027, 10, 1), dt.date(2027, 12, 31))
    assert Period(dt.date(2028, 2, 20), dt.date(2028, 3, 1)).previous() == Period(
        dt.date(2028, 2, 9), dt.date(2028, 2, 19)
    )
    assert [
        granularity_for(Period(dt.date(2028, 1, 1), dt.date(2028, 1, 1) + dt.timedelta(days=n)))
        for n in (30, 31, 182, 183)
    ] == ["day", "week", "week", "month"]
    assert [(b.label, b.start, b.end) for b in buckets(Period(dt.date(2028, 2, 27), dt.date(2028, 3, 6)), "week")] == [
        ("KW 8", dt.date(2028, 2, 27), dt.date(2028, 2, 27)),
        ("KW 9", dt.date(2028, 2, 28), dt.date(2028, 3, 5)),
        ("KW 10", dt.date(2028, 3, 6), dt.date(2028, 3, 6)),
    ]
    with pytest.raises(ValidationError, match="endet .* vor seinem Beginn"):
        Period(dt.date(2028, 3, 1), dt.date(2028, 2, 1))
    with pytest.raises(ValidationError, match="Unbekannter Zeitraum"):
        preset("week", TODAY)


def test_local_dates_follow_berlin_time_across_daylight_saving() -> None:
    # Summer time starts on 26 March 2028: that day has 23 hours.
    assert utc_bounds(Period(dt.date(2028, 3, 26), dt.date(2028, 3, 26))) == (
        dt.datetime(2028, 3, 25, 23, 0),
        dt.datetime(2028, 3, 26, 22, 0),
    )
    assert local_date(dt.datetime(2028, 2, 29, 22, 59)) == dt.date(2028, 2, 29)
    assert local_date(dt.datetime(2028, 2, 29, 23, 0)) == dt.date(2028, 3, 1)
    assert local_date(dt.datetime(2028, 7, 31, 22, 0)) == dt.date(2028, 8, 1)  # CEST: UTC + 2
    assert Scope.of(FEB, today=dt.date(2028, 2, 10)).as_of == dt.date(2028, 2, 10)


# --- exports --------------------------------------------------------------------------------------------


def test_csv_is_excel_friendly_per_widget_and_for_all(shop: Shop, feb: KpiReport, tmp_path: Path) -> None:
    path = shop.reports.export_csv("revenue_net", tmp_path / "umsatz.csv", report=feb)
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())
    lines = raw.decode("utf-8-sig").split("\r\n")
    assert lines[1] == "Zeitraum;01.02.2028;29.02.2028"
    assert "Umsatz netto;610,40;EUR;518,00;92,40;17,8;ja;" in lines
    assert "01.02.;01.02.2028;01.02.2028;124,40" in lines
    assert "19 %;650,40;123,58;773,98" in lines
    everything = csv_text(feb)
    assert everything.count("\r\n\r\n") >= len(feb.kpis)
    assert "Chats, Leads und Terminquote;;%;;;;nein;Chat folgt – noch keine Daten" in everything
    with pytest.raises(NotFound, match="Kennzahl „umsatz“ gibt es nicht"):
        shop.reports.export_csv("umsatz", tmp_path / "x.csv", report=feb)
    assert (
        shop.reports.export_csv("all", tmp_path / "alle.csv", period=FEB)
        .read_text("utf-8-sig")
        .startswith("CarBot Werkstatt – Kennzahlen;Kfz-Meisterbetrieb Huber GmbH")
    )


def test_pdf_management_report_with_charts(shop: Shop, feb: KpiReport) -> None:
    pdf = shop.reports.pdf(report=feb)
    reader = PdfReader(io.BytesIO(pdf))
    content = "\n".join(page.extract_text() for page in reader.pages).replace("\u00a0", " ")
    assert "Managementbericht 01.02.2028 – 29.02.2028" in content
    assert "Umsatz netto" in content and "610,40 €" in content and "518,00 €" in content
    assert "Umsatz netto je Tag" in content and "Auslastung je Monteur" in content
    assert "Chat folgt – noch keine Daten" in " ".join(content.split()) and "Champions" in content
    fonts = {f.get_object()["/BaseFont"] for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert fonts and all("DejaVuSans" in str(font) for font in fonts)  # embedded only, no Helvetica
    assert shop.reports.pdf(report=feb) == pdf  # reproducible


def test_empty_database_and_future_periods_show_no_figures_but_never_fail(db: Database, shop: Shop) -> None:
    empty = ReportService(db, today=TODAY).kpis(FEB)
    assert empty.kpi("revenue_net").value == D("0.00") and empty.kpi("average_invoice").value is None
    assert empty.kpi("utilisation").value is None and empty.kpi("customer_value").value is None
    future = shop.reports.kpis(Period(dt.date(2028, 4, 1), dt.date(2028, 4, 30)))
    assert future.as_of == TODAY and future.kpi("revenue_net").value == D("0.00")
    assert set(future.kpi("receivables_open").sparkline) == {None}  # April has not begun
    # As of today: INV3 885.34 − 85.34 + INV2 146.84 − 50.00 (INV1 was paid in full on 5 March).
    assert future.kpi("receivables_open").value == D("896.84")
    assert future.kpi("utilisation").sparkline[0] is None
