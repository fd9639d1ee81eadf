"""The KPI cards of the dashboard and the grid that flows them into as many columns as fit.

A card shows the title, the value in large digits, the change against the previous period (▲/▼ in green
or red), a sparkline over the period and, for a few widgets, one line worth naming (the best-selling
service). A widget without a data source shows only its German note, greyed – never a number. Clicking a
card selects it for "CSV exportieren…".
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.i18n import _
from app.reports.export import caption_text
from app.reports.types import Kpi, KpiReport
from ui.views.reports.sparkline import Sparkline
from ui.views.reports.style import (
    CARD_CSS,
    SHORT_TITLES,
    comparison_name,
    delta_colour,
    delta_text,
    tooltip_text,
    value_text,
)

CARD_HEIGHT = 124
MIN_CARD_WIDTH = 205
MAX_COLUMNS = 6


class KpiCard(QFrame):
    """One KPI widget."""

    clicked = Signal(str)  # the widget id

    def __init__(self, kpi_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kpi_id = kpi_id
        self.kpi: Kpi | None = None
        self.setObjectName("kpiCard")
        self.setProperty("selected", False)
        self.setFixedHeight(CARD_HEIGHT)
        self.setMinimumWidth(MIN_CARD_WIDTH - 20)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 9, 12, 8)
        layout.setSpacing(2)
        self.title_label = self._label("kpiTitle")
        self.title_label.setWordWrap(False)
        self.value_label = self._label("kpiValue")
        self.value_label.setWordWrap(True)
        trend = QHBoxLayout()
        trend.setSpacing(6)
        self.delta_label = self._label("kpiDelta")
        self.compare_label = self._label("kpiCaption")
        trend.addWidget(self.delta_label)
        trend.addWidget(self.compare_label, 1)
        self.caption_label = self._label("kpiCaption")
        self.sparkline = Sparkline()
        layout.addWidget(self.title_label)
        layout.addWidget(self.value_label)
        layout.addLayout(trend)
        layout.addWidget(self.caption_label)
        layout.addStretch(1)
        layout.addWidget(self.sparkline)

    def _label(self, name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        return label

    def set_kpi(self, item: Kpi, report: KpiReport) -> None:
        """Show ``item`` of ``report``."""
        self.kpi = item
        short = SHORT_TITLES.get(item.id)
        self.title_label.setText(_(short) if short else item.title)
        self.setToolTip(tooltip_text(item, report))
        self.value_label.setProperty("available", item.available)
        self.value_label.style().unpolish(self.value_label)
        self.value_label.style().polish(self.value_label)
        if not item.available:
            # Only the note: no value, no change, no line (the service has no data source for it).
            self.value_label.setText(item.note)
            for label in (self.delta_label, self.compare_label, self.caption_label):
                label.clear()
                label.hide()
            self.sparkline.set_values(())
            self.sparkline.hide()
            return
        self.value_label.setText(value_text(item.value, item.unit))
        change = delta_text(item)
        self.delta_label.setText(change)
        self.delta_label.setStyleSheet(f"color: {delta_colour(item)}; font-weight: 600; font-size: 9.5pt;")
        self.compare_label.setText(comparison_name(report.previous) if change else _no_comparison(item, report))
        caption = caption_text(item)
        self.caption_label.setText(caption)
        self.caption_label.setToolTip(caption)
        self.delta_label.setVisible(bool(change))
        self.compare_label.setVisible(bool(self.compare_label.text()))
        self.caption_label.setVisible(bool(caption))
        self.sparkline.set_values(_shown_sparkline(item, report))
        self.sparkline.show()

    def set_selected(self, selected: bool) -> None:
        """Outline the card (selected for the CSV export)."""
        self.setProperty("selected", selected)
        self.style().unpolish(self)
        self.style().polish(self)

    @property
    def selected(self) -> bool:
        """Whether the card is selected."""
        return bool(self.property("selected"))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        """A click selects the card."""
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.kpi_id)
        super().mouseReleaseEvent(event)


def _no_comparison(item: Kpi, report: KpiReport) -> str:
    if item.id == "hu_due":
        return _("Stand heute")
    return _("kein Vergleichswert") if report.previous is not None else ""


def _shown_sparkline(item: Kpi, report: KpiReport) -> tuple[Decimal | int | None, ...]:
    """The sparkline up to the as-of day: days of a running month that have not happened yet would
    draw a drop to zero that is no drop at all."""
    values = item.sparkline
    if len(values) != len(report.buckets):
        return values
    return tuple(v for v, bucket in zip(values, report.buckets, strict=True) if bucket.start <= report.as_of)


class KpiGrid(QWidget):
    """The cards in rows, as many columns as the width allows (at most six)."""

    selection_changed = Signal(object)  # the selected widget id or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(CARD_CSS)
        self.cards: dict[str, KpiCard] = {}
        self.selected: str | None = None
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(10)
        self._columns = 0

    def set_report(self, report: KpiReport) -> None:
        """Show every widget of ``report`` (cards are reused between reports)."""
        wanted = report.ids
        for kpi_id in list(self.cards):
            if kpi_id not in wanted:
                self.cards.pop(kpi_id).deleteLater()
        for item in report.kpis:
            card = self.cards.get(item.id)
            if card is None:
                card = KpiCard(item.id, self)
                card.clicked.connect(self._card_clicked)
                self.cards[item.id] = card
            card.set_kpi(item, report)
        self.cards = {key: self.cards[key] for key in wanted}  # the report's order
        if self.selected not in self.cards:
            self.select(None)
        self._columns = 0  # order may have changed: lay out again
        self._reflow()

    def select(self, kpi_id: str | None) -> None:
        """Select one card (None: none)."""
        self.selected = kpi_id if kpi_id in self.cards else None
        for key, card in self.cards.items():
            card.set_selected(key == self.selected)
        self.selection_changed.emit(self.selected)

    def _card_clicked(self, kpi_id: str) -> None:
        self.select(None if kpi_id == self.selected else kpi_id)

    def column_count(self) -> int:
        """How many columns the grid uses now."""
        return self._columns

    def _reflow(self) -> None:
        columns = max(2, min(MAX_COLUMNS, (self.width() + 10) // MIN_CARD_WIDTH))
        if columns == self._columns:
            return
        self._columns = columns
        for card in self.cards.values():
            self._layout.removeWidget(card)
        for index, card in enumerate(self.cards.values()):
            self._layout.addWidget(card, index // columns, index % columns)
        for column in range(MAX_COLUMNS):
            self._layout.setColumnStretch(column, 1 if column < columns else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        """Re-flow the cards when the width changes."""
        super().resizeEvent(event)
        self._reflow()
