"""Helpers of the Chat tab tests: a chat server stand-in at the network edge and its sync into the desktop.

``FakeChatServer`` plays the hosted API's chat routes for the desktop (the ``ChatClient`` methods the
inbox calls: ``set_status``, ``post_message``, ``usage``, ``widget_config``, ``update_widget``) and keeps
the conversations as the server does. ``sync_into(db)`` stores its state the way a sync round's pull
does (``sync.local.apply_changes`` with the real wire models of ``sync.protocol_chat``), so the inbox
reads exactly what the sync client would write.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from app.db import Database
from sync import local
from sync.protocol import Change
from sync.protocol_chat import (
    Author,
    BookingRequestOut,
    Branding,
    ChatMessage,
    ChatStatus,
    ChatUsage,
    ContactDetails,
    ConversationOut,
    WidgetConfig,
    WidgetConfigIn,
)

LOCATION = "loc-1"


def now() -> dt.datetime:
    """The server's clock (aware UTC)."""
    return dt.datetime.now(dt.UTC)


class FakeChatServer:
    """The chat part of the hosted API, in memory; records every call the desktop makes."""

    def __init__(self) -> None:
        self.conversations: dict[str, ConversationOut] = {}
        self.messages: dict[str, list[ChatMessage]] = {}
        self.bookings: list[BookingRequestOut] = []
        self.calls: list[tuple[Any, ...]] = []
        self.leads, self.leads_limit = 3, 100
        self.offline = False
        self.widget = WidgetConfig(
            location_id=LOCATION,
            public_key="wk_3nM8c2QpX7vLr0TgYh5sKd1a",
            allowed_domains=[],
            branding=Branding(name="Kfz-Werkstatt Huber"),
            snippet='<script src="https://sync.carbot.de/widget.js" data-key="wk_3nM8c2QpX7vLr0TgYh5sKd1a" async>'
            "</script>",
        )
        self._seq = 0

    # --- building the server's state (what visitors did) ----------------------------------------

    def conversation(
        self, cid: str, *, status: str = "bot", minutes_ago: int = 5, contact: ContactDetails | None = None, **kw: Any
    ) -> ConversationOut:
        """A conversation started ``minutes_ago``."""
        start = now() - dt.timedelta(minutes=minutes_ago)
        conv = ConversationOut(
            id=cid, location_id=LOCATION, status=ChatStatus(status), language=kw.pop("language", "de"),
            created_at=start, updated_at=start, last_seq=0, last_visitor_seq=0, contact=contact,
            is_lead=contact is not None and bool(contact.phone or contact.email), **kw,
        )  # fmt: skip
        self.conversations[cid] = conv
        self.messages[cid] = []
        return conv

    def say(self, cid: str, author: str, text: str, *, at: dt.datetime | None = None) -> ChatMessage:
        """A stored message (the visitor's, the bot's, a system notice …)."""
        conv = self.conversations[cid]
        seq = conv.last_seq + 1
        moment = at or max(now(), conv.updated_at + dt.timedelta(microseconds=1))
        message = ChatMessage(
            id=f"{cid}-m{seq}", conversation_id=cid, seq=seq, author=Author(author), text=text, created_at=moment
        )
        self.messages[cid].append(message)
        visitor_seq = seq if author == "visitor" else conv.last_visitor_seq
        self.conversations[cid] = conv.model_copy(
            update={"last_seq": seq, "last_visitor_seq": visitor_seq, "updated_at": moment}
        )
        return message

    def booking(self, cid: str, start: dt.datetime, minutes: int = 60, service: str = "Ölwechsel") -> BookingRequestOut:
        """A booking request the server's assistant took."""
        conv = self.conversations[cid]
        booking = BookingRequestOut(
            id=str(uuid.uuid4()), conversation_id=cid, location_id=LOCATION, service_code="OE-1",
            service_name=service, start=start, end=start + dt.timedelta(minutes=minutes),
            contact=conv.contact or ContactDetails(name="Eva Berg", phone="0171 2345678"), created_at=now(),
        )  # fmt: skip
        self.bookings.append(booking)
        return booking

    def changes(self) -> list[Change]:
        """Every document as one pull page would bring it."""
        docs: list[tuple[str, Any]] = [("chat_conversation", c) for c in self.conversations.values()]
        docs += [("chat_message", m) for messages in self.messages.values() for m in messages]
        docs += [("chat_booking", b) for b in self.bookings]
        result = []
        for entity, model in docs:
            self._seq += 1
            data = model.model_dump(mode="json")
            result.append(Change(seq=self._seq, stream="chat", entity=entity, entity_id=data["id"], op="upsert",
                                 data=data, location_id=LOCATION))  # fmt: skip
        return result

    def sync_into(self, db: Database) -> int:
        """Store the server's state in the desktop database as a pull does; returns the number of changes."""
        changes = self.changes()
        cursor = max(local.state(db).cursor, self._seq)
        local.apply_changes(db, changes, cursor=cursor)
        return len(changes)

    # --- the ChatClient methods the desktop calls -----------------------------------------------

    def _check(self) -> None:
        if self.offline:
            from sync.errors import SyncUnavailable

            raise SyncUnavailable("Keine Verbindung zum Server.")

    def set_status(self, conversation_id: str, status: ChatStatus | str, reason: str = "") -> ConversationOut:
        """``POST /v1/chat/conversations/{id}/status``."""
        self._check()
        self.calls.append(("status", conversation_id, ChatStatus(status).value))
        conv = self.conversations[conversation_id]
        updated = max(now(), conv.updated_at + dt.timedelta(milliseconds=1))
        self.conversations[conversation_id] = conv.model_copy(
            update={"status": ChatStatus(status), "updated_at": updated, "handoff_reason": reason}
        )
        return self.conversations[conversation_id]

    def post_message(
        self,
        conversation_id: str,
        text: str,
        *,
        author: str = "bot",
        reply_to_seq: int | None = None,
        quick_replies: Sequence[str] = (),
        client_id: uuid.UUID | None = None,
    ) -> ChatMessage:
        """``POST /v1/chat/conversations/{id}/messages``."""
        self._check()
        self.calls.append(("message", conversation_id, author, text))
        return self.say(conversation_id, author, text)

    def usage(self) -> ChatUsage:
        """``GET /v1/chat/usage``."""
        self._check()
        self.calls.append(("usage",))
        reached = self.leads_limit is not None and self.leads >= self.leads_limit
        return ChatUsage(month=now().strftime("%Y-%m"), leads=self.leads, leads_limit=self.leads_limit,
                         lead_limit_reached=reached, conversations=len(self.conversations))  # fmt: skip

    def widget_config(self) -> WidgetConfig:
        """``GET /v1/chat/widget``."""
        self._check()
        self.calls.append(("widget",))
        return self.widget

    def update_widget(self, change: WidgetConfigIn) -> WidgetConfig:
        """``PUT /v1/chat/widget``."""
        self._check()
        self.calls.append(("update_widget", change.allowed_domains))
        if change.allowed_domains is not None:
            self.widget = self.widget.model_copy(update={"allowed_domains": list(change.allowed_domains)})
        if change.branding is not None:
            self.widget = self.widget.model_copy(update={"branding": change.branding})
        return self.widget
