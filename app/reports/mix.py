"""What was sold: the top services and the revenue by category.

A catalogue service reaches an invoice as a labour line (AW) or, with a fixed price, a fee line that
carries the service's code in ``part_no`` (``app.services.order_lines.line_from_service``); the invoice
copies code and text from the work order. So a labour or fee line whose code is a catalogue code counts
for that service and its catalogue category; other labour and fee lines count by their text (free-text
work such as "Inspektion nach Herstellervorgabe"). Counts net like amounts: a Storno line counts −1.

Revenue by category = the catalogue categories of those lines, then "Arbeit ohne Katalogbezug",
"Gebühren ohne Katalogbezug", "Teile und Austauschteile" and "Rabatte und Sonstiges" (discounts; the
Altteil value and its set-off cancel out) – together exactly the net revenue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from sqlalchemy.orm import Session

from app.i18n import N_, _
from app.reports.revenue import SERVICE_KINDS, Figures, RevenueData
from app.reports.sql import FINAL, SIGN, cents, fetch
from app.reports.types import CategoryRevenue, Kpi, kpi, percent
from app.reports.types import cents as euros

TITLE: Final = N_("Top-Leistungen")
NO_CATALOGUE_LABOUR: Final = N_("Arbeit ohne Katalogbezug")
NO_CATALOGUE_FEE: Final = N_("Gebühren ohne Katalogbezug")
PARTS: Final = N_("Teile und Austauschteile")
OTHER: Final = N_("Rabatte und Sonstiges")
DETAIL_LIMIT: Final = 25

_LINES: Final = f"""
SELECT l.kind, l.part_no, l.text, sum({SIGN}), sum({cents("l.net")})
FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id
WHERE {FINAL} AND i.issue_date BETWEEN :lo AND :hi AND l.kind IN ({", ".join(f"'{k}'" for k in SERVICE_KINDS)})
GROUP BY l.kind, l.part_no, l.text
"""
_CATALOGUE: Final = "SELECT code, name, category FROM service"


@dataclass(frozen=True)
class ServiceSales:
    """One service (catalogue code, or a free text) with its net count and net revenue in the period."""

    key: str
    name: str
    category: str
    kind: str
    count: int
    net: Decimal


def service_sales(session: Session, start: dt.date, end: dt.date) -> list[ServiceSales]:
    """Every service sold from ``start`` to ``end``, highest revenue first (ties: more sold, then name)."""
    catalogue = {str(code): (str(name), str(category)) for code, name, category in fetch(session, _CATALOGUE)}
    merged: dict[tuple[str, str], list[int]] = {}
    names: dict[tuple[str, str], tuple[str, str, str]] = {}
    for kind, code, text, count, net in fetch(session, _LINES, lo=start, hi=end):
        found = catalogue.get(str(code or ""))
        key = ("code", str(code)) if found else ("text", f"{kind}:{text}")
        if found:
            names[key] = (found[0], found[1], str(kind))
        else:
            label = NO_CATALOGUE_LABOUR if kind == "labour" else NO_CATALOGUE_FEE
            names[key] = (str(text), _(label), str(kind))
        sums = merged.setdefault(key, [0, 0])
        sums[0] += int(count or 0)
        sums[1] += int(net or 0)
    sales = [
        ServiceSales(key[1], *names[key], count=count, net=euros(net))
        for key, (count, net) in merged.items()
        if count or net
    ]
    sales.sort(key=lambda s: (-s.net, -s.count, s.name.casefold()))
    return sales


def categories(sales: list[ServiceSales], revenue: Figures) -> list[CategoryRevenue]:
    """Net revenue per category, largest first; the rows add up to the net revenue (module docstring)."""
    totals: dict[str, list[int]] = {}
    fees = 0
    for item in sales:
        cents_net = int(item.net * 100)
        row = totals.setdefault(item.category, [0, 0])
        row[0] += cents_net
        row[1] += item.count
        if item.kind == "fee":
            fees += cents_net
    totals[_(PARTS)] = [revenue.parts, 0]
    totals[_(OTHER)] = [revenue.other - fees, 0]
    whole = sum(net for net, _count in totals.values())
    rows = [
        CategoryRevenue(name, euros(net), count, percent(net, whole))
        for name, (net, count) in totals.items()
        if net or count
    ]
    rows.sort(key=lambda c: (-c.net, c.category.casefold()))
    return rows


def top_services_kpi(data: RevenueData, sales: list[ServiceSales]) -> Kpi:
    """The widget "Top-Leistungen": services sold (count) with the ranking by revenue (``sales`` of the
    period, from :func:`service_sales`) as detail."""
    now, before, spark = data.now, data.before, data.spark
    rows = tuple(
        (rank, item.name, item.category, item.count, item.net, percent(int(item.net * 100), now.net))
        for rank, item in enumerate(sales[:DETAIL_LIMIT], start=1)
    )
    return kpi(
        "top_services",
        _(TITLE),
        "Anzahl",
        now.services,
        before.services if before is not None else None,
        sparkline=tuple(f.services for f in spark),
        columns=(_("Rang"), _("Leistung"), _("Kategorie"), _("Anzahl"), _("Umsatz netto"), _("Anteil am Umsatz %")),
        rows=rows,
        note=_("Verkaufte Leistungen (Lohn- und Pauschalpositionen), Rangfolge nach Umsatz."),
    )
