"""WAL checkpoints of the embedded SQLite database in a background thread, not in a request's commit.

In WAL mode SQLite copies the log back into the database file ("checkpoint") once the log holds
``wal_autocheckpoint`` pages – by default inside whichever commit crosses the line, so one push in ~40
waited for the copy and its fsyncs (commit p95 10 ms instead of 0.5 ms under the sync benchmark). The
server's writer connections therefore raise that threshold to ``SAFETY_PAGES`` (a safety net only) and
``WalCheckpointer`` runs a PASSIVE checkpoint every ``INTERVAL_SECONDS`` on its own connection: PASSIVE
never waits for readers or the writer, it copies what it can and the next round does the rest. SQLite
releases the GIL while it copies, so requests run on meanwhile. On close a last TRUNCATE checkpoint
leaves an empty log behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0
SAFETY_PAGES = 10_000
"""Foreground checkpoint only if the background one fell this far behind (~40 MB of log)."""


class WalCheckpointer:
    """Checkpoints the WAL of one SQLite database file every ``interval`` seconds until ``close``."""

    def __init__(self, path: Path, *, interval: float = INTERVAL_SECONDS) -> None:
        self.path = path
        self.interval = interval
        self.rounds = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """One checkpoint: (busy, frames in the log, frames copied back) as SQLite reports them."""
        if mode not in ("PASSIVE", "TRUNCATE"):
            raise ValueError(mode)
        conn = sqlite3.connect(self.path, timeout=1.0, isolation_level=None, check_same_thread=False)
        try:
            row = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        finally:
            conn.close()
        return int(row[0]), int(row[1]), int(row[2])

    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.checkpoint()
                self.rounds += 1
            except sqlite3.Error as exc:  # busy or locked: the next round tries again
                log.warning("WAL checkpoint skipped: %s", type(exc).__name__)

    def close(self) -> None:
        """Stop the thread and leave an empty log behind (best effort: a busy database keeps its log)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self.checkpoint("TRUNCATE")
        except sqlite3.Error as exc:
            log.warning("final WAL checkpoint skipped: %s", type(exc).__name__)
