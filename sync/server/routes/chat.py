"""The web chat for the workshop: the desktop agent, the inbox's actions and the widget settings.

Callers: the location's desktop (device token; acts for its own location) or owner/counter users
(owners: every location of the organisation, counter staff: their own locations); mechanics and
auditors get 403. Conversations of another organisation or location answer 404. Writing needs the
plan feature ``chat_widget`` (403 ``plan_required``); reading does not (read-only mode keeps history).

- ``GET /v1/chat/agent/tasks?wait=<0..25>`` (device) → ``AgentTasks``: long poll; marks the location's
  agent present and leases open bot tasks to it (``chat_lease_seconds``).
- ``POST /v1/chat/conversations/{id}/messages`` (``AgentMessageIn``) → ``ChatMessage`` (201): ``bot``
  (device only, ``reply_to_seq`` required; ``409 bot_muted`` when the bot may no longer speak) or
  ``staff`` (takes the conversation over).
- ``POST …/{id}/draft`` (``DraftIn``, device) → 204: the bot's partial answer, relayed to the widget;
  ``409 bot_muted`` tells the agent to stop generating.
- ``POST …/{id}/status`` (``StatusIn``) → ``ConversationOut``; ``POST …/{id}/bookings`` (``BookingIn``,
  device) → ``BookingRequestOut`` (201; idempotent by ``client_id``; makes the conversation a lead).
- ``GET /v1/chat/conversations?status=&location_id=&before=&limit=`` → ``list[ConversationOut]`` (newest
  first) and ``GET …/{id}/messages?after=`` → ``MessagePage``, for views without a synced copy.
- ``GET /v1/chat/usage`` → ``ChatUsage``; ``GET``/``PUT /v1/chat/widget?location_id=`` → ``WidgetConfig``
  (the key is created on the first GET; PUT by owners and the location's desktop);
  ``PUT /v1/chat/profile?location_id=`` (``PublicProfileIn``) → 204.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.plans import Feature
from sync.protocol_chat import (
    AgentMessageIn,
    AgentTasks,
    BookingIn,
    BookingRequestOut,
    ChatMessage,
    ChatStatus,
    ChatUsage,
    ConversationOut,
    DraftIn,
    MessagePage,
    PublicProfileIn,
    StatusIn,
    WidgetConfig,
    WidgetConfigIn,
)
from sync.server.auth.tokens import Principal
from sync.server.chat import leads, service, tasks, widget_config
from sync.server.chat.models import Conversation
from sync.server.chat.runtime import ChatRuntime, RuntimeDep
from sync.server.chat.wire import booking_out, conversation_out
from sync.server.context import ServerContext
from sync.server.deps import ContextDep, CurrentPrincipal, SessionDep, device_location
from sync.server.errors import (
    ERROR_RESPONSES,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
)
from sync.server.models import Location, Role
from sync.server.plans_gate import ensure_feature
from sync.server.routes.sync import SqliteGate
from sync.server.routes.widget import api_base
from sync.server.store import StoreUnavailable

router = APIRouter(prefix="/v1/chat", tags=["Web-Chat"], responses=ERROR_RESPONSES)
LONG_POLL_SECONDS = 25.0
ChatId = Annotated[str, Path(min_length=1, max_length=64)]
LocationParam = Annotated[str | None, Query(min_length=1, max_length=64)]


@dataclass(frozen=True)
class ChatCaller:
    """Who acts in the chat: organisation, the locations it may act for, and the device (if one)."""

    organization_id: str
    location_ids: tuple[str, ...]
    device_id: str | None
    role: str


def chat_caller(session: Session, principal: Principal) -> ChatCaller:
    """The caller's chat scope (401 for a removed device, 403 for mechanics and auditors)."""
    org = principal.organization_id
    if principal.kind == "device":
        return ChatCaller(org, (device_location(session, principal),), principal.id, "device")
    if principal.role not in (Role.OWNER, Role.COUNTER):
        raise Forbidden("Der Web-Chat steht Inhabern und der Theke zur Verfügung.")
    query = select(Location.id).where(Location.organization_id == org)
    if principal.role != Role.OWNER:
        query = query.where(Location.id.in_(principal.location_ids))
    return ChatCaller(org, tuple(session.scalars(query.order_by(Location.id))), None, principal.role)


def get_chat_caller(session: SessionDep, principal: CurrentPrincipal) -> ChatCaller:
    """Dependency form of ``chat_caller``."""
    return chat_caller(session, principal)


CallerDep = Annotated[ChatCaller, Depends(get_chat_caller)]


def _device(caller: ChatCaller) -> str:
    if caller.device_id is None:
        raise Forbidden("Nur der Arbeitsplatz des Standorts kann als Assistent antworten.")
    return caller.device_id


def _location(caller: ChatCaller, location_id: str | None) -> str:
    if location_id is None:
        if len(caller.location_ids) == 1:
            return caller.location_ids[0]
        raise Unprocessable("Bitte den Standort angeben.", field="location_id")
    if location_id not in caller.location_ids:
        raise NotFound("Standort nicht gefunden.")
    return location_id


def _conversation(session: Session, caller: ChatCaller, conversation_id: str, *, lock: bool = False) -> Conversation:
    if lock:
        row: Conversation | None = service.lock(session, conversation_id, caller.organization_id)
    else:
        row = session.get(Conversation, conversation_id)
    if row is None or row.organization_id != caller.organization_id or row.location_id not in caller.location_ids:
        raise NotFound(service.NOT_FOUND)
    return row


def _writable(ctx: ServerContext, session: Session, caller: ChatCaller) -> None:
    ensure_feature(session, caller.organization_id, Feature.CHAT_WIDGET, now=ctx.clock())


# --- desktop agent ---------------------------------------------------------------------------------


def _lease(runtime: ChatRuntime, caller: ChatCaller, device_id: str) -> AgentTasks:
    ctx = runtime.ctx
    now = ctx.clock()
    with runtime.writing() as session:
        leased = tasks.lease_tasks(session, caller.location_ids[0], device_id, now=now,
                                   lease_seconds=ctx.settings.chat_lease_seconds)  # fmt: skip
        reached = leads.lead_limit_reached(session, caller.organization_id, now=now)
        session.commit()
    return AgentTasks(tasks=leased, lead_limit_reached=reached)


def _agent_caller(ctx: ServerContext, session: Session, principal: Principal) -> tuple[ChatCaller, str]:
    caller = chat_caller(session, principal)
    device_id = _device(caller)
    _writable(ctx, session, caller)
    session.commit()  # end the transaction before waiting (on SQLite it holds the write lock)
    return caller, device_id


@router.get("/agent/tasks", response_model=AgentTasks)
async def agent_tasks(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, runtime: RuntimeDep,
    wait: Annotated[float, Query(ge=0, le=LONG_POLL_SECONDS)] = LONG_POLL_SECONDS,
) -> AgentTasks:  # fmt: skip
    """Bot tasks for this desktop (leased to it); waits up to ``wait`` seconds for one."""
    caller, device_id = await run_in_threadpool(_agent_caller, ctx, session, principal)
    location_id = caller.location_ids[0]
    deadline = time.monotonic() + wait
    while True:
        runtime.mark_agent(location_id, device_id)
        try:
            version = runtime.events.agent_version(location_id)
        except StoreUnavailable as exc:
            raise ServiceUnavailable() from exc
        result = await runtime.call(_lease, runtime, caller, device_id)
        remaining = deadline - time.monotonic()
        if result.tasks or remaining <= 0:
            return result
        try:
            await runtime.events.wait_agent(location_id, version, remaining)
        except StoreUnavailable as exc:
            raise ServiceUnavailable() from exc


@router.post("/conversations/{conversation_id}/messages", response_model=ChatMessage,
             status_code=status.HTTP_201_CREATED)  # fmt: skip
def post_message(
    _gate: SqliteGate, conversation_id: ChatId, body: AgentMessageIn, ctx: ContextDep, session: SessionDep,
    caller: CallerDep, runtime: RuntimeDep,
) -> ChatMessage:  # fmt: skip
    """A bot answer (desktop agent) or a staff message (desktop inbox or user)."""
    if body.author == "bot":
        _device(caller)
        if body.reply_to_seq is None:
            raise Unprocessable("Eine Antwort des Assistenten braucht reply_to_seq.", field="reply_to_seq")
    _conversation(session, caller, conversation_id)
    _writable(ctx, session, caller)

    def work(tx: service.ChatTx) -> ChatMessage:
        row = _conversation(tx.session, caller, conversation_id, lock=True)
        if body.author == "bot":
            assert body.reply_to_seq is not None
            return service.bot_message(tx, row, client_id=str(body.client_id), text=body.text,
                                       reply_to_seq=body.reply_to_seq, quick_replies=body.quick_replies)  # fmt: skip
        return service.staff_message(tx, row, client_id=str(body.client_id), text=body.text)

    return runtime.run(session, caller.organization_id, work)


@router.post("/conversations/{conversation_id}/draft", status_code=status.HTTP_204_NO_CONTENT)
def post_draft(
    _gate: SqliteGate, conversation_id: ChatId, body: DraftIn, ctx: ContextDep, session: SessionDep, caller: CallerDep,
    runtime: RuntimeDep,
) -> Response:  # fmt: skip
    """The bot's answer so far, relayed to the widget (not stored); 409 ``bot_muted`` means stop."""
    device_id = _device(caller)
    row = _conversation(session, caller, conversation_id)
    if row.status != ChatStatus.BOT or not row.answered_seq < body.reply_to_seq <= row.last_visitor_seq:
        raise Conflict(service.BOT_MUTED, code="bot_muted")
    now, lease = ctx.clock(), ctx.settings.chat_lease_seconds
    if (
        row.lease_holder == device_id
        and row.lease_until is not None
        and row.lease_until < now + dt.timedelta(seconds=lease / 2)
    ):  # a long answer keeps its lease (written rarely, not per draft)
        row.lease_until = row.bot_due_at = now + dt.timedelta(seconds=lease)
    session.commit()
    runtime.events.delta(row.location_id, row.id, body.reply_to_seq, body.text)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/conversations/{conversation_id}/status", response_model=ConversationOut)
def post_status(
    _gate: SqliteGate, conversation_id: ChatId, body: StatusIn, ctx: ContextDep, session: SessionDep, caller: CallerDep,
    runtime: RuntimeDep,
) -> ConversationOut:  # fmt: skip
    """Take over, hand back to the bot, hand off or close."""
    _conversation(session, caller, conversation_id)
    if body.status is ChatStatus.BOT:
        _writable(ctx, session, caller)

    def work(tx: service.ChatTx) -> ConversationOut:
        row = _conversation(tx.session, caller, conversation_id, lock=True)
        service.set_status(tx, row, body.status, reason=body.reason)
        return conversation_out(row)

    return runtime.run(session, caller.organization_id, work)


@router.post("/conversations/{conversation_id}/bookings", response_model=BookingRequestOut,
             status_code=status.HTTP_201_CREATED)  # fmt: skip
def post_booking(
    _gate: SqliteGate, conversation_id: ChatId, body: BookingIn, ctx: ContextDep, session: SessionDep,
    caller: CallerDep, runtime: RuntimeDep,
) -> BookingRequestOut:  # fmt: skip
    """A booking request made by the desktop's assistant (a lead)."""
    _device(caller)
    _conversation(session, caller, conversation_id)
    _writable(ctx, session, caller)

    def work(tx: service.ChatTx) -> BookingRequestOut:
        row = _conversation(tx.session, caller, conversation_id, lock=True)
        booking = service.add_booking(tx, row, client_id=str(body.client_id), service_code=body.service_code,
                                      service_name="", start=body.start, end=body.end, contact=body.contact,
                                      note=body.note)  # fmt: skip
        return booking_out(booking)

    return runtime.run(session, caller.organization_id, work)


# --- inbox views, usage, settings ---------------------------------------------------------------------


@router.get("/conversations", response_model=list[ConversationOut])
def list_conversations(
    _gate: SqliteGate, session: SessionDep, caller: CallerDep,
    status_filter: Annotated[ChatStatus | None, Query(alias="status")] = None, location_id: LocationParam = None,
    before: Annotated[dt.datetime | None, Query()] = None, limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ConversationOut]:  # fmt: skip
    """Conversations with messages or contact details, most recently active first."""
    locations = [_location(caller, location_id)] if location_id else list(caller.location_ids)
    query = select(Conversation).where(
        Conversation.organization_id == caller.organization_id,
        Conversation.location_id.in_(locations),
        or_(Conversation.last_seq > 0, Conversation.is_lead.is_(True)),
    )
    if status_filter is not None:
        query = query.where(Conversation.status == status_filter.value)
    if before is not None:
        query = query.where(Conversation.updated_at < (before if before.tzinfo else before.replace(tzinfo=dt.UTC)))
    rows = session.scalars(query.order_by(Conversation.updated_at.desc(), Conversation.id).limit(limit))
    return [conversation_out(row) for row in rows]


@router.get("/conversations/{conversation_id}/messages", response_model=MessagePage)
def list_messages(
    _gate: SqliteGate, conversation_id: ChatId, session: SessionDep, caller: CallerDep,
    after: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> MessagePage:  # fmt: skip
    """Messages after ``after`` (≤ 500) and the conversation's status."""
    row = _conversation(session, caller, conversation_id)
    return MessagePage(conversation_id=row.id, status=ChatStatus(row.status), last_seq=row.last_seq,
                       messages=service.messages_after(session, row.id, after))  # fmt: skip


@router.get("/usage", response_model=ChatUsage)
def usage(_gate: SqliteGate, ctx: ContextDep, session: SessionDep, caller: CallerDep) -> ChatUsage:
    """This month's leads against the plan's limit (the desktop shows the owner a banner at the limit)."""
    return leads.usage(session, caller.organization_id, now=ctx.clock())


@router.get("/widget", response_model=WidgetConfig)
def get_widget(
    _gate: SqliteGate,
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    caller: CallerDep,
    location_id: LocationParam = None,
) -> WidgetConfig:
    """The location's widget settings and script tag (the key is created on first use)."""
    location = _location(caller, location_id)
    key = widget_config.get_or_create_key(session, caller.organization_id, location, now=ctx.clock())
    return widget_config.widget_config(session, key, base_url=api_base(request), now=ctx.clock())


def _settings_writer(caller: ChatCaller) -> None:
    if caller.role not in ("device", Role.OWNER):
        raise Forbidden("Nur der Inhaber oder der Arbeitsplatz des Standorts kann das ändern.")


@router.put("/widget", response_model=WidgetConfig)
def put_widget(
    _gate: SqliteGate, body: WidgetConfigIn, request: Request, ctx: ContextDep, session: SessionDep, caller: CallerDep,
    location_id: LocationParam = None,
) -> WidgetConfig:  # fmt: skip
    """Change the allowed domains and/or the branding."""
    _settings_writer(caller)
    location = _location(caller, location_id)
    _writable(ctx, session, caller)
    key = widget_config.get_or_create_key(session, caller.organization_id, location, now=ctx.clock())
    widget_config.update_config(key, body, now=ctx.clock())
    return widget_config.widget_config(session, key, base_url=api_base(request), now=ctx.clock())


@router.put("/profile", status_code=status.HTTP_204_NO_CONTENT)
def put_profile(
    _gate: SqliteGate,
    body: PublicProfileIn,
    ctx: ContextDep,
    session: SessionDep,
    caller: CallerDep,
    location_id: LocationParam = None,
) -> Response:
    """The workshop's public data for the server's own assistant (while the desktop is offline)."""
    _settings_writer(caller)
    location = _location(caller, location_id)
    _writable(ctx, session, caller)
    profile = widget_config.validate_profile(body.profile)
    widget_config.store_profile(session, caller.organization_id, location, profile, now=ctx.clock())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
