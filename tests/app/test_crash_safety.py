"""Crash safety of finalising (issue 3): "Kill the process at any point while finalising (test it with SIGKILL
in a loop): afterwards no duplicate number, no finalised invoice lost, PRAGMA integrity_check ok, carbot audit
verify ok."

A child process finalises the completed orders of a database one after another and prints each number once
its transaction has committed; the test kills it with SIGKILL after a random (seeded) delay, checks the
database, and starts the next child. Finally a child runs to the end and everything is checked again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db import integrity_check, open_database
from app.demo import setup_workshop
from app.models import ChainEntry, Invoice, InvoiceArchive, LegalHold, WorkOrder
from app.services.audit import AuditService
from app.services.order_import_service import OrderImportService
from app.services.registry import Services

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ORDERS = 40
KILLS = 25
SEED = 20261127
YEAR = dt.date.today().year

# Finalises every completed order (reusing a draft a killed predecessor left behind) and prints each number
# after its unit of work has committed; "ready" once imports and the schematron are warm.
CHILD = """
import sys
from sqlalchemy import select
from app.db import open_database
from app.einvoice.validate import warm_up
from app.models import Invoice, WorkOrder
from app.services.invoicing import InvoiceService

db = open_database(sys.argv[1])
warm_up()
service = InvoiceService(db)
with db.unit() as s:
    orders = s.scalars(select(WorkOrder.id).where(WorkOrder.status == "completed").order_by(WorkOrder.id)).all()
print("ready", flush=True)
for order_id in orders:
    with db.unit() as s:
        draft = s.scalar(select(Invoice.id).where(Invoice.work_order_id == order_id, Invoice.status == "draft"))
    if draft is None:
        draft, _ = service.create_draft_from_order(order_id, user="Absturztest")
    print(service.finalize(draft, user="Absturztest").number, flush=True)
print("done", flush=True)
"""


def _orders() -> str:
    rng = random.Random(SEED)
    orders = []
    for i in range(ORDERS):
        lines: list[dict[str, object]] = [
            {"kind": "labour", "text": "Inspektion", "aw": rng.randint(2, 30)},
            {"kind": "part", "text": "Ölfilter", "quantity": 1, "unit_price_net": f"{rng.randint(8, 40)}.90"},
        ]
        if i % 3 == 0:
            lines.append({"kind": "exchange_part", "text": "Austausch-Anlasser", "unit_price_net": "289.00"})
        if i % 4 == 0:
            lines.append({"kind": "part", "text": "Fachbuch", "unit_price_net": "24.00", "vat_rate": "7"})
        customer = {
            "name": f"Kunde {i % 7} Test",
            "street": f"Ringstraße {i % 7 + 1}",
            "postcode": "80331",
            "city": "München",
        }
        orders.append({"customer": customer, "date_of_service": "2026-11-20", "lines": lines})
    return json.dumps(orders)


class Child:
    """One finalising child process; a thread collects its stdout lines with their arrival times."""

    def __init__(self, db_path: Path, script: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", CARBOT_LANG="de")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(db_path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[tuple[float, str]] = []
        self.errors = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.perf_counter(), line.strip()))

    def wait_ready(self, timeout: float = 60.0) -> float:
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            ready = [t for t, line in self.lines if line == "ready"]
            if ready:
                return ready[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.finish()
        raise AssertionError(f"child did not start: {self.stderr()}")

    def kill(self) -> bool:
        """SIGKILL; True when the child was still working at that moment."""
        alive = self.proc.poll() is None
        if alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.finish()
        return alive and "done" not in self.numbers_and_done()

    def finish(self, timeout: float = 120.0) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.errors = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code

    def numbers_and_done(self) -> list[str]:
        return [line for _, line in self.lines if line != "ready"]

    def committed(self) -> set[str]:
        return {line for line in self.numbers_and_done() if line != "done"}

    def stderr(self) -> str:
        return self.errors


def _check(db_path: Path, committed: set[str]) -> int:
    """Every invariant of a finalisation that may have been cut off anywhere; returns the number of invoices."""
    db = open_database(db_path)
    try:
        assert integrity_check(db) == []
        with db.unit() as s:
            finals = s.execute(
                select(Invoice.id, Invoice.number, Invoice.work_order_id).where(Invoice.status == "final")
            ).all()
            numbers = sorted(str(number) for _, number, _ in finals)
            # Unique, gap-free, and nothing the child saw committed is missing.
            assert numbers == [f"W1-{YEAR}-{n:06d}" for n in range(1, len(finals) + 1)]
            assert committed <= set(numbers)
            ids = {invoice_id for invoice_id, _, _ in finals}
            assert set(s.scalars(select(InvoiceArchive.invoice_id))) == ids
            assert {e for (e,) in s.execute(select(ChainEntry.entity_id).where(ChainEntry.entity == "invoice"))} == ids
            assert set(s.scalars(select(LegalHold.entity_id).where(LegalHold.entity == "invoice"))) == ids
            invoiced = set(s.scalars(select(WorkOrder.id).where(WorkOrder.status == "invoiced")))
            assert invoiced == {order_id for _, _, order_id in finals}
            assert s.scalar(select(func.count()).select_from(WorkOrder)) == ORDERS
        report = AuditService(db).verify()
        assert report.ok, report.problems
        return len(finals)
    finally:
        db.close()


def test_sigkill_while_finalising_never_loses_or_duplicates_an_invoice(db_path: Path, tmp_path: Path) -> None:
    services = Services.open(db_path)
    setup_workshop(services)
    OrderImportService(services.db).import_file(_orders())
    services.close()
    script = tmp_path / "finalise_all.py"
    script.write_text(CHILD, encoding="utf-8")

    rng = random.Random(SEED)
    committed: set[str] = set()
    # Seconds from "ready" to the first commit and between commits, re-estimated from the children's output,
    # so the kills keep landing inside the first, second or third finalisation on slow and fast machines.
    first, step = 0.4, 0.2
    hits = issued = 0
    for round_no in range(KILLS):
        child = Child(db_path, script)
        if round_no % 6 == 5:
            time.sleep(rng.uniform(0.0, 1.0))  # now and then while it opens the database and warms up
        else:
            child.wait_ready()
            time.sleep(rng.uniform(0.0, first + 2 * step))
        hits += child.kill()
        ready = [t for t, line in child.lines if line == "ready"]
        stamps = [t for t, line in child.lines if line not in ("ready", "done")]
        if ready and stamps:
            first = stamps[0] - ready[0]
        if len(stamps) > 1:
            step = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
        committed |= child.committed()
        now = _check(db_path, committed)
        assert now >= issued  # nothing that was there before a kill is gone after it
        issued = now
    assert hits >= KILLS * 2 // 3, f"only {hits} kills hit a working child"
    assert issued < ORDERS, "the kills should not have let every order through"

    last = Child(db_path, script)
    assert last.finish() == 0, last.stderr()
    committed |= last.committed()
    assert _check(db_path, committed) == ORDERS
    verify = subprocess.run(  # the real command, as an operator runs it
        [sys.executable, "-m", "app.cli", "--db", str(db_path), "audit", "verify"],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT), CARBOT_LANG="de"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0 and f"{ORDERS} Einträge geprüft" in verify.stdout, verify.stdout + verify.stderr
