"""Who answers as the bot: the desktop agent, else the server's own built-in assistant.

A visitor message in a ``bot`` conversation opens a bot task (``service._schedule``) with a due time:
``now + chat_agent_claim_seconds`` when the location's desktop agent is present (it polled
``GET /v1/chat/agent/tasks`` within ``chat_agent_presence_seconds``; it is woken at once), else ``now``.
The agent leases the task (``chat_lease_seconds``) and answers with its configured assistant. Whatever
is due and not answered, because no agent was there, nobody leased it in time, or a lease ran out, the
``Responder`` answers itself:

1. its sweeper (an asyncio task on the app's loop, every ``SWEEP_SECONDS`` and when a newly opened task
   falls due) leases due tasks to ``"server"`` with a compare-and-set in the database, so several uvicorn
   workers never answer one task twice (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL);
2. a worker thread runs ``app.chat.assistant.BuiltinAssistant`` on the location's stored public profile
   (``PUT /v1/chat/profile``) with a ``ServerBookingSink``: appointment requests become
   ``chat_booking_requests`` (sync entity ``chat_booking``; the desktop turns them into pending
   appointments), a handoff is applied right after the answer is stored;
3. the answer is stored with the same re-check as an agent's (``service.bot_message``): if staff took
   over meanwhile, it is dropped (``bot_muted``);
4. typing is switched on before the assistant runs and off in ``finally``.

Without a stored profile (or if the assistant fails) the visitor gets a system message ("we will
reply soon", asking for contact details) and the conversation waits for staff.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from sync.protocol_chat import MAX_MESSAGE_CHARS, ChatStatus, ContactDetails
from sync.server.chat import service, tasks
from sync.server.chat.models import Conversation, PublicProfileRow
from sync.server.chat.texts import Notice
from sync.server.errors import Conflict

if TYPE_CHECKING:
    from sync.server.chat.runtime import ChatRuntime

log = logging.getLogger(__name__)
SWEEP_SECONDS = 1.0
WORKERS = 4
BERLIN = ZoneInfo("Europe/Berlin")
AssistantFactory = Callable[[Any], Any]
"""Builds an assistant (``app.chat.assistant.Assistant``) from an ``app.chat.profile.PublicProfile``."""


def contact_details(contact: Any) -> ContactDetails:
    """An ``app.chat.conversation.Contact`` as wire contact details (fields cut to the wire's lengths)."""
    limits = {"concern": 1000}
    return ContactDetails.model_validate(
        {key: str(getattr(contact, key, "") or "")[: limits.get(key, 200)] for key in ContactDetails.model_fields}
    )


class ServerBookingSink:
    """``app.chat.tools.BookingSink`` of the server: booking requests into the database, handoff deferred."""

    def __init__(self, runtime: ChatRuntime, claim: service.Claim, profile: Any) -> None:
        self.runtime = runtime
        self.claim = claim
        self.profile = profile
        self.handoff_reason: str | None = None

    def request_appointment(self, conversation_id: str, request: Any) -> str:
        """Store a booking request for this conversation and return its id (the reference)."""
        if conversation_id != self.claim.conversation_id:  # the executor binds it; never trust anything else
            raise ValueError("booking for another conversation")
        found = self.profile.service(request.service_code)
        name = found.name if found is not None else ""
        contact = contact_details(request.contact)

        def work(tx: service.ChatTx) -> str:
            conversation = service.lock(tx.session, self.claim.conversation_id)
            row = service.add_booking(tx, conversation, client_id=None, service_code=request.service_code[:20],
                                      service_name=name, start=request.start, end=request.end, contact=contact,
                                      note=str(request.note or "")[:500])  # fmt: skip
            return row.id

        with self.runtime.writing() as session:
            return self.runtime.run(session, self.claim.organization_id, work)

    def handoff(self, conversation_id: str, reason: str) -> None:
        """Remember the handoff; it is applied after the bot's answer is stored (so the answer is shown)."""
        if conversation_id == self.claim.conversation_id:
            self.handoff_reason = reason or "bot"


class Responder:
    """The server's side of answering bot tasks (see the module docstring)."""

    def __init__(self, runtime: ChatRuntime) -> None:
        self.runtime = runtime
        self.assistant_factory: AssistantFactory | None = None
        """Tests and operators may replace the assistant; default ``app.chat.assistant.BuiltinAssistant``."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._profiles: dict[str, tuple[dt.datetime, Any]] = {}
        self._assistants: dict[int, tuple[Any, Any, Any]] = {}  # id(profile) -> (profile, factory, assistant)
        self._starts = 0

    async def start(self) -> None:
        """Start the sweeper on the running loop (a second lifespan of the same app only counts up)."""
        self._starts += 1
        if self._task is not None and not self._task.done():
            return
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="chat-bot")
        self._loop, self._wake, self._pool = loop, wake, pool
        self._task = loop.create_task(self._sweep_forever(loop, wake, pool))

    async def stop(self) -> None:
        """Stop the sweeper (when the last lifespan ends) and wait for answers in progress."""
        self._starts = max(0, self._starts - 1)
        task, loop, pool = self._task, self._loop, self._pool
        if self._starts or task is None or loop is None or pool is None:
            return
        self._task = self._loop = self._wake = self._pool = None
        if loop is asyncio.get_running_loop():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        elif not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)
        await asyncio.get_running_loop().run_in_executor(None, pool.shutdown)

    def submit(self, claim: service.Claim) -> None:
        """Answer a task the server has just leased to itself (thread-safe; the sweeper covers a miss)."""
        pool = self._pool
        if pool is not None:
            with contextlib.suppress(RuntimeError):  # shutting down: the lease runs out, another worker answers
                pool.submit(self.answer, claim)

    def wake(self, after: float = 0.0) -> None:
        """Look for due tasks now, or in ``after`` seconds (thread-safe; a no-op before ``start``)."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                if after > 0:
                    loop.call_soon_threadsafe(loop.call_later, after, event.set)
                else:
                    loop.call_soon_threadsafe(event.set)

    async def _sweep_forever(self, loop: asyncio.AbstractEventLoop, wake: asyncio.Event,
                             pool: ThreadPoolExecutor) -> None:  # fmt: skip
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), SWEEP_SECONDS)
            wake.clear()
            try:
                claims = await loop.run_in_executor(pool, self.claim_due)
            except Exception:
                log.exception("chat sweeper could not read due tasks")
                continue
            for claim in claims:
                pool.submit(self.answer, claim)

    def claim_due(self) -> list[service.Claim]:
        """Lease every overdue bot task to the server (one transaction)."""
        ctx = self.runtime.ctx
        with self.runtime.writing() as session:
            claims = tasks.claim_due(session, now=ctx.clock(), lease_seconds=ctx.settings.chat_lease_seconds)
            session.commit()
        return claims

    def _profile(self, session: Any, location_id: str) -> Any | None:
        """The location's parsed public profile (cached until the desktop uploads a new one)."""
        updated = session.scalar(select(PublicProfileRow.updated_at).where(PublicProfileRow.location_id == location_id))
        if updated is None:
            return None
        cached = self._profiles.get(location_id)
        if cached is not None and cached[0] == updated:
            return cached[1]
        from app.chat.profile import PublicProfile

        row = session.get(PublicProfileRow, location_id)
        if row is None:
            return None
        profile = PublicProfile.from_dict(row.profile)
        self._profiles[location_id] = (row.updated_at, profile)
        return profile

    def answer(self, claim: service.Claim) -> None:
        """Answer one claimed task with the built-in assistant (runs in a worker thread)."""
        events = self.runtime.events
        try:
            with self.runtime.reading() as session:
                row = session.get(Conversation, claim.conversation_id)
                if row is None or row.status != ChatStatus.BOT or row.answered_seq >= claim.reply_to_seq:
                    return
                profile = self._profile(session, row.location_id)
                language, contact = row.language, dict(row.contact or {})
                turns = service.history(session, row.id, upto=claim.reply_to_seq)
                session.rollback()  # nothing held while the assistant works
        except Exception:  # e.g. a stored profile this version cannot read
            log.exception("chat task %s could not be prepared", claim.conversation_id)
            self._give_up(claim, "failed")
            return
        if profile is None:
            self._give_up(claim, "offline")
            return
        events.typing(claim.location_id, claim.conversation_id, True)
        stored = False
        try:
            reply, sink = self._reply(claim, profile, language, contact, turns)
            stored = self._send(claim, reply, sink)
        except Exception:
            log.exception("built-in assistant failed for a chat task")
            self._give_up(claim, "failed")
        finally:
            if not stored:  # a stored answer switched typing off when it was published
                events.typing(claim.location_id, claim.conversation_id, False)

    def _reply(self, claim: service.Claim, profile: Any, language: str, contact: dict[str, Any],
               turns: list[Any]) -> tuple[Any, ServerBookingSink]:  # fmt: skip
        from app.chat.assistant import BuiltinAssistant
        from app.chat.conversation import Contact, ConversationView, Turn
        from app.chat.tools import ToolExecutor

        sink = ServerBookingSink(self.runtime, claim, profile)
        now_local = self.runtime.ctx.clock().astimezone(BERLIN).replace(tzinfo=None)
        known = Contact(**{key: str(value) for key, value in contact.items()}) if contact else None
        executor = ToolExecutor(profile, sink, conversation_id=claim.conversation_id, language=language,
                                now_local=now_local, contact=known)  # fmt: skip
        view = ConversationView(
            id=claim.conversation_id,
            language=language,
            turns=tuple(Turn(author=message.author.value, text=message.text) for message in turns),
            contact=known,
        )
        assistant = self._assistant(profile, self.assistant_factory or BuiltinAssistant)
        events = self.runtime.events

        def on_delta(text: str) -> None:
            events.delta(claim.location_id, claim.conversation_id, claim.reply_to_seq, text[:MAX_MESSAGE_CHARS])

        # The built-in assistant produces its whole answer at once: relaying it as a draft a millisecond before
        # the stored message would only wake every listener once more. Other assistants stream their drafts.
        streams = self.assistant_factory is not None
        return assistant.reply(view, executor, on_delta=on_delta if streams else None), sink

    def _assistant(self, profile: Any, factory: AssistantFactory) -> Any:
        """One assistant per profile (the built-in one indexes the catalogue once and is reusable)."""
        cached = self._assistants.get(id(profile))
        if cached is not None and cached[0] is profile and cached[1] is factory:
            return cached[2]
        assistant = factory(profile)
        live = {id(p) for _updated, p in self._profiles.values()}
        self._assistants = {key: value for key, value in self._assistants.items() if key in live}
        self._assistants[id(profile)] = (profile, factory, assistant)
        return assistant

    def _send(self, claim: service.Claim, reply: Any, sink: ServerBookingSink) -> bool:
        """Store the answer (True), or drop it because the bot may no longer speak (False)."""
        text = str(reply.text).strip()[:MAX_MESSAGE_CHARS]
        if not text:
            raise ValueError("empty answer")
        quick = [str(item)[:60] for item in tuple(reply.quick_replies)[:6]]
        handoff = sink.handoff_reason or ("bot" if reply.handoff else None)
        contact = getattr(reply, "contact", None)
        details = None if contact is None else contact_details(contact)

        def work(tx: service.ChatTx) -> None:
            conversation = service.lock(tx.session, claim.conversation_id)
            service.bot_message(tx, conversation, client_id=str(uuid.uuid4()), text=text,
                                reply_to_seq=claim.reply_to_seq, quick_replies=quick)  # fmt: skip
            if details is not None:
                service.note_contact(tx, conversation, details)
            if handoff is not None:
                service.bot_handoff(tx, conversation, reason=handoff)

        with self.runtime.writing() as session:
            try:
                self.runtime.run(session, claim.organization_id, work)
            except Conflict as exc:
                if exc.code != "bot_muted":
                    raise
                session.rollback()
                log.info("built-in answer dropped: the conversation is no longer the bot's")
                return False
        return True

    def _give_up(self, claim: service.Claim, says: Notice) -> None:
        """No answer possible: tell the visitor and let staff take over (unless that happened already)."""

        def work(tx: service.ChatTx) -> None:
            conversation = service.lock(tx.session, claim.conversation_id)
            service.bot_failed(tx, conversation, reply_to_seq=claim.reply_to_seq, says=says)

        try:
            with self.runtime.writing() as session:
                self.runtime.run(session, claim.organization_id, work)
        except Exception:
            log.exception("chat task %s: fallback message not stored", claim.conversation_id)
