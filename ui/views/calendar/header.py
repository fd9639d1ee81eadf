"""The fixed header above the calendar grid: day names (week view) and bay names, holidays in red."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from app.calendar_rules import weekday_name, weekday_short
from ui.views.calendar import style
from ui.views.calendar.data import NO_BAY, CalendarData
from ui.views.calendar.grid import CalendarGrid

DAY_ROW = 34.0


def short_name(name: str) -> str:
    """A lane title for a narrow column: "Bühne 1" → "B1", "Platz 4 (Schnellservice)" → "P4",
    "Achsmessung" → "Achs"."""
    words = re.sub(r"\(.*?\)", " ", name).split() or name.split()
    if len(words) > 1:
        return "".join(word if word.isdigit() else word[:1] for word in words if word[:1].isalnum())
    return words[0][:4] if words else ""


class GridHeader(QWidget):
    """Reads the grid's geometry, so its columns always line up with the lanes below."""

    def __init__(self, grid: CalendarGrid, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = grid
        grid.header = self
        self.today: Callable[[], dt.date] = dt.date.today
        self.setFixedHeight(44)

    def set_week(self, week: bool) -> None:
        """A second row for the bay names in the week view."""
        self.setFixedHeight(68 if week else 44)

    def lane_title(self, x: float) -> str:
        """The full title of the lane at ``x`` ("" outside)."""
        geo = self.grid.geometry_model
        lane = geo.lane_at(x) if geo else None
        return lane.title if lane else ""

    def event(self, event: QEvent) -> bool:
        """The full bay name as tooltip where the column only shows "B1"."""
        if event.type() == QEvent.Type.ToolTip:
            help_event: QHelpEvent = event  # type: ignore[assignment]
            title = self.lane_title(help_event.pos().x())
            QToolTip.showText(help_event.globalPos(), title, self) if title else QToolTip.hideText()
            return True
        return super().event(event)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        """Day headers (week) and lane titles, aligned with the grid's lanes."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), style.HEADER_FILL)
        geo = self.grid.geometry_model
        if geo is None:
            return
        week = len(geo.day_spans) > 1
        lane_top = DAY_ROW if week else 0.0
        if week:
            for span in geo.day_spans:
                self._paint_day(painter, span.day, QRectF(span.x, 0, span.width, lane_top), geo.data)
        painter.setFont(style.font(9.5 if week else 11.5, bold=True))
        metrics = QFontMetrics(painter.font())
        for lane in geo.lanes:
            rect = QRectF(lane.x, lane_top, lane.width, self.height() - lane_top)
            title = lane.title if metrics.horizontalAdvance(lane.title) <= lane.width - 8 else short_name(lane.title)
            painter.setPen(style.SECONDARY_TEXT if lane.bay_id == NO_BAY or week else style.HEADER_TEXT)
            text = metrics.elidedText(title, Qt.TextElideMode.ElideRight, int(lane.width - 4))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            painter.setPen(QPen(style.GRID_LINE, 1))
            painter.drawLine(QPointF(lane.x, lane_top + 6), QPointF(lane.x, self.height()))
        painter.setPen(QPen(style.GRID_LINE_HOUR, 1))
        painter.drawLine(QPointF(0, self.height() - 1), QPointF(self.width(), self.height() - 1))
        painter.setPen(QPen(style.GRID_LINE_HOUR, 2))
        for span in geo.day_spans:
            painter.drawLine(QPointF(span.x, 0), QPointF(span.x, self.height()))

    def _paint_day(self, painter: QPainter, day: dt.date, rect: QRectF, data: CalendarData) -> None:
        if day == self.today():
            painter.fillRect(rect, style.HEADER_TODAY)
        holiday = data.holidays.get(day)
        name = weekday_name(day.weekday()) if rect.width() > 150 else weekday_short(day.weekday())
        text = f"{name} {day:%d.%m.}" + (f" · {holiday}" if holiday else "")
        painter.setFont(style.font(10.5, bold=True))
        painter.setPen(QColor(style.HOLIDAY_TEXT) if holiday else style.HEADER_TEXT)
        elided = QFontMetrics(painter.font()).elidedText(text, Qt.TextElideMode.ElideRight, int(rect.width() - 8))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, elided)
