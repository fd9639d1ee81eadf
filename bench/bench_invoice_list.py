"""Listing and filtering 100,000 invoices in the UI model: ≤ 100 ms per filter change.

The counter's invoice list (ui/views/invoices) holds every issued invoice as an InvoiceRow DTO and
filters in memory. Measured here, offscreen, with a QTableView attached so the view's update is in the
time: loading the rows into the model, each filter change (status buttons, search words) and a sort.
Baseline from the same run: a plain Python list comprehension over the same rows with the same
condition – the floor for any in-memory filter.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from app.demo_names import FIRST_NAMES, LAST_NAMES
from app.services.invoice_queries import InvoiceRow
from bench.common import Result, percentile

ROWS = 100_000
GOAL_MS = 100.0
# One change each, as the counter clicks a filter button or types into the search box.
CHANGES = (
    ("status", "open"),
    ("status", "overdue"),
    ("status", "cancelled"),
    ("status", "all"),
    ("search", "Müller"),
    ("search", "M AB"),
    ("status", "open"),
    ("search", "Schmidt"),
    ("search", ""),
    ("search", "W1-2026-0421"),
    ("status", "overdue"),
    ("search", "M-"),
    ("search", ""),
    ("status", "all"),
)
_STATUS_WEIGHTS = (("paid", 70), ("open", 15), ("overdue", 8), ("cancelled", 4), ("storno", 3))


def make_rows(count: int = ROWS, seed: int = 7) -> list[InvoiceRow]:
    """``count`` plausible invoice rows (newest first), deterministic."""
    rng = random.Random(seed)
    statuses = [status for status, weight in _STATUS_WEIGHTS for _ in range(weight)]
    start = dt.date(2020, 1, 1)
    rows = []
    for i in range(count, 0, -1):
        issued = start + dt.timedelta(days=i * 2300 // count)
        status = rng.choice(statuses)
        gross = Decimal(rng.randint(2_000, 250_000)) / 100
        paid = gross if status == "paid" else Decimal("0.00")
        district = rng.choice(("M", "FS", "DAH", "EBE", "B", "HH"))
        rows.append(
            InvoiceRow(
                id=i,
                number=f"W1-{issued.year}-{i:06d}",
                kind="storno" if status == "storno" else "invoice",
                issue_date=issued,
                due_date=issued + dt.timedelta(days=14),
                customer_id=rng.randint(1, 30_000),
                customer_name=f"{rng.choice(LAST_NAMES)}, {rng.choice(FIRST_NAMES)}",
                plate=f"{district}-{rng.choice('ABCDEFGHKLMNPRSTUVWXZ')}{rng.choice('ABCDEFGHKLMNPRSTUVWXZ')} "
                f"{rng.randint(1, 9999)}",
                order_number=f"A-{issued.year}-{i:05d}",
                gross=-gross if status == "storno" else gross,
                paid=paid,
                open=gross - paid if status in ("open", "overdue") else Decimal("0.00"),
                status=status,
            )
        )
    return rows


def _ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _baseline(rows: list[InvoiceRow], hays: list[str], status_filter: str, search: str) -> float:
    from app.services.catalog import fold
    from ui.views.invoices.model import FILTERS

    statuses = FILTERS[status_filter]
    words = fold(search).split()
    return _ms(
        lambda: [
            row
            for row, hay in zip(rows, hays, strict=True)
            if (statuses is None or row.status in statuses) and all(word in hay for word in words)
        ]
    )


def run() -> list[Result]:
    """Load 100,000 rows into the invoice page's model and time filter changes and a sort."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import tempfile
    from pathlib import Path

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from ui.bus import Bus
    from ui.context import UiContext
    from ui.prefs import Prefs
    from ui.tasks import TaskRunner
    from ui.views.invoices.model import COL, search_texts
    from ui.views.invoices.view import InvoicesPage

    app = QApplication.instance() or QApplication([])
    rows = make_rows()
    hays = search_texts(rows)  # the page folds these in the worker thread while the rows load
    with tempfile.TemporaryDirectory() as tmp:
        # The real page, without a database: rows are handed to it as its background query would.
        ctx = UiContext(
            services=None, runner=TaskRunner(synchronous=True), bus=Bus(), prefs=Prefs(Path(tmp) / "ui.ini")
        )  # type: ignore[arg-type]
        page = InvoicesPage(ctx)
        page._stale = False  # noqa: SLF001 - no database to load from in this benchmark
        page.resize(1366, 700)
        page.show()
        app.processEvents()
        load_ms = _ms(lambda: (page._loaded(page._generation, rows, hays), app.processEvents()))  # noqa: SLF001
        model = page.model
        timings, baselines = [], []
        for _round in range(3):
            for what, value in CHANGES:
                if what == "status":
                    timings.append(_ms(lambda v=value: (page.filters.buttons[v].click(), app.processEvents())))
                else:
                    timings.append(_ms(lambda v=value: (page.search.setText(v), app.processEvents())))
                baselines.append(_baseline(model.rows, model.haystacks, page.proxy.status_filter, page.search.text()))
        sort_ms = _ms(
            lambda: (page.table.sortByColumn(COL["gross"], Qt.SortOrder.DescendingOrder), app.processEvents())
        )
        page.close()
    p95 = percentile(timings, 95)
    return [
        Result(
            "invoice list: filter change, 100,000 rows (p95)",
            p95,
            "ms",
            baseline=statistics.mean(baselines),
            goal=f"≤ {GOAL_MS:.0f} ms",
            ok=p95 <= GOAL_MS,
        ),
        Result("invoice list: show 100,000 loaded rows", load_ms, "ms", goal="(info)"),
        Result("invoice list: sort 100,000 rows by amount", sort_ms, "ms", goal="(info)"),
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line())
