"""Geometry of the calendar grid: lanes (day × bay), the time axis and one rectangle per appointment.

Kept apart from painting so tests (and the header widget) can ask where things are without pixels.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF

from app.i18n import _
from app.services.appointments import AppointmentDTO
from ui.views.calendar.data import NO_BAY, CalendarData

GUTTER = 62.0
"""Width of the time column on the left."""
MIN_HOUR_HEIGHT = 56.0
"""Small enough that a 10-hour day fits a laptop screen unscrolled; a 30-minute block still holds a line."""
BLOCK_MARGIN = 3.0


@dataclass(frozen=True)
class Lane:
    """One column of the grid: a bay (or "ohne Bühne") on one day."""

    day: dt.date
    bay_id: int
    title: str
    x: float
    width: float


@dataclass(frozen=True)
class DaySpan:
    """The horizontal extent of one day (all its lanes)."""

    day: dt.date
    x: float
    width: float


class GridGeometry:
    """Where days, lanes, times and appointments lie for a given data set and widget size."""

    def __init__(self, data: CalendarData, *, width: float, height: float, bay_filter: int | None = None) -> None:
        self.data = data
        first, last = data.time_range()
        self.first_minute = first.hour * 60 + first.minute
        self.last_minute = 24 * 60 if last.second else last.hour * 60 + last.minute
        self.hours = max((self.last_minute - self.first_minute) / 60, 1.0)
        self.hour_height = max(MIN_HOUR_HEIGHT, height / self.hours)
        self.height = self.hours * self.hour_height
        self.width = width
        self.lanes: list[Lane] = []
        self.day_spans: list[DaySpan] = []
        self._visible = self._visible_appointments(bay_filter)
        self._build_lanes(bay_filter)
        self.blocks: dict[int, QRectF] = {}
        self.pieces: list[tuple[AppointmentDTO, QRectF]] = []
        self._place_blocks()

    # --- time axis ---------------------------------------------------------------------------------

    def y_for(self, moment: dt.datetime | dt.time) -> float:
        """The y coordinate of a wall-clock time (clamped to the grid)."""
        minutes = moment.hour * 60 + moment.minute + moment.second / 60
        minutes = min(max(minutes, self.first_minute), self.last_minute)
        return (minutes - self.first_minute) / 60 * self.hour_height

    def _y_on(self, day: dt.date, moment: dt.datetime) -> float:
        # A block that started the day before begins at the top, one that ends tomorrow runs to the bottom.
        if moment.date() < day:
            return 0.0
        if moment.date() > day:
            return self.height
        return self.y_for(moment)

    def slot_at(self, point: QPointF) -> tuple[dt.datetime, Lane] | None:
        """The slot (start time on the raster, lane) under ``point``; None in the gutter or outside."""
        lane = self.lane_at(point.x())
        if lane is None or not 0 <= point.y() < self.height:
            return None
        minutes = self.first_minute + point.y() / self.hour_height * 60
        step = self.data.slot_minutes
        snapped = int(minutes // step * step)
        return dt.datetime.combine(lane.day, dt.time(snapped // 60, snapped % 60)), lane

    def slot_rect(self, start: dt.datetime, lane: Lane) -> QRectF:
        """The rectangle of one raster slot starting at ``start`` in ``lane``."""
        top = self.y_for(start)
        return QRectF(lane.x, top, lane.width, self.data.slot_minutes / 60 * self.hour_height)

    # --- lanes -------------------------------------------------------------------------------------

    def lane_at(self, x: float) -> Lane | None:
        """The lane at horizontal position ``x``."""
        return next((lane for lane in self.lanes if lane.x <= x < lane.x + lane.width), None)

    def lane(self, day: dt.date, bay_id: int | None) -> Lane | None:
        """The lane of ``bay_id`` (None/unknown → "ohne Bühne") on ``day``."""
        key = bay_id if bay_id is not None else NO_BAY
        return next((lane for lane in self.lanes if lane.day == day and lane.bay_id == key), None)

    def _visible_appointments(self, bay_filter: int | None) -> list[AppointmentDTO]:
        shown = [a for a in self.data.appointments if a.status != "cancelled"]
        return [a for a in shown if a.bay_id == bay_filter] if bay_filter is not None else shown

    def _lane_key(self, appt: AppointmentDTO) -> int:
        known = {b.id for b in self.data.bays}
        return appt.bay_id if appt.bay_id in known and appt.bay_id is not None else NO_BAY

    def _build_lanes(self, bay_filter: int | None) -> None:
        bays = [(b.id, b.name) for b in self.data.bays if bay_filter is None or b.id == bay_filter]
        if bay_filter is not None and not bays:
            bays = [(bay_filter, _("Bühne"))]
        if any(self._lane_key(a) == NO_BAY for a in self._visible) or not bays:
            bays.append((NO_BAY, _("ohne Bühne")))
        days = self.data.days
        day_width = (self.width - GUTTER) / max(len(days), 1)
        lane_width = day_width / len(bays)
        for d_index, day in enumerate(days):
            day_x = GUTTER + d_index * day_width
            self.day_spans.append(DaySpan(day, day_x, day_width))
            for b_index, (bay_id, name) in enumerate(bays):
                self.lanes.append(Lane(day, bay_id, name, day_x + b_index * lane_width, lane_width))

    # --- appointment blocks ------------------------------------------------------------------------

    def _place_blocks(self) -> None:
        """Rectangles per appointment; overlapping ones in one lane (possible without a bay) share its width."""
        by_lane: dict[tuple[dt.date, int], list[AppointmentDTO]] = {}
        for appt in self._visible:
            for span in self.day_spans:
                start = dt.datetime.combine(span.day, dt.time.min)
                if appt.start < start + dt.timedelta(days=1) and appt.end > start:
                    by_lane.setdefault((span.day, self._lane_key(appt)), []).append(appt)
        for (day, key), appts in by_lane.items():
            lane = self.lane(day, key)
            if lane is not None:
                self._pack(lane, sorted(appts, key=lambda a: (a.start, a.end, a.id)))

    def _pack(self, lane: Lane, appts: list[AppointmentDTO]) -> None:
        cluster: list[AppointmentDTO] = []
        cluster_end: dt.datetime | None = None
        for appt in [*appts, None]:
            if appt is None or (cluster_end is not None and appt.start >= cluster_end):
                self._place_cluster(lane, cluster)
                cluster, cluster_end = [], None
            if appt is not None:
                cluster.append(appt)
                cluster_end = appt.end if cluster_end is None else max(cluster_end, appt.end)

    def _place_cluster(self, lane: Lane, cluster: list[AppointmentDTO]) -> None:
        column_ends: list[dt.datetime] = []
        columns: dict[int, int] = {}
        for appt in cluster:
            free = next((i for i, end in enumerate(column_ends) if end <= appt.start), None)
            if free is None:
                column_ends.append(appt.end)
                free = len(column_ends) - 1
            column_ends[free] = appt.end
            columns[appt.id] = free
        width = lane.width / max(len(column_ends), 1)
        for appt in cluster:
            top, bottom = self._y_on(lane.day, appt.start), self._y_on(lane.day, appt.end)
            x = lane.x + columns[appt.id] * width
            # A block is at least 18 px high so even a 5-minute slot can be hit and read.
            height = max(bottom - top - 2, 18.0)
            margin = BLOCK_MARGIN if width >= 80 else 1.5  # every pixel counts in the week over all bays
            rect = QRectF(x + margin, top + 1, width - 2 * margin, height)
            self.pieces.append((appt, rect))
            # An appointment over several days is painted per day; lookups use its first shown day.
            self.blocks.setdefault(appt.id, rect)

    def appointment_at(self, point: QPointF) -> AppointmentDTO | None:
        """The appointment drawn under ``point`` (the last drawn wins, as it is on top)."""
        return next((appt for appt, rect in reversed(self.pieces) if rect.contains(point)), None)
