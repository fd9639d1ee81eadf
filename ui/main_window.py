"""The main window: tabs Theke, Termine, Diagnose, Chat, Berichte, Einstellungen, a menu with the
frequent actions and their shortcuts, and a status bar."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from app import __version__
from app.i18n import _
from ui import prefs
from ui.context import UiContext
from ui.views.calendar.view import CalendarView
from ui.views.counter.view import CounterView
from ui.views.settings.view import SettingsView
from ui.widgets.empty_state import EmptyState

STYLE = """
QMainWindow, QWidget { font-size: 10.5pt; }
QTabBar::tab { padding: 8px 18px; font-size: 11pt; }
QTabBar::tab:selected { font-weight: 600; }
QLineEdit#globalSearch { font-size: 13pt; padding: 6px 8px; }
QPushButton { padding: 5px 12px; }
QGroupBox { font-weight: 600; }
"""


class MainWindow(QMainWindow):
    """The counter PC's one window."""

    TAB_COUNTER, TAB_CALENDAR, TAB_DIAGNOSIS, TAB_CHAT, TAB_REPORTS, TAB_SETTINGS = range(6)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(_("CarBot Werkstatt"))
        self.setStyleSheet(STYLE)
        self.resize(1366, 820)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.counter = CounterView(ctx)
        self.calendar = CalendarView(ctx)
        self.settings = SettingsView(ctx)
        self.tabs.addTab(self.counter, _("Theke"))
        self.tabs.addTab(self.calendar, _("Termine"))
        self.tabs.addTab(
            EmptyState(
                _("Diagnose"),
                _(
                    "Hier liest die Werkstatt bald Fehlerspeicher, Freeze-Frame und Live-Daten über einen "
                    "OBD-II-Adapter (ELM327) aus – mit deutschen Fehlertexten und Aufzeichnung zum Auftrag. "
                    "Diese Funktion ist in dieser Version noch nicht enthalten."
                ),
            ),
            _("Diagnose"),
        )
        self.tabs.addTab(
            EmptyState(
                _("Chat"),
                _(
                    "Hier erscheinen bald die Chats aus dem Website-Widget der Werkstatt, mit Übernahme durch die "
                    "Theke. Diese Funktion ist in dieser Version noch nicht enthalten."
                ),
            ),
            _("Chat"),
        )
        self.tabs.addTab(
            EmptyState(
                _("Berichte"),
                _(
                    "Umsatz, Auslastung und offene Posten erscheinen hier, sobald Rechnungen geschrieben werden. "
                    "Bis dahin gibt es keine Zahlen – und wir zeigen keine erfundenen."
                ),
            ),
            _("Berichte"),
        )
        self.tabs.addTab(self.settings, _("Einstellungen"))
        self.setCentralWidget(self.tabs)
        self._build_menu()
        self._build_status_bar()
        geometry = ctx.prefs.get(prefs.GEOMETRY)
        if geometry:
            self.restoreGeometry(geometry)

    def _action(self, text: str, shortcut: str | QKeySequence.StandardKey | None, slot: object) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setToolTip(f"{text} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})")
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menu(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(_("&Datei"))
        file_menu.addAction(self._action(_("Neuer Kunde"), "Ctrl+N", self._new_customer))
        file_menu.addAction(self._action(_("Neues Fahrzeug"), "Ctrl+Shift+N", self._new_vehicle))
        file_menu.addAction(self._action(_("Neuer Termin"), "Ctrl+T", self._new_appointment))
        file_menu.addSeparator()
        file_menu.addAction(self._action(_("Beenden"), "Ctrl+Q", self.close))
        edit_menu = bar.addMenu(_("&Bearbeiten"))
        edit_menu.addAction(self._action(_("Suchen"), "Ctrl+F", self._focus_search))
        self._action(_("Suchen"), "F3", self._focus_search)
        view_menu = bar.addMenu(_("&Ansicht"))
        for index in range(self.tabs.count()):
            view_menu.addAction(
                self._action(
                    self.tabs.tabText(index),
                    f"Ctrl+{index + 1}",
                    lambda _checked=False, i=index: self.tabs.setCurrentIndex(i),
                )
            )
        view_menu.addSeparator()
        view_menu.addAction(self._action(_("Aktualisieren"), "F5", self._refresh))
        help_menu = bar.addMenu(_("&Hilfe"))
        help_menu.addAction(self._action(_("Über CarBot Werkstatt"), None, self._about))

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        db_path = self.ctx.services.db.path
        self.db_label = QLabel(_("Datenbank: {path}").format(path=db_path or ":memory:"))
        self.sync_label = QLabel(_("Sync: nicht eingerichtet – die Werkstatt arbeitet lokal"))
        status.addWidget(self.db_label, 1)
        status.addPermanentWidget(self.sync_label)
        self.ctx.bus.status_message_posted.connect(lambda text: status.showMessage(text, 5000))

    def _focus_search(self) -> None:
        self.tabs.setCurrentIndex(self.TAB_COUNTER)
        self.counter.focus_search()

    def _new_customer(self) -> None:
        self.tabs.setCurrentIndex(self.TAB_COUNTER)
        self.counter.new_customer()

    def _new_vehicle(self) -> None:
        self.tabs.setCurrentIndex(self.TAB_COUNTER)
        self.counter.new_vehicle()

    def _new_appointment(self) -> None:
        self.tabs.setCurrentIndex(self.TAB_CALENDAR)
        self.calendar.new_appointment()

    def _refresh(self) -> None:
        from app.changes import Changes

        self.ctx.bus.operation_did_execute.emit(
            Changes(customers=True, vehicles=True, catalog=True, appointments=True, settings=True), None
        )

    def _about(self) -> None:
        QMessageBox.about(
            self,
            _("Über CarBot Werkstatt"),
            _(
                "CarBot Werkstatt {version}\nWerkstatt-Software für die Theke – offline, deutsch, GoBD-bewusst.\n"
                "Lizenz: GPL-2.0-or-later"
            ).format(version=__version__),
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember the geometry; wait for background work."""
        self.ctx.prefs.set(prefs.GEOMETRY, self.saveGeometry())
        self.ctx.runner.shutdown()
        super().closeEvent(event)

    def keyPressEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        """Esc returns focus to the search box from anywhere on the counter tab."""
        if getattr(event, "key", lambda: None)() == Qt.Key.Key_Escape and self.tabs.currentIndex() == 0:
            self.counter.focus_search()
            return
        super().keyPressEvent(event)  # type: ignore[arg-type]
