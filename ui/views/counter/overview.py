"""The counter's start page while nothing is open: a greeting, today's numbers and the keyboard shortcuts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.i18n import _, ngettext
from app.services.appointments import AppointmentDTO
from ui.views.counter.style import APPOINTMENT_STATUS, HU_COLOURS, SECONDARY_TEXT


@dataclass(frozen=True)
class OverviewData:
    """What the start page shows, loaded in one background call."""

    workshop_name: str
    day: dt.date
    appointments: tuple[AppointmentDTO, ...]
    hu_due_this_month: int
    customer_count: int


def greeting(now: dt.datetime) -> str:
    """ "Guten Morgen" before 11, "Guten Tag" until 17, then "Guten Abend"."""
    if now.hour < 11:
        return _("Guten Morgen")
    if now.hour < 17:
        return _("Guten Tag")
    return _("Guten Abend")


class _Tile(QFrame):
    """A number with a caption and a coloured top edge."""

    def __init__(self, caption: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tile")
        self.setStyleSheet(
            f"QFrame#tile {{ background: #ffffff; border: 1px solid #dfe5e8; border-top: 4px solid {colour}; "
            "border-radius: 6px; }"
        )
        self.value = QLabel("–")
        self.value.setStyleSheet("font-size: 24pt; font-weight: 600; border: none;")
        self.caption = QLabel(caption)
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet(f"color: {SECONDARY_TEXT}; border: none;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        self.setMinimumWidth(150)


class OverviewPage(QWidget):
    """Greeting with the workshop's name and today's counts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel(_("Willkommen"))
        self.heading.setObjectName("overviewHeading")
        self.heading.setStyleSheet("font-size: 20pt; font-weight: 600; color: #263238;")
        self.heading.setWordWrap(True)
        self.subheading = QLabel("")
        self.subheading.setStyleSheet(f"font-size: 12pt; color: {SECONDARY_TEXT};")
        self.tiles = {
            "today": _Tile(_("Termine heute"), APPOINTMENT_STATUS["confirmed"][0]),
            "pending": _Tile(_("Anfragen offen"), APPOINTMENT_STATUS["pending"][0]),
            "done": _Tile(_("erledigt"), APPOINTMENT_STATUS["done"][0]),
            "hu": _Tile(_("HU/AU fällig in diesem Monat"), HU_COLOURS["due"][0]),
        }
        tiles = QHBoxLayout()
        tiles.setSpacing(12)
        for tile in self.tiles.values():
            tiles.addWidget(tile, 1)
        shortcuts = QGridLayout()
        shortcuts.setHorizontalSpacing(18)
        shortcuts.setVerticalSpacing(6)
        rows = [
            (_("Strg+F / F3"), _("Suchen: Kennzeichen, Name, FIN, Telefon")),
            (_("Strg+N"), _("Neuer Kunde")),
            (_("Strg+Umschalt+N"), _("Neues Fahrzeug (für den geöffneten Kunden)")),
            (_("F4"), _("Geöffneten Kunden bzw. geöffnetes Fahrzeug bearbeiten")),
            (_("F5"), _("Aktualisieren")),
            (_("Esc"), _("Zurück zur Suche")),
        ]
        for row, (keys, text) in enumerate(rows):
            key_label = QLabel(keys)
            key_label.setStyleSheet("font-weight: 600; color: #37474f;")
            shortcuts.addWidget(key_label, row, 0)
            shortcuts.addWidget(QLabel(text), row, 1)
        shortcuts.setColumnStretch(2, 1)
        shortcut_title = QLabel(_("Tastenkürzel"))
        shortcut_title.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.customers = QLabel("")
        self.customers.setStyleSheet(f"color: {SECONDARY_TEXT};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(10)
        layout.addWidget(self.heading)
        layout.addWidget(self.subheading)
        layout.addSpacing(10)
        layout.addLayout(tiles)
        layout.addSpacing(12)
        layout.addWidget(shortcut_title)
        layout.addLayout(shortcuts)
        layout.addStretch(1)
        layout.addWidget(self.customers, 0, Qt.AlignmentFlag.AlignLeft)

    def set_data(self, data: OverviewData, now: dt.datetime | None = None) -> None:
        """Fill in the greeting and the counts."""
        hello = greeting(now or dt.datetime.now())
        name = data.workshop_name.strip()
        self.heading.setText(_("{greeting} – {workshop}").format(greeting=hello, workshop=name) if name else hello)
        pending = _count(data.appointments, "pending")
        self.subheading.setText(
            ngettext(
                "Heute steht {n} Termin im Kalender.", "Heute stehen {n} Termine im Kalender.", len(data.appointments)
            ).format(n=len(data.appointments))
            if data.appointments
            else _("Heute stehen keine Termine im Kalender.")
        )
        self.tiles["today"].value.setText(str(len(data.appointments)))
        self.tiles["pending"].value.setText(str(pending))
        self.tiles["done"].value.setText(str(_count(data.appointments, "done")))
        self.tiles["hu"].value.setText(str(data.hu_due_this_month))
        self.customers.setText(_("{n} Kunden im Bestand").format(n=data.customer_count))


def _count(appointments: Sequence[AppointmentDTO], status: str) -> int:
    return sum(1 for a in appointments if a.status == status)
