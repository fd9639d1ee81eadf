"""Guard against a Qt binding that corrupts reference counts (PySide6 6.12.0 on CPython 3.11 aborted the
process with "none_dealloc" after a few thousand calls that return None/True/False)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QLabel


class _Emitter(QObject):
    fired = Signal()


def test_qt_calls_keep_none_true_false_reference_counts(qapp) -> None:  # type: ignore[no-untyped-def]
    label, box, emitter = QLabel(), QCheckBox(), _Emitter()
    before = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    for _ in range(500):
        label.setText("x")
        box.isChecked()
        emitter.fired.emit()
    after = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    # Unrelated objects may come and go; a leak of one reference per call would show as hundreds.
    assert all(abs(a - b) < 50 for a, b in zip(after, before, strict=True)), (before, after)
