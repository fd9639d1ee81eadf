"""Assemble a :class:`KpiReport` from the widget modules inside one unit of work.

Widget order is the order of the reports tab and of the exports: money first, then the workshop, the
customers and the front office. Widgets of ``ADVANCED_WIDGETS`` need the plan feature
``advanced_analytics`` (``app.plans``); without it they are shown as not available, with no numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from sqlalchemy.orm import Session

from app.i18n import N_, _
from app.plans import Feature
from app.reports import bookings, capacity, customers, mix, receivables, revenue
from app.reports.period import Scope, granularity_for
from app.reports.types import Kpi, KpiReport, SeriesPoint
from app.reports.types import cents as euros
from app.services.settings import workshop_row

ADVANCED_WIDGETS: Final = frozenset({"customer_retention", "customer_value"})
ADVANCED_NOTE: Final = N_("Erweiterte Auswertung – im Tarif Professional enthalten.")
WIDGET_ORDER: Final = (
    "revenue_net", "revenue_gross", "invoice_count", "average_invoice", "labour_share", "aw_sold",
    "utilisation", "top_services", "receivables_open", "receivables_overdue", "new_customers",
    "customer_retention", "customer_value", "hu_due", "estimate_acceptance", "appointments", "no_show_rate",
    "chat_leads",
)  # fmt: skip


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
    session: Session, scope: Scope, *, features: frozenset[Feature] | None = None, location: str | None = None
) -> KpiReport:
    """Every widget and the chart data of ``scope``."""
    data = revenue.revenue_data(session, scope)
    utilisation, mechanics, aw_available = capacity.utilisation_kpi(session, scope)
    sales = mix.service_sales(session, scope.period.start, scope.period.end)
    widgets = [
        *revenue.revenue_kpis(data, aw_available=aw_available),
        utilisation,
        mix.top_services_kpi(data, sales),
        *receivables.receivables_kpis(session, scope),
        *customers.customer_kpis(session, scope, data),
        bookings.hu_due_kpi(session, scope.today),
        bookings.estimate_kpi(session, scope),
        *bookings.appointment_kpis(session, scope),
        bookings.chat_kpi(),
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
        categories=tuple(mix.categories(sales, data.now)),
        mechanics=tuple(mechanics),
        location=location,
        workshop_name=workshop_row(session).name,
    )
