"""Charts of the management report drawn with ``reportlab.graphics`` (vector, embedded DejaVu fonts).

Bar charts: revenue per sub-period, revenue by category, utilisation per mechanic; a line chart: open and
overdue receivables at each sub-period's end. Every label uses the shipped DejaVu font (ReportLab would
fall back to an unembedded Helvetica) and German number formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.colors import Color, HexColor

from app import formatting
from app.pdf.fonts import BOLD, REGULAR

GREY: Final = HexColor("#8C8C8C")
RED: Final = HexColor("#B03A2E")
MAX_LABELS: Final = 16


def _number(value: float) -> str:
    return formatting.number(Decimal(str(round(value, 2))), 0 if abs(value) >= 100 else 1)


def _sparse(labels: Sequence[str]) -> list[str]:
    """Every n-th label, so that at most ``MAX_LABELS`` are printed."""
    step = max(1, -(-len(labels) // MAX_LABELS))
    return [label if index % step == 0 else "" for index, label in enumerate(labels)]


def _drawing(width: float, height: float) -> Drawing:
    drawing = Drawing(width, height)
    drawing.initialFontName = REGULAR  # else the renderer starts every drawing with an unembedded Helvetica
    return drawing


def _title(drawing: Drawing, text: str, height: float) -> None:
    drawing.add(String(0, height - 12, text, fontName=BOLD, fontSize=10))


def _style_axes(chart: VerticalBarChart | HorizontalBarChart | HorizontalLineChart) -> None:
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = REGULAR
        axis.labels.fontSize = 7
        axis.strokeColor = GREY
    chart.valueAxis.labelTextFormat = _number
    chart.valueAxis.gridStrokeColor = HexColor("#E0E0E0")
    chart.valueAxis.visibleGrid = True


def _floats(values: Sequence[Decimal | int | None]) -> list[float]:
    return [float(v) if v is not None else 0.0 for v in values]


def _from_zero(chart: VerticalBarChart | HorizontalBarChart | HorizontalLineChart) -> None:
    """Bars and lines of amounts start at 0 (a cut axis exaggerates small differences); below only if
    there are negative values (a day with more Stornos than invoices)."""
    lowest = min((min((v for v in row if v is not None), default=0.0) for row in chart.data), default=0.0)
    chart.valueAxis.valueMin = min(0.0, lowest)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Decimal | int | None],
    accent: Color,
    *,
    width: float,
    height: float = 170,
) -> Drawing:
    """Vertical bars, e.g. net revenue per day, week or month."""
    drawing = _drawing(width, height)
    _title(drawing, title, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 45, 30, width - 55, height - 55
    chart.data = [_floats(values) or [0.0]]
    chart.categoryAxis.categoryNames = _sparse(list(labels)) or [""]
    chart.categoryAxis.labels.angle = 30 if len(labels) > 8 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 8 else "n"
    chart.bars[0].fillColor = accent
    chart.bars[0].strokeColor = None
    _style_axes(chart)
    _from_zero(chart)
    drawing.add(chart)
    return drawing


def horizontal_bars(
    title: str,
    labels: Sequence[str],
    values: Sequence[Decimal | int | None],
    accent: Color,
    *,
    width: float,
    suffix: str = "",
) -> Drawing:
    """Horizontal bars with the value printed at each bar (categories, mechanics)."""
    count = max(1, len(labels))
    height = 40 + 16 * count
    drawing = _drawing(width, height)
    _title(drawing, title, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 150, 10, width - 210, height - 30
    chart.data = [list(reversed(_floats(values))) or [0.0]]
    chart.categoryAxis.categoryNames = [label[:28] for label in reversed(labels)] or [""]
    chart.bars[0].fillColor = accent
    chart.bars[0].strokeColor = None
    chart.barLabels.fontName = REGULAR
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    chart.barLabelFormat = lambda v: f"{_number(v)}{suffix}"
    _style_axes(chart)
    _from_zero(chart)
    drawing.add(chart)
    return drawing


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal | int | None]]],
    accent: Color,
    *,
    width: float,
    height: float = 170,
) -> Drawing:
    """Lines over the sub-periods (e.g. open and overdue receivables), with a legend."""
    drawing = _drawing(width, height)
    _title(drawing, title, height)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 45, 30, width - 160, height - 55
    # None (a sub-period that has not begun) leaves a gap instead of dropping the line to 0.
    chart.data = [[float(v) if v is not None else None for v in values] or [0.0] for _name, values in series]
    chart.categoryAxis.categoryNames = _sparse(list(labels)) or [""]
    chart.categoryAxis.labels.angle = 30 if len(labels) > 8 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 8 else "n"
    colours = [accent, RED, GREY]
    for index in range(len(series)):
        chart.lines[index].strokeColor = colours[index % len(colours)]
        chart.lines[index].strokeWidth = 1.5
    _style_axes(chart)
    _from_zero(chart)
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 105, height - 35
    legend.fontName, legend.fontSize = REGULAR, 7
    legend.colorNamePairs = [(colours[i % len(colours)], name) for i, (name, _values) in enumerate(series)]
    drawing.add(legend)
    return drawing
