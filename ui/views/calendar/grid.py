"""The painted calendar: a time grid with one lane per bay (and day), appointment blocks and a "now" line.

``CalendarGrid`` is the scrollable body; ``header.GridHeader`` (the fixed row of day and bay names above
it) reads the same ``GridGeometry``, so both always line up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.i18n import _
from ui.views.calendar import style
from ui.views.calendar.blocks import paint_block, tooltip_text
from ui.views.calendar.data import NO_BAY, CalendarData
from ui.views.calendar.layout import GUTTER, GridGeometry, Lane


class CalendarGrid(QWidget):
    """Paints ``CalendarData`` as a day or week plan; emits what the user double-clicks or right-clicks."""

    appointment_activated = Signal(int)  # appointment id
    slot_activated = Signal(object, object)  # start datetime, bay id or None
    context_requested = Signal(object, object, object)  # global QPoint, AppointmentDTO | None, (start, bay) | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setAutoFillBackground(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.now: Callable[[], dt.datetime] = dt.datetime.now
        self.data: CalendarData | None = None
        self.bay_filter: int | None = None
        self.selected_id: int | None = None
        self._hover: tuple[dt.datetime, Lane] | None = None
        self._geometry: GridGeometry | None = None
        self.header: QWidget | None = None  # the GridHeader, repainted on every relayout

    # --- data and geometry -------------------------------------------------------------------------

    def set_data(self, data: CalendarData, *, bay_filter: int | None = None) -> None:
        """Show ``data`` (cancelled appointments are hidden); ``bay_filter`` limits the lanes to one bay."""
        self.data, self.bay_filter = data, bay_filter
        if self.selected_id is not None and data.appointment(self.selected_id) is None:
            self.selected_id = None
        self._hover = None
        self._relayout()

    @property
    def geometry_model(self) -> GridGeometry | None:
        """The current geometry (None before the first data arrives)."""
        return self._geometry

    def appointment_rect(self, appointment_id: int) -> QRectF | None:
        """Where the block of ``appointment_id`` is painted, in widget coordinates (None if not shown)."""
        return self._geometry.blocks.get(appointment_id) if self._geometry else None

    def lane_rect(self, day: dt.date, bay_id: int | None) -> QRectF | None:
        """The full-height rectangle of ``bay_id``'s lane on ``day``."""
        lane = self._geometry.lane(day, bay_id) if self._geometry else None
        return QRectF(lane.x, 0, lane.width, self._geometry.height) if lane and self._geometry else None

    def y_for(self, moment: dt.datetime | dt.time) -> float:
        """The y coordinate of a time of day."""
        return self._geometry.y_for(moment) if self._geometry else 0.0

    def _relayout(self) -> None:
        if self.data is None:
            return
        parent = self.parentWidget()
        available = parent.height() if parent is not None else self.height()
        self._geometry = GridGeometry(self.data, width=self.width(), height=available, bay_filter=self.bay_filter)
        self.setMinimumHeight(int(self._geometry.height))
        if self.header is not None:
            self.header.update()
        self.update()

    def refit(self) -> None:
        """Recompute the geometry for the current viewport height."""
        self._relayout()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """As tall as the day needs at the current hour height."""
        return QSize(900, int(self._geometry.height) if self._geometry else 600)

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        """Lanes follow the width; hours stretch to fill a tall window."""
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._relayout()

    # --- mouse -------------------------------------------------------------------------------------

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        """Highlight the slot under the mouse; a hand over appointments."""
        if self._geometry is None:
            return
        pos = event.position()
        over = self._geometry.appointment_at(pos)
        self.setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor)
        hover = None if over else self._geometry.slot_at(pos)
        if hover != self._hover:
            self._hover = hover
            self.update()

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """No hover highlight outside the widget."""
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        """A click selects an appointment (drawn with a darker frame)."""
        appt = self._geometry.appointment_at(event.position()) if self._geometry else None
        self.selected_id = appt.id if appt else None
        self.update()
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        """Double-click: edit the appointment, or book into the empty slot."""
        if self._geometry is None or event.button() != Qt.MouseButton.LeftButton:
            return
        self.activate_at(event.position())

    def activate_at(self, pos: QPointF) -> None:
        """What a double-click at ``pos`` does (also used by tests and the keyboard)."""
        if self._geometry is None:
            return
        appt = self._geometry.appointment_at(pos)
        if appt is not None:
            self.appointment_activated.emit(appt.id)
            return
        slot = self._geometry.slot_at(pos)
        if slot is not None:
            start, lane = slot
            self.slot_activated.emit(start, None if lane.bay_id == NO_BAY else lane.bay_id)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt override
        """Right-click: the view builds the menu for the appointment or the slot."""
        if self._geometry is None:
            return
        pos = QPointF(event.pos())
        appt = self._geometry.appointment_at(pos)
        slot = None if appt else self._geometry.slot_at(pos)
        if appt is not None:
            self.selected_id = appt.id
            self.update()
        bay_slot = (slot[0], None if slot[1].bay_id == NO_BAY else slot[1].bay_id) if slot else None
        self.context_requested.emit(event.globalPos(), appt, bay_slot)

    def event(self, event: QEvent) -> bool:
        """Tooltips with the appointment's details."""
        if event.type() == QEvent.Type.ToolTip and self._geometry is not None:
            help_event: QHelpEvent = event  # type: ignore[assignment]
            appt = self._geometry.appointment_at(QPointF(help_event.pos()))
            if appt is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(help_event.globalPos(), tooltip_text(appt), self)
            return True
        return super().event(event)

    # --- painting ----------------------------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        """Background, closed times, grid lines, hover, appointments, now line."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), style.BACKGROUND)
        geo = self._geometry
        if geo is None or self.data is None:
            painter.setPen(style.SECONDARY_TEXT)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, _("Termine werden geladen …"))
            return
        self._paint_closed(painter, geo)
        self._paint_lines(painter, geo)
        if self._hover is not None:
            self._paint_hover(painter, geo, *self._hover)
        # The now line runs under the blocks (it must not strike through their text); its clock on top.
        self._paint_now(painter, geo, line=True)
        for appt, rect in geo.pieces:
            paint_block(painter, appt, rect, selected=appt.id == self.selected_id)
        self._paint_now(painter, geo, line=False)

    def _paint_closed(self, painter: QPainter, geo: GridGeometry) -> None:
        hatch = QBrush(style.CLOSED_HATCH, Qt.BrushStyle.BDiagPattern)
        for span in geo.day_spans:
            if span.day in geo.data.holidays:
                painter.fillRect(QRectF(span.x, 0, span.width, geo.height), style.HOLIDAY_FILL)
                continue
            top = 0.0
            for open_start, open_end in geo.data.hours.intervals(span.day):
                self._shade(painter, hatch, QRectF(span.x, top, span.width, geo.y_for(open_start) - top))
                top = geo.y_for(open_end)
            self._shade(painter, hatch, QRectF(span.x, top, span.width, geo.height - top))

    @staticmethod
    def _shade(painter: QPainter, hatch: QBrush, rect: QRectF) -> None:
        if rect.height() > 0:
            painter.fillRect(rect, style.CLOSED_FILL)
            painter.fillRect(rect, hatch)

    def _paint_lines(self, painter: QPainter, geo: GridGeometry) -> None:
        painter.setFont(style.font(9.5))
        step = geo.data.slot_minutes
        minute = geo.first_minute - geo.first_minute % step
        while minute <= geo.last_minute:
            if minute >= geo.first_minute:
                y = (minute - geo.first_minute) / 60 * geo.hour_height
                full_hour = minute % 60 == 0
                painter.setPen(QPen(style.GRID_LINE_HOUR if full_hour else style.GRID_LINE, 1))
                painter.drawLine(QPointF(GUTTER - (8 if full_hour else 0), y), QPointF(self.width(), y))
                if full_hour or minute == geo.first_minute:
                    painter.setPen(style.SECONDARY_TEXT)
                    label = QRectF(0, y + 1, GUTTER - 10, 18)
                    painter.drawText(
                        label,
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                        f"{minute // 60:02d}:{minute % 60:02d}",
                    )
            minute += step
        for lane in geo.lanes:
            painter.setPen(QPen(style.GRID_LINE, 1))
            painter.drawLine(QPointF(lane.x, 0), QPointF(lane.x, geo.height))
        painter.setPen(QPen(style.GRID_LINE_HOUR, 2))
        for span in geo.day_spans:
            painter.drawLine(QPointF(span.x, 0), QPointF(span.x, geo.height))

    def _paint_hover(self, painter: QPainter, geo: GridGeometry, start: dt.datetime, lane: Lane) -> None:
        rect = geo.slot_rect(start, lane).adjusted(1, 0, -1, 0)
        painter.fillRect(rect, style.HOVER_FILL)
        if rect.height() >= 14 and rect.width() >= 60:
            painter.setPen(style.SECONDARY_TEXT)
            painter.setFont(style.font(9))
            painter.drawText(
                rect.adjusted(6, 0, -4, 0),
                Qt.AlignmentFlag.AlignVCenter,
                _("{time} – Doppelklick: neuer Termin").format(time=style.hhmm(start))
                if rect.width() > 220
                else style.hhmm(start),
            )

    def _paint_now(self, painter: QPainter, geo: GridGeometry, *, line: bool) -> None:
        now = self.now()
        span = next((s for s in geo.day_spans if s.day == now.date()), None)
        minute = now.hour * 60 + now.minute
        if span is None or not geo.first_minute <= minute <= geo.last_minute:
            return
        y = geo.y_for(now)
        if line:
            painter.setPen(QPen(style.NOW_LINE, 2))
            painter.drawLine(QPointF(span.x, y), QPointF(span.x + span.width, y))
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.NOW_LINE)
        painter.drawEllipse(QPointF(span.x, y), 4.5, 4.5)
        # The current time in the gutter, over the hour labels, like a wall clock next to the plan.
        label = QRectF(4, y - 9, GUTTER - 12, 18)
        painter.drawRoundedRect(label, 4, 4)
        painter.setPen(QColor("#ffffff"))
        painter.setFont(style.font(9, bold=True))
        painter.drawText(label, Qt.AlignmentFlag.AlignCenter, style.hhmm(now))
