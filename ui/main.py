"""Composition root of the desktop app: logging, language, instance lock, database, services,
then the main window. The only place (with the CLI) that wires concrete objects together."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTimer, QTranslator
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from app import i18n
from app.db import InstanceLock
from app.demo import create_demo, is_empty
from app.errors import DatabaseError
from app.i18n import _
from app.paths import log_dir
from app.services.registry import Services
from ui import prefs as prefs_mod
from ui.bus import Bus
from ui.context import UiContext
from ui.errors import install_excepthook, show_error
from ui.main_window import MainWindow
from ui.prefs import Prefs
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)
STARTUP_PROBE_ENV = "CARBOT_STARTUP_PROBE"


def configure_logging() -> None:
    """A rotating log file (about 10 days) in the platform log folder; no customer data is logged."""
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.TimedRotatingFileHandler(
        folder / "carbot.log", when="midnight", backupCount=10, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)


def _install_qt_translator(app: QApplication, lang: str) -> None:
    translator = QTranslator(app)
    path = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(QLocale(lang), "qtbase", "_", path):
        app.installTranslator(translator)


def build_window(services: Services, *, synchronous: bool = False, prefs: Prefs | None = None) -> MainWindow:
    """The main window over ``services`` (also used by self-test, screenshots and tests)."""
    runner = TaskRunner(synchronous=synchronous)
    ctx = UiContext(services=services, runner=runner, bus=Bus(), prefs=prefs or Prefs())
    runner._default_error = lambda exc: show_error(parent=None, exc=exc)  # noqa: SLF001
    return MainWindow(ctx)


def _seed_demo(app: QApplication, services: Services) -> None:
    """First start: fill the demo workshop while a progress dialog keeps the window alive."""
    dialog = QProgressDialog(_("Demo-Werkstatt wird angelegt …"), "", 0, 0)
    dialog.setCancelButton(None)
    dialog.setWindowTitle(_("CarBot Werkstatt"))
    dialog.setMinimumDuration(0)
    dialog.show()
    runner = TaskRunner()
    done: list[object] = []
    runner.run(lambda: create_demo(services), done.append, done.append)
    while not done:
        app.processEvents()
        time.sleep(0.02)
    dialog.close()
    runner.shutdown()
    if isinstance(done[0], BaseException):
        raise done[0]


def run_gui(db_path: Path, *, demo_if_empty: bool = False, lang: str | None = None) -> int:
    """Start the desktop app on ``db_path``; returns the exit code."""
    started = time.perf_counter()
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("CarBot Werkstatt")
    configure_logging()
    install_excepthook()
    prefs = Prefs()
    language = lang or str(prefs.get(prefs_mod.LANGUAGE))
    i18n.set_language(language)
    _install_qt_translator(app, language)
    lock = InstanceLock(db_path)
    try:
        lock.acquire()
        services = Services.open(db_path)
    except DatabaseError as exc:
        QMessageBox.critical(None, _("CarBot Werkstatt"), exc.message)
        return 1
    try:
        if demo_if_empty and is_empty(services):
            _seed_demo(app, services)
        window = build_window(services, prefs=prefs)
        window.show()
        if os.environ.get(STARTUP_PROBE_ENV):
            # Benchmarks: report the time to the first shown window, then quit.
            QTimer.singleShot(
                0,
                lambda: (
                    sys.stdout.write(f"shown {time.perf_counter() - started:.4f}\n"),
                    sys.stdout.flush(),
                    app.quit(),
                ),
            )
        code = app.exec()
    finally:
        services.close()
        lock.release()
    return int(code)
