"""The report DTOs: KPI widgets as plain frozen data, chart series and the counter's day.

A :class:`Kpi` is everything one widget of the reports tab shows and exports: the value and its unit,
the previous period's value with the change, a sparkline over the report's buckets, and detail rows
for CSV and PDF. ``available`` is False (with a German ``note``) when there is no data source yet – such
a widget never shows numbers. Money is Decimal to the cent, percentages Decimal with one decimal place,
AW Decimal with two; counts are int.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

from app.reports.period import Bucket, Granularity, Period

Unit = Literal["EUR", "%", "AW", "Anzahl"]
Number = Decimal | int
Cell = str | int | Decimal | dt.date | None
"""A detail cell: text, count, amount/percent/AW, a date, or empty."""

PERCENT_PLACES: Final = Decimal("0.1")
AW_PLACES: Final = Decimal("0.01")
CENT: Final = Decimal("0.01")


def percent(part: Number, whole: Number) -> Decimal | None:
    """``part`` as a percentage of ``whole`` (one decimal, half-up); None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def cents(value: int | None) -> Decimal:
    """Integer cents (as summed in SQL) as euros."""
    return (Decimal(value or 0) / 100).quantize(CENT)


@dataclass(frozen=True)
class Kpi:
    """One KPI widget. ``delta`` = value − previous (percentage points for "%" widgets); ``delta_percent`` is
    the relative change of the value in % (None without a previous value or when it was 0).
    ``lower_is_better`` tells the tab how to colour a change (overdue amounts, no-show rate)."""

    id: str
    title: str
    value: Number | None
    unit: Unit
    previous: Number | None = None
    delta: Number | None = None
    delta_percent: Decimal | None = None
    sparkline: tuple[Number | None, ...] = ()
    detail_columns: tuple[str, ...] = ()
    detail_rows: tuple[tuple[Cell, ...], ...] = ()
    available: bool = True
    note: str = ""
    lower_is_better: bool = False


def kpi(
    kpi_id: str,
    title: str,
    unit: Unit,
    value: Number | None,
    previous: Number | None = None,
    *,
    sparkline: tuple[Number | None, ...] = (),
    columns: tuple[str, ...] = (),
    rows: tuple[tuple[Cell, ...], ...] = (),
    note: str = "",
    lower_is_better: bool = False,
) -> Kpi:
    """A :class:`Kpi` with its delta and relative change computed from ``value`` and ``previous``."""
    delta: Number | None = None
    delta_pct: Decimal | None = None
    if value is not None and previous is not None:
        if isinstance(value, int) and isinstance(previous, int):
            delta = value - previous
        else:
            delta = Decimal(value) - Decimal(previous)
        delta_pct = percent(delta, abs(Decimal(previous))) if previous else None
    return Kpi(
        id=kpi_id,
        title=title,
        value=value,
        unit=unit,
        previous=previous,
        delta=delta,
        delta_percent=delta_pct,
        sparkline=sparkline,
        detail_columns=columns,
        detail_rows=rows,
        note=note,
        lower_is_better=lower_is_better,
    )


def unavailable(kpi_id: str, title: str, unit: Unit, note: str, *, columns: tuple[str, ...] = ()) -> Kpi:
    """A widget without a data source: no value, no sparkline, only the note."""
    return Kpi(id=kpi_id, title=title, value=None, unit=unit, available=False, note=note, detail_columns=columns)


@dataclass(frozen=True)
class SeriesPoint:
    """Revenue of one sub-period (chart "Umsatz im Zeitverlauf")."""

    start: dt.date
    end: dt.date
    label: str
    net: Decimal
    gross: Decimal
    invoices: int


@dataclass(frozen=True)
class CategoryRevenue:
    """Net revenue of one category (catalogue category, or a line kind without catalogue service)."""

    category: str
    net: Decimal
    lines: int
    share: Decimal | None


@dataclass(frozen=True)
class MechanicUtilisation:
    """AW worked against AW available for one mechanic (``mechanic_id`` None: labour not assigned)."""

    mechanic_id: int | None
    name: str
    hours_per_day: Decimal | None
    working_days: int
    aw_available: Decimal
    aw_worked: Decimal
    utilisation: Decimal | None


@dataclass(frozen=True)
class KpiReport:
    """All KPI widgets of one period with the data of its three charts (revenue per bucket, revenue by
    category, mechanic utilisation). ``as_of`` is the day stock figures (receivables, capacity) refer to:
    the period's end, or today while the period is still running."""

    period: Period
    previous: Period | None
    granularity: Granularity
    buckets: tuple[Bucket, ...]
    as_of: dt.date
    kpis: tuple[Kpi, ...]
    series: tuple[SeriesPoint, ...] = ()
    categories: tuple[CategoryRevenue, ...] = ()
    mechanics: tuple[MechanicUtilisation, ...] = ()
    location: str | None = None
    workshop_name: str = ""

    def kpi(self, kpi_id: str) -> Kpi:
        """The widget with this id (KeyError for unknown ids)."""
        for item in self.kpis:
            if item.id == kpi_id:
                return item
        raise KeyError(kpi_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """The widget ids in display order."""
        return tuple(item.id for item in self.kpis)


@dataclass(frozen=True)
class CounterDay:
    """What the counter role sees: its own day – appointments, open orders and payments of today."""

    day: dt.date
    appointments: int
    appointments_by_status: tuple[tuple[str, int], ...]
    open_orders: int
    open_orders_by_status: tuple[tuple[str, int], ...]
    payments: int
    payments_total: Decimal
    payments_by_method: tuple[tuple[str, Decimal], ...] = field(default=())
