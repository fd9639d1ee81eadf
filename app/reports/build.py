"""Assemble a :class:`KpiReport` from the widget modules.

Widget order is the order of the reports tab and of the exports: money first, then the workshop, the
customers and the front office. Widgets of ``ADVANCED_WIDGETS`` need the plan feature
``advanced_analytics`` (``app.plans``); without it they are shown as not available, with no numbers.

The queries run in two groups of about equal cost: the revenue, what was sold and the front office in
the calling thread, the customers, receivables and utilisation in a helper thread with its own session
and connection. SQLite (WAL) serves both readers at once and Python's sqlite3 releases the GIL while a
statement runs, so the report takes about half the time on a two-core PC. (Consistency is the same as
in one session: the sqlite3 driver runs each SELECT in its own read snapshot either way.) A database in
memory (tests, ``:memory:``) has one connection per thread, so there both groups run one after the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, TypeVar

from sqlalchemy.orm import Session

from app.db import Database
from app.i18n import N_, _
from app.plans import Feature
from app.reports import bookings, capacity, chat, customers, mix, receivables, revenue
from app.reports.period import Scope, granularity_for
from app.reports.sql import shop_settings
from app.reports.types import Kpi, KpiReport, MechanicUtilisation, SeriesPoint
from app.reports.types import cents as euros

ADVANCED_WIDGETS: Final = frozenset({"customer_retention", "customer_value"})
ADVANCED_NOTE: Final = N_("Erweiterte Auswertung – im Tarif Professional enthalten.")
WIDGET_ORDER: Final = (
    "revenue_net",
    "revenue_gross",
    "invoice_count",
    "average_invoice",
    "labour_share",
    "aw_sold",
    "utilisation",
    "top_services",
    "receivables_open",
    "receivables_overdue",
    "new_customers",
    "customer_retention",
    "customer_value",
    "hu_due",
    "estimate_acceptance",
    "appointments",
    "no_show_rate",
    "chat_leads",
)
T = TypeVar("T")


@dataclass(frozen=True)
class _Front:
    data: revenue.RevenueData
    sales: list[mix.ServiceSales]
    office: list[Kpi]
    workshop_name: str


@dataclass(frozen=True)
class _Back:
    utilisation: Kpi
    mechanics: list[MechanicUtilisation]
    aw_available: Decimal
    receivables: list[Kpi]
    customers: customers.CustomerFacts


def _front(session: Session, scope: Scope) -> _Front:
    office = [
        bookings.hu_due_kpi(session, scope.today),
        bookings.estimate_kpi(session, scope),
        *bookings.appointment_kpis(session, scope),
        chat.chat_kpi(session, scope),
    ]
    sales = mix.service_sales(session, scope.period.start, scope.period.end)
    return _Front(revenue.revenue_data(session, scope), sales, office, shop_settings(session).name)


def _back(session: Session, scope: Scope) -> _Back:
    utilisation, mechanics, aw_available = capacity.utilisation_kpi(session, scope)
    return _Back(
        utilisation,
        mechanics,
        aw_available,
        receivables.receivables_kpis(session, scope),
        customers.customer_facts(session, scope),
    )


def _in_unit(db: Database, work: Callable[[Session], T]) -> T:
    with db.unit() as session:
        return work(session)


def _gate(widgets: Iterable[Kpi], features: frozenset[Feature] | None) -> list[Kpi]:
    if features is None or Feature.ADVANCED_ANALYTICS in features:
        return list(widgets)
    return [
        Kpi(id=w.id, title=w.title, value=None, unit=w.unit, available=False, note=_(ADVANCED_NOTE))
        if w.id in ADVANCED_WIDGETS
        else w
        for w in widgets
    ]


def build_report(
    db: Database, scope: Scope, *, features: frozenset[Feature] | None = None, location: str | None = None
) -> KpiReport:
    """Every widget and the chart data of ``scope`` (read-only)."""
    if db.path is None:
        front = _in_unit(db, lambda s: _front(s, scope))
        back = _in_unit(db, lambda s: _back(s, scope))
    else:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reports") as pool:
            pending = pool.submit(_in_unit, db, lambda s: _back(s, scope))
            front = _in_unit(db, lambda s: _front(s, scope))
            back = pending.result()
    data = front.data
    widgets = [
        *revenue.revenue_kpis(data, aw_available=back.aw_available),
        back.utilisation,
        mix.top_services_kpi(data, front.sales),
        *back.receivables,
        *customers.customer_kpis(back.customers, scope, data),
        *front.office,
    ]
    by_id = {w.id: w for w in _gate(widgets, features)}
    series = tuple(
        SeriesPoint(b.start, b.end, b.label, euros(f.net), euros(f.gross), f.count)
        for b, f in zip(scope.buckets, data.spark, strict=True)
    )
    return KpiReport(
        period=scope.period,
        previous=scope.previous,
        granularity=granularity_for(scope.period),
        buckets=scope.buckets,
        as_of=scope.as_of,
        kpis=tuple(by_id[key] for key in WIDGET_ORDER),
        series=series,
        categories=tuple(mix.categories(front.sales, data.now)),
        mechanics=tuple(back.mechanics),
        location=location,
        workshop_name=front.workshop_name,
    )
