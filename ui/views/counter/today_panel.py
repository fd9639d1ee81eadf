"""The "Heute" panel under the search: today's appointments with time, plate, title, bay and status colour."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QListView, QVBoxLayout, QWidget

from app import formatting
from app.i18n import _, ngettext
from app.services.appointments import AppointmentDTO
from ui.views.counter.qt_models import AppointmentDelegate, AppointmentListModel
from ui.views.counter.style import SECONDARY_TEXT


class TodayPanel(QWidget):
    """A list of today's appointments; Enter or a click opens the vehicle (or customer) of one."""

    appointment_activated = Signal(object)  # AppointmentDTO

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(_("Heute"))
        self.title.setObjectName("todayTitle")
        self.title.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.count = QLabel("")
        self.count.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.model = AppointmentListModel(self)
        self.list = QListView()
        self.list.setObjectName("todayList")
        self.list.setModel(self.model)
        self.list.setItemDelegate(AppointmentDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.activated.connect(lambda index: self._open(index.row()))
        self.empty = QLabel(_("Für heute sind keine Termine eingetragen."))
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(f"color: {SECONDARY_TEXT}; padding: 6px 2px;")
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addStretch(0)

    def set_day(self, day: dt.date, appointments: Sequence[AppointmentDTO]) -> None:
        """Show ``appointments`` of ``day`` (already sorted by start)."""
        self.title.setText(_("Heute, {date}").format(date=formatting.date(day, "EEEE, dd.MM.")))
        self.model.set_rows(appointments)
        self.count.setText(ngettext("{n} Termin", "{n} Termine", len(appointments)).format(n=len(appointments)))
        self.count.setVisible(bool(appointments))
        self.list.setVisible(bool(appointments))
        self.empty.setVisible(not appointments)

    def _open(self, row: int) -> None:
        appt = self.model.appointment(row)
        if appt is not None:
            self.appointment_activated.emit(appt)
