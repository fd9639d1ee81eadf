"""The live-data page: PID picker (German names, six fit one batched request), start/stop, recording a test
drive, the vehicle's recordings with CSV export, and the stacked graphs. Display only."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import formatting
from app.i18n import _
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.diagnosis.live_plots import LivePlots
from ui.views.diagnosis.style import DEFAULT_LIVE, LIVE_PIDS, MAX_BATCH
from ui.views.orders.style import PRIMARY_BUTTON

if TYPE_CHECKING:
    from app.services.diagnostics_types import RecordingDTO

RECORD_CSS = (
    "QPushButton { color: #b71c1c; font-weight: 600; border: 1px solid #c62828; border-radius: 4px; "
    "padding: 6px 14px; background: #ffffff; } QPushButton:checked { background: #c62828; color: white; } "
    "QPushButton:disabled { color: #b0bec5; border-color: #cfd8dc; }"
)


def recording_title(recording: RecordingDTO) -> str:
    """ "27.11.26, 14:05 · 42 s · 6 Werte"."""
    from app.calendar_rules import WORKSHOP_TZ

    at = recording.started_at  # stored as naive UTC
    local = (at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at).astimezone(WORKSHOP_TZ)
    seconds = formatting.number(recording.seconds, 0)
    return _("{at} · {seconds} s · {n} Werte").format(
        at=f"{local:%d.%m.%Y, %H:%M}", seconds=seconds, n=len(recording.columns)
    )


class LivePanel(QWidget):
    """Picker and controls on the left, graphs on the right."""

    start_clicked = Signal(list)  # PID names
    stop_clicked = Signal()
    record_toggled = Signal(bool)
    export_clicked = Signal(int)  # recording id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.running = False
        picker_box = QGroupBox(_("Messwerte"))
        self.picker = QListWidget()
        self.picker.setObjectName("pidPicker")
        for name, label in LIVE_PIDS:
            item = QListWidgetItem(_(label))
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in DEFAULT_LIVE else Qt.CheckState.Unchecked)
            self.picker.addItem(item)
        self.picker.itemChanged.connect(lambda _item: self._update_hint())
        self.count_hint = QLabel()
        self.count_hint.setObjectName("pidCountHint")
        self.count_hint.setWordWrap(True)
        self.live_button = QPushButton(_("Live starten"))
        self.live_button.setObjectName("liveButton")
        self.live_button.setStyleSheet(PRIMARY_BUTTON)
        self.live_button.clicked.connect(self._live_clicked)
        picker = QVBoxLayout(picker_box)
        picker.addWidget(self.picker, 1)
        picker.addWidget(self.count_hint)
        picker.addWidget(self.live_button)

        record_box = QGroupBox(_("Aufzeichnung"))
        self.record_button = QPushButton(_("● Aufzeichnen"))
        self.record_button.setObjectName("recordButton")
        self.record_button.setCheckable(True)
        self.record_button.setStyleSheet(RECORD_CSS)
        self.record_button.setToolTip(
            _("Probefahrt aufzeichnen – wird beim Fahrzeug und im offenen Auftrag gespeichert")
        )
        self.record_button.toggled.connect(self._record_toggled)
        self.record_info = QLabel(_("Zeichnet die laufenden Live-Daten auf."))
        self.record_info.setObjectName("recordInfo")
        self.record_info.setWordWrap(True)
        self.record_info.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.recordings = QListWidget()
        self.recordings.setObjectName("recordingList")
        self.recordings.setMaximumHeight(130)
        self.recordings.currentRowChanged.connect(lambda _row: self._update_export())
        self.export_button = QPushButton(_("CSV exportieren …"))
        self.export_button.setObjectName("exportCsv")
        self.export_button.setToolTip(_("Die gewählte Aufzeichnung als CSV für Excel speichern"))
        self.export_button.clicked.connect(self._export)
        record = QVBoxLayout(record_box)
        record.addWidget(self.record_button)
        record.addWidget(self.record_info)
        record.addWidget(QLabel(_("Aufzeichnungen dieses Fahrzeugs")))
        record.addWidget(self.recordings)
        record.addWidget(self.export_button)

        left = QVBoxLayout()
        left.addWidget(picker_box, 1)
        left.addWidget(record_box)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setFixedWidth(290)
        left.setContentsMargins(0, 0, 0, 0)
        self.plots = LivePlots()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(10)
        layout.addWidget(left_widget)
        layout.addWidget(self.plots, 1)
        self._connected = False
        self._update_hint()
        self.set_state(connected=False, running=False)

    # --- picker ------------------------------------------------------------------------------------

    def checked_names(self) -> list[str]:
        """The chosen PIDs in list order."""
        return [
            str(self.picker.item(row).data(Qt.ItemDataRole.UserRole))
            for row in range(self.picker.count())
            if self.picker.item(row).checkState() == Qt.CheckState.Checked
        ]

    def set_checked(self, names: list[str]) -> None:
        """Check exactly ``names``."""
        for row in range(self.picker.count()):
            item = self.picker.item(row)
            wanted = item.data(Qt.ItemDataRole.UserRole) in names
            item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)

    def _update_hint(self) -> None:
        count = len(self.checked_names())
        if count > MAX_BATCH:
            self.count_hint.setText(
                _(
                    "{n} ausgewählt – mehr als {max} passen nicht in eine Sammelabfrage, die Werte kommen langsamer."
                ).format(n=count, max=MAX_BATCH)
            )
            self.count_hint.setStyleSheet("color: #e65100;")
        else:
            self.count_hint.setText(
                _("{n} ausgewählt – bis {max} Werte kommen in einer Sammelabfrage.").format(n=count, max=MAX_BATCH)
            )
            self.count_hint.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self._update_live_button()

    # --- state -------------------------------------------------------------------------------------

    def set_state(self, *, connected: bool, running: bool) -> None:
        """Buttons follow the link and whether live data runs."""
        self._connected, self.running = connected, running
        self.live_button.setText(_("Live stoppen") if running else _("Live starten"))
        self.picker.setEnabled(not running)
        self._update_live_button()
        self.record_button.setEnabled(running or self.record_button.isChecked())
        if not running and self.record_button.isChecked():
            self.record_button.setChecked(False)  # the data stopped: the recording ends (and is saved)

    def _update_live_button(self) -> None:
        self.live_button.setEnabled(self.running or (self._connected and bool(self.checked_names())))

    def _live_clicked(self) -> None:
        if self.running:
            self.stop_clicked.emit()
        else:
            self.start_clicked.emit(self.checked_names())

    def _record_toggled(self, on: bool) -> None:
        self.record_button.setText(_("■ Aufzeichnung beenden") if on else _("● Aufzeichnen"))
        self.record_toggled.emit(on)

    def show_record_progress(self, seconds: float, rows: int) -> None:
        """ "Aufzeichnung läuft – 12 s, 540 Messpunkte"."""
        self.record_info.setText(
            _("Aufzeichnung läuft – {seconds} s, {rows} Messpunkte").format(
                seconds=formatting.number(seconds, 0), rows=formatting.number(rows, 0)
            )
        )
        self.record_info.setStyleSheet("color: #b71c1c; font-weight: 600;")

    def show_record_done(self, text: str) -> None:
        """The outcome of the last recording."""
        self.record_info.setText(text)
        self.record_info.setStyleSheet(f"color: {SECONDARY_TEXT};")

    # --- recordings --------------------------------------------------------------------------------

    def show_recordings(self, recordings: list[RecordingDTO], select_id: int | None = None) -> None:
        """The vehicle's recordings, newest first; ``select_id`` (e.g. the one just saved) is selected."""
        self.recordings.clear()
        for recording in recordings:
            item = QListWidgetItem(recording_title(recording))
            item.setData(Qt.ItemDataRole.UserRole, recording.id)
            item.setToolTip(", ".join(f"{pid} ({unit})" if unit else pid for pid, unit in recording.columns))
            self.recordings.addItem(item)
            if recording.id == select_id:
                self.recordings.setCurrentItem(item)
        if self.recordings.currentRow() < 0 and self.recordings.count():
            self.recordings.setCurrentRow(0)
        self._update_export()

    def selected_recording(self) -> int | None:
        """Id of the selected recording."""
        item = self.recordings.currentItem()
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _update_export(self) -> None:
        self.export_button.setEnabled(self.selected_recording() is not None)

    def _export(self) -> None:
        recording = self.selected_recording()
        if recording is not None:
            self.export_clicked.emit(recording)
