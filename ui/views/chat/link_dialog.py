""" "Verknüpfen": link a conversation to a customer, a vehicle and/or an appointment.

Customer and vehicle are found with the counter's search (``services.search``, as you type, pre-filled
with the name or phone number the visitor left); picking a vehicle also takes its owner. The appointment
list offers the chosen customer's or vehicle's appointments of the last week and the next two months,
plus every pending request (the web chat's booking requests are pending until the counter confirms).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import formatting
from app.i18n import _
from app.services.appointments import AppointmentDTO
from app.services.search import SearchHit
from ui.context import UiContext
from ui.views.calendar.pickers import SuggestField
from ui.views.chat import style

PAST = dt.timedelta(days=7)
AHEAD = dt.timedelta(days=62)


@dataclass(frozen=True)
class LinkChoice:
    """The link staff chose (None = not linked)."""

    customer_id: int | None
    vehicle_id: int | None
    appointment_id: int | None


@dataclass(frozen=True)
class Picked:
    """A customer or vehicle as the dialog shows it."""

    customer_id: int | None
    vehicle_id: int | None
    title: str


def appointment_text(appt: AppointmentDTO) -> str:
    """ "Mo., 30.11.2026 09:00 – M-AB 123 – Ölwechsel (Anfrage offen)"."""
    when = formatting.datetime(appt.start, "EEE, dd.MM.yyyy HH:mm")
    who = appt.customer_name or appt.plate
    status = _("Anfrage offen") if appt.status == "pending" else ""
    parts = [when, " – ".join(p for p in (who, appt.title) if p)]
    text = " – ".join(p for p in parts if p)
    return f"{text} ({status})" if status else text


class LinkDialog(QDialog):
    """Pick customer/vehicle and appointment; ``chosen(LinkChoice)`` on OK."""

    chosen = Signal(object)

    def __init__(
        self,
        ctx: UiContext,
        *,
        current: LinkChoice,
        current_titles: tuple[str, str],
        prefill: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(_("Chat verknüpfen"))
        self.setObjectName("chatLinkDialog")
        self.resize(620, 260)
        self.picked = Picked(current.customer_id, current.vehicle_id, current_titles[0])
        self.appointment_id = current.appointment_id
        self.appointments: list[AppointmentDTO] = []
        self.search = SuggestField(ctx, ctx.services.search.search, lambda hit: (hit.title, hit.subtitle))
        self.search.setObjectName("chatLinkSearch")
        self.search.setPlaceholderText(_("Name, Telefon, Kennzeichen oder FIN suchen …"))
        self.search.setText(prefill)
        self.search.picked.connect(self.take_hit)
        self.picked_label = QLabel("")
        self.picked_label.setObjectName("chatLinkPicked")
        self.picked_label.setStyleSheet("font-weight: 600;")
        clear_person = QPushButton(_("Lösen"))
        clear_person.setToolTip(_("Verknüpfung mit Kunde und Fahrzeug lösen"))
        clear_person.clicked.connect(lambda: self.take(Picked(None, None, "")))
        person_row = QHBoxLayout()
        person_row.addWidget(self.picked_label, 1)
        person_row.addWidget(clear_person)
        self.appointment_box = QComboBox()
        self.appointment_box.setObjectName("chatLinkAppointment")
        self.appointment_box.setMinimumWidth(420)
        form = QFormLayout()
        form.addRow(_("Suchen"), self.search)
        form.addRow(_("Kunde / Fahrzeug"), person_row)
        form.addRow(_("Termin"), self.appointment_box)
        hint = QLabel(_("Angefragte Termine aus dem Chat sind „Anfrage offen“, bis die Theke sie bestätigt."))
        hint.setStyleSheet(f"color: {style.SECONDARY_TEXT};")
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Verknüpfen"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Abbrechen"))
        buttons.accepted.connect(self.accept_choice)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self._show_picked()
        self.load_appointments()

    def take_hit(self, hit: SearchHit) -> None:
        """A search hit was picked: a vehicle brings its owner along."""
        title = " – ".join(p for p in (hit.title, hit.subtitle) if p)
        self.take(Picked(hit.customer_id, hit.vehicle_id, title))

    def take(self, picked: Picked) -> None:
        """Use ``picked`` as customer/vehicle and reload the appointments offered."""
        self.picked = picked
        self._show_picked()
        self.load_appointments()

    def _show_picked(self) -> None:
        self.picked_label.setText(self.picked.title or _("– nicht verknüpft –"))

    def load_appointments(self) -> None:
        """Fill the appointment list in the background."""
        customer_id, vehicle_id = self.picked.customer_id, self.picked.vehicle_id
        now = dt.datetime.now()
        service = self.ctx.services.appointments

        def load() -> list[AppointmentDTO]:
            found = service.between(now - PAST, now + AHEAD)
            return [
                a
                for a in found
                if a.status == "pending"
                or a.id == self.appointment_id
                or (vehicle_id is not None and a.vehicle_id == vehicle_id)
                or (customer_id is not None and a.customer_id == customer_id)
            ]

        self.ctx.query(load, self._show_appointments, parent=self)

    def _show_appointments(self, appointments: list[AppointmentDTO]) -> None:
        self.appointments = appointments
        box = self.appointment_box
        box.clear()
        box.addItem(_("– kein Termin –"), None)
        for appt in appointments:
            box.addItem(appointment_text(appt), appt.id)
        index = box.findData(self.appointment_id) if self.appointment_id is not None else 0
        box.setCurrentIndex(max(index, 0))

    def choice(self) -> LinkChoice:
        """What is chosen right now."""
        appointment = self.appointment_box.currentData()
        return LinkChoice(self.picked.customer_id, self.picked.vehicle_id, appointment)

    def accept_choice(self) -> None:
        """OK: emit the choice and close."""
        self.chosen.emit(self.choice())
        self.accept()
