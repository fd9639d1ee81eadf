"""Table rows → wire models of ``sync.protocol_chat`` (what the widget, the agent and the inbox see)."""

from __future__ import annotations

from typing import Any, cast

from sync.protocol_chat import (
    BookingRequestOut,
    ChatMessage,
    ChatStatus,
    ContactDetails,
    ConversationOut,
    Language,
)
from sync.server.chat.models import BookingRequestRow, Conversation, Message


def contact_of(data: dict[str, Any] | None) -> ContactDetails | None:
    """Stored contact details (None when the visitor left none)."""
    return None if data is None else ContactDetails.model_validate(data)


def conversation_out(row: Conversation) -> ConversationOut:
    """The conversation as the inbox sees it (sync entity ``chat_conversation``)."""
    return ConversationOut(
        id=row.id,
        location_id=row.location_id,
        status=ChatStatus(row.status),
        language=cast(Language, row.language),
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_seq=row.last_seq,
        last_visitor_seq=row.last_visitor_seq,
        is_lead=row.is_lead,
        lead_at=row.lead_at,
        contact=contact_of(row.contact),
        handoff_reason=row.handoff_reason,
        bot_stopped_by_limit=row.bot_stopped_by_limit,
    )


def message_out(row: Message) -> ChatMessage:
    """One message (sync entity ``chat_message``)."""
    return ChatMessage.model_validate(
        {
            "id": row.id,
            "conversation_id": row.conversation_id,
            "seq": row.seq,
            "author": row.author,
            "text": row.text,
            "created_at": row.created_at,
            "quick_replies": list(row.quick_replies or []),
            "client_id": row.client_id,
        }
    )


def booking_out(row: BookingRequestRow) -> BookingRequestOut:
    """A booking request (sync entity ``chat_booking``)."""
    return BookingRequestOut(
        id=row.id,
        conversation_id=row.conversation_id,
        location_id=row.location_id,
        service_code=row.service_code,
        service_name=row.service_name,
        start=row.start,
        end=row.end,
        contact=ContactDetails.model_validate(row.contact),
        note=row.note,
        created_at=row.created_at,
        client_id=row.client_id,
    )


def as_json(model: ConversationOut | ChatMessage | BookingRequestOut) -> dict[str, Any]:
    """The JSON form stored in the change log (``Change.data``)."""
    return model.model_dump(mode="json")
