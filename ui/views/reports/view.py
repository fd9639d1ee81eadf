"""The Berichte tab: the owner's morning dashboard – KPI cards, three charts, CSV and PDF exports – and,
for the counter role, only its own day.

Everything is computed off the GUI thread (``ReportService`` through the TaskRunner); while a new range
loads, the old figures stay on screen under a quiet "wird aktualisiert …" and a thin progress line.
Each load carries a generation number, so an answer that arrives after the user already picked another
range is dropped instead of overwriting the newer one. The tab loads when it is first shown and again
after a change of invoices, orders or appointments (at once when visible, else on the next show).

Role: the preference ``ui.prefs.ROLE`` (owner, auditor, counter, mechanic; default owner) is handed to
``ReportService.for_role``, which decides what may be seen.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.i18n import _
from app.reports.period import Period
from app.reports.types import KpiReport
from app.services.reports import ReportService
from ui import prefs as prefs_mod
from ui.context import UiContext
from ui.errors import error_text, show_error
from ui.views.reports import exports
from ui.views.reports.cards import KpiGrid
from ui.views.reports.charts import CategoryChart, RevenueChart, UtilisationChart
from ui.views.reports.counter_day import CounterDayPanel
from ui.views.reports.data import Dashboard, Request, load, load_locations, load_series, role_label, role_of
from ui.views.reports.header import RangeBar
from ui.views.reports.locations import RollupSource
from ui.views.reports.style import BAD, MUTED, PAGE_BG

RELOAD_DELAY_MS = 400
CHART_HEIGHT = 238


class ReportsView(QWidget):
    """The reports tab."""

    PAGE_DASHBOARD, PAGE_DAY, PAGE_DENIED = range(3)

    def __init__(self, ctx: UiContext, *, rollups: RollupSource | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rollups = rollups
        self.role = role_of(ctx.prefs.get(prefs_mod.ROLE))
        self.dashboard: Dashboard | None = None
        self.loads = 0  # load requests started (tests and the status of the screen)
        self.loading = False
        self.last_export: Any = None
        self.location: str | None = None
        self._granularity: str | None = None  # None: by the period's length
        self._generation = 0
        self._dirty = True
        self._locations_asked = False
        self.setObjectName("reportsView")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(f"QWidget#reportsView, QWidget#reportsPage {{ background: {PAGE_BG}; }}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 6)
        layout.setSpacing(6)
        self.header = RangeBar(lambda: self.ctx.today())  # noqa: PLW0108 - ctx.today may be replaced later
        layout.addWidget(self.header)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # indeterminate
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(3)
        self.progress.setStyleSheet("QProgressBar { border: 0; background: transparent; }"
                                    "QProgressBar::chunk { background: #90caf9; }")  # fmt: skip
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_dashboard())
        self.day_panel = CounterDayPanel()
        self.pages.addWidget(self.day_panel)
        self.denied_label = QLabel()
        self.denied_label.setWordWrap(True)
        self.denied_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.denied_label.setStyleSheet("font-size: 12pt; color: #607d8b;")
        self.pages.addWidget(self.denied_label)
        layout.addWidget(self.pages, 1)
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(RELOAD_DELAY_MS)
        self._reload_timer.timeout.connect(self.reload)
        self._wire()
        self._apply_role()

    def _build_dashboard(self) -> QScrollArea:
        page = QWidget()
        page.setObjectName("reportsPage")
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 4, 0, 4)
        column.setSpacing(10)
        self.info_label = QLabel(_("Kennzahlen werden berechnet …"))
        self.info_label.setStyleSheet(f"color: {MUTED}; font-size: 11pt; padding: 24px;")
        self.info_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.info_label.setWordWrap(True)
        column.addWidget(self.info_label)
        self.grid = KpiGrid()
        column.addWidget(self.grid)
        charts = QHBoxLayout()
        charts.setSpacing(10)
        self.revenue_chart = RevenueChart()
        self.category_chart = CategoryChart()
        self.utilisation_chart = UtilisationChart()
        for chart, stretch in (
            (self.revenue_chart, 5),
            (self.category_chart, 4),
            (self.utilisation_chart, 4),
        ):
            chart.setFixedHeight(CHART_HEIGHT)
            charts.addWidget(chart, stretch)
        self.charts = QWidget()
        self.charts.setLayout(charts)
        charts.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.charts)
        self.footer = QLabel()
        self.footer.setStyleSheet(f"color: {MUTED}; font-size: 8.5pt;")
        column.addWidget(self.footer)
        column.addStretch(1)
        self.grid.setVisible(False)
        self.charts.setVisible(False)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(page)
        return scroll

    def _wire(self) -> None:
        self.header.range_changed.connect(self._range_changed)
        self.header.location_changed.connect(self._location_changed)
        self.header.csv_all_action.triggered.connect(lambda: self.export_csv(exports.ALL))
        self.header.csv_selected_action.triggered.connect(lambda: self.export_csv(self.grid.selected or exports.ALL))
        self.header.pdf_button.clicked.connect(self.export_pdf)
        self.header.start_edit.editingFinished.connect(self.header.flush)
        self.header.end_edit.editingFinished.connect(self.header.flush)
        self.revenue_chart.granularity_changed.connect(self._granularity_chosen)
        self.grid.selection_changed.connect(self._selection_changed)
        self.ctx.bus.operation_did_execute.connect(self._changes_announced)
        self._selection_changed(None)

    def _apply_role(self) -> None:
        """What the role sees of the head: the counter has no range and no exports."""
        sees_revenue = self.role in ("owner", "auditor")
        self.header.set_range_visible(sees_revenue)
        self.header.set_exports_enabled(sees_revenue)
        label = _("Rolle: {role}").format(role=role_label(self.role))
        if self.role == "auditor":
            label = _("Rolle: Prüfer (nur lesen)")
        self.header.role_label.setText(label)

    # --- loading -----------------------------------------------------------------------------------

    def service(self) -> ReportService:
        """The reports for this tab's role, with the context's today (a new day needs no restart)."""
        return ReportService(self.ctx.services.db, today=self.ctx.today()).for_role(self.role)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Load on first show, and when something changed while the tab was hidden."""
        super().showEvent(event)
        if self._dirty:
            self.reload()

    def request(self) -> Request | None:
        """What the head asks for now (None while the custom range is invalid)."""
        period = self.header.period()
        if period is None:
            return None
        return Request(self.role, period, self._granularity, self.location)  # type: ignore[arg-type]

    def reload(self) -> None:
        """Compute the screen again in the background."""
        self._dirty = False
        self._reload_timer.stop()
        self.header.refresh_preset()
        request = self.request()
        if request is None:
            return
        self._generation += 1
        generation = self._generation
        self.loads += 1
        self._set_loading(True)
        service, rollups = self.service(), self.rollups
        template = self.dashboard.report.kpis if self.dashboard and self.dashboard.report else ()
        self.ctx.runner.run(
            lambda: load(service, request, rollups=rollups, template=template),
            lambda result: self._loaded(generation, result),
            lambda exc: self._failed(generation, exc),
            uses_db=request.location is None,  # a remote location is a network call: not the DB thread
        )

    def _set_loading(self, loading: bool) -> None:
        self.loading = loading
        self.header.set_loading(loading)
        self.progress.setVisible(loading)

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._set_loading(False)
        self.info_label.setText(
            _("Die Kennzahlen konnten nicht berechnet werden: {error}").format(error=error_text(exc))
        )
        self.info_label.setStyleSheet(f"color: {BAD}; font-size: 11pt; padding: 24px;")
        self.info_label.setVisible(True)

    def _loaded(self, generation: int, dashboard: Dashboard) -> None:
        if generation != self._generation:
            return  # an older range: the newer answer is on its way
        self._set_loading(False)
        self.dashboard = dashboard
        if dashboard.day is not None:
            self.day_panel.show_day(dashboard.day, role_label(self.role))
            self.pages.setCurrentIndex(self.PAGE_DAY)
        elif dashboard.report is None:
            self.denied_label.setText(dashboard.denied)
            self.pages.setCurrentIndex(self.PAGE_DENIED)
        else:
            self._show_report(dashboard)
            self.pages.setCurrentIndex(self.PAGE_DASHBOARD)
            self._ask_locations(dashboard.report.period)

    def _show_report(self, dashboard: Dashboard) -> None:
        report = dashboard.report
        assert report is not None
        self.info_label.setVisible(False)
        self.grid.set_report(report)
        self.grid.setVisible(True)
        self.charts.setVisible(True)
        self.revenue_chart.set_granularity(dashboard.request.granularity or report.granularity)
        self.revenue_chart.set_series(dashboard.series)
        for button in self.revenue_chart.buttons.values():
            button.setEnabled(report.location is None)  # roll-ups come per day as they are
        self.category_chart.set_categories(report.categories)
        self.utilisation_chart.set_mechanics(report.mechanics)
        remote = report.location is not None
        self.category_chart.note_label.setText(
            _("Für andere Standorte nicht verfügbar.") if remote else self.category_chart.note_label.text()
        )
        self.utilisation_chart.note_label.setText(
            _("Für andere Standorte nicht verfügbar.") if remote else self.utilisation_chart.note_label.text()
        )
        self.footer.setText(self._footer_text(report))

    def _footer_text(self, report: KpiReport) -> str:
        parts = [_("Zeitraum {range}").format(range=report.period.label())]
        if report.previous is not None:
            parts.append(_("verglichen mit {range}").format(range=report.previous.label()))
        parts.append(_("Bestände (offene Posten, HU/AU) mit Stand {day}").format(day=f"{report.as_of:%d.%m.%Y}"))
        parts.append(_("Beträge in Euro, Umsätze ohne Entwürfe, Stornos verrechnet"))
        return " · ".join(parts)

    # --- user input --------------------------------------------------------------------------------

    def _range_changed(self, _period: Period) -> None:
        self._granularity = None  # a new range gets its natural granularity again
        self.reload()

    def _location_changed(self, location: str | None) -> None:
        self.location = location
        self.reload()

    def _granularity_chosen(self, granularity: str) -> None:
        self._granularity = granularity
        request = self.request()
        if request is None or self.dashboard is None or self.dashboard.report is None:
            return
        generation = self._generation
        service = self.service()
        self._set_loading(True)
        self.ctx.runner.run(
            lambda: load_series(service, request),
            lambda series: self._series_loaded(generation, series),
            lambda exc: self._failed(generation, exc),
        )

    def _series_loaded(self, generation: int, series: Any) -> None:
        if generation != self._generation:
            return
        self._set_loading(False)
        self.revenue_chart.set_series(series)

    def _selection_changed(self, kpi_id: str | None) -> None:
        card = self.grid.cards.get(kpi_id) if kpi_id else None
        self.header.set_selected_kpi(card.kpi.title if card is not None and card.kpi is not None else None)

    def _changes_announced(self, changes: Changes, _initiator: object) -> None:
        relevant = changes.invoices or changes.orders or changes.appointments or changes.customers
        if not (relevant or changes.settings or changes.vehicles):
            return
        if self.isVisible():
            self._reload_timer.start()
        else:
            self._dirty = True

    def _ask_locations(self, period: Period) -> None:
        """Ask the server once for the organisation's locations (only with a roll-up source)."""
        if self.rollups is None or self._locations_asked:
            return
        self._locations_asked = True
        rollups, db = self.rollups, self.ctx.services.db
        self.ctx.runner.run(
            lambda: load_locations(rollups, period, db),
            self.header.set_locations,
            lambda _exc: self.header.set_locations(()),  # no server, no filter: the local report stays
            uses_db=False,
        )

    def set_rollups(self, rollups: RollupSource | None) -> None:
        """Feed the location filter from ``rollups`` from now on (the owner logged in); None hides it again."""
        self.rollups = rollups
        self._locations_asked = False
        if rollups is None:
            self.header.set_locations(())
            if self.location is not None:
                self._location_changed(None)  # back to this installation's own report
        elif self.dashboard is not None and self.dashboard.report is not None:
            self._ask_locations(self.dashboard.report.period)

    # --- exports -----------------------------------------------------------------------------------

    @property
    def report(self) -> KpiReport | None:
        """The report on screen."""
        return self.dashboard.report if self.dashboard is not None else None

    def export_csv(self, kpi_id: str = exports.ALL) -> None:
        """Save all widgets' data (or one widget's) as CSV."""
        report = self.report
        if report is None:
            return
        path = exports.ask_save_path(
            self,
            _("CSV exportieren"),
            exports.suggested_name(report, "csv", kpi_id),
            _("CSV-Dateien (*.csv)"),
        )
        if path is None:
            return
        service = self.service()
        self.ctx.query(lambda: exports.write_csv(service, report, kpi_id, path), self._exported, parent=self)

    def export_pdf(self) -> None:
        """Save the management report as PDF."""
        report = self.report
        if report is None:
            return
        path = exports.ask_save_path(
            self,
            _("PDF-Bericht speichern"),
            exports.suggested_name(report, "pdf"),
            _("PDF-Dokumente (*.pdf)"),
        )
        if path is None:
            return
        service = self.service()
        self._set_loading(True)

        def failed(exc: BaseException) -> None:
            self._set_loading(False)
            show_error(parent=self, exc=exc)

        self.ctx.runner.run(lambda: exports.write_pdf(service, report, path), self._exported, failed)

    def _exported(self, path: Any) -> None:
        self._set_loading(False)
        self.last_export = path
        self.ctx.bus.status_message_posted.emit(_("Gespeichert: {path}").format(path=path))
