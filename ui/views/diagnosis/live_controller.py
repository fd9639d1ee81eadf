"""Live data of the Diagnose tab between the OBD worker and the screen: feeding batches to the graphs and the
connection panel, recording a test drive (saved with the vehicle and its order), and the CSV export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from app import formatting
from app.changes import Changes
from app.i18n import _
from app.services.diagnostics_types import RecordingDTO
from ui.views.diagnosis.recording import Recorder
from ui.views.orders.dialogs import open_dialog
from ui.workers.obd_messages import LiveBatch, LiveStarted

if TYPE_CHECKING:
    from ui.views.diagnosis.view import DiagnosisView


class LiveController(QObject):
    """Owns the running live session's state on the GUI side: what runs, the recorder, batch count."""

    def __init__(self, view: DiagnosisView) -> None:
        super().__init__(view)
        self.view = view
        self.ctx = view.ctx
        self.panel = view.live_panel
        self.live: LiveStarted | None = None
        self.recorder: Recorder | None = None
        self.batches_received = 0
        self.panel.record_toggled.connect(self._record_toggled)
        self.panel.export_clicked.connect(self.ask_export)

    # --- worker results (GUI thread) ---------------------------------------------------------------

    def on_started(self, started: LiveStarted) -> None:
        """Graphs for the chosen PIDs; a hint names the ones the car does not offer."""
        self.live = started
        self.panel.plots.start(started)
        if started.unsupported:
            labels = dict(zip(started.names, started.labels, strict=True))
            names = ", ".join(labels[n] for n in started.unsupported)
            self.view.show_banner(_("Vom Fahrzeug nicht unterstützt: {names}").format(names=names), "warn")

    def on_batch(self, batch: LiveBatch) -> None:
        """Append and redraw (~15 times a second); the recorder takes the same rows."""
        self.batches_received += 1
        plots = self.panel.plots
        plots.add(batch)
        plots.refresh()
        self.view.connection.show_rate(batch.values_per_second, batch.batched)
        if self.recorder is not None:
            self.recorder.add(batch)
            self.panel.show_record_progress(self.recorder.seconds, len(self.recorder.rows))

    def on_stopped(self) -> None:
        """Live data ended (stop, disconnect): the last picture stays; a recording is saved."""
        self.live = None
        self.panel.plots.stop()
        self.view.connection.show_rate(None, None)

    # --- recording ---------------------------------------------------------------------------------

    def _record_toggled(self, on: bool) -> None:
        if on and self.live is not None:
            self.recorder = Recorder(self.live.names)
            self.panel.show_record_progress(0, 0)
        elif not on and self.recorder is not None:
            self.save_recording()

    def save_recording(self) -> None:
        """Store the recording with the vehicle (and the chosen order); the list shows it selected."""
        recorder, self.recorder = self.recorder, None
        vehicle = self.view.vehicle
        if recorder is None or not recorder.rows:
            self.panel.show_record_done(_("Keine Messwerte aufgezeichnet – nichts gespeichert."))
            return
        if vehicle is None:
            self.panel.show_record_done(_("Kein Fahrzeug gewählt – Aufzeichnung nicht gespeichert."))
            return
        diagnostics, settings = self.ctx.services.diagnostics, self.ctx.services.settings
        vehicle_id, order_id, data = vehicle.id, self.view.vehicle_bar.order_id(), recorder.data()

        def save() -> tuple[RecordingDTO, list[RecordingDTO], Changes]:
            dto = diagnostics.save_recording(
                data, vehicle_id=vehicle_id, work_order_id=order_id, user=settings.get().current_user
            )
            return dto, diagnostics.recordings(vehicle_id), dto.changes

        def saved(outcome: tuple[RecordingDTO, list[RecordingDTO], Changes]) -> None:
            dto, recordings, _changes = outcome
            self.panel.show_recordings(recordings, select_id=dto.id)
            self.panel.show_record_done(
                _("Aufzeichnung gespeichert: {seconds} s, {rows} Messpunkte.").format(
                    seconds=formatting.number(dto.seconds, 0), rows=formatting.number(dto.sample_count, 0)
                )
            )

        self.ctx.mutate(save, saved, parent=self.view, initiator=self.view)

    # --- CSV export --------------------------------------------------------------------------------

    def ask_export(self, recording_id: int) -> QFileDialog:
        """CSV exportieren …: a window-modal save dialog (``view.dialog``); the file is written later."""
        vehicle = self.view.vehicle
        plate = (vehicle.data.plate if vehicle else "").replace(" ", "_") or _("Fahrzeug")
        suggested = Path.home() / f"Aufzeichnung_{plate}_{recording_id}.csv"
        dialog = QFileDialog(self.view, _("Aufzeichnung als CSV speichern"), str(suggested), _("CSV-Dateien (*.csv)"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)  # the same dialog on every PC (and in tests)
        dialog.fileSelected.connect(lambda path: self.export_recording(recording_id, Path(path)))
        return open_dialog(self.view, dialog)

    def export_recording(self, recording_id: int, path: Path) -> None:
        """Write the Excel-friendly CSV of a recording (BOM, ``;``, decimal comma) to ``path``."""
        diagnostics = self.ctx.services.diagnostics

        def write() -> Path:
            path.write_bytes(diagnostics.recording_csv(recording_id))
            return path

        def written(done: Path) -> None:
            self.view.show_banner(_("CSV gespeichert: {path}").format(path=done), "ok")

        self.ctx.mutate(write, written, parent=self.view)
