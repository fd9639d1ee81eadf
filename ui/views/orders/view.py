"""The "Aufträge" mode of the Theke tab: the order list and the KVA list (switch "Aufträge | Kostenvoranschläge"
at the top of both), and the order or KVA editor in their place when one opens."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from app.changes import Changes
from ui.context import UiContext
from ui.views.estimates.editor import EstimateEditor
from ui.views.estimates.list import EstimatesList
from ui.views.orders.editor import OrderEditor
from ui.views.orders.list import OrdersList


class OrdersPage(QWidget):
    """Lists ↔ editors; ``customer_requested``/``vehicle_requested`` ask the counter to show a card."""

    customer_requested = Signal(int)
    vehicle_requested = Signal(int)
    new_requested = Signal()
    new_estimate_requested = Signal()

    PAGE_LIST, PAGE_EDITOR, PAGE_ESTIMATES, PAGE_ESTIMATE = range(4)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.list = OrdersList(ctx)
        self.editor = OrderEditor(ctx)
        self.estimates = EstimatesList(ctx)
        self.estimate_editor = EstimateEditor(ctx)
        self.stack = QStackedWidget()
        for page in (self.list, self.editor, self.estimates, self.estimate_editor):
            self.stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.list.order_activated.connect(self.open_order)
        self.list.new_requested.connect(self.new_requested)
        self.list.kind_requested.connect(lambda _kind: self.show_estimates())
        self.editor.back_requested.connect(self.show_list)
        self.editor.customer_requested.connect(self.customer_requested)
        self.editor.vehicle_requested.connect(self.vehicle_requested)
        self.editor.estimate_requested.connect(self.open_estimate)
        self.estimates.estimate_activated.connect(self.open_estimate)
        self.estimates.new_requested.connect(self.new_estimate_requested)
        self.estimates.kind_requested.connect(lambda _kind: self.show_list())
        self.estimate_editor.back_requested.connect(self.show_estimates)
        self.estimate_editor.customer_requested.connect(self.customer_requested)
        self.estimate_editor.vehicle_requested.connect(self.vehicle_requested)
        self.estimate_editor.order_requested.connect(self.open_order)
        ctx.bus.operation_did_execute.connect(self._on_changes)

    def open_order(self, order_id: int) -> None:
        """Show the order in the editor."""
        self.editor.load(order_id)
        self.stack.setCurrentIndex(self.PAGE_EDITOR)
        self.editor.search.setFocus()

    def open_estimate(self, estimate_id: int) -> None:
        """Show the KVA in its editor."""
        self.estimate_editor.load(estimate_id)
        self.stack.setCurrentIndex(self.PAGE_ESTIMATE)
        self.estimate_editor.search.setFocus()

    def show_list(self) -> None:
        """Back to the order list (it refreshes when shown)."""
        self.stack.setCurrentIndex(self.PAGE_LIST)
        self.list.load()
        self.list.focus()

    def show_estimates(self) -> None:
        """The KVA list (it refreshes when shown)."""
        self.stack.setCurrentIndex(self.PAGE_ESTIMATES)
        self.estimates.load()
        self.estimates.focus()

    def focus(self) -> None:
        """Focus what is on screen: the catalogue search of an editor or the list's search box."""
        page = self.stack.currentIndex()
        if page == self.PAGE_EDITOR:
            self.editor.search.setFocus()
        elif page == self.PAGE_ESTIMATE:
            self.estimate_editor.search.setFocus()
        elif page == self.PAGE_ESTIMATES:
            self.estimates.focus()
        else:
            self.list.focus()

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        # An editor shows its own mutations already; others (another dialog, F5) reload it.
        if not (changes.orders or changes.invoices or changes.settings) or not self.isVisible():
            return
        page = self.stack.currentIndex()
        if page == self.PAGE_EDITOR:
            if initiator is not self.editor and self.editor.dialog is None:
                self.editor.reload()
        elif page == self.PAGE_ESTIMATE:
            if initiator is not self.estimate_editor and self.estimate_editor.dialog is None:
                self.estimate_editor.reload()
        elif page == self.PAGE_ESTIMATES:
            self.estimates.load()
        else:
            self.list.load()
