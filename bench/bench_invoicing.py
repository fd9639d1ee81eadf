"""Invoicing benchmark: finalising one invoice — number, VAT, ReportLab PDF, EN 16931 XML, PDF/A-3 with the
embedded XML, archive, audit and hash chain in one transaction — with the schematron validation (goal
≤ 250 ms, median) and without it (``InvoiceService(..., validate=False)``, goal ≤ 100 ms).

Baseline from the same run: a bare one-page ReportLab PDF with a few lines of text, the floor of any
invoice rendering on this machine.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import statistics
import tempfile
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from app.db import Database, open_database
from app.demo import setup_workshop
from app.einvoice.validate import warm_up
from app.services.invoicing import InvoiceService
from app.services.order_import_service import OrderImportService
from app.services.registry import Services
from bench.common import Result, timed

INVOICES = 30  # measured per mode
TODAY = dt.date(2026, 11, 27)


def _orders(count: int) -> str:
    """Typical workshop orders: labour in AW, parts, oil, a fee; every third with an exchange part."""
    orders = []
    for i in range(count):
        lines: list[dict[str, object]] = [
            {"kind": "labour", "text": "Inspektion nach Herstellervorgabe", "aw": 8 + i % 20},
            {"kind": "part", "text": "Ölfilter", "part_no": "OC 593/4", "unit_price_net": "12.90"},
            {"kind": "part", "text": "Motoröl 5W-30", "quantity": "4.5", "unit": "l", "unit_price_net": "14.50"},
            {"kind": "fee", "text": "Altöl-Entsorgung", "unit_price_net": "4.50"},
        ]
        if i % 3 == 0:
            lines.append({"kind": "exchange_part", "text": "Austausch-Lichtmaschine", "unit_price_net": "289.00"})
        customer = {"name": f"Kundin {i} Bench", "street": "Hauptstraße 1", "postcode": "80331", "city": "München"}
        orders.append({"customer": customer, "date_of_service": "2026-11-26", "lines": lines})
    return json.dumps(orders)


def _bare_pdf() -> bytes:
    """One A4 page with a heading and 20 lines of text: the ReportLab floor."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(60, 780, "Rechnung Nr. W1-2026-000001")
    canvas.setFont("Helvetica", 9)
    for row in range(20):
        canvas.drawString(60, 740 - row * 14, f"Position {row + 1}  Ölfilter  1 Stk  12,90 €  19 %  12,90 €")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _finalize_times(db: Database, drafts: list[int], *, validate: bool) -> list[float]:
    """Milliseconds of ``finalize`` per draft (the first one warms the caches and is not counted)."""
    service = InvoiceService(db, today=TODAY, validate=validate)
    service.finalize(drafts[0])
    return [timed(functools.partial(service.finalize, draft)) * 1000 for draft in drafts[1:]]


def run() -> list[Result]:
    """Finalise 2 × (1 + INVOICES) imported orders into a fresh database and report the medians."""
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "bench.db")
        try:
            setup_workshop(Services.for_database(db))
            order_ids = OrderImportService(db, today=TODAY).import_file(_orders(2 * (INVOICES + 1)))
            drafter = InvoiceService(db, today=TODAY)
            drafts = [drafter.create_draft_from_order(order_id)[0] for order_id in order_ids]
            warm_up()  # the schematron is compiled once per process, at start-up in the app
            validated = _finalize_times(db, drafts[: INVOICES + 1], validate=True)
            unvalidated = _finalize_times(db, drafts[INVOICES + 1 :], validate=False)
            if len(drafter.pdf(f"W1-2026-{2 * (INVOICES + 1):06d}")) < 10_000:  # a benchmark that issued nothing
                raise RuntimeError("the last invoice has no archived PDF/A-3")
        finally:
            db.close()
    _bare_pdf()
    baseline = statistics.median(timed(_bare_pdf) * 1000 for _ in range(INVOICES))
    with_validation = statistics.median(validated)
    without_validation = statistics.median(unvalidated)
    return [
        Result(
            "invoice finalise + PDF/A-3 + XML, schematron validated (median)",
            with_validation,
            "ms",
            baseline=baseline,
            goal="≤ 250 ms",
            ok=with_validation <= 250.0,
        ),
        Result(
            "invoice finalise + PDF/A-3 + XML, no validation (median)",
            without_validation,
            "ms",
            baseline=baseline,
            goal="≤ 100 ms",
            ok=without_validation <= 100.0,
        ),
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line())
