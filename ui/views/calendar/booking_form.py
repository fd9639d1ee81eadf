"""The fields of the booking dialog with their inline error rows (no database calls of its own except
through ``ctx.query``): customer/vehicle search, services, start, duration, bay, mechanic, title, notes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate, Qt, QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.i18n import _
from app.services.appointments import AppointmentDTO, AppointmentInput, Slot
from app.services.search import SearchHit
from ui.context import UiContext
from ui.views.calendar import style
from ui.views.calendar.pickers import DurationSpin, ServicesPicker, SlotTimeEdit, SuggestField

# Service error fields → the form row that shows them.
FIELD_ROWS = {
    "start": "start",
    "end": "end",
    "duration": "end",
    "bay_id": "bay_id",
    "mechanic_id": "mechanic_id",
    "title": "title",
    "customer_id": "customer",
    "vehicle_id": "customer",
    "notes": "notes",
    "service_ids": "service_ids",
}


class BookingForm(QWidget):
    """The form rows; ``appointment`` given → customer, services, title and notes are shown read-only."""

    def __init__(
        self,
        ctx: UiContext,
        *,
        start: dt.datetime,
        bay_id: int | None,
        appointment: AppointmentDTO | None,
        duration_minutes: int | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.appointment = ctx, appointment
        self.customer_id = appointment.customer_id if appointment else None
        self.vehicle_id = appointment.vehicle_id if appointment else None
        self._want_bay = appointment.bay_id if appointment else bay_id
        self._want_mechanic = appointment.mechanic_id if appointment else None
        # An explicit or stored duration is the user's choice: services must not overwrite it.
        self._duration_touched = duration_minutes is not None or appointment is not None
        self._setting_duration = False
        self._errors: dict[str, tuple[int, QLabel, tuple[QWidget, ...]]] = {}
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._build_customer_rows()
        self._build_time_rows(start, duration_minutes)
        self._build_resource_rows()
        self.force = QCheckBox(_("außerhalb der Öffnungszeiten buchen"))
        self.force.setToolTip(
            _(
                "Auch an Feiertagen oder nach Feierabend – z. B. eine vereinbarte "
                "Samstagsreparatur. Überschneidungen bleiben verboten."
            )
        )
        self.form.addRow("", self.force)
        self._load_resources()

    # --- building ----------------------------------------------------------------------------------

    def _row(self, key: str, label: str, widget: QWidget, *editors: QWidget) -> None:
        """A form row plus a hidden red message row underneath it."""
        self.form.addRow(label, widget)
        message = QLabel()
        message.setWordWrap(True)
        message.setStyleSheet("color: #b71c1c; font-size: 10pt;")
        self.form.addRow("", message)
        row = self.form.rowCount() - 1
        self.form.setRowVisible(row, False)
        self._errors[key] = (row, message, editors or (widget,))

    def _build_customer_rows(self) -> None:
        appt = self.appointment
        self.customer_label = QLabel()
        self.customer_label.setWordWrap(True)
        self.customer_label.setStyleSheet("font-weight: 600;")
        if appt is not None:
            self.customer_label.setText(" – ".join(p for p in (appt.plate, appt.customer_name) if p) or "–")
            self._row("customer", _("Kunde / Fahrzeug:"), self.customer_label)
            services = QLabel(", ".join(appt.service_names) or "–")
            services.setWordWrap(True)
            self.form.addRow(_("Leistungen:"), services)
            return
        search = self.ctx.services.search
        self.customer = SuggestField(self.ctx, lambda text: search.search(text, limit=12), _describe_hit)
        self.customer.setPlaceholderText(_("Kennzeichen oder Name eingeben, z. B. „M AB 12“ oder „Huber“"))
        self.customer.picked.connect(self.pick_customer)
        self.customer.textEdited.connect(self._customer_edited)
        self.vehicle_choice = QComboBox()
        self.vehicle_choice.hide()
        self.vehicle_choice.currentIndexChanged.connect(self._vehicle_chosen)
        box = QWidget()
        box_layout = QVBoxLayout(box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.customer, self.customer_label, self.vehicle_choice):
            box_layout.addWidget(widget)
        self.customer_label.hide()
        self._row("customer", _("Kunde / Fahrzeug:"), box, self.customer)
        self.services = ServicesPicker(self.ctx)
        self.services.changed.connect(self._services_changed)
        self._row("service_ids", _("Leistungen:"), self.services, self.services.search)

    def _build_time_rows(self, start: dt.datetime, duration_minutes: int | None) -> None:
        self.date_edit = QDateEdit(QDate(start.year, start.month, start.day))
        self.date_edit.setLocale(style.qt_locale())
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd dd.MM.yyyy")
        self.time_edit = SlotTimeEdit()
        self.time_edit.setTime(QTime(start.hour, start.minute))
        self.next_free = QPushButton(_("Nächster freier Termin"))
        self.next_free.setAutoDefault(False)
        self.next_free.setToolTip(_("Sucht ab dem eingestellten Beginn die erste freie Zeit passender Dauer"))
        self._row(
            "start", _("Beginn:"), _hbox(self.date_edit, self.time_edit, self.next_free), self.date_edit, self.time_edit
        )
        self.duration = DurationSpin()
        appt = self.appointment
        minutes = duration_minutes or (int((appt.end - appt.start).total_seconds() // 60) if appt else 60)
        self.duration.setValue(minutes)
        self.duration.valueChanged.connect(self._duration_edited)
        self.recompute = QPushButton(_("aus Leistungen"))
        self.recompute.setAutoDefault(False)
        self.recompute.setToolTip(_("Dauer wieder aus den AW der Leistungen berechnen"))
        self.recompute.clicked.connect(self.recompute_duration)
        self.recompute.setVisible(appt is None)
        self.end_label = QLabel()
        self.end_label.setStyleSheet(f"color: {style.SECONDARY_TEXT.name()};")
        self._row("end", _("Dauer:"), _hbox(self.duration, self.end_label, self.recompute), self.duration)
        for signal in (self.time_edit.timeChanged, self.duration.valueChanged, self.date_edit.dateChanged):
            signal.connect(self._update_end_label)
        self._update_end_label()

    def _build_resource_rows(self) -> None:
        self.bay = QComboBox()
        self.mechanic = QComboBox()
        self._row("bay_id", _("Bühne:"), self.bay)
        self._row("mechanic_id", _("Monteur:"), self.mechanic)
        appt = self.appointment
        if appt is not None:
            notes = QLabel(appt.notes or "–")
            notes.setWordWrap(True)
            self.form.addRow(_("Notizen:"), notes)
            return
        self.title_edit = QLineEdit()
        self.title_edit.setMaxLength(160)
        self.title_edit.setPlaceholderText(_("leer lassen: Titel aus den Leistungen"))
        self._row("title", _("Titel:"), self.title_edit)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText(_("z. B. Kunde wartet, Ersatzwagen, Rückruf unter …"))
        self.notes.setFixedHeight(64)
        self.notes.setTabChangesFocus(True)
        self._row("notes", _("Notizen:"), self.notes)

    def set_locked(self, locked: bool) -> None:
        """Disable time, bay and mechanic (a finished appointment cannot move)."""
        for widget in (
            self.date_edit,
            self.time_edit,
            self.duration,
            self.bay,
            self.mechanic,
            self.next_free,
            self.force,
        ):
            widget.setEnabled(not locked)

    # --- loading and reacting ----------------------------------------------------------------------

    def _load_resources(self) -> None:
        settings = self.ctx.services.settings
        self.ctx.query(
            lambda: (settings.bays(), settings.mechanics(), settings.get().slot_minutes),
            self._resources_loaded,
            parent=self,
        )

    def _resources_loaded(self, result: tuple[list[Any], list[Any], int]) -> None:
        bays, mechanics, slot_minutes = result
        appt = self.appointment
        self.time_edit.slot_minutes = slot_minutes
        self.duration.setSingleStep(slot_minutes)
        _fill(
            self.bay,
            _("– keine Bühne –"),
            [(b.id, b.name) for b in bays],
            self._want_bay,
            appt.bay_name if appt else "",
        )
        _fill(
            self.mechanic,
            _("– kein Monteur –"),
            [(m.id, m.name) for m in mechanics],
            self._want_mechanic,
            appt.mechanic_name if appt else "",
        )

    def pick_customer(self, hit: SearchHit) -> None:
        """Take a search hit: a vehicle (with its owner) or a customer (then choose among their vehicles)."""
        self.customer_id, self.vehicle_id = hit.customer_id, hit.vehicle_id
        self.customer.setText(hit.title)
        self.customer_label.setText(" – ".join(p for p in (hit.title, hit.subtitle) if p))
        self.customer_label.show()
        self.vehicle_choice.blockSignals(True)
        self.vehicle_choice.clear()
        self.vehicle_choice.blockSignals(False)
        self.vehicle_choice.hide()
        self.clear_error("customer")
        if hit.kind == "customer" and hit.customer_id is not None:
            vehicles, customer_id = self.ctx.services.vehicles, hit.customer_id
            self.ctx.query(lambda: vehicles.for_customer(customer_id), self._vehicles_loaded, parent=self)

    def _customer_edited(self, text: str) -> None:
        # Typing again (or the clear button) drops the earlier choice, so no hidden customer is booked.
        if self.customer_id is not None or self.vehicle_id is not None:
            self.customer_id = self.vehicle_id = None
            self.customer_label.hide()
            self.vehicle_choice.clear()
            self.vehicle_choice.hide()
        if not text:
            self.customer.popup.hide()

    def _vehicles_loaded(self, vehicles: list[Any]) -> None:
        self.vehicle_choice.blockSignals(True)
        self.vehicle_choice.addItem(_("– ohne Fahrzeug –"), None)
        for vehicle in vehicles:
            self.vehicle_choice.addItem(vehicle.title, vehicle.id)
        # One car is the usual case: take it, so the calendar shows the plate.
        self.vehicle_choice.setCurrentIndex(1 if len(vehicles) == 1 else 0)
        self.vehicle_choice.blockSignals(False)
        self.vehicle_choice.setVisible(bool(vehicles))
        self._vehicle_chosen()

    def _vehicle_chosen(self) -> None:
        if self.vehicle_choice.count():
            self.vehicle_id = self.vehicle_choice.currentData()

    def _services_changed(self) -> None:
        self.clear_error("service_ids")
        if not self._duration_touched:
            self.recompute_duration()

    def recompute_duration(self) -> None:
        """Duration from the services' AW (``appointments.duration_for``), in the background."""
        ids = self.services.service_ids if self.appointment is None else []
        if not ids:
            return
        appointments = self.ctx.services.appointments
        self.ctx.query(lambda: appointments.duration_for(ids), self._set_computed_duration, parent=self)

    def _set_computed_duration(self, duration: dt.timedelta) -> None:
        self._setting_duration = True
        self.duration.setValue(int(duration.total_seconds() // 60))
        self._setting_duration = False
        self._duration_touched = False

    def _duration_edited(self) -> None:
        # Typed by hand: from now on the services no longer overwrite it (until "aus Leistungen").
        if not self._setting_duration:
            self._duration_touched = True

    def _update_end_label(self) -> None:
        self.end_label.setText(_("Ende: {time} Uhr").format(time=style.hhmm(self.end())))

    # --- values ------------------------------------------------------------------------------------

    def start(self) -> dt.datetime:
        """The chosen start."""
        day: dt.date = self.date_edit.date().toPython()  # type: ignore[assignment]
        return dt.datetime.combine(day, self.time_edit.value())

    def end(self) -> dt.datetime:
        """Start plus duration."""
        return self.start() + dt.timedelta(minutes=self.duration.value())

    def booking_input(self) -> AppointmentInput:
        """What ``appointments.book`` gets for a new appointment."""
        return AppointmentInput(
            start=self.start(),
            end=self.end(),
            bay_id=self.bay.currentData(),
            mechanic_id=self.mechanic.currentData(),
            customer_id=self.customer_id,
            vehicle_id=self.vehicle_id,
            service_ids=tuple(self.services.service_ids),
            title=self.title_edit.text(),
            notes=self.notes.toPlainText(),
        )

    def set_slot(self, slot: Slot) -> None:
        """Put a free slot's start and bay into the fields."""
        self.date_edit.setDate(QDate(slot.start.year, slot.start.month, slot.start.day))
        self.time_edit.setTime(QTime(slot.start.hour, slot.start.minute))
        self._want_bay = slot.bay_id
        index = self.bay.findData(slot.bay_id)
        if index >= 0:
            self.bay.setCurrentIndex(index)

    # --- inline errors -----------------------------------------------------------------------------

    def show_field_error(self, field: str, text: str) -> bool:
        """A red message under the row of service field ``field``; False when no row shows that field."""
        key = FIELD_ROWS.get(field, "")
        if key not in self._errors:
            return False
        row, label, editors = self._errors[key]
        label.setText(text)
        self.form.setRowVisible(row, True)
        for editor in editors:
            editor.setStyleSheet("border: 1px solid #c62828;")
        editors[0].setFocus()
        return True

    def field_error(self, key: str) -> str:
        """The message shown under row ``key`` ("" when none)."""
        row, label, _editors = self._errors[key]
        return label.text() if self.form.isRowVisible(row) else ""

    def clear_error(self, key: str) -> None:
        """Hide the message of row ``key``."""
        row, label, editors = self._errors[key]
        label.clear()
        self.form.setRowVisible(row, False)
        for editor in editors:
            editor.setStyleSheet("")

    def clear_errors(self) -> None:
        """Hide all messages."""
        for key in self._errors:
            self.clear_error(key)


def _hbox(*widgets: QWidget) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    return row


def _fill(combo: QComboBox, empty: str, items: list[tuple[int, str]], selected: int | None, name: str) -> None:
    """Fill a bay/mechanic combo; an inactive but assigned one is still listed so it is not lost."""
    combo.clear()
    combo.addItem(empty, None)
    for item_id, item_name in items:
        combo.addItem(item_name, item_id)
    if selected is not None and combo.findData(selected) < 0:
        combo.addItem(_("{name} (inaktiv)").format(name=name or selected), selected)
    combo.setCurrentIndex(max(combo.findData(selected), 0) if selected is not None else 0)


def _describe_hit(hit: SearchHit) -> tuple[str, str]:
    kind = _("Fahrzeug") if hit.kind == "vehicle" else _("Kunde")
    return hit.title, " · ".join(p for p in (kind, hit.subtitle) if p)
