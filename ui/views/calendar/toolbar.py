"""The calendar's toolbar: Heute, back/forward, date picker, Tag/Woche, bay filter, free slots, new."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QPushButton,
    QToolButton,
    QWidget,
)

from app.i18n import _
from app.services.settings import BayDTO
from ui.views.calendar import style

DAY, WEEK = "day", "week"


class CalendarToolbar(QWidget):
    """Navigation and actions; emits what the user asked for, the view decides what it means."""

    today_clicked = Signal()
    step_clicked = Signal(int)  # -1 back, +1 forward
    date_picked = Signal(object)  # dt.date
    mode_changed = Signal(str)  # DAY | WEEK
    bay_filter_changed = Signal(object)  # bay id or None
    free_slots_clicked = Signal()
    new_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.today_button = QPushButton(_("Heute"))
        self.today_button.setToolTip(_("Zum heutigen Tag (Alt+Pos1)"))
        self.today_button.clicked.connect(self.today_clicked)
        self.previous_button = _arrow("‹", self, -1)
        self.next_button = _arrow("›", self, 1)
        self.date_edit = QDateEdit()
        self.date_edit.setLocale(style.qt_locale())
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd dd.MM.yyyy")
        self.date_edit.setToolTip(_("Datum wählen"))
        self.date_edit.dateChanged.connect(lambda d: self.date_picked.emit(d.toPython()))
        self.day_button = _toggle(_("Tag"), _("Tagesansicht: alle Bühnen eines Tages"))
        self.week_button = _toggle(_("Woche"), _("Wochenansicht: Montag bis Samstag"))
        self.mode_group = QButtonGroup(self)
        self.mode_group.setExclusive(True)
        self.mode_group.addButton(self.day_button)
        self.mode_group.addButton(self.week_button)
        self.day_button.clicked.connect(lambda: self.mode_changed.emit(DAY))
        self.week_button.clicked.connect(lambda: self.mode_changed.emit(WEEK))
        self.bay_filter = QComboBox()
        self.bay_filter.setMinimumWidth(160)
        self.bay_filter.setToolTip(_("In der Wochenansicht nur eine Bühne zeigen"))
        self.bay_filter.addItem(_("Alle Bühnen"), None)
        self.bay_filter.currentIndexChanged.connect(lambda _i: self.bay_filter_changed.emit(self.bay_filter_id))
        self.free_button = QPushButton(_("Nächste freie Termine"))
        self.free_button.setToolTip(_("Freie Zeiten je Bühne ab jetzt – für Laufkundschaft und Anrufer"))
        self.free_button.clicked.connect(self.free_slots_clicked)
        self.new_button = QPushButton(_("+ Neuer Termin"))
        self.new_button.setToolTip(_("Neuer Termin (Strg+T)"))
        self.new_button.setStyleSheet(style.PRIMARY_BUTTON_CSS)
        self.new_button.clicked.connect(self.new_clicked)
        for widget in (self.today_button, self.previous_button, self.next_button, self.date_edit):
            layout.addWidget(widget)
        layout.addSpacing(16)
        layout.addWidget(self.day_button)
        layout.addWidget(self.week_button)
        layout.addSpacing(8)
        layout.addWidget(self.bay_filter)
        layout.addStretch(1)
        layout.addWidget(self.free_button)
        layout.addWidget(self.new_button)

    @property
    def bay_filter_id(self) -> int | None:
        """The chosen bay of the week filter (None: all)."""
        data = self.bay_filter.currentData()
        return int(data) if data is not None else None

    def show_state(self, day: dt.date, mode: str) -> None:
        """Reflect the view's date and mode without emitting signals back."""
        self.date_edit.blockSignals(True)
        self.date_edit.setDate(QDate(day.year, day.month, day.day))
        self.date_edit.blockSignals(False)
        (self.week_button if mode == WEEK else self.day_button).setChecked(True)
        self.bay_filter.setVisible(mode == WEEK)
        week = mode == WEEK
        self.previous_button.setToolTip(_("Vorherige Woche (Alt+←)") if week else _("Vorheriger Tag (Alt+←)"))
        self.next_button.setToolTip(_("Nächste Woche (Alt+→)") if week else _("Nächster Tag (Alt+→)"))

    def set_bays(self, bays: tuple[BayDTO, ...]) -> None:
        """Offer these bays in the filter, keeping the current choice when it still exists."""
        current = self.bay_filter_id
        self.bay_filter.blockSignals(True)
        self.bay_filter.clear()
        self.bay_filter.addItem(_("Alle Bühnen"), None)
        for bay in bays:
            self.bay_filter.addItem(bay.name, bay.id)
        self.bay_filter.setCurrentIndex(max(self.bay_filter.findData(current), 0) if current is not None else 0)
        self.bay_filter.blockSignals(False)


def _arrow(text: str, toolbar: CalendarToolbar, step: int) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setStyleSheet("QToolButton { font-size: 16pt; font-weight: 600; padding: 0 10px; }")
    button.clicked.connect(lambda: toolbar.step_clicked.emit(step))
    return button


def _toggle(text: str, tooltip: str) -> QPushButton:
    button = QPushButton(text)
    button.setCheckable(True)
    button.setToolTip(tooltip)
    button.setStyleSheet("QPushButton:checked { background: #1e74d0; color: white; font-weight: 600; }")
    return button
