"""The list of work orders: filter by status, search by number, plate or customer, double-click opens.

The rows come from the one-query read model ``app.services.order_queries`` (no lines, no totals loaded);
the search filters them in memory while typing. The switch at the top leads to the KVA list.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import formatting
from app.i18n import N_, _
from app.services.order_queries import OrderRow, order_rows
from app.services.work_orders import OPEN_STATUSES
from ui.context import UiContext
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.orders.segments import SegmentedSwitch
from ui.views.orders.style import ORDER_STATUS_COLOURS

# Filter → the statuses it shows (None: all). "Laufend" is what the counter works on today.
STATUS_FILTERS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "running": (N_("Laufend"), tuple(OPEN_STATUSES)),
    "draft": (N_("Entwurf"), ("draft",)),
    "in_progress": (N_("In Arbeit"), ("open", "in_progress")),
    "completed": (N_("Fertig"), ("completed",)),
    "invoiced": (N_("Abgerechnet"), ("invoiced",)),
    "cancelled": (N_("Storniert"), ("cancelled",)),
    "all": (N_("Alle"), None),
}
HEADERS = (  # the customer's wish says at a glance what the car is here for
    N_("Auftrag"),
    N_("Datum"),
    N_("Kennzeichen"),
    N_("Kunde"),
    N_("Status"),
    N_("Pos."),
    N_("KVA"),
    N_("Kundenwunsch"),
)
DOCUMENT_KINDS = (
    ("orders", N_("Aufträge"), N_("Werkstattaufträge (Alt+2)")),
    ("estimates", N_("Kostenvoranschläge"), N_("Kostenvoranschläge (KVA) – neu mit Strg+K beim Fahrzeug oder Kunden")),
)


def document_switch(current: str) -> SegmentedSwitch:
    """ "Aufträge | Kostenvoranschläge" at the top of both lists; ``current`` is checked."""
    switch = SegmentedSwitch()
    switch.setObjectName("documentSwitch")
    for key, text, tip in DOCUMENT_KINDS:
        switch.add(key, _(text), _(tip))
    switch.set_current(current)
    return switch


class OrdersList(QWidget):
    """``order_activated`` carries the id of the order to open; ``new_requested`` asks for a new one."""

    order_activated = Signal(int)
    new_requested = Signal()
    kind_requested = Signal(str)  # "estimates": show the KVA list

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.orders: list[OrderRow] = []
        self.shown: list[OrderRow] = []
        self._generation = 0
        self.kinds = document_switch("orders")
        self.kinds.changed.connect(self._kind_changed)
        self.filters = SegmentedSwitch()
        for key, (text, _statuses) in STATUS_FILTERS.items():
            self.filters.add(key, _(text))
        self.filters.changed.connect(lambda _key: self.load())
        self.search = QLineEdit()
        self.search.setObjectName("orderSearch")
        self.search.setPlaceholderText(_("Auftragsnr., Kennzeichen, Kunde …"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(280)
        self.search.textChanged.connect(lambda _text: self._show())
        self.search.returnPressed.connect(self._open_current)
        self.new_button = QPushButton(_("Neuer Auftrag (F2)"))
        self.new_button.setToolTip(_("Neuer Auftrag für ein Fahrzeug – erst das Fahrzeug suchen, dann F2"))
        self.new_button.clicked.connect(self.new_requested)
        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(self.kinds)
        top.addSpacing(12)
        top.addWidget(self.filters)
        top.addStretch(1)
        top.addWidget(self.search)
        top.addWidget(self.new_button)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("orderTable")
        self.table.setHorizontalHeaderLabels([_(h) for h in HEADERS])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(len(HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda index: self._open_row(index.row()))
        self.table.activated.connect(lambda index: self._open_row(index.row()))
        self.empty = QLabel("")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 12pt; padding: 40px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)

    def _kind_changed(self, key: str) -> None:
        self.kinds.set_current("orders")  # this list stays "Aufträge"; the page shows the other one
        if key != "orders":
            self.kind_requested.emit(key)

    def load(self) -> None:
        """Query the rows of the chosen status filter in the background (one query)."""
        self._generation += 1
        generation = self._generation
        db = self.ctx.services.db
        statuses = STATUS_FILTERS[self.filters.current()][1]
        self.ctx.query(
            lambda: order_rows(db, status=statuses), lambda rows: self._loaded(generation, rows), parent=self
        )

    def _loaded(self, generation: int, orders: list[OrderRow]) -> None:
        if generation == self._generation:
            self.orders = orders
            self._show()

    def _show(self) -> None:
        text = self.search.text()
        self.shown = [order for order in self.orders if order.matches(text)]
        self.table.setRowCount(len(self.shown))
        for row, order in enumerate(self.shown):
            status = QTableWidgetItem(order.status_label)
            background, foreground = ORDER_STATUS_COLOURS.get(order.status, ("#ffffff", "#212121"))
            status.setBackground(QColor(background))
            status.setForeground(QColor(foreground))
            count = QTableWidgetItem(str(order.line_count))
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            number = QTableWidgetItem(order.number)
            font = number.font()
            font.setBold(True)
            number.setFont(font)
            cells = (
                number,
                QTableWidgetItem(formatting.date(order.date_of_service)),
                QTableWidgetItem(order.plate),
                QTableWidgetItem(order.customer_name),
                status,
                count,
                QTableWidgetItem(order.estimate_number),
                QTableWidgetItem(" ".join(order.customer_wishes.split())),
            )
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
        if self.shown:
            self.table.selectRow(0)
        self.empty.setText(
            _("Keine Aufträge gefunden.")
            if self.orders
            else _("Keine Aufträge – neue Aufträge beginnen beim Fahrzeug (F2).")
        )
        self.empty.setVisible(not self.shown)
        self.table.setVisible(bool(self.shown))

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self.shown):
            self.order_activated.emit(self.shown[row].id)

    def _open_current(self) -> None:
        self._open_row(self.table.currentRow())

    def focus(self) -> None:
        """Cursor into the search box."""
        self.search.setFocus()
        self.search.selectAll()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Esc clears the search and stays here."""
        if event.key() == Qt.Key.Key_Escape:
            self.search.clear()
            self.focus()
            return
        super().keyPressEvent(event)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Refresh whenever the list comes into view."""
        super().showEvent(event)
        self.load()
