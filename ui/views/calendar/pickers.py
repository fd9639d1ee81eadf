"""Input widgets of the booking dialog: search-as-you-type with a popup list, the services list, a
duration box in hours and minutes and a time box that steps by the workshop's slot raster."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app import formatting
from app.i18n import _
from ui.context import UiContext
from ui.views.calendar import style

DEBOUNCE_MS = 220
"""Wait this long after the last keystroke before searching (the counter types fast)."""


class SuggestField(QLineEdit):
    """A line edit that searches in the background as you type and offers the hits in a popup list.

    ``search`` runs on the worker thread (no Qt there); ``describe`` turns a hit into (title, subtitle).
    Up/Down choose, Enter or a click takes the hit (``picked``), Esc closes the list.
    """

    picked = Signal(object)

    def __init__(
        self,
        ctx: UiContext,
        search: Callable[[str], Sequence[Any]],
        describe: Callable[[Any], tuple[str, str]],
        *,
        min_chars: int = 2,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._search, self._describe, self._min_chars = search, describe, min_chars
        self._hits: list[Any] = []
        self._asked = ""
        self.setClearButtonEnabled(True)
        # Parented, so the popup dies with the field; the Popup flag still makes it a floating window.
        self.popup = QListWidget(self)
        self.popup.setWindowFlags(Qt.WindowType.Popup)
        self.popup.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.popup.setFocusProxy(self)
        self.popup.setMouseTracking(True)
        self.popup.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.popup.setStyleSheet("QListWidget { font-size: 11pt; } QListWidget::item { padding: 4px 6px; }")
        self.popup.installEventFilter(self)
        self.popup.itemClicked.connect(self._take)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)
        self.textEdited.connect(lambda _text: self._timer.start())

    @property
    def hits(self) -> list[Any]:
        """The hits currently offered."""
        return list(self._hits)

    def search_now(self) -> None:
        """Search for the current text right away (the timer calls this after typing stops)."""
        self._timer.stop()
        text = self.text().strip()
        if len(text) < self._min_chars:
            self.popup.hide()
            return
        self._asked = text
        search = self._search
        self.ctx.query(lambda: list(search(text)), lambda hits: self._show(text, hits), parent=self)

    def _show(self, text: str, hits: list[Any]) -> None:
        if text != self._asked or text != self.text().strip():
            return  # typed on meanwhile: a newer search is coming
        self._hits = hits
        self.popup.clear()
        if not hits:
            item = QListWidgetItem(_("Nichts gefunden für „{text}“").format(text=text))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.popup.addItem(item)
        for hit in hits:
            title, subtitle = self._describe(hit)
            item = QListWidgetItem("\n".join(p for p in (title, subtitle) if p))
            item.setData(Qt.ItemDataRole.UserRole, hit)
            self.popup.addItem(item)
        self.popup.setCurrentRow(0 if hits else -1)
        rows = max(min(self.popup.count(), 7), 1)
        height = sum(self.popup.sizeHintForRow(i) for i in range(rows)) + 6
        self.popup.setFixedSize(max(self.width(), 380), height)
        self.popup.move(self.mapToGlobal(QPoint(0, self.height())))
        self.popup.show()

    def _take(self, item: QListWidgetItem | None) -> None:
        hit = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        self.popup.hide()
        self.setFocus()
        if hit is not None:
            self.picked.emit(hit)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """While the popup is open it gets the keys: navigation stays there, typing goes to the field."""
        if watched is not self.popup or event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(watched, event)
        key_event: QKeyEvent = event  # type: ignore[assignment]
        key = key_event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
            self._take(self.popup.currentItem())
            return True
        if key == Qt.Key.Key_Escape:
            self.popup.hide()
            self.setFocus()
            return True
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            return False
        self.setFocus()
        self.event(key_event)
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Down opens the list again; Enter on unsearched text searches instead of saving the dialog."""
        if event.key() == Qt.Key.Key_Down and self._hits:
            self._show(self.text().strip(), self._hits) if self.text().strip() == self._asked else self.search_now()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._timer.isActive():
            self.search_now()
            return
        super().keyPressEvent(event)


class DurationSpin(QSpinBox):
    """A duration in minutes shown as "1:30 Std." / "45 Min."; the arrows step by the slot raster."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(5, 24 * 60)
        self.setSingleStep(15)
        self.setAccelerated(True)

    def textFromValue(self, value: int) -> str:  # noqa: N802 - Qt override
        """90 → "1:30 Std."."""
        return style.duration_text(value)

    def valueFromText(self, text: str) -> int:  # noqa: N802 - Qt override
        """Accepts "1:30", "1,5", "90" (minutes) and the shown form."""
        cleaned = text.replace("Std.", "").replace("Min.", "").replace("h", "").strip()
        try:
            if ":" in cleaned:
                hours, minutes = cleaned.split(":", 1)
                return int(hours or 0) * 60 + int(minutes or 0)
            if "," in cleaned or "." in cleaned:
                return round(float(cleaned.replace(",", ".")) * 60)
            return int(cleaned)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        """Anything with digits, ":" or "," may be typed; ``valueFromText`` decides."""
        state = QValidator.State.Acceptable if any(c.isdigit() for c in text) else QValidator.State.Intermediate
        return state, text, pos


class SlotTimeEdit(QTimeEdit):
    """A time of day "HH:mm" whose arrows jump from slot to slot instead of minute by minute."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDisplayFormat("HH:mm")
        self.slot_minutes = 15

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        """Up/Down move to the next/previous slot on the raster."""
        minutes, step = self.time().hour() * 60 + self.time().minute(), self.slot_minutes
        # Off the raster (10:07) the first step lands on it: up → 10:15, down → 10:00.
        slot = minutes // step if steps > 0 else -(-minutes // step)
        target = min(max((slot + steps) * step, 0), 24 * 60 - step)
        self.setTime(QTime(target // 60, target % 60))

    def value(self) -> dt.time:
        """The time as ``datetime.time``."""
        return dt.time(self.time().hour(), self.time().minute())


class ServicesPicker(QWidget):
    """Catalogue services of the appointment: a search field to add, a list with AW, remove with Entf."""

    changed = Signal()

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._services: list[Any] = []
        catalog = ctx.services.catalog
        self.search = SuggestField(ctx, lambda text: catalog.search(text, limit=15), _describe_service, min_chars=2)
        self.search.setPlaceholderText(_("Leistung suchen, z. B. „Öl“, „Insp“, „Brems“ …"))
        self.search.picked.connect(self.add)
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        self.list.setStyleSheet("QListWidget::item { padding: 4px 4px; }")
        self.list.installEventFilter(self)
        self.remove_button = QPushButton(_("Entfernen"))
        self.remove_button.setAutoDefault(False)  # Enter in the dialog saves; it never removes a service
        self.remove_button.setToolTip(_("Markierte Leistung entfernen (Entf)"))
        self.remove_button.clicked.connect(self.remove_current)
        self.total = QLabel()
        self.total.setStyleSheet(f"color: {style.SECONDARY_TEXT.name()};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        row = QHBoxLayout()
        row.addWidget(self.total, 1)
        row.addWidget(self.remove_button)
        layout.addLayout(row)
        self._refresh()

    @property
    def service_ids(self) -> list[int]:
        """Ids of the chosen services, in the order added."""
        return [sv.id for sv in self._services]

    def add(self, service: Any) -> None:
        """Add a catalogue service (ServiceDTO); adding one twice does nothing."""
        self.search.clear()
        if service.id in self.service_ids:
            return
        self._services.append(service)
        self._refresh()
        self.changed.emit()

    def remove_current(self) -> None:
        """Remove the selected service."""
        row = self.list.currentRow()
        if 0 <= row < len(self._services):
            del self._services[row]
            self._refresh()
            self.changed.emit()

    def _refresh(self) -> None:
        self.list.clear()
        for sv in self._services:
            self.list.addItem(f"{sv.name}   ·   {_aw(sv.aw)}")
        # As tall as its rows (up to four), so one service does not leave a big empty box.
        rows = min(max(len(self._services), 1), 4)
        row_height = max(self.list.sizeHintForRow(0), self.list.fontMetrics().height() + 12)
        self.list.setFixedHeight(rows * row_height + 2 * self.list.frameWidth() + 4)
        self.list.setVisible(bool(self._services))
        self.remove_button.setVisible(bool(self._services))
        self.total.setVisible(bool(self._services))
        total = sum((Decimal(sv.aw) for sv in self._services), Decimal(0))
        self.total.setText(_("Summe: {aw}").format(aw=_aw(total)) if self._services else "")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Entf in the list removes the selected service."""
        if watched is self.list and event.type() == QEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):  # type: ignore[attr-defined]
                self.remove_current()
                return True
        return super().eventFilter(watched, event)


def _aw(value: Any) -> str:
    return _("{aw} AW").format(aw=formatting.number(value, 2))


def _describe_service(service: Any) -> tuple[str, str]:
    return f"{service.name}", " · ".join(p for p in (service.code, service.category, _aw(service.aw)) if p)
