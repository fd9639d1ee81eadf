"""Owner's reports on five years of a busy workshop: all KPI widgets together ≤ 300 ms.

The history – 60,000 final invoices (3 % of them Stornorechnungen), ~400,000 invoice lines, 15,000
customers with 19,500 vehicles, work orders with the mechanics' AW, payments (some partial, some late,
the newest still open), estimates, appointments and 6,000 web-chat conversations (half of them leads, some
booked) – is generated with bulk inserts. The invoices' lines,
taxes and totals come from the real VAT engine (``app.tax.compute``), so they agree as on issued
invoices. The database is cached in ``bench/.data/`` (building takes about a minute).

Measured: ``ReportService.kpis`` – every widget with the previous-period comparison, the sparklines and
the chart data – for last month and the current year (goal ≤ 300 ms) and, for information, all five
years at once; each run on a fresh engine and connection (nothing cached from the run before; best of
five), against the baseline of one full scan of the ``invoice_line`` table in the same run. The CPU time of
all threads is printed too: the report runs its queries in two threads, so on a PC with a free second
core the wall time is well below the CPU time; on a busy machine both are about equal.
``python -m bench reports``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from app.calendar_rules import is_holiday
from app.db import Database, make_engine, open_database
from app.demo import setup_workshop
from app.demo_names import FIRST_NAMES, LAST_NAMES
from app.invoice_document import LineKind
from app.models import (
    Appointment,
    ChatBookingImport,
    Customer,
    Estimate,
    Invoice,
    InvoiceLine,
    OrderLine,
    Payment,
    RemoteRecord,
    Vehicle,
    WorkOrder,
)
from app.reports.period import Period, month_end, preset
from app.services.registry import Services
from app.tax import TaxContext, TaxResult, compute
from app.tax_lines import InputLine
from bench.common import Result

DATA = Path(__file__).resolve().parent / ".data"
VERSION = 5  # bump when the generated history changes
TODAY = dt.date(2026, 11, 30)
FIRST_DAY = dt.date(2021, 12, 1)
INVOICES = 60_000
STORNOS = INVOICES * 3 // 100
CUSTOMERS = 15_000
VEHICLES = 19_500
ESTIMATES = 9_000
APPOINTMENTS = 62_000
CHATS = 6_000
GOAL_MS = 300.0
RUNS = 5
HOURLY = Decimal("118.00")
PARTS = (
    ("Ölfilter", "12.90"),
    ("Motoröl 5W-30", "14.50"),
    ("Bremsbeläge vorn", "64.00"),
    ("Luftfilter", "18.40"),
    ("Wischerblätter", "24.90"),
    ("Zündkerze", "11.20"),
    ("Innenraumfilter", "21.50"),
    ("Batterie 70 Ah", "119.00"),
    ("Bremsscheibe", "58.00"),
    ("Keilrippenriemen", "32.00"),
)
MORE_MECHANICS = ("Lukas Maier", "Jana Schuster", "Ali Demir", "Stefan Gruber", "Mia Huber")


def _work_days() -> list[dt.date]:
    """Opening days, weighted: a Saturday sees a quarter of a weekday's work."""
    days, day = [], FIRST_DAY
    while day <= TODAY:
        if day.weekday() < 6 and not is_holiday(day, "BY"):
            days += [day] * (1 if day.weekday() == 5 else 4)
        day += dt.timedelta(days=1)
    return days


def _chunks(rows: list[dict[str, Any]], size: int = 20_000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _bulk(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    # Every row must carry the same keys: an executemany takes its columns from the first row.
    keys = set(rows[0])
    assert all(set(row) == keys for row in rows), model
    with db.unit() as s:
        for chunk in _chunks(rows):
            s.execute(insert(model), chunk)


def _masters(db: Database, rng: random.Random) -> tuple[list[tuple[Decimal, str, str]], list[int]]:
    services = Services.for_database(db, today=TODAY)
    setup_workshop(services)
    for name in MORE_MECHANICS:  # a busy workshop: ten mechanics
        services.settings.add_mechanic(name)
    services.catalog.load_defaults()
    mechanics = [m.id for m in services.settings.mechanics()]
    with db.unit() as s:
        rows = s.execute(text("SELECT aw, code, name FROM service WHERE aw > 0 AND aw <= 40")).all()
    catalogue = [(Decimal(str(aw)), str(code), str(name)) for aw, code, name in rows]
    since = dt.datetime(2019, 1, 1)
    customers = [
        {
            "number": f"K{10000 + i}",
            "kind": "private",
            "first_name": rng.choice(FIRST_NAMES),
            "last_name": rng.choice(LAST_NAMES),
            "city": "München",
            "postcode": "80687",
            "created_at": since + dt.timedelta(minutes=rng.randint(0, 4_000_000)),
            "updated_at": since,
        }
        for i in range(1, CUSTOMERS + 1)
    ]
    letters = "ABCDEFGHKLMNPRSTUVWXZ"
    vehicles = [
        {
            "customer_id": 1 + i % CUSTOMERS,
            "plate": f"M-{rng.choice(letters)}{rng.choice(letters)} {i % 9999 + 1}",
            "make": "Volkswagen",
            "model": "Golf",
            "created_at": since,
            "updated_at": since,
            "hu_due": month_end(TODAY) + dt.timedelta(days=1 + 30 * rng.randint(-2, 22)),
        }
        for i in range(VEHICLES)
    ]
    _bulk(db, Customer, customers)
    _bulk(db, Vehicle, vehicles)
    return catalogue, mechanics


def _input_lines(rng: random.Random, catalogue: list[tuple[Decimal, str, str]]) -> list[InputLine]:
    """About 6.7 lines per invoice: labour from the catalogue, parts, sometimes an exchange part (with its
    two Altteil lines), a fee, a 7 % voucher and a discount."""
    lines = []
    for _n in range(rng.choice((1, 2, 2, 3, 3))):
        aw, code, name = rng.choice(catalogue)
        lines.append(
            InputLine(kind=LineKind.LABOUR, text=name, part_no=code, aw=aw, aw_per_hour=10, hourly_rate=HOURLY)
        )
    for _n in range(rng.choice((2, 3, 3, 4, 5))):
        name, price = rng.choice(PARTS)
        quantity = Decimal(rng.choice((1, 1, 2, 4)))
        lines.append(InputLine(kind=LineKind.PART, text=name, quantity=quantity, unit_price_net=Decimal(price)))
    if rng.random() < 0.12:
        lines.append(
            InputLine(kind=LineKind.EXCHANGE_PART, text="Austausch-Lichtmaschine", unit_price_net=Decimal(389))
        )
    if rng.random() < 0.5:
        lines.append(InputLine(kind=LineKind.FEE, text="Altöl-Entsorgung", unit_price_net=Decimal("4.50")))
    if rng.random() < 0.1:
        voucher = InputLine(
            kind=LineKind.PART, text="Kaffee-Gutschein", unit_price_net=Decimal(10), vat_rate=Decimal(7)
        )
        lines.append(voucher)
    if rng.random() < 0.08:
        lines.append(InputLine(kind=LineKind.DISCOUNT, text="Stammkundenrabatt", percent=Decimal(5)))
    return lines


def _invoice_row(
    number: int,
    customer: int,
    day: dt.date,
    result: TaxResult,
    *,
    cancels: int | None = None,
    issued_for: dt.date | None = None,
) -> dict[str, Any]:
    sign = -1 if cancels else 1
    return {
        "id": number,
        "work_order_id": None if cancels else number,
        "customer_id": customer,
        "kind": "storno" if cancels else "invoice",
        "status": "draft",
        "cancels_id": cancels,
        "number": f"W1-{day.year}-{number:06d}",
        "issue_date": day,
        "service_date": issued_for or day,
        "due_date": day if cancels else day + dt.timedelta(days=14),
        "payment_terms_days": 0 if cancels else 14,
        "net_total": sign * result.net_total,
        "tax_total": sign * result.tax_total,
        "gross_total": sign * result.gross_total,
        "altteil_tax": sign * result.altteil_tax,
    }


def _line_rows(invoice: int, result: TaxResult, first_id: int, *, sign: int = 1) -> list[dict[str, Any]]:
    return [
        {
            "id": first_id + offset,
            "invoice_id": invoice,
            "position": doc.position,
            "kind": str(doc.kind),
            "text": doc.text,
            "part_no": doc.part_no,
            "quantity": sign * doc.quantity,
            "unit_price_net": doc.unit_price_net,
            "vat_rate": doc.vat_rate,
            "aw": sign * doc.aw if doc.aw is not None else None,
            "aw_per_hour": doc.aw_per_hour,
            "net": sign * doc.net,
        }
        for offset, doc in enumerate(result.lines)
    ]


def _order_rows(rng: random.Random, order: int, result: TaxResult, mechanics: list[int]) -> list[dict[str, Any]]:
    """The work order's labour (with a mechanic and the actual AW, ±30 % of the target) and parts."""
    rows = []
    for doc in result.lines:
        if doc.kind not in (LineKind.LABOUR, LineKind.PART):
            continue
        labour = doc.aw is not None
        actual = doc.aw * Decimal(rng.choice(("0.8", "0.9", "1", "1", "1.1", "1.3"))) if doc.aw is not None else None
        rows.append(
            {
                "work_order_id": order,
                "position": doc.position,
                "kind": str(doc.kind),
                "text": doc.text,
                "part_no": doc.part_no,
                "quantity": doc.quantity,
                "aw": doc.aw,
                "aw_actual": actual,
                "mechanic_id": rng.choice(mechanics) if labour else None,
                "vat_rate": doc.vat_rate,
            }
        )
    return rows


def _payment(rng: random.Random, invoice: int, day: dt.date, amount: Decimal) -> dict[str, Any]:
    return {"invoice_id": invoice, "date": day, "amount": amount, "method": rng.choice(("cash", "card", "transfer"))}


def _payments(rng: random.Random, invoice: int, day: dt.date, gross: Decimal) -> list[dict[str, Any]]:
    """Most pay within days, 4 % late after reminders, 5 % half first and the rest a month later."""
    draw = rng.random()
    pay_day = day + dt.timedelta(days=rng.choice((0, 0, 0, 2, 7, 13, 20, 35)))
    if draw < 0.04:
        pay_day = day + dt.timedelta(days=rng.randint(40, 80))
    rows: list[dict[str, Any]] = []
    if draw < 0.09 and pay_day <= TODAY:
        half = (gross / 2).quantize(Decimal("0.01"))
        rows.append(_payment(rng, invoice, pay_day, half))
        pay_day, gross = pay_day + dt.timedelta(days=30), gross - half
    if pay_day <= TODAY:
        rows.append(_payment(rng, invoice, pay_day, gross))
    return rows


def _invoices(
    db: Database, rng: random.Random, catalogue: list[tuple[Decimal, str, str]], mechanics: list[int]
) -> None:
    originals = INVOICES - STORNOS
    issued = sorted(rng.choice(_work_days()) for _n in range(originals))
    invoices, lines, orders, order_lines, payments = [], [], [], [], []
    results: dict[int, tuple[dt.date, int, TaxResult]] = {}
    for number, day in enumerate(issued, start=1):
        customer = rng.randint(1, CUSTOMERS) if rng.random() < 0.6 else rng.randint(1, CUSTOMERS // 5)
        result = compute(_input_lines(rng, catalogue), TaxContext())
        results[number] = (day, customer, result)
        at = dt.datetime.combine(day, dt.time(8))
        orders.append(
            {
                "id": number,
                "number": f"A-{number:06d}",
                "customer_id": customer,
                "status": "invoiced",
                "date_of_service": day,
                "created_at": at,
                "updated_at": at,
            }
        )
        order_lines += _order_rows(rng, number, result, mechanics)
        invoices.append(_invoice_row(number, customer, day, result))
        lines += _line_rows(number, result, len(lines) + 1)
    cancelled = set(rng.sample(range(1, originals + 1), STORNOS))
    for number, original in enumerate(sorted(cancelled), start=originals + 1):
        day0, customer, result = results[original]
        day = min(day0 + dt.timedelta(days=rng.choice((0, 0, 1, 3, 10, 40))), TODAY)
        invoices.append(_invoice_row(number, customer, day, result, cancels=original, issued_for=day0))
        lines += _line_rows(number, result, len(lines) + 1, sign=-1)
    for number, (day, _customer, result) in results.items():
        if number not in cancelled:
            payments += _payments(rng, number, day, result.gross_total)
    _bulk(db, WorkOrder, orders)
    _bulk(db, OrderLine, order_lines)
    _bulk(db, Invoice, invoices)
    _bulk(db, InvoiceLine, lines)
    with db.unit() as s:
        s.execute(text("UPDATE invoice SET status = 'final'"))  # final invoices take no new lines (GoBD triggers)
    _bulk(db, Payment, payments)


def _calendar(db: Database, rng: random.Random, mechanics: list[int]) -> None:
    days = _work_days()
    statuses = ["done"] * 88 + ["no_show"] * 4 + ["cancelled"] * 8
    appointments = []
    for _n in range(APPOINTMENTS):
        start = dt.datetime.combine(rng.choice(days), dt.time(7, 30)) + dt.timedelta(minutes=30 * rng.randint(0, 16))
        appointments.append(
            {
                "start": start,
                "end": start + dt.timedelta(hours=1),
                "mechanic_id": rng.choice(mechanics),
                "customer_id": rng.randint(1, CUSTOMERS),
                "status": rng.choice(statuses),
                "title": "Inspektion",
                "created_at": start,
                "updated_at": start,
            }
        )
    _bulk(db, Appointment, appointments)
    answers = ["accepted"] * 55 + ["rejected"] * 25 + ["sent"] * 15 + ["draft"] * 5
    estimates = [
        {
            "number": f"KVA-{i:06d}",
            "customer_id": rng.randint(1, CUSTOMERS),
            "status": rng.choice(answers),
            "created_at": dt.datetime.combine(rng.choice(days), dt.time(9)),
            "updated_at": dt.datetime(2026, 1, 1),
        }
        for i in range(1, ESTIMATES + 1)
    ]
    _bulk(db, Estimate, estimates)


def _chats(db: Database, rng: random.Random) -> None:
    """Web-chat conversations as the sync stream stores them; half become leads, 40 % of those book."""
    span = (TODAY - FIRST_DAY).days * 86_400
    records, imports = [], []
    for n in range(1, CHATS + 1):
        created = dt.datetime.combine(FIRST_DAY, dt.time(), tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(span))
        lead = rng.random() < 0.5
        doc = {
            "id": f"c{n:06d}",
            "location_id": "loc-1",
            "status": "closed",
            "language": "de",
            "created_at": created.isoformat(),
            "updated_at": created.isoformat(),
            "last_seq": rng.randint(0 if n % 20 == 0 else 1, 12),
            "last_visitor_seq": 1,
            "is_lead": lead,
            "lead_at": (created + dt.timedelta(minutes=rng.randint(1, 30))).isoformat() if lead else None,
        }
        data = json.dumps(doc, sort_keys=True)
        records.append({"stream": "chat", "entity": "chat_conversation", "entity_id": doc["id"], "data": data,
                        "deleted": False, "seq": n, "updated_at": created})  # fmt: skip
        if lead and rng.random() < 0.4:
            imports.append({"booking_id": f"b{n:06d}", "conversation_id": doc["id"],
                            "appointment_id": rng.randint(1, APPOINTMENTS), "created_at": created})  # fmt: skip
    _bulk(db, RemoteRecord, records)
    _bulk(db, ChatBookingImport, imports)


def build(path: Path, seed: int = 2026) -> None:
    """Generate the five-year history into a new database at ``path``."""
    rng = random.Random(seed)
    db = open_database(path)
    try:
        catalogue, mechanics = _masters(db, rng)
        _invoices(db, rng, catalogue, mechanics)
        _calendar(db, rng, mechanics)
        _chats(db, rng)
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


def _ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _best_ms(fn: Callable[[], object], runs: int = RUNS) -> float:
    return min(_ms(fn) for _run in range(runs))


def run() -> list[Result]:
    """Time all widgets together per period against one full scan of ``invoice_line``."""
    from app.services.reports import ReportService

    path = history_db()
    db = open_database(path)
    try:
        with db.engine.connect() as conn:
            invoices, lines = conn.execute(
                text("SELECT (SELECT count(*) FROM invoice), (SELECT count(*) FROM invoice_line)")
            ).one()

        def scan() -> None:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT count(*), sum(net), sum(quantity), max(text) FROM invoice_line")).one()

        baseline = _best_ms(scan)
    finally:
        db.close()
    periods = {
        "last month": preset("last_month", TODAY + dt.timedelta(days=1)),
        "this year": preset("year", TODAY),
        "five years": Period(FIRST_DAY, TODAY),
    }
    results = []
    for label, period in periods.items():
        timings, cpu = [], []
        for _run in range(RUNS):
            fresh = Database(make_engine(path), path)  # a new engine and connection: nothing cached from the last run
            try:
                started = time.process_time()  # all threads of the process
                timings.append(_ms(lambda db=fresh, p=period: ReportService(db, today=TODAY).kpis(p)))
                cpu.append((time.process_time() - started) * 1000)
            finally:
                fresh.close()
        ms = min(timings)
        goal = label != "five years"
        results.append(
            Result(
                f"reports: all widgets, {label} ({invoices:,} invoices, {lines:,} lines; CPU {min(cpu):.0f} ms)",
                ms,
                "ms",
                baseline=baseline,
                goal=f"≤ {GOAL_MS:.0f} ms" if goal else "(info)",
                ok=ms <= GOAL_MS if goal else None,
            )
        )
    results.append(Result("reports: baseline, one full scan of invoice_line", baseline, "ms", goal="(info)"))
    return results


if __name__ == "__main__":
    for result in run():
        print(result.line())
