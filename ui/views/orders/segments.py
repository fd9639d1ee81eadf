"""A compact segmented switch: checkable buttons side by side, exactly one checked (modes, list filters)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QPushButton, QWidget

from ui.views.orders.style import SEGMENT_CSS


class SegmentedSwitch(QWidget):
    """``changed`` carries the key of the button the user checked."""

    changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons: dict[str, QPushButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self.setStyleSheet(SEGMENT_CSS)

    def add(self, key: str, text: str, tooltip: str = "") -> QPushButton:
        """Append a segment; the first one starts checked."""
        button = QPushButton(text)
        button.setObjectName(f"segment_{key}")
        button.setCheckable(True)
        button.setToolTip(tooltip)
        button.clicked.connect(lambda _checked=False, k=key: self.changed.emit(k))
        self._group.addButton(button)
        self._layout.addWidget(button)
        if not self.buttons:
            button.setChecked(True)
        self.buttons[key] = button
        return button

    def set_current(self, key: str) -> None:
        """Check ``key`` without emitting ``changed``."""
        self.buttons[key].setChecked(True)

    def current(self) -> str:
        """The checked key."""
        return next(key for key, button in self.buttons.items() if button.isChecked())
