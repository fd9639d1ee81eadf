"""Book a new appointment or edit one: customer/vehicle, services, time, bay, mechanic, status.

Every database call runs through ``ctx.query``/``ctx.mutate``; errors from the services are shown in
red German text inside the dialog (next to the field when the error names one). Enter saves, Esc cancels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, Qt, QTime, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import ConflictError, ValidationError, WorkshopError
from app.i18n import _
from app.services.appointments import TRANSITIONS, AppointmentDTO, AppointmentInput, AppointmentResult, Slot
from app.services.search import SearchHit
from ui.context import UiContext
from ui.errors import show_error
from ui.views.calendar import style
from ui.views.calendar.pickers import DurationSpin, ServicesPicker, SlotTimeEdit, SuggestField

# Service error fields → the dialog row that shows them.
_FIELD_ROWS = {"start": "start", "end": "end", "duration": "end", "bay_id": "bay_id", "mechanic_id": "mechanic_id",
               "title": "title", "customer_id": "customer", "vehicle_id": "customer", "notes": "notes"}
FREE_SLOT_DAYS = 28


class BookingDialog(QDialog):
    """New appointment (``appointment=None``) or editing an existing one (move, bay, mechanic, status)."""

    saved = Signal(object)  # AppointmentDTO as stored

    def __init__(self, ctx: UiContext, *, start: dt.datetime, bay_id: int | None = None,
                 appointment: AppointmentDTO | None = None, duration_minutes: int | None = None,
                 now: Callable[[], dt.datetime] = dt.datetime.now, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.appointment, self.now = ctx, appointment, now
        self.customer_id = appointment.customer_id if appointment else None
        self.vehicle_id = appointment.vehicle_id if appointment else None
        self._want_bay = appointment.bay_id if appointment else bay_id
        self._want_mechanic = appointment.mechanic_id if appointment else None
        self._duration_touched = duration_minutes is not None or appointment is not None
        self._setting_duration = False
        self._errors: dict[str, tuple[int, QLabel, tuple[QWidget, ...]]] = {}
        self.setWindowTitle(_("Termin bearbeiten") if appointment else _("Neuer Termin"))
        self.setMinimumWidth(620)
        self._build(start, duration_minutes)
        self._load_resources()

    @property
    def editing(self) -> bool:
        """True when an existing appointment is edited."""
        return self.appointment is not None

    # --- building ----------------------------------------------------------------------------------

    def _build(self, start: dt.datetime, duration_minutes: int | None) -> None:
        layout = QVBoxLayout(self)
        heading = QLabel(self.appointment.label if self.appointment else _("Neuer Termin"))
        heading.setStyleSheet("font-size: 14pt; font-weight: 600;")
        layout.addWidget(heading)
        if self.appointment is not None:
            fill, border, _text = style.status_colours(self.appointment.status)
            badge = QLabel(_("Status: {status}").format(status=style.status_name(self.appointment.status)))
            badge.setStyleSheet(f"QLabel {{ background: {fill.name()}; border-left: 5px solid {border.name()};"
                                " padding: 4px 8px; font-weight: 600; }")
            layout.addWidget(badge)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        layout.addLayout(self.form)
        self._build_customer_rows()
        self._build_time_rows(start, duration_minutes)
        self._build_resource_rows()
        self.force = QCheckBox(_("außerhalb der Öffnungszeiten buchen"))
        self.force.setToolTip(_("Auch an Feiertagen oder nach Feierabend – z. B. eine vereinbarte Samstagsreparatur. "
                                "Überschneidungen bleiben verboten."))
        self.form.addRow("", self.force)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {style.SECONDARY_TEXT.name()}; font-size: 10pt;")
        self.hint.hide()
        self.error = QLabel()
        self.error.setObjectName("bookingError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(style.ERROR_CSS)
        self.error.hide()
        layout.addWidget(self.hint)
        layout.addWidget(self.error)
        self.status_buttons: dict[str, QPushButton] = {}
        if self.appointment is not None:
            layout.addLayout(self._build_status_row(self.appointment.status))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(_("Speichern") if self.editing else _("Termin buchen"))
        self.save_button.setDefault(True)
        self.save_button.setStyleSheet(style.PRIMARY_BUTTON_CSS)
        self.save_button.setToolTip(_("Speichern (Enter)"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Abbrechen"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.save)
        if self.appointment is not None and self.appointment.status not in ("pending", "confirmed"):
            for widget in (self.date_edit, self.time_edit, self.duration, self.bay, self.mechanic, self.next_free,
                           self.force, self.save_button):
                widget.setEnabled(False)
            self._show_hint(_("Dieser Termin ist abgeschlossen und kann nicht mehr verschoben werden."))

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
        self.vehicle_choice = QComboBox()
        self.vehicle_choice.hide()
        self.vehicle_choice.currentIndexChanged.connect(self._vehicle_chosen)
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
        box = QWidget()
        box_layout = QVBoxLayout(box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.addWidget(self.customer)
        box_layout.addWidget(self.customer_label)
        box_layout.addWidget(self.vehicle_choice)
        self.customer_label.hide()
        self._row("customer", _("Kunde / Fahrzeug:"), box, self.customer)
        self.services = ServicesPicker(self.ctx)
        self.services.changed.connect(self._services_changed)
        self._row("service_ids", _("Leistungen:"), self.services, self.services.search)

    def _build_time_rows(self, start: dt.datetime, duration_minutes: int | None) -> None:
        self.date_edit = QDateEdit(QDate(start.year, start.month, start.day))
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd dd.MM.yyyy")
        self.time_edit = SlotTimeEdit()
        self.time_edit.setTime(QTime(start.hour, start.minute))
        self.next_free = QPushButton(_("Nächster freier Termin"))
        self.next_free.setToolTip(_("Sucht ab dem eingestellten Beginn die erste freie Zeit passender Dauer"))
        self.next_free.clicked.connect(self.find_next_free)
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.date_edit, 2)
        row_layout.addWidget(self.time_edit, 1)
        row_layout.addWidget(self.next_free)
        self._row("start", _("Beginn:"), row, self.date_edit, self.time_edit)
        self.duration = DurationSpin()
        appt = self.appointment
        minutes = duration_minutes or (int((appt.end - appt.start).total_seconds() // 60) if appt else 60)
        self.duration.setValue(minutes)
        self.duration.valueChanged.connect(self._duration_edited)
        self.recompute = QPushButton(_("aus Leistungen"))
        self.recompute.setToolTip(_("Dauer wieder aus den AW der Leistungen berechnen"))
        self.recompute.clicked.connect(self._recompute_duration)
        self.recompute.setVisible(not self.editing)
        self.end_label = QLabel()
        self.end_label.setStyleSheet(f"color: {style.SECONDARY_TEXT.name()};")
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.duration, 1)
        row_layout.addWidget(self.end_label, 1)
        row_layout.addWidget(self.recompute)
        self._row("end", _("Dauer:"), row, self.duration)
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
            self.notes_label = QLabel(appt.notes or "–")
            self.notes_label.setWordWrap(True)
            self.form.addRow(_("Notizen:"), self.notes_label)
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

    def _build_status_row(self, status: str) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Status ändern:")))
        for target, _label in style.STATUS_ACTIONS:
            if (status, target) in TRANSITIONS:
                button = QPushButton(style.action_label(target))
                button.setAutoDefault(False)
                button.clicked.connect(lambda _checked=False, t=target: self.change_status(t))
                self.status_buttons[target] = button
                row.addWidget(button)
        row.addStretch(1)
        return row

    # --- loading and reacting ----------------------------------------------------------------------

    def _load_resources(self) -> None:
        settings = self.ctx.services.settings
        self.ctx.query(lambda: (settings.bays(), settings.mechanics(), settings.get().slot_minutes),
                       self._resources_loaded, parent=self)

    def _resources_loaded(self, result: tuple[list[Any], list[Any], int]) -> None:
        bays, mechanics, slot_minutes = result
        appt = self.appointment
        self.time_edit.slot_minutes = slot_minutes
        self.duration.setSingleStep(slot_minutes)
        _fill(self.bay, _("– keine Bühne –"), [(b.id, b.name) for b in bays], self._want_bay,
              appt.bay_name if appt else "")
        _fill(self.mechanic, _("– kein Monteur –"), [(m.id, m.name) for m in mechanics], self._want_mechanic,
              appt.mechanic_name if appt else "")

    def pick_customer(self, hit: SearchHit) -> None:
        """Take a search hit: a vehicle (with its owner) or a customer (then choose among their vehicles)."""
        self.customer_id, self.vehicle_id = hit.customer_id, hit.vehicle_id
        self.customer.setText(hit.title)
        self.customer_label.setText(" – ".join(p for p in (hit.title, hit.subtitle) if p))
        self.customer_label.show()
        self.vehicle_choice.hide()
        self._clear_error("customer")
        if hit.kind == "customer" and hit.customer_id is not None:
            vehicles = self.ctx.services.vehicles
            customer_id = hit.customer_id
            self.ctx.query(lambda: vehicles.for_customer(customer_id), self._vehicles_loaded, parent=self)

    def _vehicles_loaded(self, vehicles: list[Any]) -> None:
        self.vehicle_choice.blockSignals(True)
        self.vehicle_choice.clear()
        self.vehicle_choice.addItem(_("– ohne Fahrzeug –"), None)
        for vehicle in vehicles:
            self.vehicle_choice.addItem(vehicle.title, vehicle.id)
        # One car is the usual case: take it, so the calendar shows the plate.
        self.vehicle_choice.setCurrentIndex(1 if len(vehicles) == 1 else 0)
        self.vehicle_choice.blockSignals(False)
        self.vehicle_choice.setVisible(bool(vehicles))
        self._vehicle_chosen()

    def _vehicle_chosen(self) -> None:
        self.vehicle_id = self.vehicle_choice.currentData() if self.vehicle_choice.isVisible() or \
            self.vehicle_choice.count() else self.vehicle_id

    def _services_changed(self) -> None:
        self._clear_error("service_ids")
        if not self._duration_touched:
            self._recompute_duration()

    def _recompute_duration(self) -> None:
        ids = self.services.service_ids if not self.editing else []
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
        return dt.datetime.combine(self.date_edit.date().toPython(), self.time_edit.value())

    def end(self) -> dt.datetime:
        """Start plus duration."""
        return self.start() + dt.timedelta(minutes=self.duration.value())

    def booking_input(self) -> AppointmentInput:
        """What ``book`` gets for a new appointment."""
        return AppointmentInput(
            start=self.start(), end=self.end(), bay_id=self.bay.currentData(), mechanic_id=self.mechanic.currentData(),
            customer_id=self.customer_id, vehicle_id=self.vehicle_id, service_ids=tuple(self.services.service_ids),
            title=self.title_edit.text(), notes=self.notes.toPlainText(),
        )

    # --- actions -----------------------------------------------------------------------------------

    def save(self) -> None:
        """Book or move; the dialog closes on success and shows the error inline otherwise."""
        if not self.save_button.isEnabled():
            return
        self._clear_all()
        appointments, force = self.ctx.services.appointments, self.force.isChecked()
        if self.appointment is None:
            data = self.booking_input()
            work: Callable[[], AppointmentResult] = lambda: appointments.book(data, force=force)  # noqa: E731
        else:
            appt_id, start, end = self.appointment.id, self.start(), self.end()
            bay_id, mechanic_id = self.bay.currentData(), self.mechanic.currentData()
            work = lambda: appointments.move(appt_id, start=start, end=end, bay_id=bay_id,  # noqa: E731
                                             mechanic_id=mechanic_id, force=force)
        self._run(work)

    def change_status(self, status: str) -> None:
        """Confirm, finish, mark as no-show or cancel (asking for a reason)."""
        assert self.appointment is not None
        appointments, appt_id = self.ctx.services.appointments, self.appointment.id
        if status == "cancelled":
            reason = self.ask_cancel_reason()
            if reason is None:
                return
            self._run(lambda: appointments.cancel(appt_id, reason))
        else:
            self._run(lambda: appointments.set_status(appt_id, status))

    def ask_cancel_reason(self) -> str | None:
        """The reason for a cancellation ("" allowed); None when the user backs out."""
        from PySide6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getText(self, _("Termin absagen"), _("Grund der Absage (optional):"))
        return text if ok else None

    def _run(self, work: Callable[[], AppointmentResult]) -> None:
        self._set_busy(True)
        self.ctx.mutate(work, self._done, parent=self, initiator=self, on_error=self._failed)

    def _done(self, result: AppointmentResult) -> None:
        self._set_busy(False)
        self.saved.emit(result.appointment)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, ValidationError):
            text = exc.message
            if exc.field == "start" and not self.force.isChecked():
                text += " " + _("Wenn es so vereinbart ist: „außerhalb der Öffnungszeiten buchen“ ankreuzen.")
            if not self.show_field_error(_FIELD_ROWS.get(exc.field, ""), text):
                self.show_error(text)
        elif isinstance(exc, ConflictError):
            self.show_error(exc.message + "\n" + _("„Nächster freier Termin“ sucht eine freie Zeit."))
        elif isinstance(exc, WorkshopError):
            self.show_error(exc.message)
        else:
            show_error(parent=self, exc=exc)

    def find_next_free(self) -> None:
        """Fill start and bay with the first free slot from the chosen start (never in the past)."""
        earliest = max(self.start(), self.now())
        duration = dt.timedelta(minutes=self.duration.value())
        bay_id, mechanic_id = self.bay.currentData(), self.mechanic.currentData()
        appointments = self.ctx.services.appointments
        self._clear_all()
        self.ctx.query(lambda: appointments.free_slots(
            date_from=earliest.date(), days=FREE_SLOT_DAYS, duration=duration, bay_id=bay_id,
            mechanic_id=mechanic_id, limit=1, earliest=earliest), self._take_slot, parent=self)

    def _take_slot(self, slots: list[Slot]) -> None:
        if not slots:
            self.show_error(_("Kein freier Termin in den nächsten {days} Tagen – bitte Dauer, Bühne oder Monteur "
                              "ändern.").format(days=FREE_SLOT_DAYS))
            return
        self.set_slot(slots[0])
        self._show_hint(_("Nächster freier Termin: {day}, {time} Uhr auf „{bay}“.").format(
            day=f"{slots[0].start:%d.%m.%Y}", time=style.hhmm(slots[0].start), bay=slots[0].bay_name))

    def set_slot(self, slot: Slot) -> None:
        """Put a free slot's start and bay into the fields."""
        self.date_edit.setDate(QDate(slot.start.year, slot.start.month, slot.start.day))
        self.time_edit.setTime(QTime(slot.start.hour, slot.start.minute))
        index = self.bay.findData(slot.bay_id)
        self._want_bay = slot.bay_id
        if index >= 0:
            self.bay.setCurrentIndex(index)

    # --- messages ----------------------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        """A red message above the buttons."""
        self.error.setText(text)
        self.error.show()

    def show_field_error(self, key: str, text: str) -> bool:
        """A red message under the row ``key``; False when there is no such row."""
        if key not in self._errors:
            return False
        row, label, editors = self._errors[key]
        label.setText(text)
        self.form.setRowVisible(row, True)
        for editor in editors:
            editor.setStyleSheet("border: 1px solid #c62828;")
        editors[0].setFocus()
        return True

    def _clear_error(self, key: str) -> None:
        row, label, editors = self._errors[key]
        label.clear()
        self.form.setRowVisible(row, False)
        for editor in editors:
            editor.setStyleSheet("")

    def _clear_all(self) -> None:
        for key in self._errors:
            self._clear_error(key)
        self.error.hide()
        self.hint.hide()

    def _show_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.show()

    def _set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        for button in self.status_buttons.values():
            button.setEnabled(not busy)


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
