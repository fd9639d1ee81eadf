"""Live graphs: one pyqtgraph plot per PID, stacked, on the same time axis (the last 30 seconds, 0 = now),
each with the newest value in large digits and min/max since the start on its left.

Batches from the OBD worker arrive ~15 times a second; ``add`` only appends numbers to ring buffers and
``refresh`` hands numpy arrays to the curves (a few hundred points each). The axes stay put – time runs
from −30 to 0 s and a value axis only widens when a new extreme comes – so pyqtgraph reuses its axis
pictures and a redraw costs little of the GUI thread (painting is Python code holding the GIL). NO DATA
rounds are NaN: the line has a gap there.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from app.i18n import _
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.diagnosis.style import LIVE_PIDS, PLOT_COLOURS, live_label, value_text
from ui.workers.obd_messages import LiveBatch, LiveStarted

WINDOW_SECONDS = 30.0
KEEP_SECONDS = WINDOW_SECONDS + 2.0  # a little more than shown, so the left edge never runs dry
LABEL_WIDTH = 210

pg.setConfigOptions(antialias=True, foreground="#37474f")


@dataclass
class Series:
    """The buffered samples of one PID since the live view started."""

    name: str
    label: str
    unit: str = ""
    supported: bool = True
    xs: deque[float] = field(default_factory=deque)
    ys: deque[float] = field(default_factory=deque)
    latest: float | None = None
    latest_text: str = ""
    low: float | None = None
    high: float | None = None
    shown_range: tuple[float, float] | None = None  # the value axis as set last
    html: str = ""  # the label text as set last

    def append(self, x: float, y: float | None) -> None:
        """One sample (None = no value this round)."""
        self.xs.append(x)
        self.ys.append(math.nan if y is None else y)
        if y is not None:
            self.low = y if self.low is None else min(self.low, y)
            self.high = y if self.high is None else max(self.high, y)
        while self.xs and self.xs[0] < x - KEEP_SECONDS:
            self.xs.popleft()
            self.ys.popleft()


def value_range(low: float | None, high: float | None) -> tuple[float, float] | None:
    """The value axis for data between ``low`` and ``high``: 10 % air, rounded outwards to "nice" steps
    (so it changes only now and then, not with every new sample)."""
    if low is None or high is None:
        return None
    span = high - low
    if span <= 0:  # a constant value: keep it in the middle
        pad = max(1.0, abs(high) * 0.1)
        bottom, top = low - pad, high + pad
    else:
        step = 10 ** math.floor(math.log10(span))
        bottom = math.floor((low - span * 0.1) / step) * step
        top = math.ceil((high + span * 0.1) / step) * step
    return (0.0 if low >= 0 > bottom else bottom, top)


class LivePlots(QWidget):
    """The stacked graphs of the running live view: a value label and a graph per row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("livePlots")
        self.setStyleSheet("QWidget#livePlots { background: #ffffff; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(10, 8, 10, 8)
        self.grid.setHorizontalSpacing(8)
        self.grid.setVerticalSpacing(2)
        self.grid.setColumnStretch(1, 1)
        self.series: list[Series] = []
        self.plots: list[pg.PlotItem] = []
        self.curves: list[pg.PlotDataItem] = []
        self.labels: list[QLabel] = []
        self._widgets: list[QWidget] = []
        self.started_at = 0.0
        self.now = 0.0
        self.refresh_count = 0
        self._placeholder()

    def _clear(self) -> None:
        for widget in self._widgets:
            self.grid.removeWidget(widget)
            widget.deleteLater()
        for row in range(self.grid.rowCount()):
            self.grid.setRowStretch(row, 0)
        self._widgets = []
        self.series, self.plots, self.curves, self.labels = [], [], [], []

    def _placeholder(self) -> None:
        self._clear()
        hint = QLabel(_("Messwerte links auswählen und „Live starten“ drücken."))
        hint.setObjectName("liveHint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 13pt;")
        self.grid.addWidget(hint, 0, 0, 1, 2)
        self.grid.setRowStretch(0, 1)
        self._widgets.append(hint)

    def start(self, started: LiveStarted) -> None:
        """One row per PID: the value label on the left, the graph on the right (time axes linked)."""
        self._clear()
        self.started_at, self.now = started.started_at, 0.0
        count = len(started.names)
        for row, (name, label_text) in enumerate(zip(started.names, started.labels, strict=True)):
            shown = live_label(name) if name in dict(LIVE_PIDS) else label_text  # the picker's words
            series = Series(name, shown, supported=name not in started.unsupported)
            label = QLabel()
            label.setObjectName(f"liveValue_{name}")
            label.setFixedWidth(LABEL_WIDTH)
            label.setTextFormat(Qt.TextFormat.RichText)
            widget = pg.PlotWidget(background="w")
            widget.setObjectName(f"livePlot_{name}")
            widget.setMinimumHeight(70)
            plot = widget.getPlotItem()
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.disableAutoRange()
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.getAxis("left").setWidth(54)
            plot.setXRange(-WINDOW_SECONDS, 0, padding=0)
            plot.setYRange(0, 1, padding=0)
            if row < count - 1:
                plot.getAxis("bottom").setStyle(showValues=False)
                plot.getAxis("bottom").setHeight(6)
            else:
                plot.setLabel("bottom", _("Sekunden (0 = jetzt)"))
            colour = PLOT_COLOURS[row % len(PLOT_COLOURS)]
            curve = plot.plot([], [], pen=pg.mkPen(colour, width=2), connect="finite")
            self.grid.addWidget(label, row, 0)
            self.grid.addWidget(widget, row, 1)
            self.grid.setRowStretch(row, 1)
            self._widgets += [label, widget]
            self.series.append(series)
            self.plots.append(plot)
            self.curves.append(curve)
            self.labels.append(label)
        self._update_labels()

    def add(self, batch: LiveBatch) -> None:
        """Append the batch's rows and the newest units/texts (no drawing here)."""
        index = {s.name: i for i, s in enumerate(self.series)}
        positions = [index.get(name) for name in batch.names]
        for at, values in batch.rows:
            x = at - self.started_at
            self.now = max(self.now, x)
            for position, number in zip(positions, values, strict=True):
                if position is not None:
                    self.series[position].append(x, number)
        for name, latest in batch.latest.items():
            position = index.get(name)
            if position is None:
                continue
            series = self.series[position]
            series.unit = latest.unit or series.unit
            series.latest = latest.value if latest.ok else None
            series.latest_text = "" if latest.ok else latest.text

    def refresh(self) -> None:
        """Redraw the curves and the value labels (called for every batch, ~15 times a second)."""
        for series, curve, plot in zip(self.series, self.curves, self.plots, strict=True):
            if not series.xs:
                continue
            xs = np.fromiter(series.xs, float, len(series.xs)) - self.now
            curve.setData(xs, np.fromiter(series.ys, float, len(series.ys)), connect="finite")
            wanted = value_range(series.low, series.high)
            if wanted is not None and wanted != series.shown_range:
                series.shown_range = wanted
                plot.setYRange(*wanted, padding=0)
        self._update_labels()
        self.refresh_count += 1

    def _update_labels(self) -> None:
        for series, label in zip(self.series, self.labels, strict=True):
            if not series.supported:
                value, extra = "–", _("vom Fahrzeug nicht unterstützt")
            elif series.latest is None:
                value, extra = "–", series.latest_text or _("warte auf Werte …")
            else:
                value = value_text(series.latest, series.unit)
                extra = _("min {low} · max {high}").format(
                    low=value_text(series.low, series.unit), high=value_text(series.high, series.unit)
                )
            html = (
                f"<span style='font-size:10pt; color:#455a64'>{series.label}</span><br>"
                f"<span style='font-size:19pt; font-weight:600; color:#111'>{value}</span><br>"
                f"<span style='font-size:9pt; color:#607d8b'>{extra}</span>"
            )
            if html != series.html:  # a rich-text layout per label is not free: only when it changed
                series.html = html
                label.setText(html)

    def stop(self) -> None:
        """Keep the last picture (the mechanic may still read it); nothing else to do."""

    def reset(self) -> None:
        """Back to the hint (another vehicle, or disconnected before anything ran)."""
        self._placeholder()

    def label_texts(self) -> list[str]:
        """The value labels' rich text (tests)."""
        return [label.text() for label in self.labels]
