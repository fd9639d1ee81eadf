"""Conversation operations and the status machine of the web chat (docs/chat.md).

Every operation runs inside a ``ChatTx``: the request's session, the organisation, ``now`` and what to
do after the commit (sync change log, widget events, agent and responder wake-ups). The conversation
row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one writer anyway), so the
sequence numbers of a conversation are allocated one after the other (``last_seq + 1``, backed by the
unique ``(conversation_id, seq)``), and the bot's re-check happens in the transaction that stores its
message: a bot message is refused with ``409 bot_muted`` unless the status is still ``bot`` and the
visitor message it answers is not answered yet (Chatwoot #13673).

Status machine (``ChatStatus``)::

    bot ──handoff (visitor button, bot tool, lead limit, bot failure)──▶ waiting_staff
    bot / waiting_staff ──staff message or "take over"──▶ staff ──"hand back"──▶ bot
    any ──close──▶ closed ──visitor writes again──▶ bot (or waiting_staff at the lead limit)

A message sent with a ``client_id`` that the conversation already has returns the stored message
(idempotent resend). Each state change that the visitor should understand adds a system message in
the visitor's language (``texts``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from sync.protocol_chat import AGENT_HISTORY, Author, ChatMessage, ChatStatus, ContactDetails
from sync.server.chat import leads
from sync.server.chat.changes import BOOKING, CONVERSATION, MESSAGE, ChangeBatch
from sync.server.chat.models import BookingRequestRow, Conversation, Message
from sync.server.chat.texts import Notice, notice
from sync.server.chat.wire import as_json, booking_out, conversation_out, message_out
from sync.server.errors import Conflict, NotFound, ServiceUnavailable, Unprocessable
from sync.server.models import new_id

BOT_MUTED = "Die Unterhaltung wird nicht mehr vom Assistenten beantwortet."
CONTACT_REQUIRED = "Bitte geben Sie eine Telefonnummer oder eine E-Mail-Adresse an."
NOT_FOUND = "Unterhaltung nicht gefunden."
BERLIN = ZoneInfo("Europe/Berlin")
RETRIES = 3
SERVER_HOLDER = "server"
T = TypeVar("T")


@dataclass(frozen=True)
class Claim:
    """A bot task leased to the server: it answers with its built-in assistant."""

    conversation_id: str
    organization_id: str
    location_id: str
    reply_to_seq: int


@dataclass(frozen=True)
class TaskPolicy:
    """When the server answers a bot task itself (settings ``chat_agent_claim_seconds``/``chat_lease_seconds``)."""

    claim_seconds: float = 3.0
    lease_seconds: int = 20
    agent_present: Callable[[str], bool] = field(default=lambda _location_id: False)


@dataclass
class ChatTx:
    """One unit of work on the chat tables and what to publish once it is committed."""

    session: Session
    organization_id: str
    now: dt.datetime
    policy: TaskPolicy = field(default_factory=TaskPolicy)
    changes: ChangeBatch = field(init=False)
    touched: dict[str, Conversation] = field(default_factory=dict)
    typing_off: set[tuple[str, str]] = field(default_factory=set)
    agent_locations: set[str] = field(default_factory=set)
    bot_due: bool = False
    claims: list[Claim] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.changes = ChangeBatch(self.organization_id)

    def touch(self, conversation: Conversation) -> None:
        """The conversation changed: publish it to the change log and its widget listeners."""
        conversation.updated_at = self.now
        self.touched[conversation.id] = conversation

    def commit(self) -> None:
        """Write the change log (sequence numbers last) and commit."""
        for conversation in self.touched.values():
            if conversation.last_seq > 0 or conversation.is_lead:  # empty sessions stay off the desktops
                data = as_json(conversation_out(conversation))
                self.changes.add(CONVERSATION, conversation.id, conversation.location_id, data)
        self.session.flush()
        self.changes.write(self.session, now=self.now)
        self.session.commit()


def run_tx(session: Session, organization_id: str, now: dt.datetime, policy: TaskPolicy,
           work: Callable[[ChatTx], T]) -> tuple[T, ChatTx]:  # fmt: skip
    """Run ``work`` and commit; a unique-key race (two copies of one request) is retried from the start."""
    for _attempt in range(RETRIES):
        tx = ChatTx(session, organization_id, now, policy)
        try:
            result = work(tx)
            tx.commit()
            return result, tx
        except IntegrityError:
            session.rollback()
        except DBAPIError as exc:  # PostgreSQL deadlock/serialisation failure: try again
            session.rollback()
            if getattr(exc.orig, "sqlstate", None) not in ("40P01", "40001"):
                raise
    raise ServiceUnavailable()


def lock(session: Session, conversation_id: str, organization_id: str | None = None) -> Conversation:
    """The conversation, locked for this transaction; 404 when unknown (or of another organisation)."""
    query = select(Conversation).where(Conversation.id == conversation_id)
    if organization_id is not None:
        query = query.where(Conversation.organization_id == organization_id)
    row = session.execute(query.with_for_update().execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def _by_client_id(session: Session, conversation_id: str, client_id: str) -> Message | None:
    return session.scalars(
        select(Message).where(Message.conversation_id == conversation_id, Message.client_id == client_id)
    ).first()


def _append(tx: ChatTx, conversation: Conversation, author: Author, text: str, *, client_id: str | None = None,
            reply_to_seq: int | None = None, quick_replies: Sequence[str] = ()) -> Message:  # fmt: skip
    conversation.last_seq += 1
    row = Message(id=new_id(), conversation_id=conversation.id, seq=conversation.last_seq, author=author.value,
                  text=text, quick_replies=list(quick_replies), client_id=client_id, reply_to_seq=reply_to_seq,
                  created_at=tx.now)  # fmt: skip
    tx.session.add(row)
    if author is Author.VISITOR:
        conversation.last_visitor_seq = conversation.last_seq
    tx.changes.add(MESSAGE, row.id, conversation.location_id, as_json(message_out(row)))
    tx.touch(conversation)
    return row


def _schedule(tx: ChatTx, conversation: Conversation) -> None:
    """Open the bot task for the newest visitor message (an active lease keeps its holder)."""
    conversation.bot_task_seq = conversation.last_visitor_seq
    if conversation.lease_until is not None and conversation.lease_until > tx.now:
        return  # the holder answers the earlier message; the rest is offered again afterwards
    if tx.policy.agent_present(conversation.location_id):
        conversation.lease_holder = conversation.lease_until = None
        conversation.bot_due_at = tx.now + dt.timedelta(seconds=tx.policy.claim_seconds)
        tx.agent_locations.add(conversation.location_id)
        tx.bot_due = True
        return
    # Nobody else can answer: the server leases the task to itself at once (as its sweeper would).
    until = tx.now + dt.timedelta(seconds=tx.policy.lease_seconds)
    conversation.lease_holder, conversation.lease_until, conversation.bot_due_at = SERVER_HOLDER, until, until
    tx.claims.append(Claim(conversation.id, conversation.organization_id, conversation.location_id,
                           conversation.bot_task_seq))  # fmt: skip


def _set_status(tx: ChatTx, conversation: Conversation, status: ChatStatus, *, reason: str = "",
                says: Notice | None = None) -> bool:  # fmt: skip
    """Move to ``status`` (False when already there); the bot task closes outside ``bot``."""
    if conversation.status == status.value:
        return False
    conversation.status = status.value
    if status is ChatStatus.BOT:
        conversation.bot_stopped_by_limit = False
        conversation.handoff_reason = ""
        if conversation.last_visitor_seq > conversation.answered_seq:
            _schedule(tx, conversation)
    else:
        conversation.bot_due_at = conversation.lease_holder = conversation.lease_until = None
        tx.typing_off.add((conversation.location_id, conversation.id))
    if status is ChatStatus.WAITING_STAFF:
        conversation.handoff_reason = reason[:200]
    if says is not None:
        _append(tx, conversation, Author.SYSTEM, notice(says, conversation.language))
    tx.touch(conversation)
    return True


def visitor_message(tx: ChatTx, conversation: Conversation, *, client_id: str, text: str) -> ChatMessage:
    """Store a visitor's message and decide who answers it (bot task, lead limit, staff)."""
    existing = _by_client_id(tx.session, conversation.id, client_id)
    if existing is not None:
        return message_out(existing)
    if conversation.status == ChatStatus.CLOSED:
        _set_status(tx, conversation, ChatStatus.BOT)
    row = _append(tx, conversation, Author.VISITOR, text, client_id=client_id)
    # The limit counts the leads before this message: the message that makes the 100th lead is answered.
    over_limit = conversation.status == ChatStatus.BOT and leads.lead_limit_reached(
        tx.session, conversation.organization_id, now=tx.now
    )
    contact = leads.extract_contact(text)
    if contact is not None:
        _merge_contact(conversation, contact)
        leads.mark_lead(tx.session, conversation, now=tx.now)
    if conversation.status == ChatStatus.BOT:
        if over_limit:
            _set_status(tx, conversation, ChatStatus.WAITING_STAFF, reason="lead_limit", says="limit")
            conversation.bot_stopped_by_limit = True
        else:
            _schedule(tx, conversation)
    return message_out(row)


def bot_message(tx: ChatTx, conversation: Conversation, *, client_id: str, text: str, reply_to_seq: int,
                quick_replies: Sequence[str] = ()) -> ChatMessage:  # fmt: skip
    """Store the bot's answer to ``reply_to_seq``, re-checking in this transaction that the bot may speak."""
    existing = _by_client_id(tx.session, conversation.id, client_id)
    if existing is not None:
        return message_out(existing)
    if (
        conversation.status != ChatStatus.BOT
        or reply_to_seq <= conversation.answered_seq
        or reply_to_seq > conversation.last_visitor_seq
    ):
        raise Conflict(BOT_MUTED, code="bot_muted")
    row = _append(tx, conversation, Author.BOT, text, client_id=client_id, reply_to_seq=reply_to_seq,
                  quick_replies=quick_replies)  # fmt: skip
    conversation.answered_seq = reply_to_seq
    conversation.bot_due_at = conversation.lease_holder = conversation.lease_until = None
    tx.typing_off.add((conversation.location_id, conversation.id))
    if conversation.bot_task_seq > conversation.answered_seq:
        _schedule(tx, conversation)  # the visitor wrote again meanwhile
    return message_out(row)


def staff_message(tx: ChatTx, conversation: Conversation, *, client_id: str, text: str) -> ChatMessage:
    """Store a person's message; writing takes the conversation over (the bot stops)."""
    existing = _by_client_id(tx.session, conversation.id, client_id)
    if existing is not None:
        return message_out(existing)
    _set_status(tx, conversation, ChatStatus.STAFF)
    row = _append(tx, conversation, Author.STAFF, text, client_id=client_id)
    conversation.answered_seq = conversation.last_visitor_seq
    return message_out(row)


_STATUS_NOTICES: dict[ChatStatus, Notice] = {
    ChatStatus.WAITING_STAFF: "handoff",
    ChatStatus.STAFF: "staff_joined",
    ChatStatus.CLOSED: "closed",
}


def set_status(tx: ChatTx, conversation: Conversation, status: ChatStatus, *, reason: str = "") -> None:
    """Staff or the agent change who answers (take over, hand back, hand off, close)."""
    _set_status(tx, conversation, status, reason=reason or "staff", says=_STATUS_NOTICES.get(status))


def visitor_handoff(tx: ChatTx, conversation: Conversation) -> None:
    """The visitor pressed "talk to a person"."""
    if conversation.status in (ChatStatus.BOT, ChatStatus.CLOSED):
        _set_status(tx, conversation, ChatStatus.WAITING_STAFF, reason="visitor", says="handoff")


def bot_handoff(tx: ChatTx, conversation: Conversation, *, reason: str) -> None:
    """The assistant handed the conversation to staff (its ``handoff_to_staff`` tool)."""
    if conversation.status == ChatStatus.BOT:  # no system message: the bot's own answer already says so
        _set_status(tx, conversation, ChatStatus.WAITING_STAFF, reason=reason or "bot")


def bot_failed(tx: ChatTx, conversation: Conversation, *, reply_to_seq: int, says: Notice = "failed") -> bool:
    """Nobody could answer as the bot: a system message, and staff take it (False if no longer the bot's)."""
    if conversation.status != ChatStatus.BOT or reply_to_seq <= conversation.answered_seq:
        return False
    conversation.answered_seq = reply_to_seq
    _set_status(tx, conversation, ChatStatus.WAITING_STAFF, reason="offline" if says == "offline" else "bot_failed",
                says=says)  # fmt: skip
    return True


def _merge_contact(conversation: Conversation, contact: ContactDetails) -> None:
    merged = dict(conversation.contact or {})
    merged.update({name: value.strip() for name, value in contact.model_dump().items() if value.strip()})
    conversation.contact = ContactDetails.model_validate(merged).model_dump()


def note_contact(tx: ChatTx, conversation: Conversation, contact: ContactDetails) -> None:
    """Contact details the bot collected: kept with the conversation, a lead if phone or e-mail is there."""
    if not any(value.strip() for value in contact.model_dump().values()):
        return
    _merge_contact(conversation, contact)
    if leads.has_contact(contact):
        leads.mark_lead(tx.session, conversation, now=tx.now)
    tx.touch(conversation)


def leave_contact(tx: ChatTx, conversation: Conversation, contact: ContactDetails) -> None:
    """The lead form: contact details make the conversation a lead (works over the lead limit, too)."""
    if not leads.has_contact(contact):
        raise Unprocessable(CONTACT_REQUIRED, field="contact.phone")
    _merge_contact(conversation, contact)
    leads.mark_lead(tx.session, conversation, now=tx.now)
    _append(tx, conversation, Author.SYSTEM, notice("lead", conversation.language))


def _local(value: dt.datetime) -> dt.datetime:
    """Naive Europe/Berlin wall-clock time (aware values are converted, naive ones taken as local)."""
    return value.astimezone(BERLIN).replace(tzinfo=None) if value.tzinfo is not None else value


def add_booking(tx: ChatTx, conversation: Conversation, *, client_id: str | None, service_code: str,
                service_name: str, start: dt.datetime, end: dt.datetime, contact: ContactDetails,
                note: str) -> BookingRequestRow:  # fmt: skip
    """Record an appointment request (a lead); staff confirm it in the desktop's calendar."""
    if client_id is not None:
        existing = tx.session.scalars(
            select(BookingRequestRow).where(
                BookingRequestRow.conversation_id == conversation.id, BookingRequestRow.client_id == client_id
            )
        ).first()
        if existing is not None:
            return existing
    if _local(end) <= _local(start):
        raise Unprocessable("Das Ende des Termins muss nach dem Beginn liegen.", field="end")
    row = BookingRequestRow(id=new_id(), organization_id=conversation.organization_id,
                            location_id=conversation.location_id, conversation_id=conversation.id,
                            client_id=client_id, service_code=service_code, service_name=service_name[:200],
                            start=_local(start), end=_local(end), contact=contact.model_dump(), note=note[:500],
                            created_at=tx.now)  # fmt: skip
    tx.session.add(row)
    if any(value.strip() for value in contact.model_dump().values()):
        _merge_contact(conversation, contact)
    leads.mark_lead(tx.session, conversation, now=tx.now)
    tx.changes.add(BOOKING, row.id, conversation.location_id, as_json(booking_out(row)))
    tx.touch(conversation)
    return row


def messages_after(session: Session, conversation_id: str, after: int, *, limit: int = 500) -> list[ChatMessage]:
    """Messages with ``seq > after``, oldest first (at most ``limit``)."""
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > after)
        .order_by(Message.seq)
        .limit(limit)
    )
    return [message_out(row) for row in rows]


def history(session: Session, conversation_id: str, *, upto: int, count: int = AGENT_HISTORY) -> list[ChatMessage]:
    """The last ``count`` messages up to ``upto``, oldest first (the bot's context)."""
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq <= upto)
        .order_by(Message.seq.desc())
        .limit(count)
    ).all()
    return [message_out(row) for row in reversed(rows)]
