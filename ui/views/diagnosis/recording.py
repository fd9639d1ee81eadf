"""Collecting a live-data recording in the window and turning it into the service's ``RecordingData``, and the
scan the worker read into the service's ``ScanData`` (plain conversions, no Qt)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.i18n import _
from app.services.diagnostics_types import RecordingData, ScanData
from ui.views.diagnosis.style import live_label
from ui.workers.obd_messages import LiveBatch, ScanResult


@dataclass
class Recorder:
    """The rows of a running recording; times become seconds since its first row."""

    names: tuple[str, ...]
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    rows: list[tuple[float, tuple[float | None, ...]]] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)

    def add(self, batch: LiveBatch) -> None:
        """Take the batch's rows (only if it carries the same PIDs as when the recording began)."""
        if batch.names != self.names:
            return
        self.rows.extend(batch.rows)
        for name, value in batch.latest.items():
            if value.unit:
                self.units[name] = value.unit

    @property
    def seconds(self) -> float:
        """Length so far."""
        return self.rows[-1][0] - self.rows[0][0] if len(self.rows) > 1 else 0.0

    def data(self, note: str = "") -> RecordingData:
        """What ``DiagnosticsService.save_recording`` takes: German column names with units."""
        first = self.rows[0][0] if self.rows else 0.0
        columns = [(live_label(name), self.units.get(name, "")) for name in self.names]
        rows = [(round(at - first, 3), *values) for at, values in self.rows]
        return RecordingData(columns=columns, rows=rows, started_at=self.started_at, note=note)


def scan_data(result: ScanResult) -> ScanData:
    """The scan as the diagnostics service stores it (codes per kind, readiness, freeze frame)."""
    info, status, frame = result.info, result.status, result.freeze_frame
    readiness = [(m.name, m.supported, m.complete) for m in status.monitors] if status.state == "ok" else []
    freeze: list[tuple[str, float | str | None, str]] = []
    if frame.dtc is not None:
        freeze.append((_("Auslösender Fehler"), frame.dtc.code, ""))
    freeze += [(v.label, v.value if v.ok else None, v.unit) for v in frame.values]
    return ScanData(
        adapter=info.adapter_id or info.elm_version,
        protocol=f"{info.protocol} {info.protocol_name}".strip(),
        vin=(result.vin.vin or "") if result.vin.state == "ok" else "",
        voltage=info.voltage,
        mil=status.mil if status.state == "ok" else None,
        dtcs={group.kind: [d.code for d in group.codes] for group in result.dtcs.groups},
        readiness=readiness,
        freeze_frame=freeze,
    )
