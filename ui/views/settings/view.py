"""The "Einstellungen" tab: a navigation list on the left, one page at a time on the right.

Pages load lazily when first shown and again after a change elsewhere (announced on the bus), so the
tab costs nothing at start-up beyond the workshop data.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QStackedWidget, QVBoxLayout, QWidget

from app.changes import Changes
from app.i18n import _
from ui.context import UiContext
from ui.views.settings.catalog_page import CatalogPage
from ui.views.settings.chat_page import ChatSettingsPage
from ui.views.settings.language_page import LanguagePage
from ui.views.settings.resources_page import ResourcesPage
from ui.views.settings.subscription_page import SubscriptionPage
from ui.views.settings.sync_page import SyncPage
from ui.views.settings.workshop_page import WorkshopPage


class SettingsView(QWidget):
    """Werkstatt, Bühnen & Monteure, Leistungskatalog, Sprache and Sync & Konto."""

    PAGE_WORKSHOP, PAGE_RESOURCES, PAGE_CATALOG, PAGE_LANGUAGE, PAGE_SYNC = range(5)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.workshop = WorkshopPage(ctx)
        self.resources = ResourcesPage(ctx)
        self.catalog = CatalogPage(ctx)
        self.language = LanguagePage(ctx)
        self.sync_page = SyncPage(ctx)  # acts once the main window binds its SyncController
        titles = (
            (self.workshop, _("Werkstatt"), _("Stammdaten, Bank, Arbeitswerte und Öffnungszeiten")),
            (self.resources, _("Bühnen & Monteure"), _("Wer und wo im Terminkalender geplant wird")),
            (self.catalog, _("Leistungskatalog"), _("Leistungen mit AW und Preisen – Import und Export als CSV")),
            (self.language, _("Sprache"), _("Sprache der Oberfläche auf diesem Computer")),
            (self.sync_page, _("Sync & Konto"), _("Diesen Arbeitsplatz mit dem CarBot-Server verbinden")),
            (SubscriptionPage(ctx), _("Abo"), _("Tarif, Zahlung und Rechnungen von CarBot (nur Inhaber)")),
            (ChatSettingsPage(ctx), _("Chat & Assistent"), _("Website-Widget und Assistent des Web-Chats")),
        )
        self.nav = QListWidget()
        self.nav.setObjectName("settingsNav")
        self.nav.setFixedWidth(210)
        self.nav.setSpacing(2)
        self.nav.setStyleSheet(
            "QListWidget#settingsNav { border: none; background: #eceff1; padding-top: 8px; outline: 0; }"
            "QListWidget#settingsNav::item { padding: 8px 12px; }"
            "QListWidget#settingsNav::item:selected { background: #cfd8dc; color: #263238; font-weight: 600; }"
        )
        self.pages = QStackedWidget()
        self.headings: list[tuple[str, str]] = []
        for page, title, subtitle in titles:
            self.nav.addItem(title)
            self.nav.item(self.nav.count() - 1).setSizeHint(QSize(190, 36))
            self.nav.item(self.nav.count() - 1).setToolTip(subtitle)
            self.pages.addWidget(page)
            self.headings.append((title, subtitle))
        self.title = QLabel("")
        self.title.setObjectName("settingsTitle")
        self.title.setStyleSheet("font-size: 16pt; font-weight: 600; color: #37474f;")
        self.subtitle = QLabel("")
        self.subtitle.setStyleSheet("color: #607d8b;")
        right = QVBoxLayout()
        right.setContentsMargins(20, 14, 20, 14)
        right.setSpacing(4)
        right.addWidget(self.title)
        right.addWidget(self.subtitle)
        right.addSpacing(10)
        right.addWidget(self.pages, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addLayout(right, 1)

        # Pages that must (re)load before they are shown next; the workshop page loads right away.
        self._stale = {self.PAGE_RESOURCES, self.PAGE_CATALOG, self.PAGE_SYNC}
        self.nav.currentRowChanged.connect(self.show_page)
        ctx.bus.operation_did_execute.connect(self._on_changes)
        self.nav.setCurrentRow(self.PAGE_WORKSHOP)
        self.workshop.load()

    def show_page(self, index: int) -> None:
        """Switch to page ``index`` (loading it first if needed)."""
        if self.nav.currentRow() != index:
            self.nav.setCurrentRow(index)  # comes back here through currentRowChanged
            return
        self.pages.setCurrentIndex(index)
        title, subtitle = self.headings[index]
        self.title.setText(title)
        self.subtitle.setText(subtitle)
        self._load_if_stale(index)

    def _load_if_stale(self, index: int) -> None:
        if index not in self._stale:
            return
        self._stale.discard(index)
        page = self.pages.widget(index)
        load = getattr(page, "load", None)
        if load is not None:
            load()

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        # The page that made a change has already shown its result; the others refresh when next visible.
        if changes.settings:
            if initiator is not self.workshop and not self.workshop.dirty:
                self.workshop.load()  # never over the user's unsaved typing
            if initiator is not self.resources:
                self._stale.add(self.PAGE_RESOURCES)
            self._stale.add(self.PAGE_CATALOG)  # prices follow the hourly rate
        if changes.catalog and initiator is not self.catalog:
            self._stale.add(self.PAGE_CATALOG)
        if self.isVisible():
            self._load_if_stale(self.pages.currentIndex())
