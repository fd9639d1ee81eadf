"""The vehicle card: plate, car, VIN, HSN/TSN, owner, HU/AU badge, mileage, open orders and the history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import formatting
from app.i18n import N_, _
from app.services.vehicles import HistoryEntry, VehicleDTO
from app.services.work_orders import WorkOrderDTO
from ui.context import UiContext
from ui.views.counter.style import SECONDARY_TEXT, html_escape, hu_badge_css, km
from ui.views.orders.style import ORDER_STATUS_COLOURS, money

HISTORY_KINDS = {
    "visit": N_("Besuch"),
    "hu": N_("HU/AU"),
    "note": N_("Notiz"),
    "owner": N_("Halter"),
    "km": N_("km-Stand"),
    "obd": N_("Diagnose"),
    "dtc_cleared": N_("Fehler gelöscht"),
}
PLATE_CSS = (
    "QLabel { font-size: 22pt; font-weight: 700; letter-spacing: 1px; color: #111; background: #ffffff; "
    "border: 2px solid #111; border-left: 14px solid #1d4ed8; border-radius: 5px; padding: 2px 12px; }"
)


def history_time(entry: HistoryEntry) -> str:
    """Readings carry a date only; visits are local times; events are stored in UTC."""
    if entry.kind == "km":
        return formatting.date(entry.at.date())
    at = entry.at
    if entry.kind != "visit":
        from app.calendar_rules import WORKSHOP_TZ

        at = at.replace(tzinfo=dt.UTC).astimezone(WORKSHOP_TZ)
    return f"{at:%d.%m.%Y, %H:%M}"


class VehicleCard(QWidget):
    """Shows one vehicle; buttons for "Neuer Auftrag", "Kostenvoranschlag", "km erfassen", "HU eingetragen",
    "Diagnose" and "Bearbeiten"."""

    edit_requested = Signal(object)  # VehicleDTO
    mileage_requested = Signal(object)  # VehicleDTO
    hu_requested = Signal(object)  # VehicleDTO
    owner_activated = Signal(int)  # customer id
    order_activated = Signal(int)  # work order id
    new_order_requested = Signal()
    new_estimate_requested = Signal()
    diagnosis_requested = Signal(int)  # vehicle id: open the Diagnose tab for it
    load_failed = Signal()

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.vehicle: VehicleDTO | None = None
        self.vehicle_id: int | None = None
        self.open_orders: list[WorkOrderDTO] = []
        self._generation = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(12)
        layout.addLayout(self._build_header())
        layout.addLayout(self._build_boxes())
        self._build_orders(layout)
        self._build_history(layout)

    def _build_header(self) -> QHBoxLayout:
        self.plate = QLabel("")
        self.plate.setObjectName("vehiclePlate")
        self.plate.setStyleSheet(PLATE_CSS)
        self.plate.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.car = QLabel("")
        self.car.setObjectName("vehicleCar")
        self.car.setStyleSheet("font-size: 15pt; font-weight: 600; color: #263238;")
        self.car.setWordWrap(True)
        self.car_details = QLabel("")
        self.car_details.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.hu_badge = QLabel("")
        self.hu_badge.setObjectName("huBadge")
        self.owner = QLabel("")
        self.owner.setObjectName("vehicleOwner")
        self.owner.setTextFormat(Qt.TextFormat.RichText)
        self.owner.setWordWrap(True)
        self.owner.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.owner.linkActivated.connect(lambda link: self.owner_activated.emit(int(link.split(":")[1])))
        self.edit_button = QPushButton(_("Bearbeiten"))
        self.edit_button.setToolTip(_("Fahrzeugdaten bearbeiten (F4)"))
        self.edit_button.clicked.connect(lambda: self._emit_with_vehicle(self.edit_requested))
        self.new_order_button = QPushButton(_("Neuer Auftrag"))
        self.new_order_button.setObjectName("newOrderButton")
        self.new_order_button.setToolTip(_("Auftragsannahme für dieses Fahrzeug (F2)"))
        self.new_order_button.clicked.connect(self.new_order_requested)
        self.diagnosis_button = QPushButton(_("Diagnose"))
        self.diagnosis_button.setObjectName("diagnosisButton")
        self.diagnosis_button.setToolTip(_("Fehlerspeicher und Live-Daten dieses Fahrzeugs im Diagnose-Tab"))
        self.diagnosis_button.clicked.connect(
            lambda: self.diagnosis_requested.emit(self.vehicle.id) if self.vehicle is not None else None
        )
        self.new_estimate_button = QPushButton(_("Kostenvoranschlag"))
        self.new_estimate_button.setObjectName("newEstimateButton")
        self.new_estimate_button.setToolTip(_("Neuer Kostenvoranschlag für dieses Fahrzeug (Strg+K)"))
        self.new_estimate_button.clicked.connect(self.new_estimate_requested)

        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(self.car)
        titles.addWidget(self.car_details)
        titles.addSpacing(4)
        titles.addWidget(self.hu_badge, 0, Qt.AlignmentFlag.AlignLeft)
        titles.addSpacing(2)
        titles.addWidget(self.owner)
        header = QHBoxLayout()
        header.setSpacing(16)
        header.addWidget(self.plate, 0, Qt.AlignmentFlag.AlignTop)
        header.addLayout(titles, 1)
        header.addWidget(self.new_order_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.new_estimate_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.edit_button, 0, Qt.AlignmentFlag.AlignTop)
        return header

    def _build_boxes(self) -> QHBoxLayout:
        data_box = QGroupBox(_("Fahrzeugdaten"))
        data = QFormLayout(data_box)
        data.setHorizontalSpacing(16)
        self.fields: dict[str, QLabel] = {}
        for key, label in (
            ("vin", _("FIN")),
            ("hsn_tsn", _("HSN / TSN")),
            ("first_registration", _("Erstzulassung")),
            ("hu_due", _("HU/AU fällig")),
            ("notes", _("Notizen")),
        ):
            value = QLabel("")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = value
            data.addRow(label, value)
        self._data_form = data
        self.fields["vin"].setStyleSheet("font-family: monospace; font-size: 11pt;")

        km_box = QGroupBox(_("Kilometerstand"))
        km_layout = QVBoxLayout(km_box)
        self.mileage = QLabel("")
        self.mileage.setObjectName("vehicleMileage")
        self.mileage.setStyleSheet("font-size: 18pt; font-weight: 600;")
        self.mileage_button = QPushButton(_("km erfassen"))
        self.mileage_button.setToolTip(_("Aktuellen Kilometerstand eintragen"))
        self.mileage_button.clicked.connect(lambda: self._emit_with_vehicle(self.mileage_requested))
        self.hu_button = QPushButton(_("HU eingetragen"))
        self.hu_button.setToolTip(_("Bestandene HU/AU eintragen – die nächste ist 24 Monate später fällig"))
        self.hu_button.clicked.connect(lambda: self._emit_with_vehicle(self.hu_requested))
        km_layout.addWidget(self.mileage)
        km_buttons = QHBoxLayout()
        km_buttons.addWidget(self.mileage_button)
        km_buttons.addWidget(self.hu_button)
        # Here, not in the header: one more header button would widen the card beyond a 1366 px screen.
        km_buttons.addWidget(self.diagnosis_button)
        km_buttons.addStretch(1)
        km_layout.addLayout(km_buttons)
        km_layout.addStretch(1)
        boxes = QHBoxLayout()
        boxes.setSpacing(12)
        boxes.addWidget(data_box, 3)
        boxes.addWidget(km_box, 2)
        return boxes

    def _build_orders(self, layout: QVBoxLayout) -> None:
        self.orders_title = QLabel(_("Offene Aufträge"))
        self.orders_title.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.orders_table = QTableWidget(0, 5)
        self.orders_table.setObjectName("vehicleOrders")
        self.orders_table.setHorizontalHeaderLabels([_("Auftrag"), _("Datum"), _("Status"), _("Pos."), _("Brutto")])
        self.orders_table.verticalHeader().setVisible(False)
        self.orders_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.orders_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.orders_table.setToolTip(_("Doppelklick öffnet den Auftrag"))
        head = self.orders_table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.orders_table.doubleClicked.connect(lambda index: self._open_order(index.row()))
        self.orders_table.activated.connect(lambda index: self._open_order(index.row()))
        layout.addWidget(self.orders_title)
        layout.addWidget(self.orders_table)

    def _open_order(self, row: int) -> None:
        if 0 <= row < len(self.open_orders):
            self.order_activated.emit(self.open_orders[row].id)

    def _fill_orders(self, orders: list[WorkOrderDTO]) -> None:
        self.open_orders = orders
        self.orders_title.setText(_("Offene Aufträge ({n})").format(n=len(orders)))
        self.orders_table.setRowCount(len(orders))
        for row, order in enumerate(orders):
            status = QTableWidgetItem(order.status_label)
            background, foreground = ORDER_STATUS_COLOURS.get(order.status, ("#ffffff", "#212121"))
            status.setBackground(QColor(background))
            status.setForeground(QColor(foreground))
            gross = QTableWidgetItem(money(order.totals.gross))
            gross.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            cells = (
                QTableWidgetItem(order.number),
                QTableWidgetItem(formatting.date(order.date_of_service)),
                status,
                QTableWidgetItem(str(len(order.lines))),
                gross,
            )
            for column, item in enumerate(cells):
                self.orders_table.setItem(row, column, item)
        rows = max(1, min(len(orders), 3))
        self.orders_table.setFixedHeight(self.orders_table.horizontalHeader().height() + rows * 30 + 4)
        self.orders_title.setVisible(bool(orders))
        self.orders_table.setVisible(bool(orders))

    def _build_history(self, layout: QVBoxLayout) -> None:
        history_title = QLabel(_("Verlauf"))
        history_title.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.history = QTableWidget(0, 4)
        self.history.setObjectName("vehicleHistory")
        self.history.setHorizontalHeaderLabels([_("Datum"), _("Art"), _("Eintrag"), _("von")])
        self.history.verticalHeader().setVisible(False)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.setAlternatingRowColors(True)
        head = self.history.horizontalHeader()
        for column in (0, 1, 3):
            head.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(history_title)
        layout.addWidget(self.history, 1)

    def _emit_with_vehicle(self, signal: Any) -> None:
        if self.vehicle is not None:
            signal.emit(self.vehicle)

    # --- loading -------------------------------------------------------------------------------------

    def load(self, vehicle_id: int) -> None:
        """Load the vehicle and its history in the background."""
        self.vehicle_id = vehicle_id
        self._generation += 1
        generation = self._generation
        vehicles, orders = self.ctx.services.vehicles, self.ctx.services.work_orders

        def fetch() -> tuple[VehicleDTO, list[HistoryEntry], list[WorkOrderDTO]]:
            return vehicles.get(vehicle_id), vehicles.history(vehicle_id), orders.open_for_vehicle(vehicle_id)

        self.ctx.runner.run(fetch, lambda result: self._loaded(generation, *result), self._failed)

    def reload(self) -> None:
        """Load the shown vehicle again."""
        if self.vehicle_id is not None:
            self.load(self.vehicle_id)

    def _failed(self, exc: BaseException) -> None:
        from app.errors import NotFound
        from ui.errors import show_error

        if not isinstance(exc, NotFound):
            show_error(parent=self, exc=exc)
        self.load_failed.emit()

    def _loaded(
        self, generation: int, vehicle: VehicleDTO, history: list[HistoryEntry], orders: list[WorkOrderDTO]
    ) -> None:
        if generation != self._generation:
            return
        self.vehicle = vehicle
        self.show_vehicle(vehicle, history)
        self._fill_orders(orders)

    # --- display -------------------------------------------------------------------------------------

    def show_vehicle(self, vehicle: VehicleDTO, history: list[HistoryEntry]) -> None:
        """Fill the card."""
        d = vehicle.data
        self.plate.setText(d.plate or _("ohne Kennzeichen"))
        self.car.setText(" ".join(p for p in (d.make, d.model) if p) or _("Fahrzeug"))
        details = [
            _("Modelljahr {year}").format(year=vehicle.model_year) if vehicle.model_year else "",
            d.fuel,
            _("gewerblich genutzt") if d.business_use else "",
        ]
        self.car_details.setText(" · ".join(p for p in details if p))
        self.car_details.setVisible(bool(self.car_details.text()))
        self.hu_badge.setText(vehicle.hu_label)
        self.hu_badge.setStyleSheet(hu_badge_css(vehicle.hu_status))
        if d.customer_id is not None and vehicle.customer_name:
            self.owner.setText(
                _("Halter: {link}").format(
                    link=f'<a href="customer:{d.customer_id}">{html_escape(vehicle.customer_name)}</a>'
                )
            )
            self.owner.setToolTip(_("Kundenkarte öffnen"))
        else:
            self.owner.setText(_("ohne Halter"))
            self.owner.setToolTip("")
        hsn_tsn = " / ".join(p for p in (d.hsn, d.tsn) if p)
        values = {
            "vin": d.vin or "–",
            "hsn_tsn": hsn_tsn or "–",
            "first_registration": formatting.date(d.first_registration) if d.first_registration else _("unbekannt"),
            "hu_due": formatting.month(d.hu_due) if d.hu_due else _("unbekannt"),
            "notes": d.notes,
        }
        for key, label in self.fields.items():
            label.setText(values[key])
        self._data_form.setRowVisible(self.fields["notes"], bool(d.notes))
        self.mileage.setText(km(vehicle.last_mileage) or _("noch nicht erfasst"))
        self._fill_history(history)

    def _fill_history(self, history: list[HistoryEntry]) -> None:
        self.history.setRowCount(len(history))
        for row, entry in enumerate(history):
            text = entry.text
            if entry.kind == "km" and text.endswith(" km") and text[:-3].isdigit():
                text = km(int(text[:-3]))
            kind = HISTORY_KINDS.get(entry.kind)
            cells = (history_time(entry), _(kind) if kind else entry.kind, text, entry.user)
            for column, value in enumerate(cells):
                self.history.setItem(row, column, QTableWidgetItem(value))
