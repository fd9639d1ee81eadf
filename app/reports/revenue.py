"""Revenue widgets: revenue net and gross with VAT per rate, number of invoices, average invoice, labour vs
parts share and AW sold – and the chart series "Umsatz im Zeitverlauf".

Rules (docs/reports.md):

- Revenue is the final invoices AND Stornorechnungen issued in the period, by ``issue_date`` (a local
  date). A Storno carries the negated figures of the invoice it cancels, so both net to zero. A Storno
  dated in a later period reduces THAT later period; the period of the original invoice is never
  rewritten (the same view as the VAT return, which has been filed by then). Drafts never count.
- VAT per rate: the net of the lines of each rate per invoice, taxed and rounded per invoice and rate
  exactly as on the invoice (half-up, once per rate); the sum over the rates equals the invoices' tax.
- Number of invoices = invoices issued − Stornos issued in the period (the net count); average invoice =
  net revenue ÷ that count.
- Labour = lines of kind labour; parts = part and exchange part; the rest (fees, discounts, the Altteil
  value and its set-off, which cancel out) is "Sonstiges". The same split as ``app.services.daily_facts``.
- AW sold = the AW of the labour lines (negative on a Storno).

Three aggregate queries per report: per day over ``invoice`` and over the lines, each for the period and
its comparison period at once (they are adjacent), and the VAT split per rate of the period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from sqlalchemy.orm import Session

from app import formatting
from app.i18n import N_, _
from app.reports.period import Bucket, Period, Scope
from app.reports.sql import FINAL, SIGN, cents, day_of, fetch, fetch_one, hundredths
from app.reports.types import AW_PLACES, CENT, Kpi, Number, SeriesPoint, kpi, percent
from app.reports.types import cents as euros
from app.services.daily_facts import LABOUR_KINDS, PARTS_KINDS
from app.tax_lines import ALLOWED_RATES

SERVICE_KINDS: Final = ("labour", "fee")  # lines a catalogue service becomes (app.reports.mix)
RATE_POINTS: Final = tuple(int(rate * 100) for rate in ALLOWED_RATES)  # 1900, 700, 0
TITLES: Final = {
    "revenue_net": N_("Umsatz netto"),
    "revenue_gross": N_("Umsatz brutto"),
    "invoice_count": N_("Anzahl Rechnungen"),
    "average_invoice": N_("Durchschnittsrechnung (netto)"),
    "labour_share": N_("Lohnanteil (Lohn vs. Teile)"),
    "aw_sold": N_("AW verkauft"),
}


def _kinds(kinds: Iterable[str]) -> str:
    return ", ".join(f"'{kind}'" for kind in sorted(kinds))


_INVOICE_DAYS: Final = f"""
SELECT i.issue_date, sum(i.kind = 'invoice'), sum(i.kind = 'storno'),
       sum({cents("i.net_total")}), sum({cents("i.tax_total")}), sum({cents("i.gross_total")}),
       sum(CASE WHEN i.kind = 'storno' THEN {cents("i.net_total")} ELSE 0 END),
       sum(CASE WHEN i.kind = 'storno' THEN {cents("i.gross_total")} ELSE 0 END),
       sum(CASE WHEN i.customer_id IS NOT NULL THEN {cents("i.net_total")} ELSE 0 END)
FROM invoice i
WHERE {FINAL} AND i.issue_date BETWEEN :lo AND :hi
GROUP BY i.issue_date
"""

_NET: Final = cents("l.net")
_LABOUR: Final = f"l.kind IN ({_kinds(LABOUR_KINDS)})"
# Labour, parts, AW and services sold per day (one pass over the lines, no per-invoice grouping).
_LINE_DAYS: Final = f"""
SELECT i.issue_date, sum({_NET}),
       sum(CASE WHEN {_LABOUR} THEN {_NET} ELSE 0 END),
       sum(CASE WHEN l.kind IN ({_kinds(PARTS_KINDS)}) THEN {_NET} ELSE 0 END),
       sum(CASE WHEN {_LABOUR} THEN {hundredths("l.aw")} ELSE 0 END),
       sum(CASE WHEN l.kind IN ({_kinds(SERVICE_KINDS)}) THEN {SIGN} ELSE 0 END)
FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id
WHERE {FINAL} AND i.issue_date BETWEEN :lo AND :hi
GROUP BY i.issue_date
"""
# VAT per rate of a period: the inner query nets each invoice's lines per rate, the outer taxes that net
# half-up in integer cents – per invoice and rate, as on the invoice (sign() keeps Stornos symmetric).
_VAT_SPLIT: Final = (
    "SELECT "
    + ", ".join(f"sum(n{p}), sum((abs(n{p}) * {p} + 5000) / 10000 * sign(n{p}))" for p in RATE_POINTS)
    + " FROM (SELECT "
    + ", ".join(f"sum(CASE WHEN l.vat_rate = {p / 100} THEN {_NET} ELSE 0 END) AS n{p}" for p in RATE_POINTS)
    + f" FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id WHERE {FINAL}"
    + " AND i.issue_date BETWEEN :lo AND :hi GROUP BY i.issue_date, i.id)"
)


@dataclass(slots=True)
class Figures:
    """Revenue figures of a day or a range, in integer cents (AW in hundredths); the VAT split per rate
    (basis points → cents) only where :func:`vat_split` filled it in."""

    invoices: int = 0
    stornos: int = 0
    net: int = 0
    tax: int = 0
    gross: int = 0
    storno_net: int = 0
    storno_gross: int = 0
    customer_net: int = 0
    line_net: int = 0
    labour: int = 0
    parts: int = 0
    aw: int = 0
    services: int = 0
    rate_net: dict[int, int] = field(default_factory=dict)
    rate_tax: dict[int, int] = field(default_factory=dict)

    def add(self, other: Figures) -> None:
        """Add ``other`` into this one."""
        for name in (
            "invoices",
            "stornos",
            "net",
            "tax",
            "gross",
            "storno_net",
            "storno_gross",
            "customer_net",
            "line_net",
            "labour",
            "parts",
            "aw",
            "services",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for point, value in other.rate_net.items():
            self.rate_net[point] = self.rate_net.get(point, 0) + value
        for point, value in other.rate_tax.items():
            self.rate_tax[point] = self.rate_tax.get(point, 0) + value

    @property
    def count(self) -> int:
        """Invoices minus Stornos: the net number of invoices."""
        return self.invoices - self.stornos

    @property
    def other(self) -> int:
        """Fees, discounts and the Altteil lines: the lines' net that is neither labour nor parts."""
        return self.line_net - self.labour - self.parts


def revenue_days(session: Session, start: dt.date, end: dt.date, *, lines: bool = True) -> dict[dt.date, Figures]:
    """The figures of every day from ``start`` to ``end`` that has final invoices (without the VAT split,
    see :func:`vat_split`); ``lines=False`` reads the invoice totals only."""
    days: dict[dt.date, Figures] = {}
    for row in fetch(session, _INVOICE_DAYS, lo=start, hi=end):
        day = days.setdefault(day_of(row[0]), Figures())
        (day.invoices, day.stornos, day.net, day.tax, day.gross, day.storno_net, day.storno_gross, day.customer_net) = (
            int(value or 0) for value in row[1:]
        )
    if lines:
        for row in fetch(session, _LINE_DAYS, lo=start, hi=end):
            day = days.setdefault(day_of(row[0]), Figures())
            day.line_net, day.labour, day.parts, day.aw, day.services = (int(value or 0) for value in row[1:])
    return days


def vat_split(session: Session, start: dt.date, end: dt.date) -> tuple[dict[int, int], dict[int, int]]:
    """Net and VAT per rate (in basis points: 1900 = 19 %) from ``start`` to ``end``, in cents."""
    row = [int(value or 0) for value in fetch_one(session, _VAT_SPLIT, lo=start, hi=end)]
    return dict(zip(RATE_POINTS, row[0::2], strict=True)), dict(zip(RATE_POINTS, row[1::2], strict=True))


def total(days: dict[dt.date, Figures], start: dt.date, end: dt.date) -> Figures:
    """The figures of the days from ``start`` to ``end``."""
    result = Figures()
    for day, figures in days.items():
        if start <= day <= end:
            result.add(figures)
    return result


def per_bucket(days: dict[dt.date, Figures], bounds: tuple[Bucket, ...]) -> list[Figures]:
    """The figures of each bucket."""
    return [total(days, bucket.start, bucket.end) for bucket in bounds]


def series(session: Session, period: Period, bounds: tuple[Bucket, ...]) -> list[SeriesPoint]:
    """Net and gross revenue and the net invoice count per bucket (chart "Umsatz im Zeitverlauf")."""
    days = revenue_days(session, period.start, period.end, lines=False)
    return [
        SeriesPoint(b.start, b.end, b.label, euros(f.net), euros(f.gross), f.count)
        for b, f in zip(bounds, per_bucket(days, bounds), strict=True)
    ]


def _average(figures: Figures) -> Decimal | None:
    if figures.count <= 0:
        return None
    return (Decimal(figures.net) / figures.count / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _labour_share(figures: Figures) -> Decimal | None:
    return percent(figures.labour, figures.labour + figures.parts)


def _aw(figures: Figures) -> Decimal:
    return (Decimal(figures.aw) / 100).quantize(AW_PLACES)


def _rate_label(point: int) -> str:
    return f"{formatting.number(Decimal(point) / 100)} %"


def vat_rows(figures: Figures) -> tuple[tuple[str, Decimal, Decimal, Decimal], ...]:
    """Net, VAT and gross per rate, any rest (should never occur) and the sum (detail of the revenue)."""
    rows = [
        (
            _rate_label(p),
            euros(figures.rate_net.get(p, 0)),
            euros(figures.rate_tax.get(p, 0)),
            euros(figures.rate_net.get(p, 0) + figures.rate_tax.get(p, 0)),
        )
        for p in RATE_POINTS
        if figures.rate_net.get(p, 0) or figures.rate_tax.get(p, 0)
    ]
    rest_net = figures.net - sum(figures.rate_net.values())
    rest_tax = figures.tax - sum(figures.rate_tax.values())
    if rest_net or rest_tax:
        rows.append((_("Sonstige Steuersätze"), euros(rest_net), euros(rest_tax), euros(rest_net + rest_tax)))
    rows.append((_("Summe"), euros(figures.net), euros(figures.tax), euros(figures.gross)))
    if figures.stornos:
        storno_tax = figures.storno_gross - figures.storno_net
        label = _("darin Stornorechnungen ({count})").format(count=figures.stornos)
        rows.append((label, euros(figures.storno_net), euros(storno_tax), euros(figures.storno_gross)))
    return tuple(rows)


@dataclass(frozen=True)
class RevenueData:
    """The revenue figures of a report: the period, the comparison period and each bucket."""

    now: Figures
    before: Figures | None
    spark: list[Figures]


def revenue_data(session: Session, scope: Scope) -> RevenueData:
    """Query the figures of ``scope`` (both periods at once: they are adjacent)."""
    days = revenue_days(session, scope.first_day, scope.period.end)
    before = total(days, scope.previous.start, scope.previous.end) if scope.previous is not None else None
    now = total(days, scope.period.start, scope.period.end)
    now.rate_net, now.rate_tax = vat_split(session, scope.period.start, scope.period.end)
    return RevenueData(now, before, per_bucket(days, scope.buckets))


def revenue_kpis(data: RevenueData, *, aw_available: Decimal | None) -> list[Kpi]:
    """The six revenue widgets (rules: module docstring); ``aw_available`` is the workshop's capacity in
    the period, shown next to the AW sold."""
    now, before, spark = data.now, data.before, data.spark

    def prev(measure: Callable[[Figures], Number | None]) -> Number | None:
        return measure(before) if before is not None else None

    vat_columns = (_("Steuersatz"), _("Netto"), _("USt"), _("Brutto"))
    count_rows = (
        (_("Rechnungen ausgestellt"), now.invoices),
        (_("Stornorechnungen"), now.stornos),
        (_("Rechnungen netto (ohne stornierte)"), now.count),
    )
    base = now.line_net or 1
    mix_rows = (
        (_("Lohn"), euros(now.labour), percent(now.labour, base)),
        (_("Teile und Austauschteile"), euros(now.parts), percent(now.parts, base)),
        (_("Sonstiges (Gebühren, Rabatte, Altteil)"), euros(now.other), percent(now.other, base)),
        (_("Summe"), euros(now.line_net), percent(now.line_net, base)),
    )
    aw_sold = _aw(now)
    aw_rows: list[tuple[str, Decimal | None]] = [
        (_("AW verkauft"), aw_sold),
        (_("Lohnumsatz netto"), euros(now.labour)),
        (_("Erlös je AW (netto)"), (euros(now.labour) / aw_sold).quantize(Decimal("0.01")) if aw_sold else None),
    ]
    if aw_available is not None:
        aw_rows.append((_("AW verfügbar (Kapazität)"), aw_available))
        aw_rows.append((_("Verkaufsquote"), percent(aw_sold, aw_available)))
    return [
        kpi(
            "revenue_net",
            _(TITLES["revenue_net"]),
            "EUR",
            euros(now.net),
            prev(lambda f: euros(f.net)),
            sparkline=tuple(euros(f.net) for f in spark),
            columns=vat_columns,
            rows=vat_rows(now),
        ),
        kpi(
            "revenue_gross",
            _(TITLES["revenue_gross"]),
            "EUR",
            euros(now.gross),
            prev(lambda f: euros(f.gross)),
            sparkline=tuple(euros(f.gross) for f in spark),
            columns=vat_columns,
            rows=vat_rows(now),
        ),
        kpi(
            "invoice_count",
            _(TITLES["invoice_count"]),
            "Anzahl",
            now.count,
            prev(lambda f: f.count),
            sparkline=tuple(f.count for f in spark),
            columns=(_("Art"), _("Anzahl")),
            rows=count_rows,
            note=_("Stornorechnungen zählen im Zeitraum ihres Datums negativ."),
        ),
        kpi(
            "average_invoice",
            _(TITLES["average_invoice"]),
            "EUR",
            _average(now),
            prev(_average),
            sparkline=tuple(_average(f) for f in spark),
            columns=(_("Kennzahl"), _("Wert")),
            rows=(
                (_("Umsatz netto"), euros(now.net)),
                (_("Rechnungen netto"), now.count),
                (_("Durchschnitt netto"), _average(now)),
            ),
        ),
        kpi(
            "labour_share",
            _(TITLES["labour_share"]),
            "%",
            _labour_share(now),
            prev(_labour_share),
            sparkline=tuple(_labour_share(f) for f in spark),
            columns=(_("Bereich"), _("Netto"), _("Anteil %")),
            rows=mix_rows,
            note=_("Anteil des Lohns an Lohn plus Teilen (netto)."),
        ),
        kpi(
            "aw_sold",
            _(TITLES["aw_sold"]),
            "AW",
            aw_sold,
            prev(_aw),
            sparkline=tuple(_aw(f) for f in spark),
            columns=(_("Kennzahl"), _("Wert")),
            rows=tuple(aw_rows),
        ),
    ]
