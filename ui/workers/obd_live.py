"""Live-data bookkeeping of the OBD worker (no Qt): one ``LiveSampler`` round per call, rows collected, and a
``LiveBatch`` handed out when the emit interval has passed — so the window gets ~15 snapshots a second,
never one signal per PID. Runs in the worker thread only (it drives the reader through the sampler).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ui.workers.obd_messages import LiveBatch, LiveStarted, Row, plain_number

if TYPE_CHECKING:
    from drivers.obd.decode import PidValue
    from drivers.obd.live import LiveSampler
    from drivers.obd.reader import ObdReader


class LiveCoalescer:
    """The running live session: sampler, rows since the last batch, newest value per PID."""

    def __init__(self, reader: ObdReader, names: tuple[str, ...], *, emit_interval: float) -> None:
        from drivers.obd.decode import pid_label
        from drivers.obd.live import LiveSampler
        from drivers.obd.reader import mode01_commands

        self.names = names
        self.emit_interval = emit_interval
        self.sampler: LiveSampler = LiveSampler(reader, names)  # reads support bitmaps, tries batching once
        supported = reader.supported_pids()  # cached by the reader: no second request
        unsupported = tuple(c.name for c in mode01_commands(names) if c.pid not in supported)
        self._rows: list[Row] = []
        self._latest: dict[str, PidValue] = {}
        self._last_emit = time.monotonic()
        self.started = LiveStarted(
            names, tuple(pid_label(n) for n in names), self._last_emit, self.sampler.batched, unsupported
        )

    def sample(self) -> LiveBatch | None:
        """One round over all PIDs; a batch when it is time to emit one (LinkLost passes through)."""
        result = self.sampler.sample()
        self._latest.update(result.values)
        self._rows.append((result.at, tuple(plain_number(result.values[n]) for n in self.names)))
        if result.at - self._last_emit >= self.emit_interval:
            return self.flush()
        return None

    def flush(self) -> LiveBatch | None:
        """The rows collected so far as a batch (None when there are none)."""
        if not self._rows:
            return None
        batch = LiveBatch(
            self.names,
            dict(self._latest),
            tuple(self._rows),
            self.sampler.values_per_second,
            self.sampler.batched,
        )
        self._rows = []
        self._last_emit = time.monotonic()
        return batch
