"""The main window: tabs Theke, Termine, Diagnose, Chat, Berichte, Einstellungen, a menu with the
frequent actions and their shortcuts, and a status bar.

The window is built in two steps so it appears at once on a cold start: the constructor creates the
frame with every tab showing "wird geladen …" (only Qt is imported by then); ``attach(ctx)`` fills
the tabs with the real views once the database is open (see ui/main.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from app import __version__
from app.i18n import _
from ui import prefs as prefs_mod
from ui.prefs import Prefs
from ui.widgets.empty_state import EmptyState

if TYPE_CHECKING:
    from ui.context import UiContext

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

    def __init__(self, *, prefs: Prefs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs
        self.ctx: UiContext | None = None
        self.counter: Any = None
        self.calendar: Any = None
        self.settings: Any = None
        self.diagnosis: Any = None
        self.chat: Any = None
        self.reports: Any = None
        self.sync: Any = None
        self.setWindowTitle(_("CarBot Werkstatt"))
        self.setStyleSheet(STYLE)
        self.resize(1366, 820)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for title in (_("Theke"), _("Termine"), _("Diagnose"), _("Chat"), _("Berichte"), _("Einstellungen")):
            self.tabs.addTab(EmptyState(title, _("Wird geladen …")), title)
        self.setCentralWidget(self.tabs)
        self._build_menu()
        status = self.statusBar()
        self.db_label = QLabel(_("Datenbank wird geöffnet …"))
        self.sync_label = QLabel(_("Sync: nicht eingerichtet – die Werkstatt arbeitet lokal"))
        status.addWidget(self.db_label, 1)
        status.addPermanentWidget(self.sync_label)
        geometry = prefs.get(prefs_mod.GEOMETRY)
        if geometry:
            self.restoreGeometry(geometry)

    def show_progress(self, text: str) -> None:
        """A start-up message in the status bar (e.g. while the demo workshop is created)."""
        self.db_label.setText(text)

    def attach(self, ctx: UiContext) -> None:
        """Replace the placeholders by the real views (GUI thread, database open)."""
        # The views import the domain core; imported here so the empty frame can show first.
        from ui.views.calendar.view import CalendarView
        from ui.views.chat.view import install as install_chat
        from ui.views.counter.view import CounterView
        from ui.views.diagnosis.page import DiagnosisPage
        from ui.views.reports.view import ReportsView
        from ui.views.settings.view import SettingsView
        from ui.workers.sync_runner import SyncController

        self.ctx = ctx
        self.counter = CounterView(ctx)
        self.calendar = CalendarView(ctx)
        self.settings = SettingsView(ctx)
        self.diagnosis = DiagnosisPage(ctx)  # builds the real view (pyqtgraph, OBD thread) on first use
        self.reports = ReportsView(ctx)  # computes its figures in the background when first shown
        current = self.tabs.currentIndex()
        pages: dict[int, QWidget] = {
            self.TAB_COUNTER: self.counter,
            self.TAB_CALENDAR: self.calendar,
            self.TAB_DIAGNOSIS: self.diagnosis,
            self.TAB_CHAT: (chat := install_chat(self, ctx)),  # title with unread count, jumps to calendar/sync
            self.TAB_REPORTS: self.reports,
            self.TAB_SETTINGS: self.settings,
        }
        for index, page in pages.items():
            title = self.tabs.tabText(index)
            old = self.tabs.widget(index)
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, page, title)
            old.deleteLater()
        self.chat = chat
        self.tabs.setCurrentIndex(current)
        self.db_label.setText(_("Datenbank: {path}").format(path=ctx.services.db.path or ":memory:"))
        ctx.bus.status_message_posted.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.counter.vehicle_card.diagnosis_requested.connect(self.open_diagnosis)
        self.tabs.currentChanged.connect(self._tab_changed)
        for action in self._needs_data:
            action.setEnabled(True)
        if current == self.TAB_COUNTER:
            self.counter.focus_search()
        self.sync = SyncController(ctx, parent=self)  # background sync; drives sync_label
        self.sync.install(self.statusBar(), self.sync_label, replaces=self.db_label)
        self.sync.setup_requested.connect(self.open_sync_settings)
        self.settings.sync_page.bind(self.sync)
        self.sync.start()
        from ui.billing_banner import install_billing  # the Abo banner above the tabs, the owner's login

        install_billing(self)
        from ui.workers.chat_agent_runner import install_chat_agent  # answers the web chat while the app is open

        self.chat_agent = install_chat_agent(self)

    def open_sync_settings(self) -> None:
        """Einstellungen → Sync & Konto (a click on the sync label when the workplace needs registering)."""
        self.tabs.setCurrentIndex(self.TAB_SETTINGS)
        self.settings.show_page(self.settings.PAGE_SYNC)

    def open_diagnosis(self, vehicle_id: int) -> None:
        """The Diagnose tab for ``vehicle_id`` (the "Diagnose" button on the vehicle card)."""
        self.diagnosis.open_vehicle(vehicle_id)
        self.tabs.setCurrentIndex(self.TAB_DIAGNOSIS)

    def _counter_vehicle(self) -> int | None:
        """The vehicle the counter shows (vehicle card or the open order), if any."""
        counter = self.counter
        mode = counter.modes.currentIndex()
        if mode == counter.MODE_PEOPLE and counter.pages.currentIndex() == counter.PAGE_VEHICLE:
            vehicle = counter.vehicle_card.vehicle
            return vehicle.id if vehicle is not None else None
        order = counter.orders.editor.order if mode == counter.MODE_ORDERS else None
        return order.vehicle_id if order is not None else None

    def _tab_changed(self, index: int) -> None:
        if index == self.TAB_DIAGNOSIS and self.diagnosis is not None:
            self.diagnosis.suggest_vehicle(self._counter_vehicle())

    def _action(self, text: str, shortcut: str | None, slot: Any, *, needs_data: bool = True) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            native = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{text} ({native})")
        action.triggered.connect(slot)
        if needs_data:
            action.setEnabled(False)
            self._needs_data.append(action)
        self.addAction(action)
        return action

    def _build_menu(self) -> None:
        self._needs_data: list[QAction] = []
        bar = self.menuBar()
        file_menu = bar.addMenu(_("&Datei"))
        file_menu.addAction(self._action(_("Neuer Kunde"), "Ctrl+N", self._new_customer))
        file_menu.addAction(self._action(_("Neues Fahrzeug"), "Ctrl+Shift+N", self._new_vehicle))
        file_menu.addAction(self._action(_("Neuer Termin"), "Ctrl+T", self._new_appointment))
        file_menu.addAction(self._action(_("Neuer Auftrag"), "F2", self._new_order))
        file_menu.addSeparator()
        file_menu.addAction(self._action(_("Beenden"), "Ctrl+Q", self.close, needs_data=False))
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
                    needs_data=False,
                )
            )
        view_menu.addSeparator()
        view_menu.addAction(self._action(_("Aktualisieren"), "F5", self._refresh))
        help_menu = bar.addMenu(_("&Hilfe"))
        help_menu.addAction(self._action(_("Über CarBot Werkstatt"), None, self._about, needs_data=False))

    def _focus_search(self) -> None:
        self.tabs.setCurrentIndex(self.TAB_COUNTER)
        self.counter.focus_search()

    def _new_customer(self) -> None:
        self.tabs.setCurrentIndex(self.TAB_COUNTER)
        self.counter.new_customer()

    def _new_vehicle(self) -> None:
        self.tabs.setCurrentIndex(self.TAB_COUNTER)
        self.counter.new_vehicle()

    def _new_order(self) -> None:
        self.tabs.setCurrentIndex(self.TAB_COUNTER)
        self.counter.new_order()

    def _new_appointment(self) -> None:
        self.tabs.setCurrentIndex(self.TAB_CALENDAR)
        self.calendar.new_appointment()

    def _refresh(self) -> None:
        from app.changes import Changes

        assert self.ctx is not None
        self.ctx.bus.operation_did_execute.emit(
            Changes(
                customers=True,
                vehicles=True,
                catalog=True,
                appointments=True,
                settings=True,
                orders=True,
                invoices=True,
            ),
            None,
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

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Remember the geometry; wait for background work."""
        self.prefs.set(prefs_mod.GEOMETRY, self.saveGeometry())
        if self.diagnosis is not None:
            self.diagnosis.shutdown()  # quits the OBD thread (waits up to 2 s) before the DB work is drained
        if self.chat is not None:
            self.chat.shutdown()  # its refresh timer and tray icon
        if self.sync is not None:
            self.sync.shutdown()  # no new rounds; a running one is awaited by the runner below
        if self.ctx is not None:
            self.ctx.runner.shutdown()
        super().closeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Esc returns focus to the search box from anywhere on the counter tab."""
        if event.key() == Qt.Key.Key_Escape and self.tabs.currentIndex() == self.TAB_COUNTER and self.counter:
            self.counter.focus_search()
            return
        super().keyPressEvent(event)
