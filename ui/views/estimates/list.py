"""The list of Kostenvoranschläge in the "Aufträge" mode: filter by status, search by number, plate or
customer, expired ones marked; double-click or Enter opens the KVA editor."""

from __future__ import annotations

import datetime as dt
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
from app.calendar_rules import WORKSHOP_TZ
from app.i18n import N_, _
from app.services.catalog import fold
from app.services.estimates import EstimateDTO
from ui.context import UiContext
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.estimates.header import ESTIMATE_STATUS_COLOURS, EXPIRED_COLOURS
from ui.views.orders.list import document_switch
from ui.views.orders.segments import SegmentedSwitch
from ui.views.orders.style import money

# Filter → the statuses it shows (None: all). "Offen" is what still waits for the customer.
STATUS_FILTERS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "open": (N_("Offen"), ("draft", "sent")),
    "accepted": (N_("Angenommen"), ("accepted",)),
    "rejected": (N_("Abgelehnt"), ("rejected",)),
    "all": (N_("Alle"), None),
}
HEADERS = (
    N_("KVA"),
    N_("Datum"),
    N_("Kennzeichen"),
    N_("Kunde"),
    N_("Status"),
    N_("Gültig bis"),
    N_("Brutto"),
    N_("Auftrag"),
)


def created_on(estimate: EstimateDTO) -> dt.date:
    """The workshop's calendar day the KVA was made (stored in UTC)."""
    return estimate.created_at.replace(tzinfo=dt.UTC).astimezone(WORKSHOP_TZ).date()


def _search_text(estimate: EstimateDTO) -> str:
    plate = estimate.plate.replace("-", "").replace(" ", "")
    return fold(f"{estimate.number} {estimate.plate} {plate} {estimate.customer_name} {estimate.work_order_number}")


class EstimatesList(QWidget):
    """``estimate_activated`` carries the id to open; ``new_requested`` asks for a new KVA (Strg+K)."""

    estimate_activated = Signal(int)
    new_requested = Signal()
    kind_requested = Signal(str)  # "orders": back to the order list

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.estimates: list[EstimateDTO] = []
        self.shown: list[EstimateDTO] = []
        self._generation = 0
        self.kinds = document_switch("estimates")
        self.kinds.changed.connect(self._kind_changed)
        self.filters = SegmentedSwitch()
        for key, (text, _statuses) in STATUS_FILTERS.items():
            self.filters.add(key, _(text))
        self.filters.changed.connect(lambda _key: self._show())
        self.search = QLineEdit()
        self.search.setObjectName("estimateSearch")
        self.search.setPlaceholderText(_("KVA-Nr., Kennzeichen, Kunde …"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(260)
        self.search.textChanged.connect(lambda _text: self._show())
        self.search.returnPressed.connect(self._open_current)
        self.new_button = QPushButton(_("Neuer KVA (Strg+K)"))
        self.new_button.setObjectName("newEstimateButton")
        self.new_button.setToolTip(_("Neuer Kostenvoranschlag – erst Fahrzeug oder Kunde suchen, dann Strg+K"))
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
        self.table.setObjectName("estimateTable")
        self.table.setHorizontalHeaderLabels([_(h) for h in HEADERS])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
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
        self.kinds.set_current("estimates")
        if key != "estimates":
            self.kind_requested.emit(key)

    def load(self) -> None:
        """Query all KVAs in the background (the filters and the search work on them in memory)."""
        self._generation += 1
        generation = self._generation
        estimates = self.ctx.services.estimates
        self.ctx.query(estimates.list, lambda rows: self._loaded(generation, rows), parent=self)

    def _loaded(self, generation: int, estimates: list[EstimateDTO]) -> None:
        if generation == self._generation:
            self.estimates = estimates
            self._show()

    def _show(self) -> None:
        statuses = STATUS_FILTERS[self.filters.current()][1]
        words = fold(self.search.text()).split()
        self.shown = [
            e
            for e in self.estimates
            if (statuses is None or e.status in statuses) and all(w in _search_text(e) for w in words)
        ]
        today = self.ctx.today()
        self.table.setRowCount(len(self.shown))
        for row, estimate in enumerate(self.shown):
            for column, item in enumerate(self._cells(estimate, today)):
                self.table.setItem(row, column, item)
        if self.shown:
            self.table.selectRow(0)
        self.empty.setText(
            _("Keine Kostenvoranschläge gefunden.")
            if self.estimates
            else _("Noch keine Kostenvoranschläge – beim Fahrzeug oder Kunden mit Strg+K anlegen.")
        )
        self.empty.setVisible(not self.shown)
        self.table.setVisible(bool(self.shown))

    @staticmethod
    def _cells(estimate: EstimateDTO, today: dt.date) -> tuple[QTableWidgetItem, ...]:
        expired = estimate.is_expired(today)
        status = QTableWidgetItem(estimate.status_label)
        background, foreground = ESTIMATE_STATUS_COLOURS.get(estimate.status, ("#ffffff", "#212121"))
        status.setBackground(QColor(background))
        status.setForeground(QColor(foreground))
        valid_text = formatting.date(estimate.valid_until)
        valid = QTableWidgetItem(_("{date} – abgelaufen").format(date=valid_text) if expired else valid_text)
        if expired:
            valid.setBackground(QColor(EXPIRED_COLOURS[0]))
            valid.setForeground(QColor(EXPIRED_COLOURS[1]))
        gross = QTableWidgetItem(money(estimate.totals.gross))
        gross.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        number = QTableWidgetItem(estimate.number)
        font = number.font()
        font.setBold(True)
        number.setFont(font)
        return (
            number,
            QTableWidgetItem(formatting.date(created_on(estimate))),
            QTableWidgetItem(estimate.plate),
            QTableWidgetItem(estimate.customer_name),
            status,
            valid,
            gross,
            QTableWidgetItem(estimate.work_order_number),
        )

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self.shown):
            self.estimate_activated.emit(self.shown[row].id)

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
