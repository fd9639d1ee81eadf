"""What the reports tab loads in the background: one call computes everything a screen shows.

``load`` runs on the TaskRunner's database thread (no Qt here). By role it returns the owner's dashboard
(the :class:`KpiReport` with its chart data, and the revenue series in the granularity the chart switch
asks for), the counter's own day, or only the German reason why this role sees nothing. The permission
rules themselves are the service's (``ReportService.for_role``); the tab only picks the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.errors import PermissionDenied
from app.i18n import _
from app.reports.period import Granularity, Period, Scope
from app.reports.types import CounterDay, Kpi, KpiReport, SeriesPoint
from app.services.reports import DAY_ROLES, REVENUE_ROLES, ROLE_LABELS, ROLES, ReportService
from ui.views.reports.locations import RollupSource, location_choices, rollup_report


@dataclass(frozen=True)
class Request:
    """What the screen asks for: ``location`` None = this installation's own data."""

    role: str
    period: Period
    granularity: Granularity | None = None
    location: str | None = None


@dataclass(frozen=True)
class Dashboard:
    """The loaded screen: a report (owner, auditor), a day (counter) or a reason (``denied``)."""

    request: Request
    report: KpiReport | None = None
    series: tuple[SeriesPoint, ...] = ()
    day: CounterDay | None = None
    denied: str = ""


def role_of(value: object) -> str:
    """A stored role preference, falling back to the owner for anything unknown."""
    text = str(value or "").strip().lower()
    return text if text in ROLES else "owner"


def role_label(role: str) -> str:
    """ "Inhaber", "Prüfer", "Theke", "Monteur"."""
    return _(ROLE_LABELS.get(role, role))


def load(
    service: ReportService,
    request: Request,
    *,
    rollups: RollupSource | None = None,
    template: tuple[Kpi, ...] = (),
) -> Dashboard:
    """Compute the screen for ``request`` (worker thread)."""
    reports = service.for_role(request.role)
    try:
        if request.role not in REVENUE_ROLES:
            if request.role in DAY_ROLES:
                return Dashboard(request, day=reports.counter_day())
            reports.counter_day()  # raises the service's German refusal for roles without reports
            return Dashboard(request, denied=_("Für diese Rolle gibt es keine Auswertungen."))
        if request.location is not None and rollups is not None and template:
            scope = Scope.of(request.period, today=reports.today)
            report = rollup_report(rollups, scope, request.location, template)
        else:
            report = reports.kpis(request.period)
        series = report.series
        if request.granularity is not None and request.granularity != report.granularity and not report.location:
            series = tuple(reports.revenue_series(request.period, request.granularity))
        return Dashboard(request, report=report, series=series)
    except PermissionDenied as exc:
        return Dashboard(request, denied=exc.message)


def load_series(service: ReportService, request: Request) -> tuple[SeriesPoint, ...]:
    """Only the revenue chart in another granularity (the chart switch)."""
    return tuple(service.for_role(request.role).revenue_series(request.period, request.granularity))


def load_locations(rollups: RollupSource, period: Period, db: Any) -> tuple[tuple[str, str | None], ...]:
    """The location filter's choices as (label, id); empty when the organisation has one location or the
    server cannot be reached (the filter then simply stays hidden)."""
    from sync import local  # noqa: PLC0415 - sync only matters when roll-ups are configured at all
    from sync.errors import SyncError  # noqa: PLC0415

    try:
        choices = location_choices(rollups, period, local.state(db).location_id)
    except SyncError:
        return ()
    return tuple((choice.label, choice.location_id) for choice in choices)
