"""Painting one appointment block: a rounded, status-coloured card with time, plate, title and mechanic.

Wide lanes (day view, filtered week) get "08:00–09:30  M-AB 123" over the title and the mechanic; narrow
lanes (week view over all bays) get the plate and the title in a condensed font — the time is where the
block is, and the tooltip says everything.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen

from app.i18n import _
from app.services.appointments import AppointmentDTO
from ui.views.calendar import style

NARROW_WIDTH = 130.0
"""Below this text width the block switches to the compact, condensed layout."""


def tooltip_text(appt: AppointmentDTO) -> str:
    """All the details of an appointment for its tooltip, one per line."""
    when = f"{appt.start:%d.%m.%Y} · {style.hhmm(appt.start)}–{style.hhmm(appt.end)}"
    lines = [
        f"{when} · {style.status_name(appt.status)}",
        appt.label,
        appt.customer_name,
        ", ".join(appt.service_names),
        _("Bühne: {name}").format(name=appt.bay_name) if appt.bay_name else "",
        _("Monteur: {name}").format(name=appt.mechanic_name) if appt.mechanic_name else "",
        appt.notes,
    ]
    return "\n".join(line for line in lines if line)


def paint_block(painter: QPainter, appt: AppointmentDTO, rect: QRectF, *, selected: bool = False) -> None:
    """One appointment: a rounded block with a status-coloured bar on the left and its text."""
    fill, border, text = style.status_colours(appt.status)
    path = QPainterPath()
    path.addRoundedRect(rect, 5, 5)
    painter.fillPath(path, fill)
    painter.save()
    painter.setClipPath(path)
    painter.fillRect(QRectF(rect.x(), rect.y(), 5, rect.height()), border)
    painter.restore()
    painter.setPen(QPen(border.darker(140) if selected else border, 2.5 if selected else 1))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)
    painter.save()
    painter.setClipRect(rect)
    if rect.width() - 13 < NARROW_WIDTH:
        _paint_narrow(painter, appt, rect.adjusted(7, 2, -2, -2), text)
    else:
        _paint_wide(painter, appt, rect.adjusted(9, 2, -4, -2), text)
    painter.restore()


def _title(appt: AppointmentDTO) -> str:
    title = appt.title or (appt.customer_name if not appt.plate else "")
    if appt.status == "pending":  # a request from the chat or phone: the counter must confirm it
        return _("Anfrage: {title}").format(title=title) if title else _("Anfrage")
    return title


def _paint_wide(painter: QPainter, appt: AppointmentDTO, area: QRectF, colour: QColor) -> None:
    bold, normal = style.font(10, bold=True), style.font(9.5)
    height = QFontMetrics(bold).height()
    head = "  ".join(p for p in (f"{style.hhmm(appt.start)}–{style.hhmm(appt.end)}", appt.plate) if p)
    title = _title(appt)
    if area.height() < 2 * height:
        # A short block (30 minutes): everything on one line, the title after the plate.
        used = _draw(painter, head, bold, colour, area.x(), area.y(), area.width(), height)
        if title:
            _draw(painter, "· " + title, normal, colour, area.x() + used + 6, area.y(), area.width() - used - 6, height)
        return
    lines = [(head, bold, colour), (title, normal, colour), (appt.mechanic_name, normal, style.SECONDARY_TEXT)]
    _draw_lines(painter, [line for line in lines if line[0]], area, height)


def _paint_narrow(painter: QPainter, appt: AppointmentDTO, area: QRectF, colour: QColor) -> None:
    bold, normal = _condensed(9, bold=True), _condensed(8.5)
    height = QFontMetrics(bold).height()
    plate = [appt.plate] if appt.plate else []
    if appt.plate and QFontMetrics(bold).horizontalAdvance(appt.plate) > area.width():
        # "M-AB 123" over two lines ("M-AB" / "123") reads better than an elided "M-…"; with room for one
        # line only, "M-AB…" at least says that more follows.
        plate = appt.plate.split(" ", 1)
        if area.height() < 2 * height and len(plate) > 1:
            plate = [plate[0] + "…"]
    lines = [(part, bold, colour) for part in plate] or [(style.hhmm(appt.start), bold, colour)]
    lines.append((_title(appt), normal, colour))
    _draw_lines(painter, [line for line in lines if line[0]], area, height)


def _draw_lines(painter: QPainter, lines: list[tuple[str, QFont, QColor]], area: QRectF, height: int) -> None:
    y = area.y()
    for index, (text, font, colour) in enumerate(lines):
        if index and y + height > area.bottom() + 3:
            break
        _draw(painter, text, font, colour, area.x(), y, area.width(), height)
        y += height


def _draw(
    painter: QPainter, text: str, font: QFont, colour: QColor, x: float, y: float, width: float, height: int
) -> float:
    """Draw ``text`` elided to ``width``; returns the width used (0 when not even one letter fits)."""
    metrics = QFontMetrics(font)
    elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(width))
    if not elided or elided == "…":
        return 0.0
    painter.setFont(font)
    painter.setPen(colour)
    painter.drawText(QRectF(x, y, width, height), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)
    return float(metrics.horizontalAdvance(elided))


def _condensed(point_size: float, *, bold: bool = False) -> QFont:
    font = style.font(point_size, bold=bold)
    font.setStretch(QFont.Stretch.Condensed)
    return font
