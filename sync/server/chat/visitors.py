"""The visitor's side: starting or resuming a widget session and finding the token's conversation.

Nothing is stored before consent: ``POST /v1/widget/session`` demands ``consent: true`` (the wire model
accepts nothing else) and only then creates the conversation, with ``consent_at``. A new conversation
stays off the desktops until it has a message or contact details (``service.ChatTx.commit``).
Resuming needs a still valid visitor token of the same location whose visitor id matches the
conversation's hash; otherwise a new conversation starts (the widget keeps no other identity).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy.orm import Session

from app.plans import Feature
from sync.protocol_chat import ChatStatus, Language, WidgetSession, WidgetSessionIn
from sync.server.chat import service
from sync.server.chat.models import Conversation, WidgetKey
from sync.server.chat.tokens import VisitorClaims, hash_visitor, issue_visitor_token, new_visitor_id, visitor_claims
from sync.server.chat.widget_config import branding_for, key_by_public
from sync.server.context import ServerContext
from sync.server.errors import NotFound, Unauthorized
from sync.server.models import new_id
from sync.server.plans_gate import ensure_feature

WIDGET_UNKNOWN = "Das Chat-Widget ist nicht eingerichtet."
SESSION_MESSAGES = 100
"""Messages a (resumed) session starts with; the widget fetches older ones only if it needs them."""


def widget_key(session: Session, location_key: str) -> WidgetKey:
    """The widget key row for a public key; 404 when unknown."""
    key = key_by_public(session, location_key)
    if key is None:
        raise NotFound(WIDGET_UNKNOWN, code="widget_unknown")
    return key


def _resumable(ctx: ServerContext, session: Session, key: WidgetKey, token: str | None) -> VisitorClaims | None:
    if not token:
        return None
    try:
        claims = visitor_claims(ctx, token)
    except Unauthorized:
        return None
    row = session.get(Conversation, claims.conversation_id)
    if row is None or row.location_id != key.location_id or row.visitor_hash != claims.visitor_hash:
        return None
    return claims


def start_session(ctx: ServerContext, session: Session, key: WidgetKey, body: WidgetSessionIn) -> WidgetSession:
    """Create (or resume) the visitor's conversation and sign a visitor token for it; commits."""
    now = ctx.clock()
    ensure_feature(session, key.organization_id, Feature.CHAT_WIDGET, now=now)
    claims = _resumable(ctx, session, key, body.resume_token)
    if claims is not None:
        conversation = session.get(Conversation, claims.conversation_id)
        visitor_id = claims.visitor_id
    else:
        visitor_id = new_visitor_id()
        conversation = None
    if conversation is None:
        conversation = Conversation(
            id=new_id(), organization_id=key.organization_id, location_id=key.location_id,
            visitor_hash=hash_visitor(visitor_id), status=ChatStatus.BOT.value, language=body.language,
            consent_at=now, created_at=now, updated_at=now, last_seq=0, last_visitor_seq=0, answered_seq=0,
            bot_task_seq=0, is_lead=False, handoff_reason="", bot_stopped_by_limit=False,
        )  # fmt: skip
        session.add(conversation)
    branding = branding_for(session, key, now=now)
    messages = service.history(session, conversation.id, upto=conversation.last_seq, count=SESSION_MESSAGES)
    session.commit()
    issued = issue_visitor_token(ctx, conversation_id=conversation.id, organization_id=key.organization_id,
                                 location_id=key.location_id, visitor_id=visitor_id)  # fmt: skip
    return WidgetSession(token=issued.token, expires_at=issued.expires_at, conversation_id=conversation.id,
                         status=ChatStatus(conversation.status), language=cast(Language, conversation.language),
                         branding=branding,
                         messages=messages)  # fmt: skip


def visitor_conversation(session: Session, claims: VisitorClaims) -> tuple[Conversation, WidgetKey]:
    """The token's conversation and its location's widget key; 401 if they do not belong together."""
    row = session.get(Conversation, claims.conversation_id)
    key = session.get(WidgetKey, claims.location_id)
    if (
        row is None
        or key is None
        or row.organization_id != claims.organization_id
        or row.location_id != claims.location_id
        or row.visitor_hash != claims.visitor_hash
    ):
        raise Unauthorized("Die Chat-Sitzung ist ungültig oder abgelaufen. Bitte laden Sie die Seite neu.",
                           code="invalid_visitor_token")  # fmt: skip
    return row, key
