"""The head of the reports tab: date range (presets and two date fields), the location filter, the
loading hint and the export buttons.

Every change of the range restarts a short timer; only when it runs out is ``range_changed`` emitted, so
clicking through the presets or typing a date digit by digit asks the database once, not each time.
Editing a date switches the preset to "Benutzerdefiniert".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QWidget,
)

from app.errors import ValidationError
from app.i18n import _
from app.reports.period import PRESETS, Period, preset, preset_label
from ui.views.reports.style import BAD, MUTED, TITLE

DEBOUNCE_MS = 300


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _date(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


class RangeBar(QWidget):
    """Presets, custom dates and the location; emits the chosen period after a short pause."""

    range_changed = Signal(object)  # Period
    location_changed = Signal(object)  # location id or None (= this installation / all)

    def __init__(self, today: Callable[[], dt.date], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._today = today
        self._syncing = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        heading = QLabel(_("Berichte"))
        heading.setStyleSheet("font-size: 15pt; font-weight: 700; color: #1f2d36;")
        layout.addWidget(heading)
        layout.addSpacing(10)
        self.preset_box = QComboBox()
        for name in PRESETS:
            self.preset_box.addItem(preset_label(name), name)
        self.preset_box.setToolTip(_("Zeitraum der Auswertung"))
        self.start_edit = self._date_edit(_("Erster Tag des Zeitraums"))
        self.end_edit = self._date_edit(_("Letzter Tag des Zeitraums"))
        layout.addWidget(self.preset_box)
        layout.addWidget(self.start_edit)
        self.dash = QLabel("–")
        layout.addWidget(self.dash)
        layout.addWidget(self.end_edit)
        self.location_box = QComboBox()
        self.location_box.setToolTip(_("Standort (Zahlen anderer Standorte liefert der CarBot-Server)"))
        self.location_box.setVisible(False)
        layout.addWidget(self.location_box)
        self.error_label = QLabel()
        self.error_label.setStyleSheet(f"color: {BAD};")
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)
        self.loading_label = QLabel(_("wird aktualisiert …"))
        self.loading_label.setStyleSheet(f"color: {MUTED}; font-style: italic;")
        self.loading_label.setVisible(False)
        layout.addWidget(self.loading_label)
        layout.addStretch(1)
        self.role_label = QLabel()
        self.role_label.setStyleSheet(f"color: {TITLE};")
        layout.addWidget(self.role_label)
        self.csv_button = QToolButton()
        self.csv_button.setText(_("CSV exportieren…"))
        self.csv_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.csv_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.csv_button.setStyleSheet("QToolButton { padding: 5px 12px; }")
        self.csv_menu = QMenu(self.csv_button)
        self.csv_all_action = self.csv_menu.addAction(_("Alle Kennzahlen…"))
        self.csv_selected_action = self.csv_menu.addAction(_("Ausgewählte Kennzahl…"))
        self.csv_button.setMenu(self.csv_menu)
        self.pdf_button = QPushButton(_("PDF-Bericht…"))
        layout.addWidget(self.csv_button)
        layout.addWidget(self.pdf_button)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self._emit_range)
        self.preset_box.currentIndexChanged.connect(self._preset_chosen)
        self.start_edit.dateChanged.connect(self._date_typed)
        self.end_edit.dateChanged.connect(self._date_typed)
        self.location_box.currentIndexChanged.connect(
            lambda _index: self.location_changed.emit(self.location_box.currentData())
        )
        self._show_preset("this_month")

    def _date_edit(self, tip: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd.MM.yyyy")
        edit.setToolTip(tip)
        return edit

    # --- the range ---------------------------------------------------------------------------------

    @property
    def preset_name(self) -> str:
        """The chosen preset ("this_month" … "custom")."""
        return str(self.preset_box.currentData())

    def period(self) -> Period | None:
        """The range shown in the date fields (None while it is invalid)."""
        try:
            return Period(_date(self.start_edit.date()), _date(self.end_edit.date()))
        except ValidationError:
            return None

    def choose_preset(self, name: str) -> None:
        """Select a preset as if the user had (the new range follows after the pause)."""
        self.preset_box.setCurrentIndex(self.preset_box.findData(name))

    def set_custom(self, start: dt.date, end: dt.date) -> None:
        """Type a custom range as if the user had."""
        self.start_edit.setDate(_qdate(start))
        self.end_edit.setDate(_qdate(end))

    def _show_preset(self, name: str) -> None:
        self._syncing = True
        try:
            self.preset_box.setCurrentIndex(self.preset_box.findData(name))
            if name != "custom":
                chosen = preset(name, self._today())
                self.start_edit.setDate(_qdate(chosen.start))
                self.end_edit.setDate(_qdate(chosen.end))
        finally:
            self._syncing = False

    def refresh_preset(self) -> None:
        """Recompute a preset's dates from today (the app may run past midnight into a new month)."""
        if self.preset_name != "custom":
            self._show_preset(self.preset_name)

    def _preset_chosen(self, _index: int) -> None:
        if self._syncing:
            return
        self._show_preset(self.preset_name)
        self.timer.start()

    def _date_typed(self, _value: QDate) -> None:
        if self._syncing:
            return
        if self.preset_name != "custom":
            self._syncing = True
            self.preset_box.setCurrentIndex(self.preset_box.findData("custom"))
            self._syncing = False
        self.timer.start()

    def _emit_range(self) -> None:
        period = self.period()
        self.error_label.setVisible(period is None)
        if period is None:
            self.error_label.setText(_("Das Ende liegt vor dem Beginn."))
            return
        self.range_changed.emit(period)

    def flush(self) -> None:
        """Emit a pending change now (tests; Enter in a date field)."""
        if self.timer.isActive():
            self.timer.stop()
            self._emit_range()

    # --- location, state ---------------------------------------------------------------------------

    def set_locations(self, choices: Sequence[tuple[str, str | None]]) -> None:
        """The location choices as (label, id); shown only when there is more than one."""
        self.location_box.blockSignals(True)
        self.location_box.clear()
        for label, location_id in choices:
            self.location_box.addItem(label, location_id)
        self.location_box.blockSignals(False)
        self.location_box.setVisible(len(choices) > 1)

    def set_loading(self, loading: bool) -> None:
        """The quiet "wird aktualisiert …" hint."""
        self.loading_label.setVisible(loading)

    def set_selected_kpi(self, title: str | None) -> None:
        """Name the selected widget in the CSV menu (disabled without a selection)."""
        self.csv_selected_action.setEnabled(title is not None)
        self.csv_selected_action.setText(
            _("Nur „{title}“…").format(title=title) if title else _("Ausgewählte Kennzahl… (Karte anklicken)")
        )

    def set_range_visible(self, visible: bool) -> None:
        """The range picker (hidden for the counter, which sees only today)."""
        for widget in (self.preset_box, self.start_edit, self.dash, self.end_edit):
            widget.setVisible(visible)

    def set_exports_enabled(self, enabled: bool) -> None:
        """Exports only with revenue figures on screen."""
        self.csv_button.setVisible(enabled)
        self.pdf_button.setVisible(enabled)
