"""Render every tab of the main window offscreen to PNG (`make screenshots` → docs/screenshots/).

Uses a fresh demo workshop in a temporary folder, so the pictures show realistic data and never a
real customer's.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.demo import create_demo  # noqa: E402
from app.services.registry import Services  # noqa: E402
from ui.main import build_window  # noqa: E402
from ui.prefs import Prefs  # noqa: E402

TAB_FILES = ("theke", "termine", "diagnose", "chat", "berichte", "einstellungen")


def render(out_dir: Path) -> list[Path]:
    """Write one PNG per tab into ``out_dir``; returns the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        services = Services.open(Path(tmp) / "demo.db")
        try:
            create_demo(services)
            window = build_window(services, synchronous=True, prefs=Prefs(Path(tmp) / "ui.ini"))
            window.resize(1366, 820)
            window.show()
            for index, name in enumerate(TAB_FILES):
                window.tabs.setCurrentIndex(index)
                app.processEvents()
                if index == 0:
                    # The counter as staff see it mid-intake: a plate typed, the vehicle card open.
                    hit = services.search.search("M A")[0]
                    window.counter.search.edit.setText("M A")
                    window.counter.search.search_now()
                    window.counter.open_vehicle(hit.vehicle_id or 1)
                    app.processEvents()
                path = out_dir / f"{index + 1:02d}-{name}.png"
                window.grab().save(str(path))
                written.append(path)
            window.close()
        finally:
            services.close()
    return written


if __name__ == "__main__":
    for file in render(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        sys.stdout.write(f"{file}\n")
