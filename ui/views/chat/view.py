"""The "Chat" tab: the inbox of the website widget's conversations (left) and one conversation (right).

Data: ``services.chat`` (``app.services.chat_inbox``) reads the conversations the sync client pulled
from the hosted API (stream ``chat``), on the TaskRunner's database thread. Staff actions go to the
server through ``actions`` on the network pool. The tab reloads when a sync round brought chat data
(``Bus.chat_synced``) and after local changes that touch what it shows (links to customers, vehicles,
appointments). The tab's title carries the unread count ("Chat (3)"); a new visitor message or a
conversation waiting for staff raises a desktop notification.

Keys: Alt+↑/↓ previous/next conversation, Alt+U Übernehmen, Alt+B An Bot zurückgeben, Alt+S Schließen,
Alt+V Verknüpfen, Strg+L into the reply box; in the reply box Enter sends, Umschalt+Enter = new line.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QVBoxLayout, QWidget

from app import plans
from app.changes import Changes
from app.i18n import _
from app.services.chat_inbox import ConversationSummary
from app.services.registry import Services
from sync import local
from sync.protocol_chat import ChatUsage
from ui.context import UiContext
from ui.errors import show_error
from ui.sync_status import evaluate_entitlement
from ui.views.chat import actions, style
from ui.views.chat.actions import ClientFactory, Overlay, SessionSource, StaffResult
from ui.views.chat.banners import Banners, lead_limit_text
from ui.views.chat.conversation import ConversationDetail, ConversationPane
from ui.views.chat.inbox import InboxPanel
from ui.views.chat.link_dialog import LinkChoice, LinkDialog
from ui.views.chat.notifier import ChatNotifier

log = logging.getLogger(__name__)
USAGE_EVERY = dt.timedelta(minutes=2)
"""Ask the server for the lead count at most this often (and after every round with chat news)."""


@dataclass(frozen=True)
class InboxData:
    """One background load of the inbox."""

    registered: bool
    conversations: tuple[ConversationSummary, ...]
    plan_name: str
    leads_limit: int | None


def load_inbox(services: Services) -> InboxData:
    """The inbox and what the banners need (database thread; no Qt)."""
    state = local.state(services.db)
    plan_name, limit = "", None
    ent = evaluate_entitlement(state, dt.datetime.now(dt.UTC)) if state.registered else None
    if ent is not None and ent.entitlement is not None:
        plan = plans.plan(ent.entitlement.plan_id)
        plan_name, limit = plan.name, plan.limits.leads_per_month
    return InboxData(state.registered, tuple(services.chat.conversations()), plan_name, limit)


def unread_total(conversations: tuple[ConversationSummary, ...]) -> int:
    """Unread visitor messages in conversations that are not closed (the tab title's count)."""
    return sum(c.unread for c in conversations if c.status != "closed")


class ChatView(QWidget):
    """The Chat tab; ``install(window, ctx)`` below wires it into the main window."""

    unread_changed = Signal(int)
    open_day_requested = Signal(object, object)  # dt.date, appointment id or None
    setup_requested = Signal()

    def __init__(
        self, ctx: UiContext, *, client_factory: ClientFactory | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session_source: SessionSource | None = None  # the SyncController (set by ``install``)
        self.client_factory = client_factory or actions.shared_client_factory(lambda: self.session_source)
        self.data: InboxData | None = None
        self.overlay = Overlay()
        self.lead_limit_reached = False  # from the server's usage figures (GET /v1/chat/usage)
        self.leads_limit: int | None = None
        self._usage_at: dt.datetime | None = None
        self._generation = 0
        self._sending = False
        self.notifier = ChatNotifier(ctx.bus.status_message_posted.emit, self)
        self.banners = Banners()
        self.banners.setup_requested.connect(self.setup_requested)
        self.inbox = InboxPanel()
        self.inbox.conversation_selected.connect(lambda _cid: self.load_detail())
        self.pane = ConversationPane()
        self.pane.send_requested.connect(self.send)
        self.pane.status_requested.connect(self.change_status)
        self.pane.link_requested.connect(self.open_link_dialog)
        self.pane.open_appointment_requested.connect(self.open_day_requested)
        self.link_dialog: LinkDialog | None = None
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.inbox)
        splitter.addWidget(self.pane)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([400, 900])
        splitter.setChildrenCollapsible(False)
        self.inbox.setMinimumWidth(320)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(8)
        layout.addWidget(self.banners)
        row = QHBoxLayout()
        row.addWidget(splitter)
        layout.addLayout(row, 1)
        self._shortcuts()
        ctx.bus.operation_did_execute.connect(self._on_changes)
        ctx.bus.chat_synced.connect(self._on_chat_synced)
        self._tick = QTimer(self, interval=60_000)  # the relative times ("gestern") and the usage check
        self._tick.timeout.connect(self.reload)
        self._tick.start()
        self.reload()

    def _shortcuts(self) -> None:
        keys: tuple[tuple[str, Callable[[], Any]], ...] = (
            ("Alt+Up", lambda: self.step(-1)),
            ("Alt+Down", lambda: self.step(1)),
            ("Alt+U", lambda: self.change_status("staff")),
            ("Alt+B", lambda: self.change_status("bot") if self.pane.bot_button.isEnabled() else None),
            ("Alt+S", lambda: self.change_status("closed")),
            ("Alt+V", self.open_link_dialog),
            ("Ctrl+L", self.pane.reply.edit.setFocus),
        )
        for sequence, slot in keys:
            QShortcut(QKeySequence(sequence), self, slot, Qt.ShortcutContext.WidgetWithChildrenShortcut)

    # --- loading -----------------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the inbox in the background (late answers of older loads are dropped)."""
        self._generation += 1
        generation, services = self._generation, self.ctx.services
        self.ctx.query(lambda: load_inbox(services), lambda data: self._loaded(generation, data), parent=self)

    def _loaded(self, generation: int, data: InboxData) -> None:
        if generation != self._generation:
            return
        conversations = tuple(self.overlay.apply(c) for c in data.conversations)
        self.data = InboxData(data.registered, conversations, data.plan_name, data.leads_limit)
        self.inbox.set_conversations(conversations)
        self.pane.placeholder.setText(
            _("Links ein Gespräch auswählen.")
            if conversations
            else _("Noch keine Chats – sobald jemand im Website-Widget schreibt, erscheint das Gespräch hier.")
        )
        shown = self.pane.summary.id if self.pane.summary is not None and self.isVisible() else None
        self.notifier.update(
            (c.id, c.status, 0 if c.id == shown else c.unread, style.display_title(c))
            for c in conversations
            if c.status != "closed"
        )
        self._show_banners()
        self.unread_changed.emit(unread_total(conversations))
        if self.current_id is not None and self.inbox.summary(self.current_id) is not None:
            self.load_detail()  # also when the filter now hides it (just closed): the pane keeps showing it
        if data.registered:
            self._check_usage()

    @property
    def current_id(self) -> str | None:
        """The id of the conversation selected in the inbox."""
        return self.inbox.selected_id

    def load_detail(self) -> None:
        """Load the selected conversation's messages and booking requests (and mark them read when shown)."""
        cid = self.current_id
        summary = self.inbox.summary(cid) if cid else None
        if summary is None:
            self.pane.show_conversation(None)
            return
        services, visible = self.ctx.services, self.isVisible()

        def load() -> tuple[ConversationDetail, bool]:
            messages = services.chat.messages(summary.id)
            bookings = tuple(services.chat.bookings(summary.id))
            linked_day = None
            if summary.appointment_id is not None:
                linked_day = services.appointments.get(summary.appointment_id).start.date()
            marked = visible and summary.unread > 0
            if marked:
                services.chat.mark_read(summary.id)
            canned = services.chat.canned_replies(summary.language)
            return ConversationDetail(summary, tuple(messages), bookings, tuple(canned), linked_day), marked

        def done(result: tuple[ConversationDetail, bool]) -> None:
            detail, marked = result
            if self.current_id != summary.id:
                return
            messages = self.overlay.merge(summary.id, list(detail.messages))
            self.pane.show_conversation(replace(detail, messages=tuple(messages)))
            if marked:
                self.reload()  # the unread badge and the tab title drop

        self.ctx.query(load, done, parent=self)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Coming to the tab marks the shown conversation read."""
        super().showEvent(event)
        if self.pane.summary is not None and self.pane.summary.unread:
            self.load_detail()

    def step(self, direction: int) -> None:
        """Select the previous (-1) or next (+1) conversation of the list."""
        rows = self.inbox.model.rows
        if not rows:
            return
        index = self.inbox.model.row_of(self.current_id or "")
        index = 0 if index < 0 else max(0, min(len(rows) - 1, index + direction))
        self.inbox.select(rows[index].id)

    def _show_banners(self) -> None:
        data = self.data
        if data is None:
            return
        newest = data.conversations[0] if data.conversations else None
        reached = self.lead_limit_reached or bool(newest is not None and newest.bot_stopped_by_limit)
        limit = self.leads_limit if self.leads_limit is not None else data.leads_limit
        text = lead_limit_text(data.plan_name, limit) if reached else ""
        self.banners.show_state(registered=data.registered, lead_limit=text)

    def _check_usage(self, *, force: bool = False) -> None:
        now = dt.datetime.now(dt.UTC)
        if not force and self._usage_at is not None and now - self._usage_at < USAGE_EVERY:
            return
        self._usage_at = now
        factory = self.client_factory
        self.ctx.runner.run(lambda: factory().usage(), self._usage_loaded, self._usage_failed, uses_db=False)

    def _usage_loaded(self, usage: ChatUsage) -> None:
        self.lead_limit_reached = usage.lead_limit_reached
        self.leads_limit = usage.leads_limit
        self._show_banners()

    def _usage_failed(self, exc: BaseException) -> None:
        log.info("chat usage not available: %s", type(exc).__name__)  # offline: the local hint stays

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if initiator is self:
            return
        if changes.customers or changes.vehicles or changes.appointments or changes.settings:
            self.reload()

    def _on_chat_synced(self, _report: object = None) -> None:
        self._check_usage(force=True)
        self.reload()

    # --- staff actions -----------------------------------------------------------------------------

    def _current(self) -> ConversationSummary | None:
        summary = self.pane.summary
        return summary if summary is not None and summary.id == self.current_id else None

    def send(self, text: str) -> None:
        """Send ``text`` as a staff message (takes the conversation over first if the bot has it)."""
        summary = self._current()
        if summary is None or self._sending:
            return
        self._sending = True
        self.pane.reply.set_busy(True)
        factory, client_id = self.client_factory, uuid.uuid4()  # one id per message: a retry never duplicates
        self.ctx.runner.run(
            lambda: actions.send_staff_message(factory(), summary.id, summary.status, text, client_id),
            self._sent,
            self._send_failed,
            uses_db=False,
        )

    def _sent(self, result: StaffResult) -> None:
        self._sending = False
        self.pane.reply.set_busy(False)
        self.pane.reply.clear()
        self._acted(result)

    def _send_failed(self, exc: BaseException) -> None:
        self._sending = False
        self.pane.reply.set_busy(False)  # the text stays in the box for another try
        show_error(parent=self, exc=exc)

    def change_status(self, status: str) -> None:
        """Übernehmen (staff), An Bot zurückgeben (bot), Schließen (closed) – on the server."""
        summary = self._current()
        if summary is None or summary.status == status:
            return
        factory = self.client_factory
        self.ctx.runner.run(
            lambda: actions.set_status(factory(), summary.id, status),
            self._acted,
            lambda exc: show_error(parent=self, exc=exc),
            uses_db=False,
        )

    def _acted(self, result: StaffResult) -> None:
        self.overlay.record(result)
        self.ctx.bus.sync_requested.emit()  # pull the server's state at once
        self.reload()

    # --- links -------------------------------------------------------------------------------------

    def open_link_dialog(self) -> LinkDialog | None:
        """ "Verknüpfen …": pick customer/vehicle and appointment for the shown conversation."""
        summary = self._current()
        if summary is None:
            return None
        contact = summary.contact
        prefill = "" if summary.customer_id else (contact.name or contact.phone) if contact else ""
        titles = (" – ".join(p for p in (summary.customer_name, summary.vehicle_label) if p), summary.appointment_label)
        current = LinkChoice(summary.customer_id, summary.vehicle_id, summary.appointment_id)
        dialog = LinkDialog(self.ctx, current=current, current_titles=titles, prefill=prefill, parent=self)
        dialog.chosen.connect(lambda choice: self.link(summary.id, choice))
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        self.link_dialog = dialog
        dialog.open()
        return dialog

    def _dialog_closed(self, dialog: LinkDialog) -> None:
        if self.link_dialog is dialog:
            self.link_dialog = None
        dialog.deleteLater()

    def link(self, conversation_id: str, choice: LinkChoice) -> None:
        """Store the link (one unit of work) and show it."""
        chat = self.ctx.services.chat
        self.ctx.mutate(
            lambda: chat.link(
                conversation_id,
                customer_id=choice.customer_id,
                vehicle_id=choice.vehicle_id,
                appointment_id=choice.appointment_id,
            ),
            lambda _result: self.reload(),
            parent=self,
            initiator=self,
        )

    def shutdown(self) -> None:
        """Stop the timer and remove the tray icon (window closes)."""
        self._tick.stop()
        self.notifier.close()


def install(window: Any, ctx: UiContext, *, client_factory: ClientFactory | None = None) -> ChatView:
    """Create the tab for the main window: title with the unread count, calendar jump, setup link."""
    view = ChatView(ctx, client_factory=client_factory)
    title = _("Chat")

    class _Source:  # the SyncController exists only after the tabs: looked up when the chat first needs it
        def device_session(self) -> Any:
            return window.sync.device_session()

    view.session_source = _Source()

    def show_unread(count: int) -> None:
        window.tabs.setTabText(window.TAB_CHAT, f"{title} ({count})" if count else title)

    def open_day(day: dt.date, _appointment_id: int | None) -> None:
        window.tabs.setCurrentIndex(window.TAB_CALENDAR)
        window.calendar.set_date(day)

    view.unread_changed.connect(show_unread)
    view.open_day_requested.connect(open_day)
    view.setup_requested.connect(window.open_sync_settings)
    if view.data is not None:  # loaded already (synchronous runner): the first count came before the connect
        show_unread(unread_total(view.data.conversations))
    return view
