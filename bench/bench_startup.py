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
    "import sys, time; t=time.perf_counter();"
    "from PySide6.QtWidgets import QApplication, QMainWindow; from PySide6.QtCore import QTimer;"
    "a=QApplication(sys.argv); w=QMainWindow(); w.resize(1366,820); w.show();"
    "QTimer.singleShot(0, a.quit); a.exec()"
)
RUNS = 5


def _time(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


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
        ours = statistics.median(
            _time([sys.executable, "-m", "app.cli", "--db", str(db), "gui"], app_env) for _ in range(RUNS)
        )
    return [
        Result(
            "Kaltstart bis Hauptfenster",
            ours,
            "s",
            baseline=bare,
            goal="≤ 2.0× bare QMainWindow",
            ok=ours <= 2.0 * bare,
        )
    ]
