"""The three charts of the dashboard (pyqtgraph, as the Diagnose tab's live graphs): revenue over time
by day, week or month; revenue by category; mechanic utilisation against a 100 % line.

The charts are pictures, not tools: panning, zooming and the context menu are off, hovering a bar tells
its exact value. Each chart keeps the rows it draws (``rows``) so tests can read what is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app import formatting
from app.i18n import N_, _
from app.reports.types import CategoryRevenue, MechanicUtilisation, SeriesPoint
from ui.views.reports.style import (
    ACCENT,
    BAD,
    BAR_COLOURS,
    LIMIT,
    PANEL_CSS,
    TITLE,
    utilisation_colour,
    value_text,
)

MAX_CATEGORIES = 7
MAX_X_LABELS = 12
GRANULARITY_LABELS = (("day", N_("Tag")), ("week", N_("Woche")), ("month", N_("Monat")))


class EuroAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph has no type hints
    """A value axis in whole euros with German separators ("12.000 €")."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        """German tick texts."""
        del scale, spacing
        return [f"{formatting.number(round(v), 0)}\u00a0€" for v in values]


class PercentAxis(pg.AxisItem):  # type: ignore[misc]
    """A value axis in percent."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        """German tick texts."""
        del scale, spacing
        return [f"{formatting.number(round(v), 0)}\u00a0%" for v in values]


def _plot(*, left: pg.AxisItem | None = None, bottom: pg.AxisItem | None = None) -> pg.PlotWidget:
    axes = {key: axis for key, axis in (("left", left), ("bottom", bottom)) if axis is not None}
    plot = pg.PlotWidget(background="w", axisItems=axes)
    item = plot.getPlotItem()
    item.setMouseEnabled(x=False, y=False)
    item.setMenuEnabled(False)
    item.hideButtons()
    item.showGrid(x=False, y=False)
    font = QFont()
    font.setPointSizeF(8.5)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setStyle(tickFont=font, tickLength=0)
        axis.setPen(pg.mkPen("#cfd8dc"))
        axis.setTextPen(pg.mkPen(TITLE))
    plot.setMinimumHeight(170)
    return plot


class ChartPanel(QFrame):
    """A white panel with a title, optional controls on the right, a chart and a note line."""

    def __init__(self, title: str, plot: pg.PlotWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartPanel")
        self.setStyleSheet(PANEL_CSS)
        self.plot = plot
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        self.head = QHBoxLayout()
        self.title_label = QLabel(title)
        self.title_label.setObjectName("chartTitle")
        self.head.addWidget(self.title_label)
        self.head.addStretch(1)
        layout.addLayout(self.head)
        self.note_label = QLabel()
        self.note_label.setObjectName("chartNote")
        self.note_label.setWordWrap(True)
        layout.addWidget(self.note_label)
        layout.addWidget(plot, 1)
        self.rows: list[tuple[str, Decimal | None]] = []
        self._tips: list[str] = []
        self._horizontal = False
        plot.scene().sigMouseMoved.connect(self._hovered)

    def _hovered(self, position: QPointF) -> None:
        """The exact value of the bar under the mouse as a tooltip."""
        box = self.plot.getPlotItem().vb
        if not self._tips or not box.sceneBoundingRect().contains(position):
            return
        point = box.mapSceneToView(position)
        index = round(point.y() if self._horizontal else point.x())
        if 0 <= index < len(self._tips):
            QToolTip.showText(self.plot.mapToGlobal(self.plot.mapFromScene(position).toPoint()), self._tips[index])

    def _clear(self) -> None:
        self.plot.getPlotItem().clear()
        self.rows, self._tips = [], []

    def _value_labels(self, values: Sequence[float], texts: Sequence[str], *, horizontal: bool) -> None:
        """Small value texts at the end of each bar."""
        for index, (value, text) in enumerate(zip(values, texts, strict=True)):
            label = pg.TextItem(text, color=TITLE, anchor=(0, 0.5) if horizontal else (0.5, 1))
            label.setFont(_small_font())
            label.setPos(*((value, index) if horizontal else (index, value)))
            self.plot.addItem(label)


def _small_font() -> QFont:
    font = QFont()
    font.setPointSizeF(8.0)
    return font


class RevenueChart(ChartPanel):
    """Net revenue per day, week or month, with a Tag / Woche / Monat switch."""

    granularity_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Umsatz im Zeitverlauf (netto)"), _plot(left=EuroAxis("left")), parent)
        self.granularity = "day"
        self.buttons: dict[str, QToolButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        for key, label in GRANULARITY_LABELS:
            button = QToolButton()
            button.setText(_(label))
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setStyleSheet(
                "QToolButton { padding: 2px 10px; border: 1px solid #cfd8dc; color: #37474f; }"
                f"QToolButton:checked {{ background: {ACCENT}; color: white; border-color: {ACCENT}; }}"
            )
            button.clicked.connect(lambda _checked=False, k=key: self._clicked(k))
            group.addButton(button)
            self.head.addWidget(button)
            self.buttons[key] = button
        self.buttons["day"].setChecked(True)

    def _clicked(self, key: str) -> None:
        if key != self.granularity:
            self.set_granularity(key)
            self.granularity_changed.emit(key)

    def set_granularity(self, key: str) -> None:
        """Check the switch's button (without asking for new data)."""
        self.granularity = key
        self.buttons[key].setChecked(True)

    def set_series(self, points: Sequence[SeriesPoint]) -> None:
        """Draw the buckets' net revenue."""
        self._clear()
        self._horizontal = False
        self.rows = [(p.label, p.net) for p in points]
        total = sum((p.net for p in points), Decimal("0"))
        invoices = sum(p.invoices for p in points)
        self.note_label.setText(
            _("Summe {net} · {count} Rechnungen").format(net=value_text(total, "EUR"), count=invoices)
            if points
            else _("Keine Daten im Zeitraum.")
        )
        if not points:
            return
        heights = [float(p.net) for p in points]
        brushes = [QColor(ACCENT) if h >= 0 else QColor(BAD) for h in heights]
        bars = pg.BarGraphItem(x=list(range(len(points))), height=heights, width=0.72, brushes=brushes, pen=None)
        item = self.plot.getPlotItem()
        item.addItem(bars)
        every = max(1, -(-len(points) // MAX_X_LABELS))  # ceil: at most a dozen labels under the bars
        ticks = [(i, p.label) for i, p in enumerate(points) if i % every == 0]
        item.getAxis("bottom").setTicks([ticks, []])
        top = max([*heights, 100.0])  # a month without revenue gets a 0–100 € axis, not ticks of 0,2 €
        bottom = min([*heights, 0.0])
        item.setYRange(bottom, top * 1.12, padding=0)
        # As wide as the longest amount from the start (pyqtgraph drops tick texts that do not fit yet).
        axis = item.getAxis("left")
        widest = max(abs(bottom), top * 1.12)
        text = f"-{formatting.number(round(widest), 0)}\u00a0€"
        axis.setWidth(QFontMetrics(axis.style.get("tickFont") or QFont()).horizontalAdvance(text) + 14)
        item.setXRange(-0.6, len(points) - 0.4, padding=0)
        self._tips = [
            _("{label}: {net} netto, {gross} brutto, {count} Rechnungen").format(
                label=p.label,
                net=value_text(p.net, "EUR"),
                gross=value_text(p.gross, "EUR"),
                count=p.invoices,
            )
            for p in points
        ]


class CategoryChart(ChartPanel):
    """Net revenue by category as horizontal bars, the largest on top (the rest summed as "Übrige")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Umsatz nach Kategorie (netto)"), _plot(bottom=EuroAxis("bottom")), parent)

    def set_categories(self, categories: Sequence[CategoryRevenue]) -> None:
        """Draw the categories (top ``MAX_CATEGORIES``; the others as one bar)."""
        self._clear()
        self._horizontal = True
        rows = [(c.category, c.net) for c in sorted(categories, key=lambda c: c.net, reverse=True) if c.net]
        if len(rows) > MAX_CATEGORIES:
            rest = sum((net for _name, net in rows[MAX_CATEGORIES - 1 :]), Decimal("0"))
            rows = [*rows[: MAX_CATEGORIES - 1], (_("Übrige"), rest)]
        self.rows = list(rows)
        self.note_label.setText("" if rows else _("Keine Umsätze im Zeitraum."))
        item = self.plot.getPlotItem()
        item.showAxis("left", bool(rows))  # an empty chart shows no axis of 0–1 "€"
        item.hideAxis("bottom")  # the bars carry their amounts
        if not rows:
            return
        shown = list(reversed(rows))  # pyqtgraph counts y upwards: the largest bar goes last = on top
        values = [float(net) for _name, net in shown]
        brushes = [QColor(BAR_COLOURS[(len(shown) - 1 - i) % len(BAR_COLOURS)]) for i in range(len(shown))]
        bars = pg.BarGraphItem(x0=0, y=list(range(len(shown))), height=0.66, width=values, brushes=brushes, pen=None)
        item.addItem(bars)
        _name_axis(item, [_short(name, 24) for name, _net in shown])
        self._value_labels(values, [value_text(net, "EUR") for _name, net in shown], horizontal=True)
        item.setXRange(min([*values, 0.0]), max([*values, 1.0]) * 1.5, padding=0)
        item.setYRange(-0.6, len(shown) - 0.4, padding=0)
        self._tips = [f"{name}: {value_text(net, 'EUR')}" for name, net in shown]


class UtilisationChart(ChartPanel):
    """AW worked ÷ AW available per mechanic as horizontal bars with a dashed line at 100 %."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Auslastung der Monteure"), _plot(bottom=PercentAxis("bottom")), parent)

    def set_mechanics(self, mechanics: Sequence[MechanicUtilisation]) -> None:
        """Draw each mechanic's utilisation; labour not assigned to anyone is named in the note."""
        self._clear()
        self._horizontal = True
        known = [m for m in mechanics if m.mechanic_id is not None]
        unassigned = sum((m.aw_worked for m in mechanics if m.mechanic_id is None), Decimal("0"))
        self.rows = [(m.name, m.utilisation) for m in known]
        self.note_label.setText(
            _("Nicht zugeordnete Arbeit: {aw}").format(aw=value_text(unassigned, "AW"))
            if unassigned
            else ("" if known else _("Keine Monteure mit Arbeitszeit angelegt."))
        )
        if not known:
            return
        shown = list(reversed(known))
        values = [float(m.utilisation or 0) for m in shown]
        brushes = [QColor(utilisation_colour(m.utilisation)) for m in shown]
        bars = pg.BarGraphItem(x0=0, y=list(range(len(shown))), height=0.62, width=values, brushes=brushes, pen=None)
        item = self.plot.getPlotItem()
        item.addItem(bars)
        limit = pg.InfiniteLine(pos=100, angle=90, pen=pg.mkPen(LIMIT, width=1.5, style=Qt.PenStyle.DashLine))
        limit.setToolTip(_("100 % = alle verfügbaren AW geleistet"))
        item.addItem(limit)
        _name_axis(item, [_short(m.name, 22) for m in shown])
        self._value_labels(values, [value_text(m.utilisation, "%") for m in shown], horizontal=True)
        item.setXRange(0, max([*values, 100.0]) * 1.18, padding=0)
        item.setYRange(-0.6, len(shown) - 0.4, padding=0)
        self._tips = [
            _("{name}: {worked} von {available} ({share})").format(
                name=m.name,
                worked=value_text(m.aw_worked, "AW"),
                available=value_text(m.aw_available, "AW"),
                share=value_text(m.utilisation, "%"),
            )
            for m in shown
        ]


def _name_axis(item: pg.PlotItem, names: Sequence[str]) -> None:
    """Names on the left axis, the axis as wide as the longest one.

    pyqtgraph widens an axis for its texts only after the first paint; the names would be missing from the
    first picture (and from a screenshot) – so the width is set from the font's metrics right away.
    """
    axis = item.getAxis("left")
    axis.setTicks([list(enumerate(names)), []])
    font = axis.style.get("tickFont") or QFont()
    widest = max((QFontMetrics(font).horizontalAdvance(name) for name in names), default=0)
    axis.setWidth(widest + 14)


def _short(text: str, length: int) -> str:
    """Axis labels stay on one line."""
    return text if len(text) <= length else text[: length - 1] + "…"
