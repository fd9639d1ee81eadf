"""The location filter's data: the organisation's locations and their figures from the hosted API's
roll-ups (``sync.rollups_client``), turned into the same :class:`KpiReport` the local reports use.

Roll-ups are computed on the server only, from the daily facts each location uploads; they know revenue,
invoices, AW, labour and parts, new customers and appointments. Every other widget shows a German note
for a remote location instead of a number. Who may read them is the server's decision (owners and
auditors log in as themselves; a device token gets 403), so the tab receives a ready ``RollupSource``
(e.g. ``sync.rollups_client.RollupsClient`` with an ``OwnerLogin``) or none – then the filter stays
hidden. Everything here runs on a worker thread: no Qt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any, Final, Protocol

from app.i18n import N_, _
from app.reports.period import Period, Scope, bucket_index, granularity_for
from app.reports.types import Kpi, KpiReport, SeriesPoint, kpi, percent, unavailable

ALL_LOCATIONS: Final = "*"
REMOTE_NOTE: Final = N_("Für diese Standortauswahl liefert der CarBot-Server diese Kennzahl nicht.")
FROM_SERVER: Final = N_("Zahl vom CarBot-Server (Tagesmeldungen der Standorte).")
REMOTE_WIDGETS: Final = (
    "revenue_net", "revenue_gross", "invoice_count", "average_invoice", "labour_share", "aw_sold",
    "new_customers", "appointments",
)  # fmt: skip


class RollupSource(Protocol):
    """Anything that answers ``GET /v1/rollups`` like ``sync.rollups_client.RollupsClient``."""

    def rollups(
        self, date_from: dt.date, date_to: dt.date, *, group: str = "location", location_id: str | None = None
    ) -> Any:
        """The organisation's figures (a ``sync.rollups_client.Rollup``)."""


@dataclass(frozen=True)
class LocationChoice:
    """One entry of the filter: ``location_id`` None = this installation (the full local report)."""

    label: str
    location_id: str | None


def location_choices(source: RollupSource, period: Period, local_id: str | None) -> tuple[LocationChoice, ...]:
    """This location, every other one and "Alle Standorte" – or nothing when there is only one location."""
    rollup = source.rollups(period.start, period.end, group="location")
    groups = [g for g in rollup.groups if g.location_id]
    ids = {g.location_id for g in groups} | set(getattr(rollup, "location_ids", ()))
    if len(ids) < 2:
        return ()
    names = {g.location_id: g.location_name or g.location_id for g in groups}
    choices = [LocationChoice(_("Dieser Standort"), None)]
    choices += [LocationChoice(names.get(i, i), i) for i in sorted(ids, key=lambda i: names.get(i, i)) if i != local_id]
    choices.append(LocationChoice(_("Alle Standorte"), ALL_LOCATIONS))
    return tuple(choices)


def _count(figures: Any) -> int:
    return int(figures.invoice_count) - int(figures.storno_count)  # a Storno counts negative, as locally


def _average(figures: Any) -> Decimal | None:
    count = _count(figures)
    return (figures.net_total / count).quantize(Decimal("0.01")) if count else None


def _labour_share(figures: Any) -> Decimal | None:
    return percent(figures.labour_net, figures.labour_net + figures.parts_net)


VALUES: Final[dict[str, Callable[[Any], Decimal | int | None]]] = {
    "revenue_net": lambda f: f.net_total,
    "revenue_gross": lambda f: f.gross_total,
    "invoice_count": _count,
    "average_invoice": _average,
    "labour_share": _labour_share,
    "aw_sold": lambda f: f.aw_sold,
    "new_customers": lambda f: int(f.new_customers),
    "appointments": lambda f: int(f.appointments),
}


def rollup_report(
    source: RollupSource, scope: Scope, location_id: str, template: Sequence[Kpi], *, workshop_name: str = ""
) -> KpiReport:
    """The report of another location (or ``ALL_LOCATIONS``) from the roll-ups, widgets in ``template``'s
    order; widgets the roll-ups do not know carry only a note."""
    wanted = None if location_id == ALL_LOCATIONS else location_id
    days = source.rollups(scope.period.start, scope.period.end, group="day", location_id=wanted)
    before = None
    if scope.previous is not None:
        before = source.rollups(scope.previous.start, scope.previous.end, group="day", location_id=wanted).total
    per_bucket = _bucketed(days.groups, scope)
    widgets: list[Kpi] = []
    for item in template:
        compute = VALUES.get(item.id)
        if compute is None:
            widgets.append(unavailable(item.id, item.title, item.unit, _(REMOTE_NOTE)))
            continue
        spark = tuple(compute(f) if f is not None else None for f in per_bucket)
        widgets.append(
            kpi(
                item.id,
                item.title,
                item.unit,
                compute(days.total),
                compute(before) if before is not None else None,
                sparkline=spark,
                note=_(FROM_SERVER),
                lower_is_better=item.lower_is_better,
            )
        )
    series = tuple(
        SeriesPoint(
            b.start,
            b.end,
            b.label,
            f.net_total if f else Decimal("0.00"),
            f.gross_total if f else Decimal("0.00"),
            _count(f) if f else 0,
        )
        for b, f in zip(scope.buckets, per_bucket, strict=True)
    )
    return KpiReport(
        period=scope.period,
        previous=scope.previous,
        granularity=granularity_for(scope.period),
        buckets=scope.buckets,
        as_of=scope.as_of,
        kpis=tuple(widgets),
        series=series,
        location=location_id,
        workshop_name=workshop_name,
    )


def _bucketed(groups: Sequence[Any], scope: Scope) -> list[Any]:
    """The day groups summed per bucket (None for a bucket without any day reported)."""
    sums: list[Any] = [None] * len(scope.buckets)
    for group in groups:
        index = bucket_index(scope.buckets, group.date) if group.date is not None else None
        if index is None:
            continue
        sums[index] = group.figures if sums[index] is None else _add(sums[index], group.figures)
    return sums


def _add(left: Any, right: Any) -> Any:
    """Two ``Figures`` summed field by field (the same dataclass, rebuilt with ``replace``)."""
    summed = {
        f.name: getattr(left, f.name) + getattr(right, f.name)
        for f in fields(left)
        if isinstance(getattr(left, f.name), (int, Decimal))
    }
    return replace(left, **summed)
