"""Daily facts of this location, computed from the local database (pushed to the server by the sync round).

Per local calendar day: revenue net/tax/gross per VAT rate of the final invoices issued that day, with
Stornorechnungen netted (their amounts are negative), invoice and Storno counts, AW sold, labour vs parts
revenue, new customers and appointments; web chats and leads of the chat stream by the rules of
``app.services.chat_stats`` (the same as the hosted API's own counts). The field
names are those of ``sync.protocol.DailyFacts`` (documented there). Figures always come from the source
rows, never from earlier facts, so a recomputed day replaces the old one on the server.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Appointment, Customer, Invoice, InvoiceLine
from app.models.sync import SyncDirtyDay
from app.services.chat_stats import day_counts

ZERO = Decimal("0.00")
LABOUR_KINDS = frozenset({"labour"})
PARTS_KINDS = frozenset({"part", "exchange_part"})
NOT_COUNTED_APPOINTMENTS = ("cancelled",)


@dataclass(frozen=True)
class TaxAmount:
    """Net and tax of one VAT rate of one invoice, as printed on it."""

    category: str
    rate: Decimal
    net: Decimal
    tax: Decimal


def invoice_taxes(document_json: str) -> list[TaxAmount]:
    """The tax breakdown of a finalised invoice's frozen document (empty for drafts)."""
    if not document_json:
        return []

    def number(value: Any) -> Decimal:
        return Decimal(value["$d"]) if isinstance(value, dict) else Decimal(str(value))

    return [
        TaxAmount(str(t["category"]), number(t["rate"]), number(t["net"]), number(t["tax"]))
        for t in json.loads(document_json).get("taxes", [])
    ]


@dataclass(frozen=True)
class RateRevenue:
    """Revenue of one VAT rate on one day."""

    vat_rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass(frozen=True)
class DayFacts:
    """The key figures of one day (see ``sync.protocol.DailyFacts`` for the meaning of each field)."""

    day: dt.date
    revenue: tuple[RateRevenue, ...]
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    altteil_tax: Decimal
    invoice_count: int
    storno_count: int
    aw_sold: Decimal
    labour_net: Decimal
    parts_net: Decimal
    other_net: Decimal
    new_customers: int
    appointments: int
    chats: int = 0
    leads: int = 0

    def as_payload(self, location_id: str) -> dict[str, Any]:
        """The JSON-safe wire form (``sync.protocol.DailyFacts``)."""
        money = (
            "net_total",
            "tax_total",
            "gross_total",
            "altteil_tax",
            "aw_sold",
            "labour_net",
            "parts_net",
            "other_net",
        )
        counts = ("invoice_count", "storno_count", "new_customers", "appointments", "chats", "leads")
        return (
            {"date": self.day.isoformat(), "location_id": location_id, "currency": "EUR"}
            | {
                "revenue": [
                    {"vat_rate": str(r.vat_rate), "net": str(r.net), "tax": str(r.tax), "gross": str(r.gross)}
                    for r in self.revenue
                ]
            }
            | {name: str(getattr(self, name)) for name in money}
            | {name: getattr(self, name) for name in counts}
        )


def _local_day_bounds_utc(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Naive-UTC start and end of the PC's local calendar day (customers store created_at in UTC)."""
    start = dt.datetime.combine(day, dt.time.min).astimezone()  # naive local → aware local
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min).astimezone()
    return start.astimezone(dt.UTC).replace(tzinfo=None), end.astimezone(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class _Invoices:
    revenue: tuple[RateRevenue, ...]
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    altteil_tax: Decimal
    invoice_count: int
    storno_count: int


def _invoices(session: Session, day: dt.date) -> _Invoices:
    rows = session.execute(
        select(
            Invoice.kind,
            Invoice.document_json,
            Invoice.net_total,
            Invoice.tax_total,
            Invoice.gross_total,
            Invoice.altteil_tax,
        ).where(Invoice.status == "final", Invoice.issue_date == day)
    ).all()
    per_rate: dict[Decimal, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for row in rows:
        for tax in invoice_taxes(row.document_json):
            per_rate[tax.rate][0] += tax.net
            per_rate[tax.rate][1] += tax.tax
    return _Invoices(
        revenue=tuple(
            RateRevenue(rate, net, tax, net + tax) for rate, (net, tax) in sorted(per_rate.items(), reverse=True)
        ),
        net_total=sum((r.net_total for r in rows), ZERO),
        tax_total=sum((r.tax_total for r in rows), ZERO),
        gross_total=sum((r.gross_total for r in rows), ZERO),
        altteil_tax=sum((r.altteil_tax for r in rows), ZERO),
        invoice_count=sum(1 for r in rows if r.kind == "invoice"),
        storno_count=sum(1 for r in rows if r.kind == "storno"),
    )


@dataclass(frozen=True)
class _Lines:
    labour_net: Decimal
    parts_net: Decimal
    other_net: Decimal
    aw_sold: Decimal


def _lines(session: Session, day: dt.date) -> _Lines:
    """Labour, parts and other net, and AW, summed exactly in Python (Storno lines are negative)."""
    rows = session.execute(
        select(InvoiceLine.kind, InvoiceLine.net, InvoiceLine.aw)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.status == "final", Invoice.issue_date == day)
    ).all()
    sums = {"labour": ZERO, "parts": ZERO, "other": ZERO, "aw": ZERO}
    for kind, net, aw in rows:
        group = "labour" if kind in LABOUR_KINDS else "parts" if kind in PARTS_KINDS else "other"
        sums[group] += net or ZERO
        if group == "labour":
            sums["aw"] += aw or ZERO
    return _Lines(sums["labour"], sums["parts"], sums["other"], sums["aw"])


def facts_in(session: Session, day: dt.date) -> DayFacts:
    """The facts of ``day`` inside the caller's unit of work."""
    start, end = _local_day_bounds_utc(day)
    new_customers = session.scalar(
        select(func.count()).select_from(Customer).where(Customer.created_at >= start, Customer.created_at < end)
    )
    appointments = session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.start >= dt.datetime.combine(day, dt.time.min),
            Appointment.start < dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min),
            Appointment.status.not_in(NOT_COUNTED_APPOINTMENTS),
        )
    )
    inv, lines, chat = _invoices(session, day), _lines(session, day), day_counts(session, day)
    return DayFacts(
        day=day,
        revenue=inv.revenue,
        net_total=inv.net_total,
        tax_total=inv.tax_total,
        gross_total=inv.gross_total,
        altteil_tax=inv.altteil_tax,
        invoice_count=inv.invoice_count,
        storno_count=inv.storno_count,
        aw_sold=lines.aw_sold,
        labour_net=lines.labour_net,
        parts_net=lines.parts_net,
        other_net=lines.other_net,
        new_customers=int(new_customers or 0),
        appointments=int(appointments or 0),
        chats=chat.chats,
        leads=chat.leads,
    )


def take_dirty_days(session: Session) -> list[dt.date]:
    """The days whose facts changed since the last call; they are cleared in the same transaction."""
    days = list(session.scalars(select(SyncDirtyDay.day).order_by(SyncDirtyDay.day)))
    if days:
        session.execute(delete(SyncDirtyDay))
    return days


class DailyFactsService:
    """Read the daily facts of this location (for the sync round and local reports)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def day(self, day: dt.date) -> DayFacts:
        """The facts of one day."""
        with self._db.unit() as s:
            return facts_in(s, day)

    def between(self, start: dt.date, end: dt.date) -> list[DayFacts]:
        """The facts of every day from ``start`` to ``end`` inclusive."""
        with self._db.unit() as s:
            count = (end - start).days + 1
            return [facts_in(s, start + dt.timedelta(days=i)) for i in range(max(0, count))]
