"""The web chat widget: its files, the visitor API and the live event stream (docs/chat.md).

**Files** (``resources/widget/``, not in the OpenAPI document):

- ``GET /widget.js``: the loader for the workshop's website
  (``<script src="https://API/widget.js" data-location-key="wk_…" async></script>``);
  ``Cache-Control: public, max-age=300``, ETag, gzip when accepted.
- ``GET /widget/frame?key=<wk_…>&lang=<de|en|tr|pl>&origin=<embedding origin>``: the chat page in the
  iframe. ``{{CONFIG_JSON}}`` in ``frame.html`` is replaced by ``{"apiBase", "locationKey", "branding",
  "languages"}`` (JSON with ``<``, ``>``, ``&`` escaped; put the placeholder inside
  ``<script type="application/json" id="carbot-config">``). The page links ``frame.js`` and
  ``frame.css`` relatively, i.e. ``GET /widget/frame.js`` and ``GET /widget/frame.css`` (separate files,
  nothing inline: the CSP allows scripts and styles from the API's origin only). Headers:
  ``Content-Security-Policy`` (``default-src 'none'; script-src 'self'; style-src 'self';
  img-src 'self' https: data:; connect-src 'self'; frame-ancestors <allowed domains or *>; base-uri
  'none'; form-action 'none'``), ``Cache-Control: no-cache``. 404 for an unknown key, 403 for a site
  that is not allowed or a plan without the chat widget (small German HTML pages).

**Domain allow-list.** The frame request's ``Referer`` (the loader sets ``referrerPolicy = 'origin'``) or,
without one, its ``origin`` parameter must name an allowed domain (``widget_config.host_allowed``); the
frame's ``frame-ancestors`` makes the browser enforce the same list. The API calls below come from the
frame, which sends no referrer (``no-referrer``), so there the check refuses only an ``Origin`` or
``Referer`` that names a foreign site (neither this API nor an allowed domain).

**Visitor API** (``Authorization: Bearer <visitor token>``; the SSE endpoint takes ``?token=`` because
``EventSource`` cannot set headers): ``POST /v1/widget/session`` → ``WidgetSession`` (no token; consent
required); ``POST /v1/widget/messages`` (``VisitorMessageIn``) → ``ChatMessage`` (201; a resent
``client_id`` returns the stored message); ``GET /v1/widget/messages?after=<seq>`` → ``MessagePage``
(≤ 500 messages); ``GET /v1/widget/events?token=…[&after=<seq>]`` → ``text/event-stream`` with
``message``/``delta``/``typing``/``status`` events (``WidgetEvent`` JSON; ``after`` first replays the
messages after that seq), a ``: heartbeat`` comment every 15 s, and an end after 5 minutes (the widget
reconnects and refetches); ``POST /v1/widget/lead`` (``LeadIn``) and ``POST /v1/widget/handoff`` →
``MessagePage`` of the messages they added. Rate limits per visitor and per IP answer 429 with
``Retry-After``.

**No CORS** for these endpoints: the iframe is served by the API itself, so its requests are
same-origin. A foreign page cannot read the answers (no ``Access-Control-Allow-Origin``).
"""

from __future__ import annotations

import html
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.plans import Feature
from sync.protocol_chat import (
    LANGUAGES,
    ChatMessage,
    ChatStatus,
    LeadIn,
    MessagePage,
    VisitorMessageIn,
    WidgetSession,
    WidgetSessionIn,
)
from sync.server.chat import ratelimit, service
from sync.server.chat.events import widget_stream
from sync.server.chat.models import Conversation, WidgetKey
from sync.server.chat.runtime import ChatRuntime, lifespan, runtime_of
from sync.server.chat.static import AssetCache, make_asset, respond
from sync.server.chat.tokens import VisitorClaims, visitor_claims
from sync.server.chat.visitors import start_session, visitor_conversation, widget_key
from sync.server.chat.widget_config import branding_for, host_allowed, host_of, key_by_public
from sync.server.context import ServerContext
from sync.server.errors import ERROR_RESPONSES, ApiError, Forbidden, Unauthorized
from sync.server.plans_gate import ensure_feature

router = APIRouter(tags=["Chat-Widget"], responses=ERROR_RESPONSES, lifespan=lifespan)
ASSETS = AssetCache()
HEARTBEAT_SECONDS = 15.0
SSE_MAX_SECONDS = 300.0
FOREIGN_SITE = "Das Chat-Widget ist für diese Website nicht freigegeben."
_visitor_bearer = HTTPBearer(auto_error=False, scheme_name="VisitorToken", description="Besuchertoken (widget+jwt)")


# --- files ---------------------------------------------------------------------------------------------------


def _page(status_code: int, text: str) -> HTMLResponse:
    body = f'<!doctype html><meta charset="utf-8"><title>Chat</title><p>{html.escape(text)}</p>'
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


def _file(request: Request, name: str) -> Response:
    asset = ASSETS.get(name)
    if asset is None:
        return _page(404, "Nicht gefunden.")
    return respond(request, asset, cache_control="public, max-age=300")


@router.get("/widget.js", include_in_schema=False)
async def widget_js(request: Request) -> Response:
    """The loader script for the workshop's website."""
    return _file(request, "widget.js")


@router.get("/widget/frame.js", include_in_schema=False)
async def frame_js(request: Request) -> Response:
    """The chat page's script."""
    return _file(request, "frame.js")


@router.get("/widget/frame.css", include_in_schema=False)
async def frame_css(request: Request) -> Response:
    """The chat page's styles."""
    return _file(request, "frame.css")


def _config_json(config: dict[str, Any]) -> str:
    text = json.dumps(config, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                          ("\u2029", "\\u2029")):  # fmt: skip
        text = text.replace(char, escaped)
    return text


def _frame_ancestors(allowed: list[str]) -> str:
    # A CSP host source without a port matches only the scheme's default port, and one without a scheme
    # only the page's own scheme: list both schemes with any port, so a workshop site on http, https or
    # a non-default port (and its subdomains) may embed the frame.
    if not allowed:
        return "*"
    return " ".join(
        f"{scheme}://{host}:*" for domain in allowed for host in (domain, f"*.{domain}") for scheme in ("https", "http")
    )


def api_base(request: Request) -> str:
    """The API's base URL as the browser sees it."""
    return str(request.base_url).rstrip("/")


@router.get("/widget/frame", include_in_schema=False)
async def frame(
    request: Request, key: Annotated[str, Query(min_length=8, max_length=80)],
    origin: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:  # fmt: skip
    """The chat page of one location's widget (checked against its allowed domains)."""
    return await run_in_threadpool(_frame, request, key, origin)


def _frame(request: Request, key: str, origin: str | None) -> Response:
    runtime = runtime_of(request.app)
    with runtime.reading() as session:
        return _frame_page(request, runtime.ctx, session, key, origin)


def _frame_page(request: Request, ctx: ServerContext, session: Session, key: str, origin: str | None) -> Response:
    row = key_by_public(session, key)
    template = ASSETS.text("frame.html")
    if row is None or template is None:
        return _page(404, "Das Chat-Widget ist nicht eingerichtet.")
    host = host_of(request.headers.get("referer")) or host_of(origin)
    if row.allowed_domains and (host is None or not host_allowed(host, row.allowed_domains)):
        return _page(403, FOREIGN_SITE)
    try:
        ensure_feature(session, row.organization_id, Feature.CHAT_WIDGET, now=ctx.clock())
    except ApiError as exc:
        return _page(exc.status_code, exc.message)
    config = {
        "apiBase": api_base(request),
        "locationKey": row.public_key,
        "branding": branding_for(session, row, now=ctx.clock()).model_dump(mode="json"),
        "languages": list(LANGUAGES),
    }
    body = template.replace("{{CONFIG_JSON}}", _config_json(config)).encode()
    csp = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
           f"connect-src 'self'; frame-ancestors {_frame_ancestors(row.allowed_domains)}; base-uri 'none'; "
           "form-action 'none'")  # fmt: skip
    return respond(request, make_asset(body, "text/html; charset=utf-8"), cache_control="no-cache",
                   headers={"Content-Security-Policy": csp, "Referrer-Policy": "no-referrer"})  # fmt: skip


# --- visitor API ---------------------------------------------------------------------------------------------
# The endpoints are async and do all their blocking work in ONE thread-pool call: every hop between the event
# loop and a worker thread costs a thread-safe loop call, and under load those hand-offs dominate.


def check_origin(request: Request, key: WidgetKey) -> None:
    """403 when ``Origin`` (or ``Referer``) names a site that is neither this API nor an allowed domain."""
    host = host_of(request.headers.get("origin")) or host_of(request.headers.get("referer"))
    if host is None or host == (request.url.hostname or "").lower():
        return
    if key.allowed_domains and not host_allowed(host, key.allowed_domains):
        raise Forbidden(FOREIGN_SITE, code="domain_not_allowed")


def _limit(ctx: ServerContext, kind: str, identifier: str, limit: int) -> None:
    ratelimit.hit(ctx.store, kind, identifier, limit=limit, window=ctx.settings.chat_rate_window_seconds)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def visitor(request: Request, token: str | None) -> VisitorClaims:
    """The request's visitor token (401 without or invalid), counted per visitor and per IP."""
    if not token:
        raise Unauthorized()
    ctx: ServerContext = request.app.state.ctx
    claims = visitor_claims(ctx, token)
    _limit(ctx, "ip", _client_ip(request), ctx.settings.chat_rate_ip_requests)
    _limit(ctx, "visitor", claims.visitor_id, ctx.settings.chat_rate_visitor_requests)
    return claims


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_visitor_bearer)]


async def visitor_token(credentials: Credentials) -> str:
    """The bearer token of the request; 401 before anything else (the body included) when there is none."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized()
    return credentials.credentials


TokenDep = Annotated[str, Depends(visitor_token)]


def _conversation(request: Request, session: Session, claims: VisitorClaims) -> Conversation:
    row, key = visitor_conversation(session, claims)
    check_origin(request, key)
    return row


def _page_after(session: Session, row: Conversation, after: int) -> MessagePage:
    return MessagePage(conversation_id=row.id, status=ChatStatus(row.status), last_seq=row.last_seq,
                       messages=service.messages_after(session, row.id, after))  # fmt: skip


def _start(request: Request, body: WidgetSessionIn) -> WidgetSession:
    runtime = runtime_of(request.app)
    ctx, ip = runtime.ctx, _client_ip(request)
    _limit(ctx, "ip", ip, ctx.settings.chat_rate_ip_requests)
    _limit(ctx, "session", ip, ctx.settings.chat_rate_ip_sessions)
    with runtime.writing() as session:
        key = widget_key(session, body.location_key)
        check_origin(request, key)
        return start_session(ctx, session, key, body)


@router.post("/v1/widget/session", response_model=WidgetSession)
async def create_session(body: WidgetSessionIn, request: Request, response: Response) -> WidgetSession:
    """Start the visitor's conversation after consent (or resume it with ``resume_token``)."""
    response.headers["Cache-Control"] = "no-store"
    return await runtime_of(request.app).call(_start, request, body)


def _send(request: Request, token: str | None, body: VisitorMessageIn) -> ChatMessage:
    claims = visitor(request, token)
    runtime = runtime_of(request.app)
    ctx = runtime.ctx
    _limit(ctx, "message", claims.visitor_id, ctx.settings.chat_rate_visitor_messages)

    def work(tx: service.ChatTx) -> ChatMessage:
        row = service.lock(tx.session, claims.conversation_id, claims.organization_id)
        return service.visitor_message(tx, row, client_id=str(body.client_id), text=body.text)

    with runtime.writing() as session:
        _conversation(request, session, claims)
        ensure_feature(session, claims.organization_id, Feature.CHAT_WIDGET, now=ctx.clock())
        return runtime.run(session, claims.organization_id, work)


@router.post("/v1/widget/messages", response_model=ChatMessage, status_code=status.HTTP_201_CREATED)
async def send_message(body: VisitorMessageIn, request: Request, token: TokenDep) -> ChatMessage:
    """Send the visitor's message; the answer arrives as events (or with the next ``GET …/messages``)."""
    return await runtime_of(request.app).call(_send, request, token, body)


def _list(request: Request, token: str | None, after: int) -> MessagePage:
    claims = visitor(request, token)
    with runtime_of(request.app).reading() as session:
        return _page_after(session, _conversation(request, session, claims), after)


@router.get("/v1/widget/messages", response_model=MessagePage)
async def list_messages(
    request: Request, token: TokenDep, after: Annotated[int, Query(ge=0, le=2**31)] = 0
) -> MessagePage:
    """The messages after ``after`` (refetch after every reconnect) and the conversation's status."""
    return await run_in_threadpool(_list, request, token, after)


def _visitor_action(request: Request, token: str | None, action: Any) -> MessagePage:
    claims = visitor(request, token)
    runtime = runtime_of(request.app)

    def work(tx: service.ChatTx) -> MessagePage:
        row = service.lock(tx.session, claims.conversation_id, claims.organization_id)
        before = row.last_seq
        action(tx, row)
        tx.session.flush()
        return _page_after(tx.session, row, before)

    with runtime.writing() as session:
        _conversation(request, session, claims)
        ensure_feature(session, claims.organization_id, Feature.CHAT_WIDGET, now=runtime.ctx.clock())
        return runtime.run(session, claims.organization_id, work)


@router.post("/v1/widget/lead", response_model=MessagePage)
async def leave_contact(body: LeadIn, request: Request, token: TokenDep) -> MessagePage:
    """The lead form (phone or e-mail required); works even when the bot stopped at the lead limit."""

    def action(tx: service.ChatTx, row: Conversation) -> None:
        service.leave_contact(tx, row, body.contact)

    return await runtime_of(request.app).call(_visitor_action, request, token, action)


@router.post("/v1/widget/handoff", response_model=MessagePage)
async def handoff(request: Request, token: TokenDep) -> MessagePage:
    """ "Talk to a person": the bot stops and the conversation waits for staff."""
    return await runtime_of(request.app).call(_visitor_action, request, token, service.visitor_handoff)


def _open_stream(request: Request, token: str | None) -> tuple[VisitorClaims, int]:
    claims = visitor(request, token)
    with runtime_of(request.app).reading() as session:
        return claims, _conversation(request, session, claims).last_seq


def _fetch(runtime: ChatRuntime, conversation_id: str, after: int) -> tuple[ChatStatus, list[ChatMessage]]:
    with runtime.reading() as session:
        row = session.get(Conversation, conversation_id)
        return ChatStatus(row.status if row else ChatStatus.CLOSED), service.messages_after(
            session, conversation_id, after
        )


@router.get(
    "/v1/widget/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                     "description": "Ereignisstrom (message, delta, typing, status)"}},
)  # fmt: skip
async def events(
    request: Request,
    token: Annotated[str | None, Query(max_length=4096, description="Besuchertoken")] = None,
    after: Annotated[int | None, Query(ge=0, le=2**31)] = None,
    heartbeat: Annotated[float, Query(ge=1, le=30)] = HEARTBEAT_SECONDS,
) -> StreamingResponse:  # fmt: skip
    """Live events of the visitor's conversation (server-sent events; reconnect and refetch after the end)."""
    claims, last = await run_in_threadpool(_open_stream, request, token)
    runtime = runtime_of(request.app)

    async def fetch(after_seq: int) -> tuple[ChatStatus, list[ChatMessage]]:
        return await run_in_threadpool(_fetch, runtime, claims.conversation_id, after_seq)

    stream = widget_stream(runtime.events, claims.location_id, claims.conversation_id, fetch=fetch, after_seq=after,
                           current_seq=last, heartbeat=heartbeat, max_seconds=SSE_MAX_SECONDS)  # fmt: skip
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})  # fmt: skip
