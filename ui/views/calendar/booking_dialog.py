"""Book a new appointment or edit one (move, other bay or mechanic, status buttons).

Every database call runs through ``ctx.query``/``ctx.mutate``; errors from the services are shown in
red German text inside the dialog, next to the field when the error names one. Enter saves, Esc cancels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QLayout, QPushButton, QVBoxLayout, QWidget

from app.errors import ConflictError, ValidationError, WorkshopError
from app.i18n import _
from app.services.appointments import TRANSITIONS, AppointmentDTO, AppointmentResult, Slot
from ui.context import UiContext
from ui.errors import show_error
from ui.views.calendar import style
from ui.views.calendar.booking_form import BookingForm

FREE_SLOT_DAYS = 28
"""How far "Nächster freier Termin" looks ahead."""


class BookingDialog(QDialog):
    """New appointment (``appointment=None``) or editing an existing one."""

    saved = Signal(object)  # AppointmentDTO as stored now

    def __init__(
        self,
        ctx: UiContext,
        *,
        start: dt.datetime,
        bay_id: int | None = None,
        appointment: AppointmentDTO | None = None,
        duration_minutes: int | None = None,
        now: Callable[[], dt.datetime] = dt.datetime.now,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.appointment, self.now = ctx, appointment, now
        self.setWindowTitle(_("Termin bearbeiten") if appointment else _("Neuer Termin"))
        layout = QVBoxLayout(self)
        # The dialog grows with its content (services added, error rows shown) instead of squeezing it.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.setSpacing(8)
        heading = QLabel(appointment.label if appointment else _("Neuer Termin"))
        heading.setStyleSheet("font-size: 14pt; font-weight: 600;")
        layout.addWidget(heading)
        if appointment is not None:
            layout.addWidget(_status_badge(appointment.status))
        self.form = BookingForm(
            ctx, start=start, bay_id=bay_id, appointment=appointment, duration_minutes=duration_minutes
        )
        self.form.setMinimumWidth(620)
        self.form.next_free.clicked.connect(self.find_next_free)
        layout.addWidget(self.form)
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
        if appointment is not None:
            layout.addLayout(self._status_row(appointment.status))
        self._build_buttons(layout)
        if appointment is not None and appointment.status not in ("pending", "confirmed"):
            self.form.set_locked(True)
            self.save_button.setEnabled(False)
            self.show_hint(_("Dieser Termin ist abgeschlossen und kann nicht mehr verschoben werden."))
        (self.form.time_edit if appointment else self.form.customer).setFocus()

    @property
    def editing(self) -> bool:
        """True when an existing appointment is edited."""
        return self.appointment is not None

    def _build_buttons(self, layout: QVBoxLayout) -> None:
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(_("Speichern") if self.editing else _("Termin buchen"))
        self.save_button.setStyleSheet(style.PRIMARY_BUTTON_CSS)
        self.save_button.setToolTip(_("Speichern (Enter)"))
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText(_("Abbrechen"))
        cancel.setToolTip(_("Schließen ohne zu speichern (Esc)"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        # Only now is the button inside the dialog, where "default" (Enter saves) takes effect.
        self.save_button.setDefault(True)
        # Enter in the notes makes a new line, so Ctrl+Enter saves from there too.
        QShortcut(QKeySequence("Ctrl+Return"), self, self.save)

    def _status_row(self, status: str) -> QHBoxLayout:
        row = QHBoxLayout()
        allowed = [(target, label) for target, label in style.STATUS_ACTIONS if (status, target) in TRANSITIONS]
        if allowed:
            row.addWidget(QLabel(_("Status ändern:")))
        for target, _label in allowed:
            button = QPushButton(style.action_label(target))
            button.setAutoDefault(False)
            _fill, border, _text = style.status_colours(target)
            button.setStyleSheet(f"QPushButton {{ border-left: 4px solid {border.name()}; }}")
            button.clicked.connect(lambda _checked=False, t=target: self.change_status(t))
            self.status_buttons[target] = button
            row.addWidget(button)
        row.addStretch(1)
        return row

    # --- actions -----------------------------------------------------------------------------------

    def save(self) -> None:
        """Book or move; the dialog closes on success and shows the error inline otherwise."""
        if not self.save_button.isEnabled():
            return
        self._clear_messages()
        appointments, force, form = self.ctx.services.appointments, self.form.force.isChecked(), self.form
        if self.appointment is None:
            data = form.booking_input()
            if not (data.customer_id or data.vehicle_id or data.service_ids or data.title.strip()):
                # An empty form is an Enter pressed too early, not an appointment anybody could work on.
                form.show_field_error(
                    "customer_id",
                    _("Bitte Kunde oder Fahrzeug suchen, eine Leistung wählen oder einen Titel eingeben."),
                )
                return
            self._run(lambda: appointments.book(data, force=force))
            return
        appt_id, start, end = self.appointment.id, form.start(), form.end()
        bay_id, mechanic_id = form.bay.currentData(), form.mechanic.currentData()
        self._run(
            lambda: appointments.move(
                appt_id, start=start, end=end, bay_id=bay_id, mechanic_id=mechanic_id, force=force
            )
        )

    def change_status(self, status: str) -> None:
        """Confirm, finish, mark as no-show or cancel (asking for a reason first)."""
        if self.appointment is None:
            return
        appointments, appt_id = self.ctx.services.appointments, self.appointment.id
        self._clear_messages()
        if status == "cancelled":
            reason = self.ask_cancel_reason()
            if reason is not None:
                self._run(lambda: appointments.cancel(appt_id, reason))
            return
        self._run(lambda: appointments.set_status(appt_id, status))

    def ask_cancel_reason(self) -> str | None:
        """The reason for a cancellation ("" is fine); None when the user backs out."""
        return ask_cancel_reason(self)

    def find_next_free(self) -> None:
        """Fill start and bay with the first free slot from the chosen start (never in the past)."""
        earliest = max(self.form.start(), self.now())
        duration = dt.timedelta(minutes=self.form.duration.value())
        bay_id, mechanic_id = self.form.bay.currentData(), self.form.mechanic.currentData()
        appointments = self.ctx.services.appointments
        self._clear_messages()
        self.ctx.query(
            lambda: appointments.free_slots(
                date_from=earliest.date(),
                days=FREE_SLOT_DAYS,
                duration=duration,
                bay_id=bay_id,
                mechanic_id=mechanic_id,
                limit=1,
                earliest=earliest,
            ),
            self._take_slot,
            parent=self,
        )

    def _take_slot(self, slots: list[Slot]) -> None:
        if not slots:
            self.show_error(
                _("Kein freier Termin in den nächsten {days} Tagen – bitte Dauer, Bühne oder Monteur ändern.").format(
                    days=FREE_SLOT_DAYS
                )
            )
            return
        slot = slots[0]
        self.form.set_slot(slot)
        self.show_hint(
            _("Nächster freier Termin: {day}, {time} Uhr auf „{bay}“.").format(
                day=f"{slot.start:%d.%m.%Y}", time=style.hhmm(slot.start), bay=slot.bay_name
            )
        )

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
            if exc.field == "start" and not self.form.force.isChecked():
                text += " " + _("Wenn es so vereinbart ist: „außerhalb der Öffnungszeiten buchen“ ankreuzen.")
            if not self.form.show_field_error(exc.field, text):
                self.show_error(text)
        elif isinstance(exc, ConflictError):
            self.show_error(exc.message + "\n" + _("Tipp: „Nächster freier Termin“ sucht eine freie Zeit."))
        elif isinstance(exc, WorkshopError):
            self.show_error(exc.message)
        else:
            show_error(parent=self, exc=exc)

    # --- messages ----------------------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        """A red message above the buttons."""
        self.error.setText(text)
        self.error.show()

    def show_hint(self, text: str) -> None:
        """A calm grey note above the buttons."""
        self.hint.setText(text)
        self.hint.show()

    def _clear_messages(self) -> None:
        self.form.clear_errors()
        self.error.hide()
        self.error.clear()
        self.hint.hide()

    def _set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        for button in self.status_buttons.values():
            button.setEnabled(not busy)


def ask_cancel_reason(parent: QWidget) -> str | None:
    """Ask for the reason of a cancellation; None when the user presses Abbrechen."""
    from PySide6.QtWidgets import QInputDialog

    text, ok = QInputDialog.getText(parent, _("Termin absagen"), _("Grund der Absage (optional, z. B. „Kunde krank“):"))
    return text if ok else None


def _status_badge(status: str) -> QLabel:
    fill, border, _text = style.status_colours(status)
    badge = QLabel(_("Status: {status}").format(status=style.status_name(status)))
    badge.setStyleSheet(
        f"QLabel {{ background: {fill.name()}; border-left: 5px solid {border.name()};"
        " padding: 4px 8px; font-weight: 600; }"
    )
    return badge
