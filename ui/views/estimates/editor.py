"""The KVA editor at the counter: header with the status buttons, the line table with the catalogue search
and the line dialog (the same as in the order editor), the terms, live totals, "Vorschau / Drucken / PDF
speichern" and "In Auftrag übernehmen".

Every change goes to the estimate service in the background; the KVA it returns (lines, totals) is shown
again, so the totals on screen are always the service's. Lines and terms can change only in the draft.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.errors import ValidationError, WorkshopError
from app.i18n import _
from app.services.catalog import ServiceDTO
from app.services.estimates import EstimateDTO
from app.services.order_lines import LineDTO
from app.services.settings import WorkshopSettings
from ui.context import UiContext
from ui.errors import show_error
from ui.views.counter.editor_base import ERROR_COLOUR
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.estimates.header import EstimateHeader
from ui.views.estimates.preview import EstimatePreviewDialog
from ui.views.estimates.terms_panel import TermsPanel
from ui.views.orders.dialogs import confirm, open_dialog
from ui.views.orders.line_dialog import LineDialog
from ui.views.orders.line_editing import LinesSection, estimate_target
from ui.views.orders.style import PRIMARY_BUTTON
from ui.views.orders.totals_panel import TotalsPanel


class EstimateEditor(QWidget):
    """One Kostenvoranschlag; ``load(estimate_id)`` shows it, ``estimate`` is the DTO on screen."""

    back_requested = Signal()
    customer_requested = Signal(int)
    vehicle_requested = Signal(int)
    order_requested = Signal(int)  # open this work order (made from the KVA)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.estimate: EstimateDTO | None = None
        self.dialog: QDialog | None = None
        self._generation = 0
        self.header = EstimateHeader()
        self.header.back_requested.connect(self.back_requested)
        self.header.customer_requested.connect(self.customer_requested)
        self.header.vehicle_requested.connect(self.vehicle_requested)
        self.header.order_requested.connect(self.order_requested)
        self.header.action_requested.connect(self.run_action)
        self.error = QLabel("")
        self.error.setObjectName("estimateError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOUR}; font-weight: 600;")
        self.error.hide()
        self.lines = LinesSection(ctx, self, work_columns=False)
        self.lines.service_chosen.connect(self.add_service)
        self.lines.kind_requested.connect(self.open_line_dialog)
        self.lines.line_activated.connect(self.edit_line)
        self.lines.remove_requested.connect(self.remove_line)
        self.search, self.table = self.lines.search, self.lines.table
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(10)
        layout.addWidget(self.header)
        layout.addWidget(self.error)
        layout.addWidget(self.lines, 1)
        layout.addLayout(self._build_bottom(), 0)
        for keys, slot in (("Ctrl+L", self.search.setFocus), ("Ctrl+P", self.preview)):
            QShortcut(QKeySequence(keys), self, slot).setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _build_bottom(self) -> QHBoxLayout:
        """Terms at the bottom left, totals and the printed KVA at the bottom right."""
        self.terms = TermsPanel()
        self.terms.save_requested.connect(self.save_terms)
        self.totals = TotalsPanel()
        self.preview_button = QPushButton(_("Vorschau / Drucken / PDF speichern …"))
        self.preview_button.setObjectName("previewButton")
        self.preview_button.setStyleSheet(PRIMARY_BUTTON)
        self.preview_button.setMinimumHeight(40)
        self.preview_button.setToolTip(_("Den Kostenvoranschlag so zeigen, wie er gedruckt wird (Strg+P)"))
        self.preview_button.clicked.connect(self.preview)
        self.hint = QLabel("")
        self.hint.setObjectName("estimateHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 9.5pt;")
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(6)
        right.addWidget(self.totals)
        right.addWidget(self.hint)
        right.addWidget(self.preview_button)
        side = QWidget()
        side.setFixedWidth(380)
        side.setLayout(right)
        bottom = QHBoxLayout()
        bottom.setSpacing(14)
        bottom.addWidget(self.terms, 1)
        bottom.addWidget(side, 0)
        return bottom

    # --- loading -----------------------------------------------------------------------------------------

    def load(self, estimate_id: int) -> None:
        """Load the KVA and the workshop's AW price and overrun threshold in the background."""
        self._generation += 1
        generation = self._generation
        services = self.ctx.services

        def fetch() -> tuple[EstimateDTO, WorkshopSettings]:
            return services.estimates.get(estimate_id), services.settings.get()

        self.ctx.query(fetch, lambda result: self._loaded(generation, *result), parent=self)

    def reload(self) -> None:
        """Load the shown KVA again (after changes elsewhere)."""
        if self.estimate is not None:
            self.load(self.estimate.id)

    def _loaded(self, generation: int, estimate: EstimateDTO, workshop: WorkshopSettings) -> None:
        if generation != self._generation:
            return
        self.table.aw_price = workshop.aw_price
        self.terms.set_threshold(workshop.estimate_overrun_percent)
        self.error.hide()
        self.set_estimate(estimate)

    # --- display -----------------------------------------------------------------------------------------

    @property
    def today(self) -> dt.date:
        """The counter's today (fixed in tests)."""
        return self.ctx.today()

    def set_estimate(self, estimate: EstimateDTO) -> None:
        """Show ``estimate`` everywhere: header, lines, terms, totals, what may be done next."""
        self.estimate = estimate
        self.header.set_estimate(estimate, self.today)
        self.lines.set_lines(estimate.lines, editable=estimate.status == "draft")
        self.terms.set_estimate(estimate)
        self.totals.set_totals(estimate.totals)
        self.hint.setText(self._hint(estimate))

    def _hint(self, estimate: EstimateDTO) -> str:
        if estimate.is_expired(self.today):
            return _("Abgelaufen – bei Bedarf neu erstellen oder die Gültigkeit verlängern (im Entwurf).")
        if estimate.status == "draft":
            return _("Entwurf – Positionen und Bedingungen sind änderbar. „Senden“, sobald der Kunde ihn hat.")
        if estimate.status == "sent":
            return _("Versendet – wartet auf die Entscheidung des Kunden.")
        if estimate.status == "accepted" and estimate.work_order_id is None:
            return _("Angenommen – jetzt „In Auftrag übernehmen“.")
        if estimate.status == "accepted":
            return _("In Auftrag {number} übernommen.").format(number=estimate.work_order_number)
        return _("Abgelehnt.")

    # --- mutations ---------------------------------------------------------------------------------------

    def _run(self, fn: Any) -> None:
        self.error.hide()
        self.ctx.mutate(fn, self._mutated, parent=self, initiator=self, on_error=self._failed)

    def _mutated(self, result: Any) -> None:
        estimate = result[0] if isinstance(result, tuple) else result
        if isinstance(estimate, EstimateDTO):
            self.set_estimate(estimate)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, WorkshopError):
            self.error.setText(exc.message)
            self.error.show()
            return
        show_error(parent=self, exc=exc)

    def run_action(self, action: str) -> None:
        """Senden, Annehmen, Ablehnen (asks first) or In Auftrag übernehmen."""
        if self.estimate is None:
            return
        estimates, estimate_id = self.ctx.services.estimates, self.estimate.id
        if action == "convert":
            self.convert()
            return
        step = {"send": estimates.send, "accept": estimates.accept, "reject": estimates.reject}[action]
        if action == "reject":
            confirm(
                self,
                self,
                _("Kostenvoranschlag ablehnen"),
                _("Hat der Kunde den Kostenvoranschlag {number} abgelehnt? Das lässt sich nicht zurücknehmen.").format(
                    number=self.estimate.number
                ),
                _("Ablehnen"),
                lambda: self._run(lambda: step(estimate_id)),
            )
            return
        self._run(lambda: step(estimate_id))

    def convert(self) -> None:
        """ "In Auftrag übernehmen": a work order with the KVA's lines; the order editor opens next."""
        if self.estimate is None:
            return
        estimates, estimate_id = self.ctx.services.estimates, self.estimate.id
        self.error.hide()
        self.ctx.mutate(
            lambda: estimates.convert_to_order(estimate_id),
            lambda result: self.order_requested.emit(result[0].id),
            parent=self,
            initiator=self,
            on_error=self._failed,
        )

    def add_service(self, service: ServiceDTO) -> None:
        """Append a catalogue service (AW or fixed price from the catalogue)."""
        if self.estimate is not None:
            target, service_id = estimate_target(self.ctx.services, self.estimate.id), service.id
            self._run(lambda: target.add_service(service_id))

    def open_line_dialog(self, kind: str) -> LineDialog | None:
        """Teil, Austauschteil, Gebühr, Rabatt or Arbeit: the line dialog of the order editor."""
        if self.estimate is None or self.estimate.status != "draft":
            return None
        dialog = LineDialog(self.ctx, estimate_target(self.ctx.services, self.estimate.id), kind, parent=self)
        dialog.saved.connect(self.set_estimate)
        return open_dialog(self, dialog)

    def edit_line(self, line: LineDTO) -> LineDialog | None:
        """Double-click or Enter on a line: change it in the line dialog."""
        if self.estimate is None or self.estimate.status != "draft":
            return None
        target = estimate_target(self.ctx.services, self.estimate.id)
        dialog = LineDialog(self.ctx, target, line.kind, line, parent=self)
        dialog.saved.connect(self.set_estimate)
        return open_dialog(self, dialog)

    def remove_line(self, line: LineDTO) -> None:
        """Remove a line (button or Entf)."""
        if self.estimate is not None:
            target, line_id = estimate_target(self.ctx.services, self.estimate.id), line.id
            self._run(lambda: target.remove_line(line_id))

    def save_terms(self, terms: dict[str, Any]) -> None:
        """ "Bedingungen speichern": the service checks; its messages appear under the fields."""
        if self.estimate is None:
            return
        estimates, estimate_id = self.ctx.services.estimates, self.estimate.id
        self.error.hide()
        self.ctx.mutate(
            lambda: estimates.set_terms(estimate_id, **terms),
            lambda result: self._terms_saved(result[0]),
            parent=self,
            initiator=self,
            on_error=self._terms_failed,
        )

    def _terms_saved(self, estimate: EstimateDTO) -> None:
        self.set_estimate(estimate)
        self.terms.saved(estimate)  # last: it says "Gespeichert."

    def _terms_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError) and self.terms.show_error(exc.field or "", exc.message):
            return
        self._failed(exc)

    def preview(self) -> EstimatePreviewDialog | None:
        """The KVA as printed, with print, save and open in the PDF viewer (Strg+P)."""
        if self.estimate is None:
            return None
        return open_dialog(self, EstimatePreviewDialog(self.ctx, self.estimate.id, parent=self))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Esc goes back to the list (the catalogue search handles its own Esc first)."""
        if event.key() == Qt.Key.Key_Escape:
            self.search.close_results()
            self.back_requested.emit()
            return
        super().keyPressEvent(event)
