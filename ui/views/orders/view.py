"""The "Aufträge" mode of the Theke tab: the order list, and the order editor in its place when one opens."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from app.changes import Changes
from ui.context import UiContext
from ui.views.orders.editor import OrderEditor
from ui.views.orders.list import OrdersList


class OrdersPage(QWidget):
    """List ↔ editor; ``customer_requested``/``vehicle_requested`` ask the counter to show a card."""

    customer_requested = Signal(int)
    vehicle_requested = Signal(int)
    new_requested = Signal()

    PAGE_LIST, PAGE_EDITOR = range(2)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.list = OrdersList(ctx)
        self.editor = OrderEditor(ctx)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.editor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.list.order_activated.connect(self.open_order)
        self.list.new_requested.connect(self.new_requested)
        self.editor.back_requested.connect(self.show_list)
        self.editor.customer_requested.connect(self.customer_requested)
        self.editor.vehicle_requested.connect(self.vehicle_requested)
        ctx.bus.operation_did_execute.connect(self._on_changes)

    def open_order(self, order_id: int) -> None:
        """Show the order in the editor."""
        self.editor.load(order_id)
        self.stack.setCurrentIndex(self.PAGE_EDITOR)
        self.editor.search.setFocus()

    def show_list(self) -> None:
        """Back to the list (it refreshes when shown)."""
        self.stack.setCurrentIndex(self.PAGE_LIST)
        self.list.load()
        self.list.focus()

    def focus(self) -> None:
        """Focus what is on screen: the catalogue search of the editor or the list's search box."""
        if self.stack.currentIndex() == self.PAGE_EDITOR:
            self.editor.search.setFocus()
        else:
            self.list.focus()

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        # The editor shows its own mutations already; others (another dialog, F5) reload it.
        if not (changes.orders or changes.invoices or changes.settings) or not self.isVisible():
            return
        if self.stack.currentIndex() == self.PAGE_EDITOR:
            if initiator is not self.editor and self.editor.dialog is None:
                self.editor.reload()
        else:
            self.list.load()
