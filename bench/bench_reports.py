"""Owner's reports on five years of a busy workshop: all KPI widgets together ≤ 300 ms.

The history (60,000 final invoices incl. 3 % Stornorechnungen, ~400,000 invoice lines, 15,000 customers,
their vehicles, work orders with mechanics' AW, payments with partial and open ones, estimates and
appointments) is generated with bulk inserts – the invoices' figures come from the real VAT engine
(``app.tax.compute``), so lines, taxes and totals agree as on issued invoices – and cached in
``bench/.data/`` (building takes about a minute).

Measured: ``ReportService.kpis`` for last month, for the current year and for all five years (each with
the previous-period comparison and sparklines; best of five runs, caches warm as in the app after the
first open), against the baseline of one full scan of the ``invoice_line`` table in the same run.
``python -m bench reports``.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from app.calendar_rules import is_holiday
from app.db import Database, open_database
from app.demo import setup_workshop
from app.demo_names import FIRST_NAMES, LAST_NAMES
from app.invoice_document import LineKind
from app.models import (
    Appointment,
    Customer,
    Estimate,
    Invoice,
    InvoiceLine,
    OrderLine,
    Payment,
    Vehicle,
    WorkOrder,
)
from app.reports.period import Period, month_end, preset
from app.services.catalog import CatalogService
from app.services.registry import Services
from app.tax import TaxContext, compute
from app.tax_lines import InputLine
from bench.common import Result

DATA = Path(__file__).resolve().parent / ".data"
VERSION = 2  # bump when the generated history changes shape
TODAY = dt.date(2026, 11, 30)
FIRST_DAY = dt.date(2021, 12, 1)
INVOICES = 60_000
STORNO_SHARE = 0.03
CUSTOMERS = 15_000
VEHICLES = 19_500
ESTIMATES = 9_000
APPOINTMENTS = 62_000
GOAL_MS = 300.0
RUNS = 5
_HOURLY = Decimal("118.00")
_PARTS = (("Ölfilter", "12.90"), ("Motoröl 5W-30", "14.50"), ("Bremsbeläge vorn", "64.00"), ("Luftfilter", "18.40"),
          ("Wischerblätter", "24.90"), ("Zündkerze", "11.20"), ("Innenraumfilter", "21.50"), ("Batterie 70 Ah", "119.00"),
          ("Bremsscheibe", "58.00"), ("Keilrippenriemen", "32.00"))  # fmt: skip


def _work_days() -> list[dt.date]:
    days, day = [], FIRST_DAY
    while day <= TODAY:
        if day.weekday() < 6 and not is_holiday(day, "BY"):
            days += [day] * (1 if day.weekday() == 5 else 4)  # Saturdays see a quarter of a weekday's work
        day += dt.timedelta(days=1)
    return days


def _chunks(rows: list[dict[str, Any]], size: int = 20_000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _bulk(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    with db.unit() as s:
        for chunk in _chunks(rows):
            s.execute(insert(model), chunk)


def _masters(db: Database, rng: random.Random) -> tuple[list[tuple[int, str, str]], list[int]]:
    services = Services.for_database(db, today=TODAY)
    setup_workshop(services)
    for name in ("Lukas Maier", "Jana Schuster", "Ali Demir", "Stefan Gruber", "Mia Huber"):
        services.settings.add_mechanic(name)  # a busy workshop: ten mechanics
    CatalogService(db).load_defaults()
    mechanics = [m.id for m in services.settings.mechanics()]
    with db.unit() as s:
        catalogue = [(int(r[0]), str(r[1]), str(r[2])) for r in s.execute(text("SELECT aw, code, name FROM service WHERE aw > 0 AND aw <= 40"))]  # fmt: skip
    start = dt.datetime(2019, 1, 1)
    _bulk(db, Customer, [
        {"number": f"K{10000 + i}", "kind": "private", "first_name": rng.choice(FIRST_NAMES),
         "last_name": rng.choice(LAST_NAMES), "city": "München", "postcode": "80687",
         "created_at": start + dt.timedelta(minutes=rng.randint(0, 4_000_000)), "updated_at": start}
        for i in range(1, CUSTOMERS + 1)
    ])  # fmt: skip
    _bulk(db, Vehicle, [
        {"customer_id": 1 + i % CUSTOMERS, "plate": f"M-{rng.choice('ABCDEFGHKLMNPRSTUVWXZ')}{rng.choice('ABCDEFGHKLMNPRSTUVWXZ')} {i % 9999 + 1}",
         "make": "Volkswagen", "model": "Golf", "hu_due": month_end(TODAY) + dt.timedelta(days=1 + 30 * rng.randint(-2, 22)),
         "created_at": start, "updated_at": start}
        for i in range(VEHICLES)
    ])  # fmt: skip
    return [(aw, code, name) for aw, code, name in catalogue], mechanics  # type: ignore[misc]


def _lines(rng: random.Random, catalogue: list[Any]) -> list[InputLine]:
    lines = []
    for _n in range(rng.choice((1, 2, 2, 3, 3))):
        aw, code, name = rng.choice(catalogue)
        lines.append(InputLine(kind=LineKind.LABOUR, text=name, part_no=code, aw=Decimal(aw),
                               aw_per_hour=10, hourly_rate=_HOURLY))  # fmt: skip
    for _n in range(rng.choice((2, 3, 3, 4, 5))):
        name, price = rng.choice(_PARTS)
        lines.append(InputLine(kind=LineKind.PART, text=name, quantity=Decimal(rng.choice((1, 1, 2, 4))),
                               unit_price_net=Decimal(price)))  # fmt: skip
    if rng.random() < 0.12:
        lines.append(InputLine(kind=LineKind.EXCHANGE_PART, text="Austausch-Lichtmaschine", unit_price_net=Decimal("389.00")))  # fmt: skip
    if rng.random() < 0.5:
        lines.append(InputLine(kind=LineKind.FEE, text="Altöl-Entsorgung", unit_price_net=Decimal("4.50")))
    if rng.random() < 0.1:
        lines.append(InputLine(kind=LineKind.PART, text="Kaffee-Gutschein", unit_price_net=Decimal("10.00"), vat_rate=Decimal(7)))  # fmt: skip
    if rng.random() < 0.08:
        lines.append(InputLine(kind=LineKind.DISCOUNT, text="Stammkundenrabatt", percent=Decimal(5)))
    return lines


def _invoices(db: Database, rng: random.Random, catalogue: list[Any], mechanics: list[int]) -> None:
    days = _work_days()
    stornos = int(INVOICES * STORNO_SHARE)
    originals = INVOICES - stornos
    issued = sorted(rng.choice(days) for _ in range(originals))
    invoices, lines, orders, order_lines, payments = [], [], [], [], []
    totals: dict[int, tuple[dt.date, int, Any]] = {}
    line_id = 0
    for index, day in enumerate(issued, start=1):
        customer = rng.randint(1, CUSTOMERS) if rng.random() < 0.6 else rng.randint(1, CUSTOMERS // 5)
        result = compute(_lines(rng, catalogue), TaxContext())
        orders.append({"id": index, "number": f"A-{index:06d}", "customer_id": customer, "status": "invoiced",
                       "date_of_service": day, "created_at": dt.datetime.combine(day, dt.time(8)), "updated_at": dt.datetime.combine(day, dt.time(8))})  # fmt: skip
        invoices.append({"id": index, "work_order_id": index, "customer_id": customer, "kind": "invoice", "status": "draft",
                         "number": f"W1-{day.year}-{index:06d}", "issue_date": day, "service_date": day,
                         "due_date": day + dt.timedelta(days=14), "net_total": result.net_total, "tax_total": result.tax_total,
                         "gross_total": result.gross_total, "altteil_tax": result.altteil_tax})  # fmt: skip
        for doc in result.lines:
            line_id += 1
            lines.append({"id": line_id, "invoice_id": index, "position": doc.position, "kind": str(doc.kind),
                          "text": doc.text, "part_no": doc.part_no, "quantity": doc.quantity, "unit_price_net": doc.unit_price_net,
                          "vat_rate": doc.vat_rate, "aw": doc.aw, "aw_per_hour": doc.aw_per_hour, "net": doc.net})  # fmt: skip
            if doc.kind in (LineKind.LABOUR, LineKind.PART):
                aw = doc.aw
                order_lines.append({"work_order_id": index, "position": doc.position, "kind": str(doc.kind), "text": doc.text,
                                    "part_no": doc.part_no, "quantity": doc.quantity, "aw": aw,
                                    "aw_actual": aw * Decimal(rng.choice(("0.8", "0.9", "1", "1", "1.1", "1.3"))) if aw else None,
                                    "mechanic_id": rng.choice(mechanics) if aw else None, "vat_rate": doc.vat_rate})  # fmt: skip
        totals[index] = (day, index, result)
    cancelled = rng.sample(range(1, originals + 1), stornos)
    for number, original in enumerate(sorted(cancelled), start=originals + 1):
        day0, _i, result = totals[original]
        day = min(day0 + dt.timedelta(days=rng.choice((0, 0, 1, 3, 10, 40))), TODAY)
        invoices.append({"id": number, "customer_id": invoices[original - 1]["customer_id"], "kind": "storno", "status": "draft",
                         "number": f"W1-{day.year}-{number:06d}", "cancels_id": original, "issue_date": day, "service_date": day0,
                         "due_date": day, "payment_terms_days": 0, "net_total": -result.net_total,
                         "tax_total": -result.tax_total, "gross_total": -result.gross_total, "altteil_tax": -result.altteil_tax})  # fmt: skip
        for doc in result.lines:
            line_id += 1
            lines.append({"id": line_id, "invoice_id": number, "position": doc.position, "kind": str(doc.kind), "text": doc.text,
                          "part_no": doc.part_no, "quantity": -doc.quantity, "unit_price_net": doc.unit_price_net,
                          "vat_rate": doc.vat_rate, "aw": -doc.aw if doc.aw else doc.aw, "net": -doc.net})  # fmt: skip
    cancelled_set = set(cancelled)
    for index, (day, _i, result) in totals.items():
        if index in cancelled_set:
            continue
        draw, gross = rng.random(), result.gross_total
        pay_day = day + dt.timedelta(days=rng.choice((0, 0, 0, 2, 7, 13, 20, 35)))
        if draw < 0.04 and day < TODAY - dt.timedelta(days=90):
            pay_day = day + dt.timedelta(days=rng.randint(40, 80))  # paid after reminders
        if pay_day > TODAY or draw < 0.04:
            continue  # still open
        amount = (gross / 2).quantize(Decimal("0.01")) if draw < 0.09 else gross
        payments.append({"invoice_id": index, "date": pay_day, "amount": amount, "method": rng.choice(("cash", "card", "transfer"))})  # fmt: skip
    _bulk(db, WorkOrder, orders)
    _bulk(db, OrderLine, order_lines)
    _bulk(db, Invoice, invoices)
    _bulk(db, InvoiceLine, lines)
    with db.unit() as s:
        s.execute(text("UPDATE invoice SET status = 'final'"))  # lines of final invoices may not be inserted (GoBD)
    _bulk(db, Payment, payments)


def _calendar(db: Database, rng: random.Random, mechanics: list[int]) -> None:
    days = _work_days()
    statuses = ["done"] * 88 + ["no_show"] * 4 + ["cancelled"] * 8
    rows = []
    for _n in range(APPOINTMENTS):
        day = rng.choice(days)
        start = dt.datetime.combine(day, dt.time(7, 30)) + dt.timedelta(minutes=30 * rng.randint(0, 16))
        rows.append({"start": start, "end": start + dt.timedelta(hours=1), "mechanic_id": rng.choice(mechanics),
                     "customer_id": rng.randint(1, CUSTOMERS), "status": rng.choice(statuses), "title": "Inspektion",
                     "created_at": start, "updated_at": start})  # fmt: skip
    _bulk(db, Appointment, rows)
    estimate_statuses = ["accepted"] * 55 + ["rejected"] * 25 + ["sent"] * 15 + ["draft"] * 5
    _bulk(db, Estimate, [
        {"number": f"KVA-{i:06d}", "customer_id": rng.randint(1, CUSTOMERS), "status": rng.choice(estimate_statuses),
         "created_at": dt.datetime.combine(rng.choice(days), dt.time(9)), "updated_at": dt.datetime(2026, 1, 1)}
        for i in range(1, ESTIMATES + 1)
    ])  # fmt: skip


def build(path: Path, seed: int = 2026) -> None:
    """Generate the five-year history into a new database at ``path``."""
    rng = random.Random(seed)
    db = open_database(path)
    try:
        catalogue, mechanics = _masters(db, rng)
        _invoices(db, rng, catalogue, mechanics)
        _calendar(db, rng, mechanics)
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        db.close()


def history_db() -> Path:
    """The cached history database (built on first use)."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"reports-5y-v{VERSION}.db"
    if not path.exists():
        partial = path.with_suffix(".partial")
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
        build(partial)
        partial.rename(path)
    return path


def _best_ms(fn: Callable[[], object], runs: int = RUNS) -> float:
    best = float("inf")
    for _run in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def run() -> list[Result]:
    """Time all widgets together per period against one full scan of ``invoice_line``."""
    from app.services.reports import ReportService

    db = open_database(history_db())
    try:
        service = ReportService(db, today=TODAY)
        with db.engine.connect() as conn:
            counts = conn.execute(text("SELECT (SELECT count(*) FROM invoice), (SELECT count(*) FROM invoice_line)")).one()  # fmt: skip

        def scan() -> None:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT count(*), sum(net), sum(quantity), max(text) FROM invoice_line")).one()

        baseline = _best_ms(scan)
        periods = {
            "last month": preset("last_month", TODAY + dt.timedelta(days=1)),
            "this year": preset("year", TODAY),
            "five years": Period(FIRST_DAY, TODAY),
        }
        results = []
        for label, period in periods.items():
            service.kpis(period)  # first call: holiday tables, statement cache
            ms = _best_ms(lambda p=period: service.kpis(p))
            results.append(Result(
                f"reports: all {len(service.kpis(period).kpis)} widgets, {label} "
                f"({counts[0]:,} invoices, {counts[1]:,} lines)",
                ms, "ms", baseline=baseline, goal=f"≤ {GOAL_MS:.0f} ms", ok=ms <= GOAL_MS,
            ))  # fmt: skip
        results.append(Result("reports: baseline full scan of invoice_line", baseline, "ms", goal="(info)"))
        return results
    finally:
        db.close()


if __name__ == "__main__":
    for result in run():
        print(result.line())  # noqa: T201
