"""Readiness (I/M) monitors and the freeze frame side by side: each monitor complete / not complete / not
supported with a one-line verdict for the AU, and the values the ECU stored with the code that set it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.i18n import _
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.diagnosis.style import READINESS_STATES, value_text

if TYPE_CHECKING:
    from drivers.obd.results import FreezeFrame, Monitor, VehicleStatus


def monitor_state(monitor: Monitor) -> str:
    """ "complete", "incomplete" or "unsupported"."""
    if not monitor.supported:
        return "unsupported"
    return "complete" if monitor.complete else "incomplete"


def _table(columns: list[str], name: str) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    head = table.horizontalHeader()
    head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    head.setMinimumSectionSize(140)
    for column in range(1, len(columns)):
        head.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return table


class ReadinessPanel(QWidget):
    """Readiness monitors (left) and freeze frame (right)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        readiness_box = QGroupBox(_("Bereitschaftstests (Readiness)"))
        self.verdict = QLabel(_("Noch nicht ausgelesen."))
        self.verdict.setObjectName("readinessVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.ignition = QLabel("")
        self.ignition.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.monitors = _table([_("Test"), _("Status")], "readinessTable")
        readiness = QVBoxLayout(readiness_box)
        readiness.addWidget(self.verdict)
        readiness.addWidget(self.ignition)
        readiness.addWidget(self.monitors, 1)

        frame_box = QGroupBox(_("Freeze-Frame"))
        self.frame_dtc = QLabel(_("Noch nicht ausgelesen."))
        self.frame_dtc.setObjectName("freezeFrameDtc")
        self.frame_dtc.setWordWrap(True)
        self.frame_dtc.setStyleSheet("font-size: 12pt; font-weight: 600;")
        hint = QLabel(_("Messwerte im Moment, als das Steuergerät den Fehler gespeichert hat."))
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.frame = _table([_("Messwert"), _("Wert")], "freezeFrameTable")
        frame = QVBoxLayout(frame_box)
        frame.addWidget(self.frame_dtc)
        frame.addWidget(hint)
        frame.addWidget(self.frame, 1)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(12)
        layout.addWidget(readiness_box, 1)
        layout.addWidget(frame_box, 1)

    def show_status(self, status: VehicleStatus) -> None:
        """The monitors with a verdict: all supported complete → ready for the AU."""
        if status.state != "ok":
            self.verdict.setText(_("Nicht lesbar: {reason}").format(reason=status.text))
            self.verdict.setStyleSheet("font-size: 12pt; font-weight: 600; color: #b71c1c;")
            self.monitors.setRowCount(0)
            return
        supported = [m for m in status.monitors if m.supported]
        open_tests = [m for m in supported if not m.complete]
        if open_tests:
            self.verdict.setText(
                _("{n} von {total} Tests nicht abgeschlossen – für die AU erst eine Probefahrt machen.").format(
                    n=len(open_tests), total=len(supported)
                )
            )
            colour = "#e65100"
        else:
            self.verdict.setText(
                _("Alle {total} unterstützten Tests abgeschlossen – bereit für die AU.").format(total=len(supported))
            )
            colour = "#2e7d32"
        self.verdict.setStyleSheet(f"font-size: 12pt; font-weight: 600; color: {colour};")
        self.ignition.setText(
            _("Motor: Diesel (Selbstzünder)") if status.ignition == "compression" else _("Motor: Otto (Fremdzünder)")
        )
        # Open tests first, then complete ones, unsupported last: what needs a drive is on top.
        order = {"incomplete": 0, "complete": 1, "unsupported": 2}
        monitors = sorted(status.monitors, key=lambda m: order[monitor_state(m)])
        self.monitors.setRowCount(len(monitors))
        for row, monitor in enumerate(monitors):
            key = monitor_state(monitor)
            text, colour = READINESS_STATES[key]
            name = QTableWidgetItem(monitor.name)
            state = QTableWidgetItem(("✔ " if key == "complete" else "✘ " if key == "incomplete" else "– ") + _(text))
            state.setForeground(QColor(colour))
            if key == "unsupported":
                name.setForeground(QColor(colour))
            self.monitors.setItem(row, 0, name)
            self.monitors.setItem(row, 1, state)

    def show_freeze_frame(self, frame: FreezeFrame) -> None:
        """The code that stored the frame and its values; "kein Freeze-Frame" when the ECU has none."""
        if frame.dtc is not None:
            self.frame_dtc.setText(f"{frame.dtc.code} – {frame.dtc.text_de}")
        elif frame.state == "ok" and not frame.values:
            self.frame_dtc.setText(frame.text or _("Kein Freeze-Frame gespeichert."))
        elif frame.state != "ok":
            self.frame_dtc.setText(_("Nicht lesbar: {reason}").format(reason=frame.text))
        else:
            self.frame_dtc.setText(_("Freeze-Frame ohne auslösenden Fehler"))
        values = list(frame.values)
        self.frame.setRowCount(len(values))
        for row, value in enumerate(values):
            shown = value_text(value.value, value.unit) if value.ok and value.value is not None else value.text
            item = QTableWidgetItem(shown)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if not value.ok:
                item.setForeground(QColor(SECONDARY_TEXT))
            self.frame.setItem(row, 0, QTableWidgetItem(value.label))
            self.frame.setItem(row, 1, item)

    def clear(self) -> None:
        """Nothing read yet."""
        self.verdict.setText(_("Noch nicht ausgelesen."))
        self.verdict.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.ignition.setText("")
        self.monitors.setRowCount(0)
        self.frame_dtc.setText(_("Noch nicht ausgelesen."))
        self.frame.setRowCount(0)
