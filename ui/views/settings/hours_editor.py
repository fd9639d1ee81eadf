"""Opening hours per weekday: up to two time windows (QTimeEdit pairs) or "geschlossen"."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from PySide6.QtCore import QTime, Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QTimeEdit, QWidget

from app.calendar_rules import OpeningHours, weekday_name
from app.i18n import _

# Shown when a day is re-opened or gets its second window; the usual German workshop day.
_FALLBACK = ((dt.time(7, 30), dt.time(12, 0)), (dt.time(13, 0), dt.time(17, 30)))


def _qtime(value: dt.time) -> QTime:
    return QTime(value.hour, value.minute)


def _text(edit: QTimeEdit) -> str:
    return edit.time().toString("HH:mm")


class _DayRow:
    """The widgets of one weekday in the grid."""

    def __init__(self, grid: QGridLayout, row: int, weekday: int, on_change: Callable[..., None]) -> None:
        self.label = QLabel(weekday_name(weekday))
        self.closed = QCheckBox(_("geschlossen"))
        self.edits = [self._time_edit(on_change) for _i in range(4)]
        self.second = QCheckBox(_("und"))
        self.second.setToolTip(_("Zweites Zeitfenster am selben Tag, z. B. nach der Mittagspause"))
        self.closed.setToolTip(_("An diesem Tag ist die Werkstatt geschlossen"))
        self.dashes = [QLabel("–"), QLabel("–")]
        grid.addWidget(self.label, row, 0)
        grid.addWidget(self.closed, row, 1)
        grid.addWidget(self.edits[0], row, 2)
        grid.addWidget(self.dashes[0], row, 3)
        grid.addWidget(self.edits[1], row, 4)
        grid.addWidget(self.second, row, 5)
        grid.addWidget(self.edits[2], row, 6)
        grid.addWidget(self.dashes[1], row, 7)
        grid.addWidget(self.edits[3], row, 8)
        self.closed.toggled.connect(self.update_enabled)
        self.second.toggled.connect(self.update_enabled)
        self.closed.toggled.connect(on_change)
        self.second.toggled.connect(on_change)

    @staticmethod
    def _time_edit(on_change: Callable[..., None]) -> QTimeEdit:
        edit = QTimeEdit()
        edit.setDisplayFormat("HH:mm")
        edit.setAccessibleName(_("Uhrzeit"))
        edit.timeChanged.connect(on_change)
        return edit

    def set_intervals(self, intervals: tuple[tuple[dt.time, dt.time], ...]) -> None:
        """Show the day's windows (empty = closed; windows beyond the second cannot be shown)."""
        shown = list(intervals[:2]) or [_FALLBACK[0]]
        if len(shown) == 1:
            shown.append(_FALLBACK[1] if shown[0][1] <= _FALLBACK[1][0] else (shown[0][1], shown[0][1]))
        for index, (start, end) in enumerate(shown):
            self.edits[2 * index].setTime(_qtime(start))
            self.edits[2 * index + 1].setTime(_qtime(end))
        self.closed.setChecked(not intervals)
        self.second.setChecked(len(intervals) > 1)
        self.update_enabled()

    def intervals(self) -> list[list[str]]:
        """The windows as ``[["07:30", "12:00"], …]`` (empty when closed)."""
        if self.closed.isChecked():
            return []
        windows = [[_text(self.edits[0]), _text(self.edits[1])]]
        if self.second.isChecked():
            windows.append([_text(self.edits[2]), _text(self.edits[3])])
        return windows

    def update_enabled(self) -> None:
        """Grey out what does not apply: everything when closed, the second window when unticked."""
        open_ = not self.closed.isChecked()
        for edit in self.edits[:2]:
            edit.setEnabled(open_)
        self.second.setEnabled(open_)
        for edit in self.edits[2:]:
            edit.setEnabled(open_ and self.second.isChecked())
        self.label.setEnabled(open_)


class OpeningHoursEditor(QWidget):
    """Seven rows Montag…Sonntag; ``changed`` fires on every edit, ``to_json()`` gives the stored form."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        self._loading = False
        self.rows = [_DayRow(grid, weekday, weekday, self._emit_changed) for weekday in range(7)]
        grid.setColumnStretch(9, 1)

    def _emit_changed(self, *_args: object) -> None:
        if not self._loading:
            self.changed.emit()

    def set_hours(self, hours: OpeningHours) -> None:
        """Show ``hours`` without emitting ``changed``."""
        self._loading = True
        try:
            for weekday, row in enumerate(self.rows):
                row.set_intervals(hours.for_weekday(weekday))
        finally:
            self._loading = False

    def to_json(self) -> str:
        """The opening hours in the workshop column's JSON form (closed days left out)."""
        data = {str(weekday): row.intervals() for weekday, row in enumerate(self.rows) if row.intervals()}
        return json.dumps(data)
