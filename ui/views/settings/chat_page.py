"""The "Chat & Assistent" page: the website widget (script snippet, public key, allowed domains) and the
assistant that answers it (``assistant_form``).

The widget settings live on the CarBot server (``GET``/``PUT /v1/chat/widget`` through
``sync.chat_client.ChatClient`` with this workplace's device credentials, on the network pool); before
the workplace is registered the box says so and offers the way to "Sync & Konto".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.chat.llm.config import ApiKeyStore, LlmConfigStore
from app.i18n import _
from sync import local
from sync.protocol_chat import MAX_DOMAINS, WidgetConfig, WidgetConfigIn
from ui import prefs
from ui.context import UiContext
from ui.errors import error_text
from ui.views.chat.actions import SessionSource, shared_client_factory
from ui.views.settings.assistant_form import AssistantForm
from ui.workers.chat_agent_runner import RUN_AGENT

ERROR_COLOUR = "#c62828"
OK_COLOUR = "#2e7d32"
MAX_LINK = 500  # the server's limit for the logo and privacy links
_HOST = re.compile(r"^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+(:\d+)?$")


class WidgetClient(Protocol):
    """The part of ``ChatClient`` this page uses (network; worker threads only)."""

    def widget_config(self) -> WidgetConfig:
        """The location's widget settings (the key is created on the first call)."""
        ...

    def update_widget(self, change: WidgetConfigIn) -> WidgetConfig:
        """Change the allowed domains."""
        ...


def parse_link(text: str, what: str) -> tuple[str | None, str | None]:
    """(link or None when empty, German problem) – the widget loads only https links of a real host."""
    link = text.strip()
    if not link:
        return None, None
    host = urlsplit(link).hostname if link.startswith("https://") else None
    if not host or "." not in host or len(link) > MAX_LINK or any(c.isspace() for c in link):
        return None, _(
            "{what}: bitte eine vollständige https-Adresse angeben (z. B. https://www.werkstatt.de/…)."
        ).format(what=what)
    return link, None


def parse_domains(text: str) -> tuple[list[str], list[str]]:
    """(domains, German problems) from one domain per line (or separated by commas/spaces).

    "https://www.werkstatt-huber.de/kontakt" is reduced to its host "www.werkstatt-huber.de".
    """
    domains: list[str] = []
    problems: list[str] = []
    for raw in re.split(r"[\s,;]+", text.strip()):
        if not raw:
            continue
        host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", raw.strip().lower()).split("/")[0].rstrip(".")
        if not _HOST.match(host) or len(host) > 253:
            problems.append(_("„{domain}“ ist keine gültige Domain.").format(domain=raw))
        elif host not in domains:
            domains.append(host)
    if len(domains) > MAX_DOMAINS:
        problems.append(_("Höchstens {count} Domains sind möglich.").format(count=MAX_DOMAINS))
    return domains, problems


class ChatSettingsPage(QWidget):
    """Widget box (left) and assistant form (right)."""

    def __init__(
        self,
        ctx: UiContext,
        *,
        open_sync: Callable[[], None] | None = None,
        client_factory: Callable[[], WidgetClient] | None = None,
        config_store: LlmConfigStore | None = None,
        key_store: ApiKeyStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.open_sync = open_sync
        self.session_source: SessionSource | None = None  # the main window's SyncController, found at load()
        self.client_factory: Callable[[], Any] = client_factory or shared_client_factory(lambda: self.session_source)
        self.widget: WidgetConfig | None = None
        self.registered = False
        self._build_widget_box()
        self.assistant = AssistantForm(ctx, config_store=config_store, key_store=key_store)
        self.assistant.setMaximumWidth(560)
        row = QHBoxLayout()
        row.setSpacing(16)
        row.addWidget(self.widget_box, 1, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.assistant, 1, Qt.AlignmentFlag.AlignTop)
        self.assistant.saved.connect(ctx.bus.chat_assistant_changed.emit)  # the in-app agent re-reads it
        self.run_agent = QCheckBox(_("Chat-Assistent auf diesem Arbeitsplatz ausführen"))
        self.run_agent.setObjectName("runChatAgent")
        self.run_agent.setToolTip(
            _(
                "Solange die App geöffnet ist, beantwortet dieser Arbeitsplatz die Web-Chats. Ausschalten, wenn "
                "„carbot chat agent“ auf einem anderen Rechner läuft. Antwortet kein Arbeitsplatz, antwortet der "
                "eingebaute Assistent des CarBot-Servers."
            )
        )
        self.run_agent.setChecked(bool(ctx.prefs.get(RUN_AGENT)))
        self.run_agent.toggled.connect(self._run_agent_toggled)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.run_agent)
        layout.addStretch(1)

    def _run_agent_toggled(self, on: bool) -> None:
        self.ctx.prefs.set(RUN_AGENT, on)
        self.ctx.bus.chat_assistant_changed.emit()

    def _build_widget_box(self) -> None:
        self.widget_box = QGroupBox(_("Website-Widget"))
        self.widget_box.setMaximumWidth(620)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.state = QLabel("")
        self.state.setObjectName("widgetState")
        self.state.setWordWrap(True)
        self.setup_button = QPushButton(_("Zu Sync & Konto").replace("&", "&&"))  # a text, not a mnemonic
        self.setup_button.setObjectName("widgetSetup")
        self.setup_button.clicked.connect(self.go_to_sync)
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("widgetKey")
        self.key_edit.setReadOnly(True)
        self.key_edit.setFont(mono)
        self.copy_key_button = QPushButton(_("Kopieren"))
        self.copy_key_button.setObjectName("copyWidgetKey")
        self.copy_key_button.clicked.connect(lambda: self._copy(self.key_edit.text(), _("Schlüssel kopiert.")))
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.copy_key_button)
        self.snippet = QPlainTextEdit()
        self.snippet.setObjectName("widgetSnippet")
        self.snippet.setReadOnly(True)
        self.snippet.setFont(mono)
        self.snippet.setFixedHeight(74)
        self.copy_snippet_button = QPushButton(_("Code kopieren"))
        self.copy_snippet_button.setObjectName("copyWidgetSnippet")
        self.copy_snippet_button.clicked.connect(
            lambda: self._copy(self.snippet.toPlainText(), _("Code kopiert – in die Website der Werkstatt einfügen."))
        )
        self.domains = QPlainTextEdit()
        self.domains.setObjectName("widgetDomains")
        self.domains.setPlaceholderText("werkstatt-huber.de\nwww.werkstatt-huber.de")
        self.domains.setFixedHeight(84)
        self.save_domains_button = QPushButton(_("Widget speichern"))
        self.save_domains_button.setObjectName("saveWidgetDomains")
        self.save_domains_button.clicked.connect(self.save_domains)
        self.reload_button = QPushButton(_("Neu laden"))
        self.reload_button.clicked.connect(self.load_widget)
        self.message = QLabel("")
        self.message.setObjectName("widgetMessage")
        self.message.setWordWrap(True)
        hint = QLabel(
            _(
                "Den Code vor </body> in jede Seite der Website einfügen. Erlaubte Domains: eine pro Zeile; "
                "Subdomains sind eingeschlossen. Leer = jede Website darf das Widget einbinden."
            )
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #607d8b;")
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.reload_button)
        buttons.addWidget(self.save_domains_button)
        self.details = QWidget()
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.addWidget(QLabel(_("Öffentlicher Schlüssel")))
        details.addLayout(key_row)
        details.addWidget(QLabel(_("Code für die Website")))
        details.addWidget(self.snippet)
        details.addWidget(self.copy_snippet_button)
        details.addWidget(QLabel(_("Erlaubte Domains")))
        details.addWidget(self.domains)
        details.addWidget(hint)
        details.addLayout(self._link_edits())
        details.addLayout(buttons)
        state_row = QHBoxLayout()
        state_row.addWidget(self.state, 1)
        state_row.addWidget(self.setup_button)
        box = QVBoxLayout(self.widget_box)
        box.addLayout(state_row)
        box.addWidget(self.details)

    def _link_edits(self) -> QFormLayout:
        """The widget's logo and the workshop's privacy notice (https links the widget shows)."""
        self.logo_edit = QLineEdit()
        self.logo_edit.setObjectName("widgetLogo")
        self.logo_edit.setPlaceholderText("https://www.werkstatt-huber.de/logo.png")
        self.privacy_edit = QLineEdit()
        self.privacy_edit.setObjectName("widgetPrivacy")
        self.privacy_edit.setPlaceholderText("https://www.werkstatt-huber.de/datenschutz")
        links = QFormLayout()
        links.addRow(_("Logo (Adresse):"), self.logo_edit)
        links.addRow(_("Datenschutzhinweis (Adresse):"), self.privacy_edit)
        return links

    def go_to_sync(self) -> None:
        """ "Zu Sync & Konto": ``open_sync`` if given, else the settings tab this page sits in."""
        if self.open_sync is not None:
            self.open_sync()
            return
        parent = self.parentWidget()
        while parent is not None and not hasattr(parent, "PAGE_SYNC"):
            parent = parent.parentWidget()
        if parent is not None:
            parent.show_page(parent.PAGE_SYNC)  # type: ignore[attr-defined]

    # --- loading -----------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Every visit re-reads the settings (the registration or the server's widget may have changed)."""
        super().showEvent(event)
        self.load()

    def load(self) -> None:
        """Read the assistant settings and – when registered – the widget settings from the server."""
        self.assistant.load()
        self.assistant.set_editable(str(self.ctx.prefs.get(prefs.ROLE)) == "owner")
        self.session_source = getattr(self.window(), "sync", None)  # one device session per process
        self.load_widget()

    def load_widget(self) -> None:
        """Ask the server for the widget settings (only when this workplace is registered)."""
        db = self.ctx.services.db
        self.ctx.query(lambda: local.state(db).registered, self._registration_known, parent=self)

    def _registration_known(self, registered: bool) -> None:
        self.registered = registered
        self.setup_button.setVisible(not registered)
        self.details.setEnabled(registered)
        if not registered:
            self.state.setText(
                _(
                    "Chat ist erst nach der Anmeldung am CarBot-Server verfügbar – "
                    "das Widget erhält dort seinen Schlüssel."
                )
            )
            return
        self.state.setText(_("Wird vom CarBot-Server geladen …"))
        factory = self.client_factory
        self.ctx.runner.run(lambda: factory().widget_config(), self._show_widget, self._widget_failed, uses_db=False)

    def _show_widget(self, config: WidgetConfig) -> None:
        self.widget = config
        self.state.setText(_("Das Widget ist eingerichtet. Kopieren Sie den Code in die Website der Werkstatt."))
        self.key_edit.setText(config.public_key)
        self.snippet.setPlainText(config.snippet)
        if not self.domains.hasFocus():
            self.domains.setPlainText("\n".join(config.allowed_domains))
        for edit, value in (
            (self.logo_edit, config.branding.logo_url),
            (self.privacy_edit, config.branding.privacy_url),
        ):
            if not edit.hasFocus():
                edit.setText(value or "")
        self.save_domains_button.setEnabled(True)

    def _widget_failed(self, exc: BaseException) -> None:
        self.state.setText(_("Die Widget-Einstellungen konnten nicht geladen werden: {error}").format(
            error=error_text(exc)))  # fmt: skip
        self.save_domains_button.setEnabled(False)

    # --- actions -----------------------------------------------------------------------------------

    def save_domains(self) -> None:
        """Check and store the allowed domains, the logo and the privacy-notice link on the server."""
        domains, problems = parse_domains(self.domains.toPlainText())
        logo, logo_problem = parse_link(self.logo_edit.text(), _("Logo"))
        privacy, privacy_problem = parse_link(self.privacy_edit.text(), _("Datenschutzhinweis"))
        problems += [p for p in (logo_problem, privacy_problem) if p]
        if problems:
            self._say(" ".join(problems), ok=False)
            return
        change = WidgetConfigIn(allowed_domains=domains)
        if self.widget is not None:
            branding = self.widget.branding.model_copy(update={"logo_url": logo, "privacy_url": privacy})
            change = WidgetConfigIn(allowed_domains=domains, branding=branding)
        factory = self.client_factory
        self.save_domains_button.setEnabled(False)
        self.ctx.runner.run(
            lambda: factory().update_widget(change),
            self._domains_saved,
            self._domains_failed,
            uses_db=False,
        )

    def _domains_saved(self, config: WidgetConfig) -> None:
        self._show_widget(config)
        self.domains.setPlainText("\n".join(config.allowed_domains))
        self._say(_("Widget-Einstellungen gespeichert."), ok=True)

    def _domains_failed(self, exc: BaseException) -> None:
        self.save_domains_button.setEnabled(True)
        self._say(error_text(exc), ok=False)

    def _copy(self, text: str, done: str) -> None:
        if not text:
            return
        QGuiApplication.clipboard().setText(text)
        self._say(done, ok=True)

    def _say(self, text: str, *, ok: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {OK_COLOUR if ok else ERROR_COLOUR};")
