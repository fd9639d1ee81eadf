"""The conversation pane on the right of the Chat tab: who it is, what was said, the reply box, the actions.

The pane only shows and asks: every action is a signal the ``ChatView`` carries out in the background
("Übernehmen" → status ``staff``, the bot stops; "An Bot zurückgeben" → ``bot``; "Schließen" →
``closed``; "Verknüpfen …"; "Termin im Kalender öffnen" for a booking request or a linked appointment).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app import formatting
from app.i18n import _, ngettext
from app.services.chat_inbox import ChatBookingDTO, ChatMessageDTO, ConversationSummary
from ui.views.chat import style
from ui.views.chat.message_list import Bubble, MessageList
from ui.views.chat.reply_box import ReplyBox


@dataclass(frozen=True)
class ConversationDetail:
    """Everything the pane shows of one conversation (loaded together in the background)."""

    summary: ConversationSummary
    messages: tuple[ChatMessageDTO, ...]
    bookings: tuple[ChatBookingDTO, ...]
    canned: tuple[str, ...]
    linked_day: dt.date | None = None  # the day of the linked appointment, for the calendar jump


def contact_lines(c: ConversationSummary) -> list[str]:
    """What the visitor left, one line each (escaped for rich text)."""
    contact = c.contact
    lines: list[str] = []
    if contact is not None:
        reach = " · ".join(p for p in (contact.phone, contact.email) if p)
        if reach:
            lines.append(html.escape(reach))
        if contact.vehicle:
            lines.append(_("Fahrzeug: {vehicle}").format(vehicle=html.escape(contact.vehicle)))
        if contact.concern:
            lines.append(_("Anliegen: {concern}").format(concern=html.escape(contact.concern)))
        if contact.preferred_time:
            lines.append(_("Wunschtermin: {time}").format(time=html.escape(contact.preferred_time)))
    if c.handoff_reason:
        lines.append(_("Übergabe: {reason}").format(reason=html.escape(c.handoff_reason)))
    return lines


def link_line(c: ConversationSummary) -> str:
    """ "Kunde: Anna Huber · Fahrzeug: M-AB 123 – VW Golf · Termin: …" or a hint that nothing is linked."""
    parts = []
    if c.customer_name:
        parts.append(_("Kunde: {name}").format(name=html.escape(c.customer_name)))
    if c.vehicle_label:
        parts.append(_("Fahrzeug: {vehicle}").format(vehicle=html.escape(c.vehicle_label)))
    if c.appointment_label:
        parts.append(_("Termin: {appointment}").format(appointment=html.escape(c.appointment_label)))
    return " · ".join(parts) if parts else _("Nicht mit Kunde, Fahrzeug oder Termin verknüpft")


def booking_line(bookings: Sequence[ChatBookingDTO]) -> str:
    """The booking requests of the conversation in one line ("Terminanfrage: Ölwechsel am 30.11.2026 09:00")."""
    texts = []
    for b in bookings:
        when = formatting.datetime(b.start, "EEE, dd.MM.yyyy HH:mm")
        state = _("als Anfrage im Kalender") if b.imported else _("noch nicht im Kalender")
        texts.append(f"{html.escape(b.service_name or b.service_code)} – {when} ({state})")
    if not texts:
        return ""
    head = ngettext("Terminanfrage", "Terminanfragen", len(texts))
    return f"{head}: " + "; ".join(texts)


class ConversationPane(QWidget):
    """Header, actions, messages and the reply box of the selected conversation."""

    send_requested = Signal(str)
    status_requested = Signal(str)
    link_requested = Signal()
    open_appointment_requested = Signal(object, object)  # dt.date, appointment id or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary: ConversationSummary | None = None
        self.detail: ConversationDetail | None = None
        self.title = QLabel("")
        self.title.setObjectName("chatTitle")
        self.title.setStyleSheet("font-size: 14pt; font-weight: 600; color: #263238;")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.chip = QLabel("")
        self.chip.setObjectName("chatStatusChip")
        self.lead = QLabel(_("Lead"))
        self.lead.setObjectName("chatLead")
        self.lead.setToolTip(_("Der Besucher hat Kontaktdaten hinterlassen oder einen Termin angefragt."))
        self.lead.setStyleSheet(
            f"QLabel {{ background: #f3e5f5; color: {style.LEAD_COLOUR}; border-radius: 9px; padding: 2px 9px;"
            " font-weight: 600; font-size: 9.5pt; }"
        )
        self.language = QLabel("")
        self.language.setStyleSheet(f"color: {style.SECONDARY_TEXT};")
        self.details = QLabel("")
        self.details.setObjectName("chatDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.links = QLabel("")
        self.links.setObjectName("chatLinks")
        self.links.setWordWrap(True)
        self.links.setTextFormat(Qt.TextFormat.RichText)
        self.links.setStyleSheet(f"color: {style.SECONDARY_TEXT};")
        self.booking = QLabel("")
        self.booking.setObjectName("chatBookings")
        self.booking.setWordWrap(True)
        self.booking.setTextFormat(Qt.TextFormat.RichText)
        self.booking.setStyleSheet("color: #4a3b00; background: #fff3cd; border-radius: 4px; padding: 4px 8px;")
        self.take_button = self._button("chatTakeOver", _("Übernehmen"), lambda: self.status_requested.emit("staff"))
        self.take_button.setToolTip(_("Sie antworten selbst – der Bot schweigt in diesem Gespräch (Alt+U)."))
        self.take_button.setStyleSheet(style.PRIMARY_BUTTON_CSS)
        self.bot_button = self._button("chatToBot", _("An Bot zurückgeben"), lambda: self.status_requested.emit("bot"))
        self.close_button = self._button("chatClose", _("Schließen"), lambda: self.status_requested.emit("closed"))
        self.link_button = self._button("chatLink", _("Verknüpfen …"), self.link_requested.emit)
        self.link_button.setToolTip(_("Mit Kunde, Fahrzeug oder Termin verknüpfen"))
        self.calendar_button = self._button("chatOpenCalendar", _("Termin im Kalender öffnen"), self._open_calendar)
        self.messages = MessageList()
        self.reply = ReplyBox()
        self.reply.send_requested.connect(self.send_requested)
        self.closed_hint = QLabel(_("Dieses Gespräch ist geschlossen. Mit „Übernehmen“ öffnen Sie es wieder."))
        self.closed_hint.setStyleSheet(f"color: {style.SECONDARY_TEXT};")
        self.closed_hint.hide()
        self.placeholder = QLabel(_("Links ein Gespräch auswählen."))
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet(f"color: {style.SECONDARY_TEXT}; font-size: 12pt;")
        self._layout()
        self.show_conversation(None)

    def _button(self, name: str, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(slot)
        return button

    def _layout(self) -> None:
        head = QHBoxLayout()
        head.setSpacing(8)
        head.addWidget(self.title)
        head.addWidget(self.chip)
        head.addWidget(self.lead)
        head.addWidget(self.language)
        head.addStretch(1)
        actions = QHBoxLayout()
        actions.setSpacing(6)
        for button in (self.take_button, self.bot_button, self.close_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.link_button)
        actions.addWidget(self.calendar_button)
        self.body = QFrame()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(6)
        body.addLayout(head)
        body.addWidget(self.details)
        body.addWidget(self.links)
        body.addWidget(self.booking)
        body.addLayout(actions)
        body.addWidget(self.messages, 1)
        body.addWidget(self.closed_hint)
        body.addWidget(self.reply)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.placeholder, 1)
        layout.addWidget(self.body, 1)

    # --- showing -----------------------------------------------------------------------------------

    def show_conversation(self, detail: ConversationDetail | None) -> None:
        """Show a conversation with its messages and booking requests (None: nothing selected)."""
        summary = detail.summary if detail is not None else None
        changed = summary is None or self.summary is None or summary.id != self.summary.id
        self.summary = summary
        self.detail = detail
        self.placeholder.setVisible(detail is None)
        self.body.setVisible(detail is not None)
        if detail is None or summary is None:
            self.messages.show_messages([])
            return
        self.title.setText(style.display_title(summary))
        self.chip.setText(style.status_name(summary.status))
        self.chip.setStyleSheet(style.status_chip_css(summary.status))
        self.lead.setVisible(summary.is_lead)
        language = style.LANGUAGE_NAMES.get(summary.language)
        self.language.setText(_(language) if language else summary.language)
        lines = contact_lines(summary)
        self.details.setText("<br>".join(lines))
        self.details.setVisible(bool(lines))
        self.links.setText(link_line(summary))
        self.booking.setText(booking_line(detail.bookings))
        self.booking.setVisible(bool(detail.bookings))
        status = summary.status
        self.take_button.setEnabled(status != "staff")
        self.take_button.setText(_("Wieder öffnen") if status == "closed" else _("Übernehmen"))
        self.bot_button.setEnabled(status in ("staff", "waiting_staff") and not summary.bot_stopped_by_limit)
        self.close_button.setEnabled(status != "closed")
        self.calendar_button.setVisible(self.appointment_target() is not None)
        closed = status == "closed"
        self.reply.setVisible(not closed)
        self.closed_hint.setVisible(closed)
        self.messages.show_messages(
            [Bubble(m.author, m.text, m.created_at, m.seq) for m in detail.messages],
            placeholder=_("Noch keine Nachrichten."),
        )
        if changed:
            self.reply.clear()
            self.reply.set_canned(detail.canned)

    def appointment_target(self) -> tuple[dt.date, int | None] | None:
        """The day (and appointment) "Termin im Kalender öffnen" jumps to: a booking request, else the link."""
        detail = self.detail
        if detail is None:
            return None
        for booking in detail.bookings:
            return booking.start.date(), booking.appointment_id
        if detail.summary.appointment_id is not None and detail.linked_day is not None:
            return detail.linked_day, detail.summary.appointment_id
        return None

    def _open_calendar(self) -> None:
        target = self.appointment_target()
        if target is not None:
            self.open_appointment_requested.emit(target[0], target[1])
