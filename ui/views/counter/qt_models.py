"""Item models and delegates of the counter: search hits and today's appointments, rows held as DTOs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app.i18n import _
from app.services.appointments import AppointmentDTO
from app.services.search import SearchHit
from ui.views.counter.style import APPOINTMENT_STATUS, KIND_MARKERS, SECONDARY_TEXT, status_text

DTO_ROLE = Qt.ItemDataRole.UserRole + 1
SUBTITLE_ROLE = Qt.ItemDataRole.UserRole + 2
_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class _DtoListModel(QAbstractListModel):
    """A read-only list of DTOs, replaced as a whole after every (background) query."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        """Replace all rows."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_dto(self, row: int) -> Any:
        """The DTO in ``row`` or None."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: _Index = _ROOT) -> int:  # noqa: N802 - Qt override
        """Number of rows (flat list)."""
        return 0 if parent.isValid() else len(self._rows)


class SearchHitModel(_DtoListModel):
    """Search results: customers and vehicles as ``SearchHit`` DTOs."""

    def hit(self, row: int) -> SearchHit | None:
        """The hit in ``row`` or None."""
        return self.row_dto(row)  # type: ignore[no-any-return]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Title for display, subtitle and the DTO by role, both lines as tooltip."""
        hit = self.hit(index.row()) if index.isValid() else None
        if hit is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return hit.title
        if role == SUBTITLE_ROLE:
            return hit.subtitle
        if role == Qt.ItemDataRole.ToolTipRole:
            kind = _(KIND_MARKERS.get(hit.kind, ("", "", ""))[2])
            return "\n".join(p for p in (f"{kind}: {hit.title}", hit.subtitle) if p)
        if role == DTO_ROLE:
            return hit
        return None


class AppointmentListModel(_DtoListModel):
    """Today's appointments as ``AppointmentDTO`` rows, in time order."""

    def appointment(self, row: int) -> AppointmentDTO | None:
        """The appointment in ``row`` or None."""
        return self.row_dto(row)  # type: ignore[no-any-return]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Time and label for display; bay, customer and status as subtitle."""
        appt = self.appointment(index.row()) if index.isValid() else None
        if appt is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{appt.start:%H:%M}–{appt.end:%H:%M}  {appt.label}"
        if role == SUBTITLE_ROLE:
            return " · ".join(p for p in (appt.bay_name, appt.customer_name, status_text(appt.status)) if p)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [appt.label, appt.customer_name, appt.bay_name, appt.mechanic_name, status_text(appt.status)]
            return "\n".join(p for p in lines if p)
        if role == DTO_ROLE:
            return appt
        return None


class _TwoLineDelegate(QStyledItemDelegate):
    """Paints a coloured marker at the left, a bold first line and a grey second line (elided)."""

    MARKER = 26
    PADDING = 8

    def _marker(self, index: _Index) -> tuple[str, str]:
        """(letter, colour) of the marker; an empty letter paints a bar instead of a badge."""
        raise NotImplementedError

    def _lines(self, index: _Index) -> tuple[str, str]:
        return str(index.data(Qt.ItemDataRole.DisplayRole) or ""), str(index.data(SUBTITLE_ROLE) or "")

    def sizeHint(self, option: QStyleOptionViewItem, _index: _Index) -> QSize:  # noqa: N802 - Qt override
        """Two text lines plus padding."""
        metrics = QFontMetrics(option.font)
        return QSize(200, metrics.height() * 2 + self.PADDING * 2 + 2)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        """Background by the style (selection, hover), then marker and the two lines."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect: QRect = opt.rect
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette = opt.palette
        letter, colour = self._marker(index)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if letter:
            marker = QRect(rect.left() + self.PADDING, rect.center().y() - self.MARKER // 2, self.MARKER, self.MARKER)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colour))
            painter.drawRoundedRect(marker, 6, 6)
            badge_font = QFont(opt.font)
            badge_font.setBold(True)
            painter.setFont(badge_font)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(marker, Qt.AlignmentFlag.AlignCenter, letter)
        else:
            painter.fillRect(QRect(rect.left() + 2, rect.top() + 4, 5, rect.height() - 8), QColor(colour))
        left = rect.left() + self.PADDING * 2 + (self.MARKER if letter else 0)
        width = rect.right() - left - self.PADDING
        title, subtitle = self._lines(index)
        title_font = QFont(opt.font)
        title_font.setBold(True)
        metrics = QFontMetrics(title_font)
        line_height = metrics.height()
        top = rect.top() + self.PADDING
        text_colour = palette.highlightedText().color() if selected else palette.text().color()
        painter.setFont(title_font)
        painter.setPen(text_colour)
        painter.drawText(
            QRect(left, top, width, line_height),
            Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(title, Qt.TextElideMode.ElideRight, width),
        )
        sub_font = QFont(opt.font)
        painter.setFont(sub_font)
        painter.setPen(text_colour if selected else QColor(SECONDARY_TEXT))
        painter.drawText(
            QRect(left, top + line_height + 2, width, line_height),
            Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(sub_font).elidedText(subtitle, Qt.TextElideMode.ElideRight, width),
        )
        painter.restore()


class SearchHitDelegate(_TwoLineDelegate):
    """Search hit: "F" (vehicle, blue) or "K" (customer, green) badge, title bold, subtitle grey."""

    def _marker(self, index: _Index) -> tuple[str, str]:
        hit = index.data(DTO_ROLE)
        letter, colour, _tooltip = KIND_MARKERS.get(getattr(hit, "kind", ""), ("?", "#90a4ae", ""))
        return letter, colour


class AppointmentDelegate(_TwoLineDelegate):
    """Today's appointment: a status-coloured bar, time and label bold, bay · customer · status grey."""

    def _marker(self, index: _Index) -> tuple[str, str]:
        appt = index.data(DTO_ROLE)
        return "", APPOINTMENT_STATUS.get(getattr(appt, "status", ""), ("#90a4ae", ""))[0]
