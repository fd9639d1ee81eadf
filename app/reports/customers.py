"""Customer widgets: new vs returning customers, customer retention, customer lifetime value with RFM segments.

A *visit* is a final invoice (kind invoice) of a customer on its issue date. A later Stornorechnung does
not undo the visit – the vehicle was in the workshop; the Storno corrects the document – but it nets the
money (lifetime value) and the visit count (frequency: invoices − Stornos).

- **New vs returning** (period): customers with a visit in the period; *new* when their first visit ever
  lies in the period, *returning* otherwise. The value is the number of new customers.
- **Retention** (period): of the *active* customers at the start of the period (a visit in the 730 days
  before it), the share that came back during the period. The sparkline is cumulative: the share back by
  the end of each sub-period.
- **Lifetime value** (as of the report's day E): all net revenue of the customers up to E (Stornos
  netted) ÷ the number of customers with an invoice up to E. **RFM segments** as of E, by recency R (days
  since the last visit), frequency F (visits in the last 3 years) and monetary value M (lifetime net):

  ========================  ===================================
  Champions                 R < 365 days and F ≥ 4
  Stammkunden (loyal)       R < 365 days and F = 2 or 3
  Neu/gelegentlich          R < 365 days and F ≤ 1
  Gefährdet (at risk)       365 ≤ R < 730 days
  Verloren (lost)           R ≥ 730 days (the HU interval: two years without a visit)
  ========================  ===================================

All three come from ONE aggregate scan per report over the index ``ix_invoice_report_customer``
(customer, date, kind, net): per customer the first and last visit, the 3-year frequency, the lifetime
net and the flags both periods need; the outer query only counts the customers per group.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from sqlalchemy.orm import Session

from app.i18n import N_, _
from app.reports.period import Scope
from app.reports.revenue import RevenueData
from app.reports.sql import FINAL, SIGN, cents, day_of, fetch
from app.reports.types import CENT, Kpi, Number, kpi, percent
from app.reports.types import cents as euros

ACTIVE_DAYS: Final = 730
RECENT_DAYS: Final = 365
FREQUENCY_DAYS: Final = 3 * 365
CHAMPION_VISITS: Final = 4
LOYAL_VISITS: Final = 2
SEGMENTS: Final = (
    ("champions", N_("Champions"), N_("letzter Besuch < 365 Tage, ≥ 4 Besuche in 3 Jahren")),
    ("loyal", N_("Stammkunden"), N_("letzter Besuch < 365 Tage, 2–3 Besuche in 3 Jahren")),
    ("new", N_("Neu/gelegentlich"), N_("letzter Besuch < 365 Tage, 1 Besuch in 3 Jahren")),
    ("at_risk", N_("Gefährdet"), N_("letzter Besuch vor 365 bis 729 Tagen")),
    ("lost", N_("Verloren"), N_("letzter Besuch vor 730 Tagen oder mehr")),
)
TITLES: Final = {
    "new_customers": N_("Neukunden"),
    "customer_retention": N_("Kundenbindung"),
    "customer_value": N_("Kundenwert (CLV) und RFM-Segmente"),
}

_VISIT: Final = "i.kind = 'invoice'"
_NET: Final = cents("i.net_total")
# Inner: one row per customer. Outer: ONE grouping by everything the widgets count, so SQLite streams the
# customers once and Python only adds up a few hundred groups: the segment; the first visit ever (its day
# within the period, 'q' within the previous one); the period's active base (NULL = not in it, '-' = did
# not come back, else the day of the first visit in the period); the same for the previous period as
# two flags (only its total is shown); whether the customer visited in each period.
_PER_CUSTOMER: Final = f"""
SELECT CASE WHEN last IS NULL THEN NULL
            WHEN last >= :recent AND freq >= {CHAMPION_VISITS} THEN 'champions'
            WHEN last >= :recent AND freq >= {LOYAL_VISITS} THEN 'loyal'
            WHEN last >= :recent THEN 'new'
            WHEN last >= :active THEN 'at_risk'
            ELSE 'lost' END,
       CASE WHEN first >= :p_start THEN first WHEN first >= :q_start THEN 'q' END,
       CASE WHEN base_p THEN coalesce(back_p, '-') END,
       base_q, back_q IS NOT NULL, back_p IS NOT NULL, count(*), sum(m)
FROM (
  SELECT min(i.issue_date) AS first,
         max(CASE WHEN {_VISIT} THEN i.issue_date END) AS last,
         sum(CASE WHEN i.issue_date >= :freq_from THEN {SIGN} ELSE 0 END) AS freq,
         sum({_NET}) AS m,
         max({_VISIT} AND i.issue_date BETWEEN :p_base AND :p_before) AS base_p,
         max({_VISIT} AND i.issue_date BETWEEN :q_base AND :q_before) AS base_q,
         min(CASE WHEN {_VISIT} AND i.issue_date >= :p_start THEN i.issue_date END) AS back_p,
         min(CASE WHEN {_VISIT} AND i.issue_date BETWEEN :q_start AND :q_end THEN i.issue_date END) AS back_q
  FROM invoice i
  WHERE {FINAL} AND i.customer_id IS NOT NULL AND i.issue_date <= :asof
  GROUP BY i.customer_id
)
GROUP BY 1, 2, 3, 4, 5, 6
"""


@dataclass
class CustomerFacts:
    """The per-customer aggregates of one report, counted."""

    segments: dict[str, tuple[int, int]] = field(default_factory=dict)  # segment → (customers, net cents)
    first_visits: dict[dt.date, int] = field(default_factory=dict)  # first visits ever, per day of the period
    new_q: int = 0  # first visits in the previous period
    back_p: dict[dt.date | None, int] = field(default_factory=dict)  # first visit in P of the active base
    base_q: int = 0  # the previous period's active base …
    back_q: int = 0  # … and how many of it came back in the previous period
    active_p: int = 0
    active_q: int = 0
    customers: int = 0
    net: int = 0


def customer_facts(session: Session, scope: Scope) -> CustomerFacts:
    """Run the per-customer scan for ``scope`` (a period without comparison uses an empty one)."""
    period, as_of = scope.period, scope.as_of
    previous = scope.previous or period  # without comparison the q-columns are simply not read
    days = dt.timedelta
    params = {
        "asof": as_of,
        "freq_from": as_of - days(FREQUENCY_DAYS - 1),
        "recent": as_of - days(RECENT_DAYS - 1),
        "active": as_of - days(ACTIVE_DAYS - 1),
        "p_start": period.start,
        "p_before": period.start - days(1),
        "p_base": period.start - days(ACTIVE_DAYS),
        "q_start": previous.start,
        "q_end": previous.end,
        "q_before": previous.start - days(1),
        "q_base": previous.start - days(ACTIVE_DAYS),
    }
    facts = CustomerFacts()
    rows = fetch(session, _PER_CUSTOMER, **params)
    for segment, first, back_p, base_q, active_q, active_p, group_size, group_net in rows:
        count, net = int(group_size), int(group_net or 0)
        if segment is not None:
            customers, total = facts.segments.get(str(segment), (0, 0))
            facts.segments[str(segment)] = (customers + count, total + net)
        if first == "q":
            facts.new_q += count
        elif first is not None:
            day = day_of(first)
            facts.first_visits[day] = facts.first_visits.get(day, 0) + count
        if back_p is not None:
            key = None if back_p == "-" else day_of(back_p)
            facts.back_p[key] = facts.back_p.get(key, 0) + count
        if base_q:
            facts.base_q += count
            facts.back_q += count if active_q else 0
        facts.active_p += count if active_p else 0
        facts.active_q += count if active_q else 0
        facts.customers += count
        facts.net += net
    return facts


def _count_between(counts: dict[dt.date, int], start: dt.date, end: dt.date) -> int:
    return sum(n for day, n in counts.items() if start <= day <= end)


def _retention(back: dict[dt.date | None, int], until: dt.date) -> tuple[Decimal | None, int, int]:
    """(rate, retained, base): the share of the active base whose first visit in the period is ≤ until."""
    base = sum(back.values())
    retained = sum(n for day, n in back.items() if day is not None and day <= until)
    return percent(retained, base), retained, base


def _clv(net: int, customers: int) -> Decimal | None:
    if customers <= 0:
        return None
    return (Decimal(net) / customers / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def customer_kpis(facts: CustomerFacts, scope: Scope, revenue: RevenueData) -> list[Kpi]:
    """The three customer widgets (rules: module docstring) from :func:`customer_facts` and the revenue."""
    period, previous = scope.period, scope.previous
    new_now = _count_between(facts.first_visits, period.start, period.end)
    new_before = facts.new_q if previous else None
    returning = facts.active_p - new_now
    new_rows = (
        (_("Neukunden (erster Besuch im Zeitraum)"), new_now),
        (_("Wiederkehrende Kunden"), returning),
        (_("Kunden mit Besuch im Zeitraum"), facts.active_p),
        (_("Anteil Neukunden %"), percent(new_now, facts.active_p)),
    )
    rate, retained, base = _retention(facts.back_p, period.end)
    rate_before = percent(facts.back_q, facts.base_q) if previous else None
    retention_rows = (
        (_("Aktive Kunden zu Beginn (Besuch in den 730 Tagen davor)"), base),
        (_("Davon im Zeitraum wiedergekommen"), retained),
        (_("Kundenbindung %"), rate),
    )
    clv = _clv(facts.net, facts.customers)
    # As of the previous period's end: take back the customers' revenue and first visits of this period.
    clv_before = None
    if previous is not None:
        clv_before = _clv(facts.net - revenue.now.customer_net, facts.customers - new_now)
    # Lifetime value at each bucket end: take back what came after it (revenue and first visits).
    spark_clv: list[Number | None] = []
    after_net, after_new = 0, 0
    for bucket, figures in reversed(list(zip(scope.buckets, revenue.spark, strict=True))):
        spark_clv.append(_clv(facts.net - after_net, facts.customers - after_new))
        after_net += figures.customer_net
        after_new += _count_between(facts.first_visits, bucket.start, bucket.end)
    spark_clv.reverse()
    segment_rows = []
    for key, label, rule in SEGMENTS:
        count, net = facts.segments.get(key, (0, 0))
        segment_rows.append((_(label), count, euros(net), _clv(net, count), _(rule)))
    return [
        kpi(
            "new_customers",
            _(TITLES["new_customers"]),
            "Anzahl",
            new_now,
            new_before,
            sparkline=tuple(_count_between(facts.first_visits, b.start, b.end) for b in scope.buckets),
            columns=(_("Kennzahl"), _("Wert")),
            rows=new_rows,
        ),
        kpi(
            "customer_retention",
            _(TITLES["customer_retention"]),
            "%",
            rate,
            rate_before,
            sparkline=tuple(_retention(facts.back_p, b.end)[0] for b in scope.buckets),
            columns=(_("Kennzahl"), _("Wert")),
            rows=retention_rows,
            note=_(
                "Anteil der aktiven Kunden (Besuch in den 24 Monaten vor Beginn), die im Zeitraum wiedergekommen sind."
            ),
        ),
        kpi(
            "customer_value",
            _(TITLES["customer_value"]),
            "EUR",
            clv,
            clv_before,
            sparkline=tuple(spark_clv),
            columns=(_("Segment"), _("Kunden"), _("Umsatz netto gesamt"), _("Ø Kundenwert"), _("Regel")),
            rows=tuple(segment_rows),
            note=_("Ø Nettoumsatz je Kunde seit dem ersten Besuch, Stand {day}.").format(
                day=scope.as_of.strftime("%d.%m.%Y")
            ),
        ),
    ]
