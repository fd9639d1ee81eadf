"""Composition root of the desktop app: logging, language, the window frame, then – in a background
thread – the domain core, the instance lock, the database (with migrations and, on first start, the
demo workshop); finally the real views. The only place (with the CLI) that wires concrete objects.

The frame shows before the heavy imports (SQLAlchemy, Alembic, Babel …) so the window is on screen at
once; the tabs say "wird geladen …" for the fraction of a second the database needs.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLibraryInfo, QLocale, QObject, QTimer, QTranslator, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from app import i18n
from app.i18n import _
from app.paths import log_dir
from ui import prefs as prefs_mod
from ui.errors import install_excepthook
from ui.main_window import MainWindow
from ui.prefs import Prefs

if TYPE_CHECKING:
    from app.services.registry import Services

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
    if translator.load(QLocale(lang), "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(translator)


def build_context(services: Services, *, prefs: Prefs, synchronous: bool = False) -> Any:
    """The UiContext for ``services`` (runner, bus, prefs)."""
    from ui.bus import Bus
    from ui.context import UiContext
    from ui.errors import show_error
    from ui.tasks import TaskRunner

    runner = TaskRunner(synchronous=synchronous, default_error=lambda exc: show_error(parent=None, exc=exc))
    return UiContext(services=services, runner=runner, bus=Bus(), prefs=prefs)


def build_window(services: Services, *, synchronous: bool = False, prefs: Prefs | None = None) -> MainWindow:
    """The complete main window over ``services`` (self-test, screenshots, tests)."""
    prefs = prefs or Prefs()
    window = MainWindow(prefs=prefs)
    window.attach(build_context(services, prefs=prefs, synchronous=synchronous))
    return window


class StartupLoader(QObject):
    """Opens the database in a background thread; results come back to the GUI thread by signal."""

    progressed = Signal(str)
    loaded = Signal(object)  # Services
    failed = Signal(object)  # BaseException

    def __init__(self, db_path: Path, *, demo_if_empty: bool) -> None:
        super().__init__()
        self.db_path = db_path
        self.demo_if_empty = demo_if_empty
        self.lock: Any = None

    def start(self) -> None:
        """Start the loader thread (a plain thread: it creates no QObjects)."""
        threading.Thread(target=self._run, name="carbot-startup", daemon=True).start()

    def _run(self) -> None:
        try:
            from app.db import InstanceLock
            from app.demo import create_demo, is_empty
            from app.services.registry import Services

            self.lock = InstanceLock(self.db_path)
            self.lock.acquire()
            services = Services.open(self.db_path)
            if self.demo_if_empty and is_empty(services):
                self.progressed.emit(_("Demo-Werkstatt wird angelegt …"))
                create_demo(services)
            self.loaded.emit(services)
        except BaseException as exc:  # noqa: BLE001 - every start-up failure is shown to the user
            self.failed.emit(exc)

    def release(self) -> None:
        """Give the instance lock back."""
        if self.lock is not None:
            self.lock.release()


def _report_failure(window: MainWindow, app: QApplication, exc: BaseException) -> None:
    from app.errors import WorkshopError

    text = exc.message if isinstance(exc, WorkshopError) else _("Start fehlgeschlagen: {error}").format(error=exc)
    if not isinstance(exc, WorkshopError):
        log.error("start-up failed", exc_info=exc)
    QMessageBox.critical(window, _("CarBot Werkstatt"), text)
    app.exit(1)


def run_gui(db_path: Path, *, demo_if_empty: bool = False, lang: str | None = None) -> int:
    """Start the desktop app on ``db_path``; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("CarBot Werkstatt")
    configure_logging()
    install_excepthook()
    prefs = Prefs()
    language = lang or str(prefs.get(prefs_mod.LANGUAGE))
    i18n.set_language(language)
    _install_qt_translator(app, language)
    window = MainWindow(prefs=prefs)
    window.show()
    probe = bool(os.environ.get(STARTUP_PROBE_ENV))
    if probe:
        # Benchmarks: the wall-clock moment the window is on screen; the run ends once the data is in.
        QTimer.singleShot(0, lambda: (sys.stdout.write(f"shown-at {time.time():.6f}\n"), sys.stdout.flush()))
    loader = StartupLoader(db_path, demo_if_empty=demo_if_empty)
    state: dict[str, Any] = {}

    def loaded(services: Services) -> None:
        state["services"] = services
        window.attach(build_context(services, prefs=prefs))
        if probe:
            sys.stdout.write(f"ready-at {time.time():.6f}\n")
            sys.stdout.flush()
            QTimer.singleShot(0, app.quit)

    loader.progressed.connect(window.show_progress)
    loader.loaded.connect(loaded)
    loader.failed.connect(lambda exc: _report_failure(window, app, exc))
    loader.start()
    try:
        code = app.exec()
    finally:
        if "services" in state:
            state["services"].close()
        loader.release()
    return int(code)
