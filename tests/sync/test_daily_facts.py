"""Daily facts from the local database: revenue per VAT rate with Storno netting, counts, AW, labour vs parts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.db import Database, open_database
from app.demo import setup_workshop
from app.models import Appointment
from app.services.customers import CustomerInput, CustomerService
from app.services.daily_facts import DailyFactsService, RateRevenue, take_dirty_days
from app.services.invoicing import InvoiceService
from app.services.order_import_service import OrderImportService
from app.services.registry import Services
from sync.protocol import DailyFacts

TODAY = dt.date(2026, 11, 27)
ANNA = {"name": "Anna Müller", "street": "Hauptstraße 1", "postcode": "80331", "city": "München"}
DATA = Path(__file__).resolve().parent.parent / "data"
LABOUR = {"kind": "labour", "text": "Inspektion", "aw": 12}


def part(price: str, rate: str = "19") -> dict[str, Any]:
    return {"kind": "part", "text": "Bremsscheibe", "unit_price_net": price, "vat_rate": rate, "quantity": 1}


@dataclass
class Shop:
    """The demo workshop (€118/h, 10 AW/h) with invoices issued on TODAY."""

    db: Database
    invoices: InvoiceService

    def draft(self, *lines: dict[str, Any]) -> int:
        data = {"customer": ANNA, "date_of_service": "2026-11-26", "lines": list(lines)}
        order_id = OrderImportService(self.db, today=TODAY).import_file(json.dumps(data))[0]
        return self.invoices.create_draft_from_order(order_id, user="Theke")[0]


def invoice_shop(tmp_path: Path) -> Shop:
    """A fresh shop database in ``tmp_path`` (the caller closes ``shop.db``)."""
    db = open_database(tmp_path / "shop.db")
    setup_workshop(Services.for_database(db))
    return Shop(db, InvoiceService(db, today=TODAY))


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    value = invoice_shop(tmp_path)
    yield value
    value.db.close()


def test_revenue_per_rate_counts_and_labour_vs_parts_with_storno_netting(shop: Shop) -> None:
    order_id = OrderImportService(shop.db, today=TODAY).import_file((DATA / "order_private.json").read_bytes())[0]
    big = shop.invoices.finalize(shop.invoices.create_draft_from_order(order_id, user="Theke")[0])
    small = shop.invoices.finalize(shop.draft(part("100.00")))
    shop.invoices.cancel(small.number, reason="Doppelt erfasst")
    facts = DailyFactsService(shop.db).day(TODAY)
    assert big.gross == Decimal("1486.56")
    assert (facts.invoice_count, facts.storno_count) == (2, 1)
    # As in the invoice's EN 16931 tax breakdown: the Altteil value (100.00) is part of the 19 % line (so its
    # tax includes the Altteilsteuer), the set-off against it is a 0 % line; the Storno of 119.00 nets out.
    assert facts.revenue == (
        RateRevenue(Decimal("19.00"), Decimal("1324.25"), Decimal("251.61"), Decimal("1575.86")),
        RateRevenue(Decimal("7.00"), Decimal("10.00"), Decimal("0.70"), Decimal("10.70")),
        RateRevenue(Decimal("0.00"), Decimal("-100.00"), Decimal("0.00"), Decimal("-100.00")),
    )
    assert facts.net_total == Decimal("1234.25") and facts.gross_total == Decimal("1486.56")
    assert (facts.tax_total, facts.altteil_tax) == (Decimal("252.31"), Decimal("19.00"))  # VAT incl. Altteilsteuer
    assert sum(r.net for r in facts.revenue) == facts.net_total
    assert sum(r.gross for r in facts.revenue) == facts.gross_total
    assert facts.aw_sold == Decimal("12.00") and facts.labour_net == Decimal("141.60")
    assert facts.parts_net == Decimal("1088.15")  # Ölfilter, Öl, Austauschteil, 7 % article; the Storno nets out
    assert facts.labour_net + facts.parts_net + facts.other_net == facts.net_total
    other_day = DailyFactsService(shop.db).day(TODAY + dt.timedelta(days=1))
    assert other_day.invoice_count == 0 and other_day.revenue == () and other_day.gross_total == Decimal("0.00")


def test_new_customers_and_appointments_count_per_local_day(shop: Shop) -> None:
    today = dt.date.today()
    before = DailyFactsService(shop.db).day(today).new_customers
    for name in ("Huber", "Maier"):
        CustomerService(shop.db).create(CustomerInput(last_name=name))
    with shop.db.unit() as s:
        for hour, status in ((8, "confirmed"), (10, "cancelled"), (14, "done")):
            start = dt.datetime.combine(TODAY, dt.time(hour))
            s.add(Appointment(start=start, end=start + dt.timedelta(hours=1), title="Service", status=status))
    assert DailyFactsService(shop.db).day(today).new_customers == before + 2
    facts = DailyFactsService(shop.db).day(TODAY)
    assert facts.appointments == 2 and (facts.chats, facts.leads) == (0, 0)


def test_payload_matches_the_wire_schema(shop: Shop) -> None:
    shop.invoices.finalize(shop.draft(LABOUR, part("50.00", "7")))
    payload = DailyFactsService(shop.db).day(TODAY).as_payload("loc-1")
    wire = DailyFacts.model_validate(payload)
    assert wire.date == TODAY and wire.location_id == "loc-1" and wire.aw_sold == Decimal("12.00")
    assert [r.vat_rate for r in wire.revenue] == [Decimal("19.00"), Decimal("7.00")]
    assert json.loads(json.dumps(payload)) == payload  # JSON-safe: amounts as strings


def test_dirty_days_are_taken_once(shop: Shop) -> None:
    shop.db.enable_outbox()
    shop.invoices.finalize(shop.draft(part("10.00")))
    with shop.db.unit() as s:
        assert TODAY in take_dirty_days(s)
    with shop.db.unit() as s:
        assert take_dirty_days(s) == []
