"""The vehicle strip of the Diagnose tab: which car is on the lift (plate, make/model, VIN), the open order
the results go to, and a search box to pick another vehicle (plate, name, VIN) without leaving the tab."""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QCompleter, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.i18n import _
from app.services.search import SearchHit
from app.services.vehicles import VehicleDTO
from app.services.work_orders import EDITABLE, WorkOrderDTO
from ui.context import UiContext
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.counter.vehicle_card import PLATE_CSS

SEARCH_DELAY_MS = 200


class VehicleBar(QWidget):
    """Vehicle, order and vehicle search in one row."""

    vehicle_chosen = Signal(int)  # vehicle id
    order_changed = Signal()

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.plate = QLabel(_("kein Fahrzeug"))
        self.plate.setMinimumWidth(150)
        self.plate.setObjectName("diagPlate")
        self.plate.setStyleSheet(PLATE_CSS.replace("22pt", "17pt"))
        self.car = QLabel(_("Kein Fahrzeug gewählt"))
        self.car.setObjectName("diagCar")
        self.car.setStyleSheet("font-size: 13pt; font-weight: 600; color: #263238;")
        self.car.setWordWrap(True)  # long owner names must not widen the window beyond 1366 px
        self.vin = QLabel(_("Rechts suchen oder auf der Theke beim Fahrzeug „Diagnose“ drücken."))
        self.vin.setObjectName("diagVin")
        self.vin.setWordWrap(True)
        self.vin.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.vin.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.car)
        titles.addWidget(self.vin)

        self.order = QComboBox()
        self.order.setObjectName("diagOrder")
        self.order.setMinimumWidth(240)
        self.order.setToolTip(_("Scans, Aufzeichnungen und Vorschläge kommen in diesen Auftrag"))
        self.order.currentIndexChanged.connect(lambda _i: self.order_changed.emit())
        order_box = QVBoxLayout()
        order_box.setSpacing(2)
        order_label = QLabel(_("Auftrag"))
        order_label.setStyleSheet(f"color: {SECONDARY_TEXT};")
        order_box.addWidget(order_label)
        order_box.addWidget(self.order)

        self.search = QLineEdit()
        self.search.setObjectName("diagSearch")
        self.search.setPlaceholderText(_("Anderes Fahrzeug: Kennzeichen, Name oder FIN …"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(280)
        self._hits: dict[str, int] = {}
        self._model = QStringListModel(self)
        completer = QCompleter(self._model, self)
        completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        completer.activated.connect(self._picked)
        self.search.setCompleter(completer)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search_now)
        self.search.textEdited.connect(lambda _t: self._timer.start())
        self.search.returnPressed.connect(self._enter)
        search_box = QVBoxLayout()
        search_box.setSpacing(2)
        search_label = QLabel(_("Fahrzeug wählen"))
        search_label.setStyleSheet(f"color: {SECONDARY_TEXT};")
        search_box.addWidget(search_label)
        search_box.addWidget(self.search)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 4)
        layout.setSpacing(14)
        layout.addWidget(self.plate, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addLayout(titles, 1)
        layout.addLayout(order_box)
        layout.addLayout(search_box)
        self.set_orders([])

    # --- vehicle and orders ------------------------------------------------------------------------

    def show_vehicle(self, vehicle: VehicleDTO | None) -> None:
        """Plate, car and VIN of the chosen vehicle."""
        if vehicle is None:
            self.plate.setText(_("kein Fahrzeug"))
            self.car.setText(_("Kein Fahrzeug gewählt"))
            self.vin.setText(_("Rechts suchen oder auf der Theke beim Fahrzeug „Diagnose“ drücken."))
            self.vin.setStyleSheet(f"color: {SECONDARY_TEXT};")
            return
        d = vehicle.data
        self.plate.setText(d.plate or _("ohne Kennzeichen"))
        owner = f" · {vehicle.customer_name}" if vehicle.customer_name else ""
        self.car.setText((" ".join(p for p in (d.make, d.model) if p) or _("Fahrzeug")) + owner)
        self.vin.setText(
            _("FIN {vin}").format(vin=d.vin) if d.vin else _("FIN unbekannt – wird beim Verbinden gelesen")
        )
        monospace = " font-family: monospace;" if d.vin else ""
        self.vin.setStyleSheet(f"color: {SECONDARY_TEXT};{monospace}")

    def set_orders(self, orders: list[WorkOrderDTO]) -> None:
        """The vehicle's open orders; editable ones can take suggestions. The newest editable is selected."""
        previous = self.order_id()  # a reload (the order changed) keeps the mechanic's choice
        self.order.blockSignals(True)
        self.order.clear()
        self.order.addItem(_("ohne Auftrag"), None)
        chosen = 0
        for order in orders:
            self.order.addItem(f"{order.number} ({order.status_label})", order.id)
            if chosen == 0 and order.status in EDITABLE:
                chosen = self.order.count() - 1
        kept = self.order.findData(previous) if previous is not None else -1
        chosen = kept if kept > 0 else chosen
        self.order.setCurrentIndex(chosen)
        self.order.blockSignals(False)
        self.order.setEnabled(bool(orders))
        self.order_changed.emit()

    def order_id(self) -> int | None:
        """The chosen order, or None."""
        data = self.order.currentData()
        return int(data) if data is not None else None

    def order_label(self) -> str:
        """The chosen order's number ("" when none)."""
        return self.order.currentText().split(" (")[0] if self.order_id() is not None else ""

    # --- search ------------------------------------------------------------------------------------

    def search_now(self) -> None:
        """Search vehicles for the typed text in the background."""
        text = self.search.text().strip()
        if len(text) < 2:
            return
        search = self.ctx.services.search

        def fetch() -> list[SearchHit]:
            return [hit for hit in search.search(text, limit=20) if hit.vehicle_id is not None]

        self.ctx.query(fetch, self._found, parent=self)

    def _found(self, hits: list[SearchHit]) -> None:
        self._hits = {}
        for hit in hits:
            title = f"{hit.title} – {hit.subtitle}" if hit.subtitle else hit.title
            if hit.vehicle_id is not None:
                self._hits.setdefault(title, hit.vehicle_id)
        self._model.setStringList(list(self._hits))
        if self._hits and self.search.hasFocus():
            self.search.completer().complete()

    def _picked(self, text: str) -> None:
        vehicle_id = self._hits.get(text)
        if vehicle_id is not None:
            self.search.clear()
            self.vehicle_chosen.emit(vehicle_id)

    def _enter(self) -> None:
        if len(self._hits) == 1:
            self._picked(next(iter(self._hits)))
