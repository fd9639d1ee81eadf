"""Web-chat figures of this location: chats, leads and leads that became an appointment.

Source: the conversations the sync stream ``chat`` brought into ``sync_remote`` (entity
``chat_conversation``, the JSON of ``sync.protocol_chat.ConversationOut``; read as plain JSON because the
domain core may not import ``sync``) and the desktop's own ``chat_booking_import`` / ``chat_link``.
The same rules as the hosted API's ``sync.server.chat.leads`` so that the reports tab, the daily facts
pushed to the server and the server's own counts agree:

- a **chat** is a conversation with at least one message (``last_seq`` > 0), counted on the local date
  (Europe/Berlin) of its ``created_at``;
- a **lead** is a conversation that became one (``is_lead``: the visitor left a phone number or an e-mail
  address, or asked for an appointment), counted on the local date of ``lead_at``;
- a lead **with an appointment** is a lead whose conversation has an appointment that is not cancelled:
  a booking request turned into a (pending) appointment (``chat_booking_import``) or an appointment
  staff linked to the conversation (``chat_link.appointment_id``). A request staff declined (cancelled)
  does not count; a pending one does – it is in the calendar until staff decide.

Deleted conversations (tombstones) count nowhere. The times on the wire are UTC (``Z`` or ``+00:00``); a
naive time is read as UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.calendar_rules import WORKSHOP_TZ

CONVERSATION: Final = "chat_conversation"

# A coarse filter on the UTC date text (local and UTC dates differ by at most one day); exact in Python.
_CONVERSATIONS: Final = text(
    """
    SELECT entity_id, json_extract(data, '$.created_at'), json_extract(data, '$.lead_at'),
           json_extract(data, '$.is_lead'), json_extract(data, '$.last_seq')
    FROM sync_remote
    WHERE stream = 'chat' AND entity = 'chat_conversation' AND deleted = 0
      AND (substr(json_extract(data, '$.created_at'), 1, 10) BETWEEN :lo AND :hi
           OR substr(json_extract(data, '$.lead_at'), 1, 10) BETWEEN :lo AND :hi)
    """
)
_WITH_APPOINTMENT: Final = text(
    """
    SELECT i.conversation_id FROM chat_booking_import i JOIN appointment a ON a.id = i.appointment_id
    WHERE a.status != 'cancelled'
    UNION
    SELECT l.conversation_id FROM chat_link l JOIN appointment a ON a.id = l.appointment_id
    WHERE a.status != 'cancelled'
    """
)


@dataclass(frozen=True)
class ConversationFacts:
    """What one conversation contributes: chat day (None without messages), lead day and appointment."""

    conversation_id: str
    chat_day: dt.date | None
    lead_day: dt.date | None
    with_appointment: bool


@dataclass(frozen=True)
class ChatCounts:
    """Chats, leads and leads with an appointment of some days."""

    chats: int = 0
    leads: int = 0
    booked: int = 0


def local_day(value: Any) -> dt.date | None:
    """The Europe/Berlin date of a wire timestamp (None for a missing or unreadable one)."""
    if value in (None, ""):
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(WORKSHOP_TZ).date()


def conversation_days(data: Mapping[str, Any]) -> set[dt.date]:
    """The local days whose figures a conversation document touches (for the daily facts to recompute)."""
    days = {local_day(data.get("created_at")), local_day(data.get("lead_at"))}
    return {day for day in days if day is not None}


def conversation_facts(session: Session, start: dt.date, end: dt.date) -> list[ConversationFacts]:
    """The conversations that are a chat or a lead on some local day from ``start`` to ``end``."""
    lo, hi = (start - dt.timedelta(days=1)).isoformat(), (end + dt.timedelta(days=1)).isoformat()
    rows = session.execute(_CONVERSATIONS, {"lo": lo, "hi": hi}).all()
    if not rows:
        return []
    booked = set(session.scalars(_WITH_APPOINTMENT))
    facts = []
    for conversation_id, created_at, lead_at, is_lead, last_seq in rows:
        chat_day = local_day(created_at) if int(last_seq or 0) > 0 else None
        lead_day = local_day(lead_at) if is_lead else None
        inside = [d for d in (chat_day, lead_day) if d is not None and start <= d <= end]
        if inside:
            facts.append(ConversationFacts(str(conversation_id), chat_day, lead_day, conversation_id in booked))
    return facts


def count(facts: Iterable[ConversationFacts], start: dt.date, end: dt.date) -> ChatCounts:
    """Chats and leads on the days ``start`` to ``end`` (a lead with an appointment counts on its lead day)."""
    chats = leads = booked = 0
    for item in facts:
        if item.chat_day is not None and start <= item.chat_day <= end:
            chats += 1
        if item.lead_day is not None and start <= item.lead_day <= end:
            leads += 1
            booked += item.with_appointment
    return ChatCounts(chats, leads, booked)


def day_counts(session: Session, day: dt.date) -> ChatCounts:
    """The figures of one local day (daily facts)."""
    return count(conversation_facts(session, day, day), day, day)
