"""Wire schemas of the web chat (issue 6), shared by the widget routes, the desktop agent and the inbox.

Three parties talk about one conversation (docs/chat.md):

- the **widget** (visitor's browser, iframe served by the hosted API) with a visitor token
  (``typ: widget+jwt``, 24 h, scope = one conversation): ``POST /v1/widget/session`` →
  ``WidgetSession``; ``POST /v1/widget/messages`` (``VisitorMessageIn``); ``GET /v1/widget/messages?after=``
  → ``MessagePage``; ``GET /v1/widget/events?token=`` (SSE: ``message``, ``delta``, ``typing``,
  ``status`` events, each ``WidgetEvent``); ``POST /v1/widget/lead`` (``LeadIn``);
  ``POST /v1/widget/handoff``. After any reconnect the widget refetches ``after=<last seq it has>``.
- the **desktop agent** (device token) that answers as the bot through the configured assistant:
  ``GET /v1/chat/agent/tasks?wait=`` → ``AgentTasks`` (long poll; being there marks the location's agent
  present, a task is leased to the caller so the server does not answer it too);
  ``POST /v1/chat/conversations/{id}/draft`` (``DraftIn``, streamed partial text, relayed to the widget,
  not stored); ``POST /v1/chat/conversations/{id}/messages`` (``AgentMessageIn``) → ``ChatMessage`` or
  ``409 bot_muted`` when the conversation is no longer the bot's at the moment of sending;
  ``PUT /v1/chat/profile`` (``PublicProfileIn``: the workshop's public data the server's own
  assistant answers from while the desktop is offline).
- the **inbox** (desktop, staff): conversations, messages and booking requests arrive through the sync
  stream ``chat`` (entities ``chat_conversation`` → ``ConversationOut``, ``chat_message`` →
  ``ChatMessage``, ``chat_booking`` → ``BookingRequestOut``, as ``Change.data``); staff act with
  ``POST /v1/chat/conversations/{id}/messages`` (author ``staff``) and
  ``POST /v1/chat/conversations/{id}/status`` (``StatusIn``); ``GET /v1/chat/usage`` → ``ChatUsage``;
  ``GET``/``PUT /v1/chat/widget`` → ``WidgetConfig`` (public key, allowed domains, branding).

Conversation states (``ChatStatus``): ``bot`` → ``waiting_staff`` (visitor pressed "talk to a person",
the bot called ``handoff_to_staff``, the lead limit was reached, or the bot failed) → ``staff`` (a person
took over; the bot is muted) → ``closed``. Staff may hand a conversation back to ``bot``. The bot may
only write while the state is ``bot``, and the server re-checks that in the same transaction that
stores the bot's message (Chatwoot #13673: never let the bot talk over a person).
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CHAT_PROTOCOL_VERSION = 1
MAX_MESSAGE_CHARS = 2000
"""Longest message a visitor or staff member may send (abuse limit; the widget counts down)."""
MAX_DOMAINS = 20

Language = Literal["de", "en", "tr", "pl"]
"""Widget and assistant languages: German, English, Turkish, Polish."""
LANGUAGES: tuple[Language, ...] = ("de", "en", "tr", "pl")


class ChatStatus(StrEnum):
    """Who answers a conversation (see the module docstring)."""

    BOT = "bot"
    WAITING_STAFF = "waiting_staff"
    STAFF = "staff"
    CLOSED = "closed"


class Author(StrEnum):
    """Who wrote a message."""

    VISITOR = "visitor"
    BOT = "bot"
    STAFF = "staff"
    SYSTEM = "system"  # server notices: handoff, lead limit, "we will reply soon"


class Wire(BaseModel):
    """Request models: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


MessageText = Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]
ShortField = Annotated[str, Field(max_length=200)]


class Branding(BaseModel):
    """What the widget shows of the workshop (from the workshop's settings, white label on Enterprise)."""

    name: str
    color: str = "#1f6feb"  # CSS hex colour of the header and the send button
    logo_url: str | None = None
    privacy_url: str | None = None
    phone: str = ""
    show_powered_by: bool = True  # False only with the white-label feature


class ChatMessage(BaseModel):
    """One message of a conversation; ``seq`` counts 1, 2, 3 … per conversation."""

    id: str
    conversation_id: str
    seq: int
    author: Author
    text: str
    created_at: dt.datetime
    quick_replies: list[str] = Field(default_factory=list)
    """Suggested answers the widget shows as buttons under a bot message."""
    client_id: str | None = None


class ContactDetails(BaseModel):
    """What a visitor left in the lead form (or gave the bot); phone or e-mail makes it a lead."""

    name: ShortField = ""
    phone: ShortField = ""
    email: ShortField = ""
    vehicle: ShortField = ""
    concern: Annotated[str, Field(max_length=1000)] = ""
    preferred_time: ShortField = ""


class ConversationOut(BaseModel):
    """A conversation as the desktop inbox sees it (sync entity ``chat_conversation``)."""

    id: str
    location_id: str
    status: ChatStatus
    language: Language
    created_at: dt.datetime
    updated_at: dt.datetime
    last_seq: int
    last_visitor_seq: int
    is_lead: bool = False
    lead_at: dt.datetime | None = None
    contact: ContactDetails | None = None
    handoff_reason: str = ""
    bot_stopped_by_limit: bool = False


class BookingRequestOut(BaseModel):
    """An appointment a visitor asked for (sync entity ``chat_booking``); staff confirm it in the calendar.

    ``start``/``end`` are the workshop's local wall-clock times (Europe/Berlin, naive ISO strings).
    """

    id: str
    conversation_id: str
    location_id: str
    service_code: str
    service_name: str = ""
    start: dt.datetime
    end: dt.datetime
    contact: ContactDetails
    note: str = ""
    created_at: dt.datetime
    client_id: str | None = None
    """``BookingIn.client_id`` when the desktop's agent made the request (it booked the pending appointment
    already under that id, so it must not import the request a second time); None for the server's own."""


# --- widget ---------------------------------------------------------------------------------------


class WidgetSessionIn(Wire):
    """Start (or resume) a visitor's conversation; sent only after the visitor gave consent."""

    location_key: Annotated[str, Field(min_length=8, max_length=80)]
    consent: Literal[True]
    language: Language = "de"
    resume_token: str | None = None
    """The visitor token of an earlier session in this browser (resumes that conversation if still valid)."""


class WidgetSession(BaseModel):
    """The visitor token and what the widget needs to draw itself."""

    token: str
    expires_at: dt.datetime
    conversation_id: str
    status: ChatStatus
    language: Language
    branding: Branding
    messages: list[ChatMessage]


class VisitorMessageIn(Wire):
    """A visitor's message; ``client_id`` makes a resend after a network error harmless."""

    client_id: uuid.UUID
    text: MessageText


class MessagePage(BaseModel):
    """Messages after a sequence number (oldest first) and the conversation's state."""

    conversation_id: str
    status: ChatStatus
    messages: list[ChatMessage]
    last_seq: int


class LeadIn(Wire):
    """The lead form. At least a phone number or an e-mail address is required (German error otherwise)."""

    contact: ContactDetails


class WidgetEvent(BaseModel):
    """One server-sent event to the widget (and the ``event:`` name of the SSE frame).

    - ``message``: ``message`` is a new stored message;
    - ``delta``: ``text`` is the bot's answer so far (streamed, not yet stored) for ``reply_to_seq``;
    - ``typing``: ``typing`` on/off (switched off by the server after 30 s at the latest);
    - ``status``: the conversation's new ``status``.
    """

    type: Literal["message", "delta", "typing", "status"]
    message: ChatMessage | None = None
    text: str | None = None
    reply_to_seq: int | None = None
    typing: bool | None = None
    status: ChatStatus | None = None


# --- desktop agent and inbox --------------------------------------------------------------------------


class AgentTask(BaseModel):
    """A conversation waiting for the bot's answer to the visitor's message ``reply_to_seq``."""

    conversation: ConversationOut
    messages: list[ChatMessage]
    """The conversation so far (the last ``AGENT_HISTORY`` messages), oldest first."""
    reply_to_seq: int
    lease_until: dt.datetime


AGENT_HISTORY = 30


class AgentTasks(BaseModel):
    """What the desktop agent should answer now (empty after ``wait`` seconds without work)."""

    tasks: list[AgentTask]
    lead_limit_reached: bool = False


class AgentMessageIn(Wire):
    """A bot or staff message from the desktop. ``client_id`` de-duplicates retries.

    A bot message names the visitor message it answers (``reply_to_seq``); the server refuses it with
    ``409 bot_muted`` when the conversation left the ``bot`` state or that message was answered already.
    """

    client_id: uuid.UUID
    author: Literal["bot", "staff"]
    text: MessageText
    reply_to_seq: int | None = None
    quick_replies: Annotated[list[Annotated[str, Field(max_length=60)]], Field(max_length=6)] = Field(
        default_factory=list
    )


class DraftIn(Wire):
    """The bot's answer so far (cumulative text), relayed to the widget as a ``delta`` event."""

    reply_to_seq: int
    text: Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)]


class StatusIn(Wire):
    """Staff (or the agent) change who answers: take over, hand back to the bot, close, hand off."""

    status: ChatStatus
    reason: Annotated[str, Field(max_length=200)] = ""


class BookingIn(Wire):
    """A booking request made by the desktop's assistant (it also books the pending appointment locally)."""

    client_id: uuid.UUID
    service_code: Annotated[str, Field(min_length=1, max_length=20)]
    start: dt.datetime
    end: dt.datetime
    contact: ContactDetails
    note: Annotated[str, Field(max_length=500)] = ""


class ChatUsage(BaseModel):
    """Leads this calendar month against the plan's limit (None = unlimited)."""

    month: str  # "2026-11"
    leads: int
    leads_limit: int | None
    lead_limit_reached: bool
    conversations: int


class WidgetConfig(BaseModel):
    """The location's widget settings: public key for the script tag, allowed domains, branding."""

    location_id: str
    public_key: str
    allowed_domains: list[str]
    branding: Branding
    snippet: str = ""
    """The ``<script>`` tag to paste into the workshop's website."""


class WidgetConfigIn(Wire):
    """Changes to the widget settings (owner or the location's desktop)."""

    allowed_domains: Annotated[list[Annotated[str, Field(max_length=253)]], Field(max_length=MAX_DOMAINS)] | None = None
    branding: Branding | None = None


class PublicProfileIn(Wire):
    """The workshop's public data for the server's own assistant (``app.chat.profile.PublicProfile.to_dict``)."""

    profile: dict[str, Any]


def sse_frame(event: WidgetEvent | str, data: str) -> bytes:
    """One server-sent-events frame (``event:`` line, one ``data:`` line, blank line)."""
    name = event.type if isinstance(event, WidgetEvent) else event
    return f"event: {name}\ndata: {data}\n\n".encode()
