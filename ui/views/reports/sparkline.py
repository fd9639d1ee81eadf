"""A small trend line for a KPI card, painted with QPainter.

Eighteen cards each with a pyqtgraph plot would cost the tab a second to build; a sparkline needs no axes
and no interaction, so a few lines of painting do. ``None`` values (no data in that bucket, e.g. an
average over a Sunday without invoices) are skipped: the line joins the known values around them instead
of breaking into fragments, and nothing is drawn where nothing was measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.views.reports.style import ACCENT, ACCENT_FILL

HEIGHT = 30
MARGIN = 3.0


class Sparkline(QWidget):
    """The values of a KPI's buckets as a line with a light area below and a dot on the newest value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: tuple[float | None, ...] = ()
        self.setFixedHeight(HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """Wide and flat."""
        return QSize(160, HEIGHT)

    def set_values(self, values: Sequence[Decimal | int | None]) -> None:
        """Show these values (oldest first)."""
        self.values = tuple(None if v is None else float(v) for v in values)
        self.update()

    def _points(self) -> list[QPointF | None]:
        known = [v for v in self.values if v is not None]
        if len(self.values) < 2 or not known:
            return []
        low, high = min(known), max(known)
        low = min(low, 0.0)  # money and counts start at 0: a flat line at the top would look like a peak
        span = (high - low) or 1.0
        width, height = self.width() - 2 * MARGIN, self.height() - 2 * MARGIN
        step = width / (len(self.values) - 1)
        return [
            None if v is None else QPointF(MARGIN + i * step, MARGIN + height * (1 - (v - low) / span))
            for i, v in enumerate(self.values)
        ]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        """Line segments between known values, the area below them, the last known value as a dot."""
        del event
        points = self._points()
        if not points:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bottom = self.height() - MARGIN
        known = [p for p in points if p is not None]
        if len(known) > 1:
            area = QPainterPath(QPointF(known[0].x(), bottom))
            for point in known:
                area.lineTo(point)
            area.lineTo(QPointF(known[-1].x(), bottom))
            painter.fillPath(area, QColor(ACCENT_FILL))
            painter.setPen(QPen(QColor(ACCENT), 1.6))
            painter.drawPolyline(known)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(ACCENT))
        painter.drawEllipse(known[-1], 2.6, 2.6)
        painter.end()
