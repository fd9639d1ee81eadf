"""The customer card: name, number, address, contact data, reminder consents and the customer's vehicles."""

from __future__ import annotations

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

from app.i18n import N_, _
from app.services.customers import CustomerDTO
from app.services.vehicles import VehicleDTO
from ui.context import UiContext
from ui.views.counter.style import HU_COLOURS, SECONDARY_TEXT, hu_key, km, local_timestamp

CONSENT_CHANNELS = (("email", N_("E-Mail")), ("sms", N_("SMS")), ("phone", N_("Telefon")))


def _value_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class CustomerCard(QWidget):
    """Shows one customer; loads in the background and reloads when the data changes."""

    edit_requested = Signal(object)  # CustomerDTO
    add_vehicle_requested = Signal(object)  # CustomerDTO
    vehicle_activated = Signal(int)  # vehicle id
    new_order_requested = Signal()
    new_estimate_requested = Signal()
    load_failed = Signal()  # the customer is gone (e.g. restricted meanwhile)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.customer: CustomerDTO | None = None
        self.vehicles: list[VehicleDTO] = []
        self._generation = 0
        self._customer_id: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(12)
        layout.addLayout(self._build_header())
        layout.addLayout(self._build_boxes())
        self._build_table(layout)

    def _build_header(self) -> QHBoxLayout:
        self.name = QLabel("")
        self.name.setObjectName("customerName")
        self.name.setStyleSheet("font-size: 20pt; font-weight: 600; color: #263238;")
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name.setWordWrap(True)  # long company names must not widen the window
        self.number = QLabel("")
        self.number.setStyleSheet(f"font-size: 11pt; color: {SECONDARY_TEXT};")
        self.edit_button = QPushButton(_("Bearbeiten"))
        self.edit_button.setToolTip(_("Kundendaten bearbeiten (F4)"))
        self.edit_button.clicked.connect(lambda: self._emit_with_customer(self.edit_requested))
        self.add_vehicle_button = QPushButton(_("Fahrzeug hinzufügen"))
        self.add_vehicle_button.setToolTip(_("Neues Fahrzeug für diesen Kunden (Strg+Umschalt+N)"))
        self.add_vehicle_button.clicked.connect(lambda: self._emit_with_customer(self.add_vehicle_requested))
        self.new_order_button = QPushButton(_("Neuer Auftrag"))
        self.new_order_button.setObjectName("newOrderButton")
        self.new_order_button.setToolTip(_("Auftragsannahme für das markierte Fahrzeug dieses Kunden (F2)"))
        self.new_order_button.clicked.connect(self.new_order_requested)
        self.new_estimate_button = QPushButton(_("Kostenvoranschlag"))
        self.new_estimate_button.setObjectName("newEstimateButton")
        self.new_estimate_button.setToolTip(
            _("Neuer Kostenvoranschlag für das markierte Fahrzeug dieses Kunden (Strg+K)")
        )
        self.new_estimate_button.clicked.connect(self.new_estimate_requested)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.name)
        titles.addWidget(self.number)
        header.addLayout(titles, 1)
        header.addWidget(self.new_order_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.new_estimate_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.edit_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.add_vehicle_button, 0, Qt.AlignmentFlag.AlignTop)
        return header

    def _build_boxes(self) -> QHBoxLayout:
        self.fields: dict[str, QLabel] = {}
        contact_box = QGroupBox(_("Kontakt"))
        contact = QFormLayout(contact_box)
        contact.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        contact.setHorizontalSpacing(16)
        for key, label in (
            ("address", _("Anschrift")),
            ("phone", _("Telefon")),
            ("mobile", _("Mobil")),
            ("email", _("E-Mail")),
            ("vat_id", _("USt-IdNr.")),
            ("contacts", _("Ansprechpartner")),
            ("notes", _("Notizen")),
        ):
            self.fields[key] = _value_label()
            contact.addRow(label, self.fields[key])
        self._contact_form = contact
        consent_box = QGroupBox(_("Einwilligung für Erinnerungen"))
        consent = QFormLayout(consent_box)
        consent.setHorizontalSpacing(16)
        self.consents: dict[str, QLabel] = {}
        for channel, label in CONSENT_CHANNELS:
            self.consents[channel] = _value_label()
            consent.addRow(_(label), self.consents[channel])
        consent_note = QLabel(_("Ändern über „Bearbeiten“; jede Änderung wird mit Zeitpunkt gespeichert."))
        consent_note.setWordWrap(True)
        consent_note.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 9pt;")
        consent.addRow(consent_note)
        boxes = QHBoxLayout()
        boxes.setSpacing(12)
        boxes.addWidget(contact_box, 3)
        boxes.addWidget(consent_box, 2)
        return boxes

    def _build_table(self, layout: QVBoxLayout) -> None:
        self.vehicles_title = QLabel(_("Fahrzeuge"))
        self.vehicles_title.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("customerVehicles")
        self.table.setHorizontalHeaderLabels([_("Kennzeichen"), _("Fahrzeug"), _("HU/AU"), _("km-Stand")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.activated.connect(lambda index: self._open_vehicle(index.row()))
        self.table.doubleClicked.connect(lambda index: self._open_vehicle(index.row()))
        self.no_vehicles = QLabel(_("Noch kein Fahrzeug erfasst – „Fahrzeug hinzufügen“ legt eines an."))
        self.no_vehicles.setStyleSheet(f"color: {SECONDARY_TEXT};")
        layout.addWidget(self.vehicles_title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.no_vehicles)
        layout.addStretch(0)

    def _emit_with_customer(self, signal: Any) -> None:
        if self.customer is not None:
            signal.emit(self.customer)

    # --- loading -------------------------------------------------------------------------------------

    @property
    def customer_id(self) -> int | None:
        """The id of the customer shown (also while it loads)."""
        return self._customer_id

    def load(self, customer_id: int) -> None:
        """Load and show the customer and the vehicles in the background."""
        self._customer_id = customer_id
        self._generation += 1
        generation = self._generation
        services = self.ctx.services

        def fetch() -> tuple[CustomerDTO, list[VehicleDTO]]:
            return services.customers.get(customer_id), services.vehicles.for_customer(customer_id)

        self.ctx.runner.run(fetch, lambda result: self._loaded(generation, *result), self._failed)

    def reload(self) -> None:
        """Load the shown customer again."""
        if self.customer_id is not None:
            self.load(self.customer_id)

    def _failed(self, exc: BaseException) -> None:
        from app.errors import NotFound
        from ui.errors import show_error

        if not isinstance(exc, NotFound):
            show_error(parent=self, exc=exc)
        self.load_failed.emit()

    def _loaded(self, generation: int, customer: CustomerDTO, vehicles: list[VehicleDTO]) -> None:
        if generation != self._generation:
            return
        self.customer = customer
        self.vehicles = vehicles
        self.show_customer(customer, vehicles)

    # --- display -------------------------------------------------------------------------------------

    def show_customer(self, customer: CustomerDTO, vehicles: list[VehicleDTO]) -> None:
        """Fill every label and the vehicles table."""
        d = customer.data
        self.name.setText(customer.display_name)
        kind = _("Geschäftskunde") if d.kind == "business" else _("Privatkunde")
        self.number.setText(_("Kundennummer {number} · {kind}").format(number=customer.number, kind=kind))
        address = customer.address_line
        if d.country and d.country != "DE":
            address = f"{address}, {d.country}" if address else d.country
        person = " ".join(p for p in (d.salutation, d.first_name, d.last_name) if p)
        contacts = [" · ".join(p for p in (c.name, c.role, c.phone, c.email) if p) for c in customer.contacts]
        if d.kind == "business" and person:
            contacts.insert(0, person)
        values = {
            "address": address,
            "phone": d.phone,
            "mobile": d.mobile,
            "email": d.email,
            "vat_id": d.vat_id,
            "contacts": "\n".join(contacts),
            "notes": d.notes,
        }
        for key, label in self.fields.items():
            label.setText(values[key] or "–")
            optional = key in ("vat_id", "contacts", "notes")
            self._contact_form.setRowVisible(label, bool(values[key]) or not optional)
        latest = {c.channel: c for c in customer.consents}
        for channel, label in self.consents.items():
            state = latest.get(channel)
            if state is None:
                label.setText(_("keine Einwilligung"))
                label.setStyleSheet(f"color: {SECONDARY_TEXT};")
            elif state.granted:
                label.setText(
                    _("✓ erteilt am {when} ({source})").format(
                        when=local_timestamp(state.recorded_at), source=state.source
                    )
                )
                label.setStyleSheet("color: #2e7d32; font-weight: 600;")
            else:
                label.setText(
                    _("widerrufen am {when} ({source})").format(
                        when=local_timestamp(state.recorded_at), source=state.source
                    )
                )
                label.setStyleSheet("color: #c62828;")
        self.vehicles_title.setText(_("Fahrzeuge ({n})").format(n=len(vehicles)))
        self._fill_vehicles(vehicles)

    def _fill_vehicles(self, vehicles: list[VehicleDTO]) -> None:
        self.table.setRowCount(len(vehicles))
        for row, v in enumerate(vehicles):
            car = " ".join(p for p in (v.data.make, v.data.model) if p)
            if v.model_year:
                car = _("{car} · Modelljahr {year}").format(car=car, year=v.model_year) if car else str(v.model_year)
            plate = QTableWidgetItem(v.data.plate or v.data.vin or "–")
            font = plate.font()
            font.setBold(True)
            plate.setFont(font)
            hu = QTableWidgetItem(v.hu_label)
            background, foreground = HU_COLOURS.get(hu_key(v.hu_status), HU_COLOURS["unknown"])
            hu.setBackground(QColor(background))
            hu.setForeground(QColor(foreground))
            mileage = QTableWidgetItem(km(v.last_mileage) or "–")
            mileage.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for column, item in enumerate((plate, QTableWidgetItem(car or "–"), hu, mileage)):
                item.setData(Qt.ItemDataRole.UserRole, v.id)
                self.table.setItem(row, column, item)
        self.table.setVisible(bool(vehicles))
        self.no_vehicles.setVisible(not vehicles)

    def order_vehicle_id(self) -> int | None:
        """The vehicle a new order or KVA is for: the selected one, or the only one."""
        rows = self.table.selectionModel().selectedRows()
        if rows and 0 <= rows[0].row() < len(self.vehicles):
            return self.vehicles[rows[0].row()].id
        return self.vehicles[0].id if len(self.vehicles) == 1 else None

    def _open_vehicle(self, row: int) -> None:
        if 0 <= row < len(self.vehicles):
            self.vehicle_activated.emit(self.vehicles[row].id)
