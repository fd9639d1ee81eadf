"""The desktop's answering loop for the web chat (``carbot chat agent``, the GUI's chat worker).

``ChatAgent.run_forever(stop)`` repeats ``run_once``: push the workshop's public profile when the
catalogue, settings, bays or appointments changed (a cheap fingerprint) or at least every
``PROFILE_REFRESH_SECONDS``; long-poll ``GET /v1/chat/agent/tasks`` (being there tells the server the
desktop answers); answer every leased task:

1. a ``ConversationView`` of the task's messages up to ``reply_to_seq`` and a ``ToolExecutor`` on the
   current profile with a ``DesktopBookingSink`` (``request_appointment`` books the pending appointment
   locally in one transaction AND posts ``BookingIn`` so the server counts the lead; ``handoff`` is
   remembered and sent as status ``waiting_staff`` right after the bot's last message);
2. the configured assistant (``assistant_factory``: the cloud LLM when configured and within budget, else
   the built-in one) produces the answer; its partial text goes to the visitor as drafts (the first at
   once, then at most every ``draft_interval`` seconds);
3. a failing LLM (any error) → the built-in assistant answers that message; cloud usage is recorded
   (``app.chat.llm.budget.record_usage``) under the message's ``client_id``;
4. the bot message goes out with ``reply_to_seq`` and a ``client_id`` derived from the task, so a retry
   after a lost answer is harmless; ``409 bot_muted`` (staff took over meanwhile) drops it silently.

Failures never end the loop: offline → exponential back-off with jitter (1 s … 60 s); an answer that
cannot be delivered is left to the server (its lease runs out and it answers with its own assistant).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Integer, cast, func, select

from app.chat import (
    Assistant,
    BookingRequest,
    BuiltinAssistant,
    Contact,
    ConversationView,
    PublicProfile,
    ToolExecutor,
    Turn,
    build_profile,
)
from app.db import Database
from app.models import Appointment, Bay, ChatBookingImport, Service
from app.services.chat_bookings import ChatBookingData, ChatContact, book_request, record_import
from app.services.registry import Services
from app.services.settings import SettingsService
from sync.chat_answer import answer_with_fallback, local_now, record_cost, stable_id
from sync.chat_client import ChatClient
from sync.errors import BotMuted, PlanRequired, SyncAuthError, SyncConflict, SyncError, SyncUnavailable
from sync.protocol_chat import MAX_MESSAGE_CHARS, AgentTask, BookingIn, ChatStatus, ContactDetails

log = logging.getLogger(__name__)

PROFILE_REFRESH_SECONDS = 300.0
"""The profile is pushed at least this often (free slots move with the clock) and whenever the data changed."""
MAX_BACKOFF_SECONDS = 60.0
POST_ATTEMPTS = 3
AssistantFactory = Callable[[PublicProfile], Assistant]
"""Gives the assistant to answer with (asked per task, so a changed LLM setting applies at once)."""


@dataclass
class AgentReport:
    """What ``run_once`` did."""

    tasks: int = 0
    answered: int = 0
    muted: int = 0
    failed: int = 0
    fallbacks: int = 0
    bookings: int = 0
    handoffs: int = 0
    profile_pushed: bool = False
    lead_limit_reached: bool = False
    errors: list[str] = field(default_factory=list)


class DesktopBookingSink:
    """The tool executor's side effects on the desktop (one per task)."""

    def __init__(self, db: Database, client: ChatClient, *, reply_to_seq: int, profile: PublicProfile) -> None:
        self.db = db
        self.client = client
        self.reply_to_seq = reply_to_seq
        self.profile = profile
        self.handoff_reason: str | None = None
        self.booked: list[int] = []
        self.errors: list[str] = []

    def request_appointment(self, conversation_id: str, request: BookingRequest) -> str:
        """Book the pending appointment locally (idempotent per task and slot), then tell the server."""
        client_id = stable_id(conversation_id, self.reply_to_seq, request.service_code, request.start.isoformat())
        c = request.contact
        service = self.profile.service(request.service_code)
        data = ChatBookingData(
            booking_id=str(client_id),
            conversation_id=conversation_id,
            service_code=request.service_code,
            start=request.start,
            end=request.end,
            contact=ChatContact(c.name, c.phone, c.email, c.vehicle, c.concern, c.preferred_time),
            service_name=service.name if service else "",
            note=request.note,
        )
        appointment_id = book_request(self.db, data)
        if appointment_id is not None:
            self.booked.append(appointment_id)
        try:
            out = self.client.post_booking(
                conversation_id,
                BookingIn(
                    client_id=client_id,
                    service_code=request.service_code[:20],
                    start=request.start,
                    end=request.end,
                    contact=ContactDetails(
                        name=c.name[:200],
                        phone=c.phone[:200],
                        email=c.email[:200],
                        vehicle=c.vehicle[:200],
                        concern=c.concern[:1000],
                        preferred_time=c.preferred_time[:200],
                    ),  # fmt: skip
                    note=request.note[:500],
                ),
            )
        except SyncError as exc:  # booked locally all the same; the lead is counted once the server has it
            log.warning("booking request of %s not sent: %s", conversation_id, exc.message)
            self.errors.append(exc.message)
        else:
            if out.id != str(client_id):  # the server's id for the same request: never import it again
                record_import(self.db, out.id, conversation_id, appointment_id or self._appointment_of(client_id))
        return str(appointment_id) if appointment_id is not None else str(client_id)[:8]

    def _appointment_of(self, client_id: uuid.UUID) -> int | None:
        with self.db.unit() as s:
            row = s.get(ChatBookingImport, str(client_id))
            return row.appointment_id if row is not None else None

    def handoff(self, conversation_id: str, reason: str) -> None:  # noqa: ARG002 - the agent sends it later
        """Remembered: the status changes to ``waiting_staff`` right after the bot's last message is sent."""
        self.handoff_reason = reason or "handoff"


class DraftRelay:
    """Relays the answer so far to the visitor: the first piece at once, then throttled."""

    def __init__(self, client: ChatClient, conversation_id: str, reply_to_seq: int, interval: float) -> None:
        self.client = client
        self.conversation_id = conversation_id
        self.reply_to_seq = reply_to_seq
        self.interval = interval
        self.last_sent = 0.0
        self.sent = 0
        self.muted = False

    def __call__(self, text: str) -> None:
        now = time.monotonic()
        if self.muted or not text.strip() or (self.sent and now - self.last_sent < self.interval):
            return
        self.last_sent = now
        try:
            self.client.draft(self.conversation_id, self.reply_to_seq, text[:MAX_MESSAGE_CHARS])
            self.sent += 1
        except (BotMuted, SyncConflict):
            self.muted = True  # staff took over: the final message will be refused, too
        except SyncError as exc:  # a lost draft does not matter; the final message carries the text
            log.debug("draft not sent: %s", exc.message)


def _fingerprint(db: Database) -> str:
    """Changes whenever anything the public profile is built from changes."""
    with db.unit() as s:
        catalogue = s.execute(
            select(func.count(), func.max(Service.updated_at), func.sum(cast(Service.active, Integer)))
        ).one()  # fmt: skip
        calendar = s.execute(select(func.count(), func.max(Appointment.updated_at))).one()
        bays = s.execute(select(Bay.id, Bay.name, Bay.active, Bay.sort).order_by(Bay.id)).all()
    settings = SettingsService(db).get()
    text = repr((tuple(catalogue), tuple(calendar), [tuple(b) for b in bays], settings))
    return hashlib.sha256(text.encode()).hexdigest()


class ChatAgent:
    """Answers the location's web chats through this desktop (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        client: ChatClient,
        assistant_factory: AssistantFactory | None = None,
        *,
        poll_wait: float = 20.0,
        draft_interval: float = 0.3,
        profile_refresh: float = PROFILE_REFRESH_SECONDS,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        on_report: Callable[[AgentReport], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.services = Services.for_database(db)
        self.assistant_factory: AssistantFactory = assistant_factory or BuiltinAssistant
        self.poll_wait = poll_wait
        self.draft_interval = draft_interval
        self.profile_refresh = profile_refresh
        self.clock = clock
        self.on_report = on_report
        self.on_error = on_error
        self._profile: PublicProfile | None = None
        self._fingerprint = ""
        self._built_at = 0.0
        self._pushed = ("", 0.0)  # fingerprint and monotonic time of the last successful upload

    # --- the public profile ----------------------------------------------------------------------

    def profile(self) -> PublicProfile:
        """The current public profile (rebuilt when the data changed or it is older than the refresh time)."""
        fingerprint = _fingerprint(self.db)
        stale = time.monotonic() - self._built_at >= self.profile_refresh
        if self._profile is None or fingerprint != self._fingerprint or stale:
            self._profile = build_profile(self.services, now=self.clock())
            self._fingerprint, self._built_at = fingerprint, time.monotonic()
        return self._profile

    def push_profile(self, *, force: bool = False) -> bool:
        """Upload the profile if it changed since the last upload, is due, or ``force``; True when uploaded."""
        profile = self.profile()
        last_fingerprint, last_time = self._pushed
        due = time.monotonic() - last_time >= self.profile_refresh or not last_time
        if not force and not due and last_fingerprint == self._fingerprint:
            return False
        self.client.put_profile(profile.to_dict())
        self._pushed = (self._fingerprint, time.monotonic())
        return True

    # --- answering -------------------------------------------------------------------------------

    def run_once(self, *, wait: float | None = None) -> AgentReport:
        """Push the profile if needed, wait for tasks (up to ``wait`` s) and answer them. Raises SyncError."""
        report = AgentReport()
        report.profile_pushed = self.push_profile()
        tasks = self.client.agent_tasks(self.poll_wait if wait is None else wait)
        report.lead_limit_reached = tasks.lead_limit_reached
        for task in tasks.tasks:
            report.tasks += 1
            try:
                self.answer(task, report)
            except SyncUnavailable:
                raise  # offline: the loop backs off; the server answers once the lease runs out
            except Exception as exc:  # one broken task must not stop the others (the server answers it)
                log.exception("chat task %s failed", task.conversation.id)
                report.failed += 1
                report.errors.append(f"{type(exc).__name__}: {exc}")
        return report

    def _view(self, task: AgentTask) -> ConversationView:
        conv = task.conversation
        turns = tuple(
            Turn(m.author.value, m.text)
            for m in sorted(task.messages, key=lambda m: m.seq)
            if m.seq <= task.reply_to_seq
        )
        contact = Contact(**conv.contact.model_dump()) if conv.contact is not None else None
        return ConversationView(id=conv.id, language=conv.language, turns=turns, contact=contact)

    def answer(self, task: AgentTask, report: AgentReport | None = None) -> str:
        """Answer one task: "answered", "muted" (staff took over) or raises."""
        report = report or AgentReport()
        conv_id = task.conversation.id
        profile = self.profile()
        sink = DesktopBookingSink(self.db, self.client, reply_to_seq=task.reply_to_seq, profile=profile)
        drafts = DraftRelay(self.client, conv_id, task.reply_to_seq, self.draft_interval)
        view = self._view(task)
        now_local = local_now(self.clock())

        def executor() -> ToolExecutor:
            return ToolExecutor(
                profile, sink, conversation_id=conv_id, language=view.language, now_local=now_local,
                contact=view.contact,
            )  # fmt: skip

        result = answer_with_fallback(self.assistant_factory(profile), profile, view, executor, drafts)
        reply, provider = result.reply, result.provider
        if result.fallback_reason:
            report.fallbacks += 1
            report.errors.append(result.fallback_reason)
        report.bookings += len(sink.booked)
        report.errors.extend(sink.errors)
        client_id = stable_id(conv_id, task.reply_to_seq, "reply")
        record_cost(self.db, conv_id, str(client_id), result)
        quick = [q[:60] for q in reply.quick_replies if q.strip()][:6]
        for attempt in range(POST_ATTEMPTS):
            try:
                self.client.post_message(
                    conv_id, reply.text[:MAX_MESSAGE_CHARS], author="bot", reply_to_seq=task.reply_to_seq,
                    quick_replies=quick, client_id=client_id,
                )  # fmt: skip
                break
            except BotMuted:
                report.muted += 1
                log.info("bot muted in %s (%s answer dropped)", conv_id, provider)
                return "muted"
            except SyncUnavailable:
                if attempt == POST_ATTEMPTS - 1:
                    raise
                time.sleep(0.5 * 2**attempt)
        report.answered += 1
        if sink.handoff_reason is not None or reply.handoff:
            report.handoffs += 1
            try:
                self.client.set_status(conv_id, ChatStatus.WAITING_STAFF, sink.handoff_reason or "handoff")
            except (SyncConflict, SyncUnavailable) as exc:  # staff already took it, or offline: nothing to force
                report.errors.append(exc.message)
        return "answered"

    # --- the loop --------------------------------------------------------------------------------

    def run_forever(self, stop: threading.Event) -> None:
        """Rounds until ``stop`` is set; every failure backs off (1 s … 60 s with jitter), nothing ends the loop."""
        backoff = 0.0
        while not stop.is_set():
            try:
                report = self.run_once()
                backoff = 0.0
                if self.on_report is not None:
                    self.on_report(report)
                continue
            except (SyncAuthError, PlanRequired) as exc:
                message = exc.message
                backoff = MAX_BACKOFF_SECONDS  # nothing changes soon: ask again only now and then
            except SyncError as exc:
                message = exc.message
                backoff = min(MAX_BACKOFF_SECONDS, max(1.0, backoff * 2))
            except Exception as exc:  # a bug must not silence the chat for good
                log.exception("chat agent round failed")
                message = f"{type(exc).__name__}: {exc}"
                backoff = min(MAX_BACKOFF_SECONDS, max(1.0, backoff * 2))
            if self.on_error is not None:
                self.on_error(message)
            stop.wait(backoff * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not security
