"""Cold start to the first shown main window vs a bare PySide6 QMainWindow (goal ≤ 2.0×).

Both are measured as whole processes (interpreter start included) in the same run, on a demo
database prepared beforehand, with QT_QPA_PLATFORM=offscreen.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Result

BARE = (
    "import sys, time\n"
    "from PySide6.QtWidgets import QApplication, QMainWindow\n"
    "from PySide6.QtCore import QTimer\n"
    "a = QApplication(sys.argv); w = QMainWindow(); w.resize(1366, 820); w.show()\n"
    "QTimer.singleShot(0, lambda: (print(f'shown-at {time.time():.6f}', flush=True), a.quit()))\n"
    "a.exec()\n"
)
RUNS = 5


def _times(cmd: list[str], env: dict[str, str]) -> tuple[float, float | None]:
    """Seconds from spawning the process to its first shown window ("shown-at" wall-clock line) and to
    the views filled with data ("ready-at", our app only); interpreter teardown is not part of it."""
    start = time.time()
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    stamps = {
        line.split()[0]: float(line.split()[1]) for line in out.splitlines() if line.endswith(tuple("0123456789"))
    }
    ready = stamps.get("ready-at")
    return stamps["shown-at"] - start, (ready - start) if ready else None


def _time(cmd: list[str], env: dict[str, str]) -> float:
    return _times(cmd, env)[0]


def run() -> list[Result]:
    """Median of RUNS cold starts each."""
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "CARBOT_DATA_DIR": tmp, "CARBOT_LOG_DIR": tmp}
        db = Path(tmp) / "carbot.db"
        subprocess.run(
            [sys.executable, "-m", "app.cli", "--db", str(db), "demo"], env=env, check=True, stdout=subprocess.DEVNULL
        )
        app_env = env | {"CARBOT_STARTUP_PROBE": "1"}
        _time([sys.executable, "-c", BARE], env)  # warm the OS file cache for both
        _time([sys.executable, "-m", "app.cli", "--db", str(db), "gui"], app_env)
        bare = statistics.median(_time([sys.executable, "-c", BARE], env) for _ in range(RUNS))
        runs = [_times([sys.executable, "-m", "app.cli", "--db", str(db), "gui"], app_env) for _ in range(RUNS)]
        ours = statistics.median(r[0] for r in runs)
        ready = statistics.median(r[1] or 0.0 for r in runs)
    return [
        Result(
            "Kaltstart bis Hauptfenster",
            ours,
            "s",
            baseline=bare,
            goal="≤ 2.0× bare QMainWindow",
            ok=ours <= 2.0 * bare,
        ),
        Result("Kaltstart bis Daten angezeigt (Demo-Werkstatt)", ready, "s", baseline=bare, goal="(Information)"),
    ]
