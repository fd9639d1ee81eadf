"""The in-app chat agent: while the app is open, this workplace answers the web chat (``sync.chat_agent``).

``ChatAgentRunner`` (GUI thread) decides whether the agent runs: the installation is registered with a
CarBot server, its credentials are accepted, the plan has the chat widget (the stored entitlement; before
the first round the server decides) and the workplace preference "Chat-Assistent auf diesem Arbeitsplatz
ausführen" is on (off when ``carbot chat agent`` answers on another computer). It follows the
``SyncController``'s status and the bus signal ``chat_assistant_changed`` (the settings page saved the
assistant or the preference).

``AgentWorker`` (ui/workers/chat_agent_worker.py, Qt-free) runs ``ChatAgent.run_forever`` in a daemon
thread with the configured assistant (``sync.chat_answer.ConfiguredAssistants``, asked per answer, so a
saved LLM setting applies to the next message) on the SyncController's one ``DeviceSession``; closing the
window cuts its 20 s long poll off and waits for the thread (at most ``JOIN_SECONDS``).

Results reach the GUI thread by queued signals: the status bar label ("Chat-Assistent: aktiv (eingebaut)",
"… aktiv (OpenAI: gpt-4o-mini)", "… offline"); a booking made by the agent announces
``Changes(appointments=True)`` (the calendar reloads) and every answer asks for a sync round, which pulls
the chat stream (the Chat tab refreshes on ``chat_synced``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QStatusBar

from app.changes import Changes
from app.i18n import _, ngettext
from app.plans import Feature
from ui.context import UiContext
from ui.prefs import Pref
from ui.sync_status import Connection, SyncStatus
from ui.workers.chat_agent_worker import POLL_WAIT_SECONDS, AgentWorker, AssistantFactory, describe_assistant

log = logging.getLogger(__name__)
RUN_AGENT = Pref("chat/run_agent", True)
"""Workplace preference: this app answers the web chat while it is open."""
JOIN_SECONDS = 2.5


class AgentState(StrEnum):
    """What the status bar says about the agent."""

    OFF = "off"  # not running here (not registered, no chat in the plan, or switched off): no label
    STARTING = "starting"
    ACTIVE = "active"
    OFFLINE = "offline"
    UNAVAILABLE = "unavailable"  # the server refuses (plan, credentials)


@dataclass(frozen=True)
class AgentStatus:
    """The agent's state for the status bar."""

    state: AgentState
    assistant: str = ""  # "eingebaut" or "OpenAI: gpt-4o-mini"
    assistant_note: str = ""  # why the built-in assistant answers although a cloud LLM is configured
    error: str = ""
    lead_limit_reached: bool = False
    answered: int = 0  # answers given since the app started


def status_text(status: AgentStatus) -> str:
    """The status bar text ("" when the agent does not run here)."""
    match status.state:
        case AgentState.OFF:
            return ""
        case AgentState.STARTING:
            return _("Chat-Assistent: wird verbunden …")
        case AgentState.ACTIVE:
            return _("Chat-Assistent: aktiv ({assistant})").format(assistant=status.assistant or _("eingebaut"))
        case AgentState.OFFLINE:
            return _("Chat-Assistent: offline")
    return _("Chat-Assistent: nicht verfügbar")


def status_tooltip(status: AgentStatus) -> str:
    """Who answers, the last error, and what a click does."""
    lines: list[str] = []
    if status.state is AgentState.ACTIVE:
        lines.append(ngettext("Dieser Arbeitsplatz beantwortet die Web-Chats ({count} Antwort seit dem Start).",
                              "Dieser Arbeitsplatz beantwortet die Web-Chats ({count} Antworten seit dem Start).",
                              status.answered).format(count=status.answered))  # fmt: skip
    elif status.state in (AgentState.OFFLINE, AgentState.UNAVAILABLE, AgentState.STARTING):
        lines.append(_("Solange dieser Arbeitsplatz nicht antwortet, antwortet der eingebaute Assistent des Servers."))
    if status.assistant_note:
        lines.append(_("KI nicht verwendet: {reason}").format(reason=status.assistant_note))
    if status.lead_limit_reached:
        lines.append(_("Das Lead-Kontingent des Tarifs ist für diesen Monat erreicht: der Assistent schweigt."))
    if status.error:
        lines.append(_("Letzter Fehler: {message}").format(message=status.error))
    lines.append(_("Klicken öffnet Einstellungen → Chat & Assistent."))
    return "\n".join(lines)


class ChatAgentRunner(QObject):
    """Starts and stops the in-app agent and shows its status (see the module docstring)."""

    status_changed = Signal(object)  # AgentStatus
    settings_requested = Signal()  # the label was clicked
    _connected = Signal(object)  # worker
    _reported = Signal(object, object)  # worker, sync.chat_agent.AgentReport
    _failed = Signal(object, str, bool)  # worker, German message, refused (plan/credentials)

    def __init__(
        self,
        ctx: UiContext,
        sync: Any,
        *,
        assistants: AssistantFactory | None = None,
        poll_wait: float = POLL_WAIT_SECONDS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.db = ctx.services.db
        self.sync = sync  # ui.workers.sync_runner.SyncController: status_changed, status, device_session()
        self.assistants: AssistantFactory | None = assistants  # None = ConfiguredAssistants (tests replace it)
        self.poll_wait = poll_wait
        self.status = AgentStatus(AgentState.OFF)
        self.worker: AgentWorker | None = None
        self.label: QLabel | None = None
        self._closed = False
        self._sync_status: SyncStatus = sync.status
        self._describing = 0
        self._connected.connect(self._on_connected)
        self._reported.connect(self._on_report)
        self._failed.connect(self._on_failed)
        sync.status_changed.connect(self._on_sync_status)
        ctx.bus.chat_assistant_changed.connect(self.settings_changed)

    # --- wiring -------------------------------------------------------------------------------------

    def install(self, status_bar: QStatusBar) -> None:
        """Show the status in a clickable label at the right end of ``status_bar``."""
        self.label = QLabel("")
        self.label.setObjectName("chatAgentStatus")
        self.label.setCursor(Qt.CursorShape.PointingHandCursor)
        self.label.installEventFilter(self)
        self.label.hide()
        status_bar.addPermanentWidget(self.label)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """A click on the label opens the chat settings; the window's close stops the agent first."""
        if watched is self.label and event.type() == QEvent.Type.MouseButtonRelease:
            self.settings_requested.emit()
            return True
        if watched is not self.label and event.type() == QEvent.Type.Close:
            self.shutdown()
        return super().eventFilter(watched, event)

    def start(self) -> None:
        """Decide from the current sync status (later changes arrive by signal)."""
        self.settings_changed()

    def enabled(self) -> bool:
        """The workplace preference."""
        return bool(self.ctx.prefs.get(RUN_AGENT))

    def wanted(self) -> bool:
        """Whether the agent should run here now."""
        status = self._sync_status
        if self._closed or not self.enabled():
            return False
        if status.connection in (Connection.UNREGISTERED, Connection.AUTH_REQUIRED):
            return False
        ent = status.entitlement
        return ent is None or ent.allows(Feature.CHAT_WIDGET)  # unknown before the first round: the server decides

    # --- reacting -----------------------------------------------------------------------------------

    def settings_changed(self) -> None:
        """The preference or the assistant settings were saved: start/stop, and say who answers now."""
        self._apply()
        self._describe()

    def _describe(self) -> None:
        if self.worker is None:
            return
        self._describing += 1
        number, db = self._describing, self.db
        self.ctx.runner.run(
            lambda: describe_assistant(db),
            lambda found: self._described(number, found),
            lambda exc: log.warning("assistant not described: %s", exc),
        )

    def _described(self, number: int, found: tuple[str, str]) -> None:
        if number == self._describing and self.worker is not None:
            self._show(replace(self.status, assistant=found[0], assistant_note=found[1]))

    def _on_sync_status(self, status: SyncStatus) -> None:
        self._sync_status = status
        if self._apply():
            self._describe()

    def _apply(self) -> bool:
        """Start or stop the worker as ``wanted()`` says; True when a worker was started."""
        wanted = self.wanted()
        if wanted and self.worker is None:
            self.worker = self._start_worker()
            self._show(replace(self.status, state=AgentState.STARTING, error="", lead_limit_reached=False))
            return True
        if not wanted and self.worker is not None:
            self.worker.stop()  # ends by itself in a moment; late signals of it are ignored
            self.worker = None
            self._show(AgentStatus(AgentState.OFF))
        return False

    def _start_worker(self) -> AgentWorker:
        from sync.chat_answer import ConfiguredAssistants

        configured = ConfiguredAssistants(self.db)  # reads the LLM settings per answer

        def assistant(profile: Any) -> Any:
            return (self.assistants or configured)(profile)

        worker = AgentWorker(
            self.db, self.sync.device_session, assistant, poll_wait=self.poll_wait,
            on_connected=lambda: self._connected.emit(worker),
            on_report=lambda report: self._reported.emit(worker, report),
            on_error=lambda message, refused: self._failed.emit(worker, message, refused),
        )  # fmt: skip
        worker.start()
        return worker

    def _on_connected(self, worker: AgentWorker) -> None:
        if worker is self.worker:
            self._show(replace(self.status, state=AgentState.ACTIVE, error=""))

    def _on_report(self, worker: AgentWorker, report: Any) -> None:
        if worker is not self.worker:
            return
        answered = self.status.answered + report.answered
        self._show(replace(self.status, state=AgentState.ACTIVE, error="; ".join(report.errors)[:300],
                           lead_limit_reached=report.lead_limit_reached, answered=answered))  # fmt: skip
        if report.bookings:  # the agent booked pending appointments straight into the database
            self.ctx.bus.operation_did_execute.emit(Changes(appointments=True), self)
        if report.answered or report.bookings or report.handoffs or report.muted:
            self.ctx.bus.sync_requested.emit()  # push the booking, pull the conversation into the Chat tab

    def _on_failed(self, worker: AgentWorker, message: str, refused: bool) -> None:
        if worker is self.worker:
            state = AgentState.UNAVAILABLE if refused else AgentState.OFFLINE
            self._show(replace(self.status, state=state, error=message))

    def _show(self, status: AgentStatus) -> None:
        self.status = status
        if self.label is not None:
            text = status_text(status)
            self.label.setText(text)
            self.label.setToolTip(status_tooltip(status) if text else "")
            self.label.setVisible(bool(text))
        self.status_changed.emit(status)

    # --- closing ------------------------------------------------------------------------------------

    def shutdown(self, timeout: float = JOIN_SECONDS) -> bool:
        """Stop the agent and wait up to ``timeout`` s for its thread (app close); True when it ended."""
        self._closed = True
        worker, self.worker = self.worker, None
        if worker is None:
            return True
        worker.stop()
        ended = worker.join(timeout)
        if not ended:  # e.g. a cloud LLM still streaming: the daemon thread ends with the process
            log.warning("chat agent did not stop within %.1f s", timeout)
        return ended


def install_chat_agent(window: Any) -> ChatAgentRunner:
    """Create the runner for the main window (after its ``SyncController``): status label, close, settings."""
    runner = ChatAgentRunner(window.ctx, window.sync, parent=window)
    runner.install(window.statusBar())
    window.installEventFilter(runner)  # the Close event reaches the runner before the window's closeEvent

    def open_settings() -> None:
        from ui.views.settings.chat_page import ChatSettingsPage

        settings = window.settings
        for index in range(settings.pages.count()):
            if isinstance(settings.pages.widget(index), ChatSettingsPage):
                window.tabs.setCurrentIndex(window.TAB_SETTINGS)
                settings.show_page(index)

    runner.settings_requested.connect(open_settings)
    runner.start()
    return runner
