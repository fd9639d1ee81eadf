"""The owner's reports (issue 7): KPI widgets, chart data, CSV and PDF exports – with role permissions.

Roles: the owner (Inhaber) and the auditor (Prüfer, read-only – reports never change anything) see all
revenue figures; the counter (Theke) sees only its own day (:meth:`ReportService.counter_day`); a
mechanic sees no reports. Anything else raises :class:`app.errors.PermissionDenied` with a German
message. Every method is one read-only unit of work and returns frozen DTOs (``app.reports.types``), so
the reports tab can compute them in a worker thread.

Rules of every figure: ``app/reports/*.py`` module docstrings and ``docs/reports.md``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final, Literal

from sqlalchemy import select

from app.db import Database
from app.errors import PermissionDenied, ValidationError
from app.i18n import N_, _
from app.models.sync import SyncState
from app.plans import Feature
from app.reports import capacity, mix, revenue
from app.reports.build import build_report
from app.reports.counter import counter_day
from app.reports.export import write_csv
from app.reports.period import Granularity, Period, Scope, buckets
from app.reports.types import CategoryRevenue, CounterDay, KpiReport, MechanicUtilisation, SeriesPoint

Role = Literal["owner", "auditor", "counter", "mechanic"]
ROLES: Final = ("owner", "auditor", "counter", "mechanic")
ROLE_LABELS: Final = {
    "owner": N_("Inhaber"),
    "auditor": N_("Prüfer"),
    "counter": N_("Theke"),
    "mechanic": N_("Monteur"),
}
REVENUE_ROLES: Final = frozenset({"owner", "auditor"})
DAY_ROLES: Final = REVENUE_ROLES | {"counter"}


class ReportService:
    """Reports over ``db`` for one role (default: the owner). ``today`` pins the date (tests, bench);
    ``features`` are the plan's features (None: no plan restriction, e.g. before the first sync)."""

    def __init__(
        self,
        db: Database,
        *,
        today: dt.date | None = None,
        role: str = "owner",
        features: frozenset[Feature] | None = None,
    ) -> None:
        if role not in ROLES:
            raise ValidationError(
                "Unbekannte Rolle „{role}“ – erlaubt sind owner, auditor, counter und mechanic.",
                field="role",
                role=role,
            )
        self._db = db
        self._today = today
        self.role = role
        self.features = features

    def for_role(self, role: str) -> ReportService:
        """The same reports as seen by ``role``."""
        return ReportService(self._db, today=self._today, role=role, features=self.features)

    @property
    def today(self) -> dt.date:
        """Today (fixed in tests)."""
        return self._today or dt.date.today()

    # --- permissions -------------------------------------------------------------------------------

    def _role_label(self) -> str:
        return _(ROLE_LABELS[self.role])

    def _need_revenue(self) -> None:
        if self.role not in REVENUE_ROLES:
            raise PermissionDenied(
                "Umsatzzahlen und Auswertungen sehen nur Inhaber und Prüfer – die Rolle „{role}“ sieht nur "
                "ihren eigenen Tag.",
                role=self._role_label(),
            )
        if self.features is not None and Feature.BASIC_REPORTS not in self.features:
            raise PermissionDenied("Auswertungen sind im aktuellen Tarif nicht enthalten.")

    def _check_location(self, location: str | None) -> None:
        if location is None:
            return
        with self._db.unit() as s:
            local = s.scalar(select(SyncState.location_id).where(SyncState.id == 1))
        if location != local:
            raise ValidationError(
                "Für den Standort „{location}“ liegen hier keine Daten vor – standortübergreifende "
                "Auswertungen kommen vom CarBot-Server.",
                field="location",
                location=location,
            )

    # --- reports -----------------------------------------------------------------------------------

    def kpis(self, period: Period, *, compare_to_previous: bool = True, location: str | None = None) -> KpiReport:
        """Every KPI widget of ``period`` (with the previous period's values unless switched off) and the
        chart data. ``location``: None or this installation's location id (other locations' figures come
        from the hosted API's rollups)."""
        self._need_revenue()
        self._check_location(location)
        scope = Scope.of(period, today=self.today, compare=compare_to_previous)
        return build_report(self._db, scope, features=self.features, location=location)

    def revenue_series(self, period: Period, granularity: Granularity | None = None) -> list[SeriesPoint]:
        """Net and gross revenue and invoice count per day, week or month (default: by the length)."""
        self._need_revenue()
        with self._db.unit() as s:
            return revenue.series(s, period, buckets(period, granularity))

    def revenue_by_category(self, period: Period) -> list[CategoryRevenue]:
        """Net revenue per catalogue category, parts and the rest; the rows add up to the net revenue."""
        self._need_revenue()
        with self._db.unit() as s:
            figures = revenue.total(revenue.revenue_days(s, period.start, period.end), period.start, period.end)
            return mix.categories(mix.service_sales(s, period.start, period.end), figures)

    def top_services(self, period: Period, *, by: str = "revenue", limit: int = 10) -> list[mix.ServiceSales]:
        """The best-selling services by revenue or by count."""
        self._need_revenue()
        if by not in ("revenue", "count"):
            raise ValidationError("Sortierung „{by}“ unbekannt – erlaubt sind revenue und count.", field="by", by=by)
        with self._db.unit() as s:
            sales = mix.service_sales(s, period.start, period.end)
        if by == "count":
            sales.sort(key=lambda item: (-item.count, -item.net, item.name.casefold()))
        return sales[:limit]

    def mechanic_utilisation(self, period: Period) -> list[MechanicUtilisation]:
        """AW worked against AW available per mechanic (unassigned labour last)."""
        self._need_revenue()
        with self._db.unit() as s:
            return capacity.utilisation(s, period, self.today)

    def counter_day(self, day: dt.date | None = None) -> CounterDay:
        """The counter's own day: appointments, open orders and payments of ``day`` (default today)."""
        if self.role not in DAY_ROLES:
            raise PermissionDenied("Die Rolle „{role}“ hat keinen Zugriff auf Auswertungen.", role=self._role_label())
        if self.role == "counter" and day is not None and day != self.today:
            raise PermissionDenied("Die Theke sieht nur den heutigen Tag.")
        with self._db.unit() as s:
            return counter_day(s, day or self.today)

    # --- exports -----------------------------------------------------------------------------------

    def export_csv(
        self, kpi_id: str, path: Path | str, *, period: Period | None = None, report: KpiReport | None = None
    ) -> Path:
        """Write one widget's data (``kpi_id``) or all (``"all"``) as Excel-friendly CSV: UTF-8 with BOM,
        ``;`` separated, decimal comma. Pass the ``report`` already shown, or a ``period`` to compute."""
        self._need_revenue()
        return write_csv(self._report(period, report), kpi_id, Path(path))

    def pdf(self, *, period: Period | None = None, report: KpiReport | None = None) -> bytes:
        """The management report as PDF (KPI table, charts, detail tables)."""
        from app.reports.pdf import render_report_pdf  # ReportLab only when a PDF is made

        self._need_revenue()
        return render_report_pdf(self._report(period, report))

    def _report(self, period: Period | None, report: KpiReport | None) -> KpiReport:
        if report is not None:
            return report
        if period is None:
            raise ValidationError("Bitte einen Zeitraum oder einen berechneten Bericht angeben.", field="period")
        return self.kpis(period)
