"""Leads of the web chat and the plan limit ``leads_per_month`` (``app.plans``).

A conversation becomes a *lead* once (``is_lead``, ``lead_at``) when the visitor leaves a phone number
or an e-mail address (lead form or the bot) or asks for an appointment. Leads are counted per
organisation and calendar month in the workshop's time zone (Europe/Berlin): ``month_bounds`` gives the
month's start and end as UTC instants and ``count_leads`` counts ``lead_at`` in ``[start, end)`` (the
billing helper imports exactly that function).

When the month's leads reach the plan's limit, the bot stops: new visitor messages get a system
message instead, the conversation waits for staff (``bot_stopped_by_limit``); the lead form keeps
working (a lead over the limit is still recorded, it costs the workshop nothing but bot answers).

Daily facts: ``daily_counts`` gives a location's chats (conversations with at least one message,
by the day of their creation) and leads (by the day of ``lead_at``) for a local date; the desktop's
``DailyFacts.chats``/``leads`` can be filled from ``GET /v1/chat/usage`` or this helper on the server.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.chat.conversation import phone_digits, valid_email, valid_phone
from sync.protocol_chat import ChatUsage, ContactDetails
from sync.server import webhooks
from sync.server.chat.models import Conversation
from sync.server.plans_gate import plan_state

BERLIN = ZoneInfo("Europe/Berlin")


def month_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime, str]:
    """Start and end (UTC, end exclusive) of the Berlin calendar month of ``now``, and ``"YYYY-MM"``."""
    local = now.astimezone(BERLIN)
    start = dt.datetime(local.year, local.month, 1, tzinfo=BERLIN)
    end = dt.datetime(local.year + (local.month == 12), local.month % 12 + 1, 1, tzinfo=BERLIN)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC), f"{local.year:04d}-{local.month:02d}"


def count_leads(
    session: Session, organization_id: str, month_start_utc: dt.datetime, month_end_utc: dt.datetime
) -> int:
    """Leads of the organisation with ``lead_at`` in ``[month_start_utc, month_end_utc)``."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(
                Conversation.organization_id == organization_id,
                Conversation.is_lead.is_(True),
                Conversation.lead_at >= month_start_utc,
                Conversation.lead_at < month_end_utc,
            )
        )
        or 0
    )


def count_conversations(session: Session, organization_id: str, start: dt.datetime, end: dt.datetime) -> int:
    """Conversations of the organisation created in ``[start, end)`` (consent given)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(
                Conversation.organization_id == organization_id,
                Conversation.created_at >= start,
                Conversation.created_at < end,
            )
        )
        or 0
    )


def usage(session: Session, organization_id: str, *, now: dt.datetime) -> ChatUsage:
    """This month's leads against the plan's limit (``GET /v1/chat/usage``)."""
    start, end, month = month_bounds(now)
    leads = count_leads(session, organization_id, start, end)
    limit = plan_state(session, organization_id).limit("leads_per_month")
    return ChatUsage(
        month=month,
        leads=leads,
        leads_limit=limit,
        lead_limit_reached=limit is not None and leads >= limit,
        conversations=count_conversations(session, organization_id, start, end),
    )


def lead_limit_reached(session: Session, organization_id: str, *, now: dt.datetime) -> bool:
    """True when this month's leads reached the plan's ``leads_per_month`` (the bot stops)."""
    limit = plan_state(session, organization_id).limit("leads_per_month")
    if limit is None:
        return False
    start, end, _month = month_bounds(now)
    return count_leads(session, organization_id, start, end) >= limit


def has_contact(contact: ContactDetails | None) -> bool:
    """A phone number or an e-mail address: what makes a conversation a lead."""
    return contact is not None and bool(contact.phone.strip() or contact.email.strip())


def mark_lead(session: Session, conversation: Conversation, *, now: dt.datetime) -> bool:
    """Make the conversation a lead (once) and emit the ``lead.created`` webhook; True if it just became one."""
    if conversation.is_lead:
        return False
    conversation.is_lead = True
    conversation.lead_at = now
    webhooks.emit_event(
        session,
        conversation.organization_id,
        webhooks.EventType.LEAD_CREATED,
        subject=f"{conversation.location_id}:{conversation.id}",
        data={
            "location_id": conversation.location_id,
            "id": conversation.id,
            "object": {"conversation_id": conversation.id, "contact": conversation.contact or {}},
        },
        now=now,
    )
    return True


def daily_counts(session: Session, location_id: str, day: dt.date) -> tuple[int, int]:
    """(chats, leads) of a location on a local (Europe/Berlin) date, for the daily facts."""
    start = dt.datetime(day.year, day.month, day.day, tzinfo=BERLIN).astimezone(dt.UTC)
    end = (dt.datetime(day.year, day.month, day.day, tzinfo=BERLIN) + dt.timedelta(days=1)).astimezone(dt.UTC)
    base = select(func.count()).select_from(Conversation).where(Conversation.location_id == location_id)
    chats = session.scalar(
        base.where(Conversation.created_at >= start, Conversation.created_at < end, Conversation.last_seq > 0)
    )
    leads = session.scalar(base.where(Conversation.lead_at >= start, Conversation.lead_at < end))
    return int(chats or 0), int(leads or 0)


_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# National (0…) or international (+…/00…) numbers; "150000 km" or a date do not start like that.
_PHONE_IN_TEXT = re.compile(r"(?<![\w.+])(?:\+|0)\d[\d \t/().\-]{4,28}\d(?![\w])")
MIN_PHONE_DIGITS = 7


def extract_contact(text: str) -> ContactDetails | None:
    """A phone number and/or e-mail address a visitor typed into the chat ("via the bot"), else None."""
    email = next((m.group(0) for m in _EMAIL_IN_TEXT.finditer(text) if valid_email(m.group(0))), "")
    phone = next(
        (
            m.group(0).strip()
            for m in _PHONE_IN_TEXT.finditer(text)
            if valid_phone(m.group(0)) and len(phone_digits(m.group(0)).lstrip("+")) >= MIN_PHONE_DIGITS
        ),
        "",
    )
    if not email and not phone:
        return None
    return ContactDetails(phone=phone[:200], email=email[:200])
