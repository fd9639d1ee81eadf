"""The painted calendar: a time grid with one lane per bay (and day), appointment blocks and a "now" line.

``CalendarGrid`` is the scrollable body, ``GridHeader`` the fixed row of day and bay names above it; both
read the same ``GridGeometry`` so they always line up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QFontMetrics,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.calendar_rules import weekday_name, weekday_short
from app.i18n import _
from app.services.appointments import AppointmentDTO
from ui.views.calendar import style
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
        self.header: GridHeader | None = None

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

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
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
        for appt, rect in geo.pieces:
            paint_block(painter, appt, rect, selected=appt.id == self.selected_id)
        self._paint_now(painter, geo)

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
                    painter.drawText(label, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                                     f"{minute // 60:02d}:{minute % 60:02d}")
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
            painter.drawText(rect.adjusted(6, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter,
                             _("{time} – Doppelklick: neuer Termin").format(time=style.hhmm(start))
                             if rect.width() > 220 else style.hhmm(start))

    def _paint_now(self, painter: QPainter, geo: GridGeometry) -> None:
        now = self.now()
        span = next((s for s in geo.day_spans if s.day == now.date()), None)
        minute = now.hour * 60 + now.minute
        if span is None or not geo.first_minute <= minute <= geo.last_minute:
            return
        y = geo.y_for(now)
        painter.setPen(QPen(style.NOW_LINE, 2))
        painter.drawLine(QPointF(span.x, y), QPointF(span.x + span.width, y))
        painter.setBrush(style.NOW_LINE)
        painter.drawEllipse(QPointF(span.x, y), 4.5, 4.5)


def tooltip_text(appt: AppointmentDTO) -> str:
    """All the details of an appointment for its tooltip, one per line."""
    lines = [
        f"{appt.start:%d.%m.%Y} · {style.hhmm(appt.start)}–{style.hhmm(appt.end)} · {style.status_name(appt.status)}",
        appt.label,
        appt.customer_name,
        ", ".join(appt.service_names),
        _("Bühne: {name}").format(name=appt.bay_name) if appt.bay_name else "",
        _("Monteur: {name}").format(name=appt.mechanic_name) if appt.mechanic_name else "",
        appt.notes,
    ]
    return "\n".join(line for line in lines if line)


def paint_block(painter: QPainter, appt: AppointmentDTO, rect: QRectF, *, selected: bool = False) -> None:
    """One appointment: a rounded block with a status-coloured bar, time, plate, title and mechanic."""
    fill, border, text = style.status_colours(appt.status)
    path = QPainterPath()
    path.addRoundedRect(rect, 6, 6)
    painter.fillPath(path, fill)
    painter.save()
    painter.setClipPath(path)
    painter.fillRect(QRectF(rect.x(), rect.y(), 5, rect.height()), border)
    painter.restore()
    painter.setPen(QPen(border.darker(130) if selected else border, 2.5 if selected else 1))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)
    _paint_block_text(painter, appt, rect.adjusted(10, 3, -5, -3), text)


def _paint_block_text(painter: QPainter, appt: AppointmentDTO, area: QRectF, colour: QColor) -> None:
    bold, normal = style.font(10, bold=True), style.font(9.5)
    line_height = QFontMetrics(bold).height()
    time = f"{style.hhmm(appt.start)}–{style.hhmm(appt.end)}"
    narrow = area.width() < 120
    first = time if narrow else "  ".join(p for p in (time, appt.plate) if p)
    lines: list[tuple[str, bool, QColor]] = [(first, True, colour)]
    if narrow and appt.plate:
        lines.append((appt.plate, True, colour))
    title = appt.title or (appt.customer_name if not appt.plate else "")
    if appt.status == "pending":
        title = _("Anfrage: {title}").format(title=title) if title else _("Anfrage")
    if title:
        lines.append((title, False, colour))
    if appt.mechanic_name:
        lines.append((appt.mechanic_name, False, style.SECONDARY_TEXT))
    y = area.y()
    for index, (line, is_bold, pen) in enumerate(lines):
        if y + line_height > area.bottom() + 4 and index > 0:
            break
        painter.setFont(bold if is_bold else normal)
        painter.setPen(pen)
        elided = QFontMetrics(painter.font()).elidedText(line, Qt.TextElideMode.ElideRight, int(area.width()))
        painter.drawText(QRectF(area.x(), y, area.width(), line_height), Qt.AlignmentFlag.AlignLeft, elided)
        y += line_height


class GridHeader(QWidget):
    """The fixed header above the grid: day names (week) and bay names, holidays in red."""

    def __init__(self, grid: CalendarGrid, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = grid
        grid.header = self
        self.today: Callable[[], dt.date] = dt.date.today
        self.setFixedHeight(44)

    def set_week(self, week: bool) -> None:
        """A second row for the bay names in the week view."""
        self.setFixedHeight(66 if week else 44)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        """Day headers (week) and lane titles, aligned with the grid's lanes."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), style.HEADER_FILL)
        geo = self.grid.geometry_model
        if geo is None:
            return
        week = len(geo.day_spans) > 1
        lane_top = 34.0 if week else 0.0
        if week:
            for span in geo.day_spans:
                self._paint_day(painter, span.day, QRectF(span.x, 0, span.width, lane_top), geo.data)
        painter.setFont(style.font(9.5 if week else 11, bold=not week))
        metrics = QFontMetrics(painter.font())
        for lane in geo.lanes:
            rect = QRectF(lane.x, lane_top, lane.width, self.height() - lane_top)
            painter.setPen(style.SECONDARY_TEXT if lane.bay_id == NO_BAY or week else style.HEADER_TEXT)
            text = metrics.elidedText(lane.title, Qt.TextElideMode.ElideRight, int(lane.width - 6))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            painter.setPen(QPen(style.GRID_LINE, 1))
            painter.drawLine(QPointF(lane.x, lane_top), QPointF(lane.x, self.height()))
        painter.setPen(QPen(style.GRID_LINE_HOUR, 1))
        painter.drawLine(QPointF(0, self.height() - 1), QPointF(self.width(), self.height() - 1))
        for span in geo.day_spans:
            painter.setPen(QPen(style.GRID_LINE_HOUR, 2))
            painter.drawLine(QPointF(span.x, 0), QPointF(span.x, self.height()))

    def _paint_day(self, painter: QPainter, day: dt.date, rect: QRectF, data: CalendarData) -> None:
        if day == self.today():
            painter.fillRect(rect, style.HEADER_TODAY)
        holiday = data.holidays.get(day)
        name = weekday_name(day.weekday()) if rect.width() > 150 else weekday_short(day.weekday())
        text = f"{name} {day:%d.%m.}"
        painter.setFont(style.font(10.5, bold=True))
        painter.setPen(QColor(style.HOLIDAY_TEXT) if holiday else style.HEADER_TEXT)
        if holiday:
            text = f"{text} · {holiday}"
        elided = QFontMetrics(painter.font()).elidedText(text, Qt.TextElideMode.ElideRight, int(rect.width() - 8))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, elided)
