"""The order editor at the counter: header with status buttons, KVA banner, the line table with the
catalogue search and the line buttons (shared with the KVA editor), the editable intake data, live totals
and "Rechnung erstellen".

Every change goes to the work order service in the background; the order it returns (lines, totals,
overrun) is shown again, so the totals on screen are always the service's. Domain errors appear in
red right under the header, next to what was just tried – never as a stack trace.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app import formatting
from app.errors import ValidationError, WorkshopError
from app.i18n import _
from app.services.catalog import ServiceDTO
from app.services.order_lines import LineDTO
from app.services.settings import MechanicDTO
from app.services.work_orders import EDITABLE, Intake, WorkOrderDTO
from ui.context import UiContext
from ui.errors import show_error
from ui.views.counter.editor_base import ERROR_COLOUR
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.orders.approval_dialog import ApprovalDialog
from ui.views.orders.dialogs import confirm, open_dialog
from ui.views.orders.header import OrderHeader, OverrunBanner
from ui.views.orders.intake_panel import IntakePanel
from ui.views.orders.line_dialog import LineDialog
from ui.views.orders.line_editing import LinesSection, order_target
from ui.views.orders.style import HINT_AMBER, PRIMARY_BUTTON, money
from ui.views.orders.totals_panel import TotalsPanel


class OrderEditor(QWidget):
    """One work order; ``load(order_id)`` shows it, ``order`` is the DTO on screen."""

    back_requested = Signal()
    customer_requested = Signal(int)
    vehicle_requested = Signal(int)
    estimate_requested = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.order: WorkOrderDTO | None = None
        self.dialog: QDialog | None = None
        self._generation = 0
        self.header = OrderHeader()
        self.header.back_requested.connect(self.back_requested)
        self.header.customer_requested.connect(self.customer_requested)
        self.header.vehicle_requested.connect(self.vehicle_requested)
        self.header.estimate_requested.connect(self.estimate_requested)
        self.header.action_requested.connect(self.run_action)
        self.banner = OverrunBanner()
        self.banner.approval_requested.connect(self.record_approval)
        self.limit_hint = QLabel("")
        self.limit_hint.setObjectName("limitHint")
        self.limit_hint.setWordWrap(True)
        self.limit_hint.setStyleSheet(HINT_AMBER)
        self.limit_hint.hide()
        self.error = QLabel("")
        self.error.setObjectName("orderError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOUR}; font-weight: 600;")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(10)
        layout.addWidget(self.header)
        layout.addWidget(self.banner)
        layout.addWidget(self.limit_hint)
        layout.addWidget(self.error)
        layout.addWidget(self._build_lines(), 1)
        layout.addLayout(self._build_bottom(), 0)
        QShortcut(QKeySequence("Ctrl+L"), self, self.search.setFocus).setContext(
            Qt.ShortcutContext.WidgetWithChildrenShortcut
        )

    def _build_lines(self) -> LinesSection:
        self.lines = LinesSection(self.ctx, self, work_columns=True)
        self.lines.service_chosen.connect(self.add_service)
        self.lines.kind_requested.connect(self.open_line_dialog)
        self.lines.line_activated.connect(self.edit_line)
        self.lines.remove_requested.connect(self.remove_line)
        self.lines.selection_changed.connect(self._selection_changed)
        # The parts the editor's callers and tests use by name.
        self.search, self.table, self.line_buttons = self.lines.search, self.lines.table, self.lines.line_buttons
        self.remove_button, self.empty = self.lines.remove_button, self.lines.empty
        self.table.mechanic_changed.connect(self.assign_mechanic)
        self.table.actual_aw_entered.connect(self.record_actual_aw)
        self.confirm_button = QPushButton(_("Vorschlag übernehmen"))
        self.confirm_button.setToolTip(_("Der Kunde ist mit der vorgeschlagenen Position einverstanden"))
        self.confirm_button.clicked.connect(self.confirm_line)
        self.lines.add_button(self.confirm_button)
        return self.lines

    def _build_bottom(self) -> QHBoxLayout:
        """Intake data at the bottom left, totals and "Rechnung erstellen" at the bottom right (as on paper)."""
        self.intake = IntakePanel()
        self.intake.save_requested.connect(self.save_intake)
        self.totals = TotalsPanel()
        self.invoice_button = QPushButton(_("Rechnung erstellen …"))
        self.invoice_button.setObjectName("invoiceButton")
        self.invoice_button.setStyleSheet(PRIMARY_BUTTON)
        self.invoice_button.setMinimumHeight(40)
        self.invoice_button.setToolTip(_("Rechnungsentwurf aus dem Auftrag – Vorschau, dann festschreiben (Strg+R)"))
        self.invoice_button.clicked.connect(self.create_invoice)
        QShortcut(QKeySequence("Ctrl+R"), self, self.create_invoice).setContext(
            Qt.ShortcutContext.WidgetWithChildrenShortcut
        )
        self.invoice_hint = QLabel("")
        self.invoice_hint.setObjectName("invoiceHint")
        self.invoice_hint.setWordWrap(True)
        self.invoice_hint.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 9.5pt;")
        right = QVBoxLayout()
        right.setSpacing(6)
        right.addWidget(self.totals)
        right.addWidget(self.invoice_hint)
        right.addWidget(self.invoice_button)
        side = QWidget()
        side.setFixedWidth(380)
        side.setLayout(right)
        right.setContentsMargins(0, 0, 0, 0)
        bottom = QHBoxLayout()
        bottom.setSpacing(14)
        bottom.addWidget(self.intake, 1)
        bottom.addWidget(side, 0)
        return bottom

    # --- loading -----------------------------------------------------------------------------------------

    def load(self, order_id: int) -> None:
        """Load the order, the mechanics and the AW price in the background."""
        self._generation += 1
        generation = self._generation
        services = self.ctx.services

        def fetch() -> tuple[WorkOrderDTO, list[MechanicDTO], Decimal]:
            return services.work_orders.get(order_id), services.settings.mechanics(), services.settings.get().aw_price

        self.ctx.query(fetch, lambda result: self._loaded(generation, *result), parent=self)

    def reload(self) -> None:
        """Load the shown order again (after changes elsewhere)."""
        if self.order is not None:
            self.load(self.order.id)

    def _loaded(self, generation: int, order: WorkOrderDTO, mechanics: list[MechanicDTO], aw_price: Decimal) -> None:
        if generation != self._generation:
            return
        self.table.mechanics, self.table.aw_price = mechanics, aw_price
        self.error.hide()
        self.set_order(order)

    # --- display -----------------------------------------------------------------------------------------

    def set_order(self, order: WorkOrderDTO) -> None:
        """Show ``order`` everywhere: header, banner, lines, intake, totals, what may be done next."""
        self.order = order
        editable = order.status in EDITABLE
        self.header.set_order(order)
        self.banner.set_order(order)
        self.lines.set_lines(order.lines, editable=editable)
        self.intake.set_order(order)
        self.totals.set_totals(order.totals)
        limit = order.approval_limit_gross
        over_limit = limit is not None and order.totals.gross > limit and order.status in EDITABLE
        if over_limit:
            self.limit_hint.setText(
                _("Mehr als {limit} brutto – vor weiteren Arbeiten den Kunden anrufen{phone}.").format(
                    limit=money(limit), phone=f": {order.approval_phone}" if order.approval_phone else ""
                )
            )
        self.limit_hint.setVisible(over_limit)
        self._update_invoice_button(order)

    def _update_invoice_button(self, order: WorkOrderDTO) -> None:
        ready = order.status == "completed" and not order.overrun.blocked
        self.invoice_button.setEnabled(ready)
        self.invoice_button.setVisible(order.status not in ("invoiced", "cancelled"))
        if order.status == "invoiced":
            hint = _("Abgerechnet – die Rechnung steht unter „Rechnungen“ (Alt+3).")
        elif order.status == "cancelled":
            hint = _("Der Auftrag ist storniert.")
        elif order.overrun.blocked:
            hint = _("Abrechnen erst nach Zustimmung des Kunden (roter Hinweis oben).")
        elif order.status != "completed":
            hint = _("Abrechnen, sobald der Auftrag fertig gemeldet ist.")
        else:
            hint = _("Bereit zur Abrechnung: {gross} brutto.").format(gross=formatting.money(order.totals.gross))
        self.invoice_hint.setText(hint)

    def _selection_changed(self) -> None:
        line = self.table.current_line()
        editable = self.order is not None and self.order.status in EDITABLE
        self.confirm_button.setVisible(editable and line is not None and line.proposed)

    # --- mutations ---------------------------------------------------------------------------------------

    def _run(self, fn: Any) -> None:
        self.error.hide()
        self.ctx.mutate(fn, self._mutated, parent=self, initiator=self, on_error=self._failed)

    def _mutated(self, result: Any) -> None:
        order = result[0] if isinstance(result, tuple) else result
        if isinstance(order, WorkOrderDTO):
            self.set_order(order)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, WorkshopError):
            self.error.setText(exc.message)
            self.error.show()
            return
        show_error(parent=self, exc=exc)

    def run_action(self, action: str) -> None:
        """A status button: Annehmen, Starten, Fertigmelden, Wieder öffnen, Stornieren (asks first)."""
        if self.order is None:
            return
        orders, order_id = self.ctx.services.work_orders, self.order.id
        step = {
            "open": orders.open,
            "start": orders.start,
            "complete": orders.complete,
            "reopen": orders.reopen,
            "cancel": orders.cancel,
        }[action]
        if action == "cancel":
            confirm(
                self,
                self,
                _("Auftrag stornieren"),
                _("Auftrag {number} wirklich stornieren? Er bleibt mit dem Status „Storniert“ erhalten.").format(
                    number=self.order.number
                ),
                _("Stornieren"),
                lambda: self._run(lambda: step(order_id)),
            )
            return
        self._run(lambda: step(order_id))

    def add_service(self, service: ServiceDTO) -> None:
        """Append a catalogue service (AW or fixed price from the catalogue)."""
        if self.order is not None:
            target, service_id = order_target(self.ctx.services, self.order.id), service.id
            self._run(lambda: target.add_service(service_id))

    def open_line_dialog(self, kind: str) -> LineDialog | None:
        """Teil, Austauschteil, Gebühr, Rabatt or Arbeit: the small line dialog."""
        if self.order is None or self.order.status not in EDITABLE:
            return None
        dialog = LineDialog(self.ctx, order_target(self.ctx.services, self.order.id), kind, parent=self)
        dialog.saved.connect(self.set_order)
        return open_dialog(self, dialog)

    def edit_line(self, line: LineDTO) -> LineDialog | None:
        """Double-click or Enter on a line: change it in the line dialog."""
        if self.order is None or self.order.status not in EDITABLE:
            return None
        dialog = LineDialog(self.ctx, order_target(self.ctx.services, self.order.id), line.kind, line, parent=self)
        dialog.saved.connect(self.set_order)
        return open_dialog(self, dialog)

    def remove_line(self, line: LineDTO | None = None) -> None:
        """Remove ``line`` or the selected line (Entf)."""
        line = line or self.table.current_line()
        if line is not None and self.remove_button.isEnabled():
            orders, line_id = self.ctx.services.work_orders, line.id
            self._run(lambda: orders.remove_line(line_id))

    def confirm_line(self) -> None:
        """A proposed line becomes a normal line."""
        line = self.table.current_line()
        if line is not None and line.proposed:
            orders, line_id = self.ctx.services.work_orders, line.id
            self._run(lambda: orders.confirm_line(line_id))

    def assign_mechanic(self, line_id: int, mechanic_id: int | None) -> None:
        """The Monteur cell was changed."""
        orders = self.ctx.services.work_orders
        self._run(lambda: orders.assign_mechanic(line_id, mechanic_id))

    def record_actual_aw(self, line_id: int, text: str) -> None:
        """The AW ist cell was typed ("" clears it)."""
        orders = self.ctx.services.work_orders
        self._run(lambda: orders.record_actual_aw(line_id, text or None))

    def save_intake(self, intake: Intake) -> None:
        """ "Speichern" in the intake panel: the service checks like at creation; errors under the fields."""
        if self.order is None:
            return
        orders, order_id = self.ctx.services.work_orders, self.order.id
        self.error.hide()
        self.ctx.mutate(
            lambda: orders.update_intake(order_id, intake),
            self._intake_saved,
            parent=self,
            initiator=self,
            on_error=self._intake_failed,
        )

    def _intake_saved(self, result: Any) -> None:
        self.set_order(result[0])
        self.intake.saved(result[0])  # last: it says "Gespeichert."

    def _intake_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError) and self.intake.show_error(exc.field or "", exc.message):
            return
        self._failed(exc)

    def record_approval(self) -> ApprovalDialog | None:
        """ "Zustimmung erfassen": channel and note; time and user are set by the app."""
        if self.order is None:
            return None
        dialog = ApprovalDialog(self.ctx, self.order, self)
        dialog.saved.connect(self.set_order)
        return open_dialog(self, dialog)

    def create_invoice(self) -> None:
        """Draft from the order, then the preview with "Festschreiben"."""
        if self.order is None or not self.invoice_button.isEnabled() or not self.invoice_button.isVisible():
            return
        from ui.views.invoices.preview import InvoicePreviewDialog

        invoices, settings, order = self.ctx.services.invoices, self.ctx.services.settings, self.order

        def draft() -> Any:
            return invoices.create_draft_from_order(order.id, user=settings.get().current_user)

        def created(result: Any) -> None:
            dialog = InvoicePreviewDialog(self.ctx, result[0], order=order, parent=self)
            dialog.finalized.connect(lambda _number: self.reload())
            open_dialog(self, dialog)

        self.error.hide()
        self.ctx.mutate(draft, created, parent=self, initiator=self, on_error=self._failed)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Esc goes back to the list (the catalogue search handles its own Esc first)."""
        if event.key() == Qt.Key.Key_Escape:
            self.search.close_results()
            self.back_requested.emit()
            return
        super().keyPressEvent(event)
