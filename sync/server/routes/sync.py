"""POST /v1/sync/push, GET /v1/sync/pull, GET /v1/sync/snapshot, GET /v1/sync/events (device tokens only).

The organisation and location always come from the device's token and device row, never from the body:
a push naming another location is refused with 403, and every query filters by the caller's
organisation. Pokes are sent after the push has committed, so a woken client always finds the changes.

Reading and writing are kept apart, for SQLite's one writer: the token and the device are checked on a
short read connection, pulls and snapshots read in a deferred transaction beside the writer (WAL), and
only the push's own write transaction queues at the process's write lock (``write_lock``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from sync.protocol import (
    DEFAULT_PULL_LIMIT,
    DESKTOP_DEFAULT_STREAMS,
    MAX_PAYLOAD_BYTES,
    MAX_PULL_LIMIT,
    Poke,
    PullResponse,
    PushRequest,
    PushResponse,
    SnapshotResponse,
    Stream,
)
from sync.server import sync_service, sync_service_pull
from sync.server.context import ServerContext
from sync.server.deps import Bearer, ContextDep, Credentials, device_location, principal_in
from sync.server.errors import ERROR_RESPONSES, ErrorBody, Forbidden, ServiceUnavailable, Unauthorized, Unprocessable
from sync.server.store import StoreUnavailable
from sync.server.sync_service import Caller

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/sync", tags=["Synchronisation"], responses=ERROR_RESPONSES)

LONG_POLL_SECONDS = 25.0
HEARTBEAT_SECONDS = 15.0
SSE_MAX_SECONDS = 300.0
"""An event stream ends after five minutes; the client reconnects (and pulls), so no stream lives forever."""
DEFAULT_STREAMS = ",".join(s.value for s in DESKTOP_DEFAULT_STREAMS)
GONE_RESPONSE: dict[int | str, dict[str, Any]] = {
    410: {"model": ErrorBody, "description": "Cursor älter als die Aufbewahrungsfrist: vollständig neu synchronisieren"}
}


def get_caller(ctx: ContextDep, credentials: Credentials) -> Caller:
    """The calling device (401 without a valid token, 403 for user tokens, 401 for removed devices).

    Token, revocation and device on one bare read connection: an ORM session per check cost more than the
    lookups. The push and the pull call it in their own trip to the thread pool.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    with ctx.db.read_connection() as conn:
        principal = principal_in(ctx, conn, credentials)
        if principal.kind != "device":
            raise Forbidden("Nur angemeldete Arbeitsplätze können synchronisieren.")
        location_id = device_location(conn, principal)
    return Caller(principal.organization_id, location_id, principal.id)


CallerDep = Annotated[Caller, Depends(get_caller)]
_GATE_CREATION = threading.Lock()


def write_lock(request: Request, ctx: ServerContext) -> AbstractContextManager[Any]:
    """On SQLite, the lock that lets one writing request of this process at a time at the database.

    SQLite has one writer and every writing transaction starts with ``BEGIN IMMEDIATE``; concurrent
    writers would otherwise wait in SQLite's busy handler, which sleeps in steps of up to 100 ms and lets
    newcomers overtake: a queue on a lock is fairer and much faster under load. Readers do not take it.
    On PostgreSQL a no-op. Reusable (the push takes it once per attempt).
    """
    if not ctx.settings.uses_sqlite:
        return nullcontext()
    with _GATE_CREATION:
        gate = getattr(request.app.state, "sync_sqlite_gate", None)
        if gate is None:
            gate = request.app.state.sync_sqlite_gate = threading.Lock()
    return cast(AbstractContextManager[Any], gate)


@contextmanager
def write_gate(request: Request, ctx: ServerContext) -> Iterator[None]:
    """``write_lock`` held for a ``with`` block."""
    with write_lock(request, ctx):
        yield


def sqlite_gate(request: Request, ctx: ContextDep) -> Iterator[None]:
    """``write_gate`` as a dependency for routes whose ``SessionDep`` writes (declared before it, so the
    gate is taken before the request's transaction begins and released after its commit)."""
    with write_gate(request, ctx):
        yield


SqliteGate = Annotated[None, Depends(sqlite_gate, scope="function")]


def _poke(ctx: ServerContext, organization_id: str, seq: int) -> None:
    """Wake the organisation's listeners; best effort (clients also poll)."""
    try:
        ctx.store.notify(organization_id, seq)
    except StoreUnavailable:
        log.warning("change poke not delivered (store unavailable)")


@router.post("/push", response_model=PushResponse)
async def push(
    body: PushRequest,
    request: Request,
    ctx: ContextDep,
    credentials: Bearer,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=64)] = None,
) -> Response:
    """Apply a batch of ops (≤ 200) from this device; one result per op, duplicates answered as before."""
    # Token, device and the write in ONE trip to the thread pool; the answer is serialised once, here
    # (FastAPI would validate the 200 results again and walk them through jsonable_encoder).
    response = await run_in_threadpool(_push, request, ctx, credentials, body, idempotency_key)
    return Response(response.model_dump_json(), media_type="application/json")


def _push(
    request: Request,
    ctx: ServerContext,
    credentials: HTTPAuthorizationCredentials,
    body: PushRequest,
    idempotency_key: str | None,
) -> PushResponse:
    caller = get_caller(ctx, credentials)
    if body.device_id != caller.device_id or body.location_id != caller.location_id:
        raise Forbidden("Der Arbeitsplatz darf nur für seinen eigenen Standort synchronisieren.")
    if idempotency_key is not None and idempotency_key != str(body.batch_id):
        raise Unprocessable("Idempotency-Key und batch_id stimmen nicht überein.", field="batch_id")
    # A body smaller than the per-op limit cannot hold a too large op: skip serialising every payload.
    small = 0 < int(request.headers.get("content-length") or 0) <= MAX_PAYLOAD_BYTES
    with ctx.db.sessions() as session:  # push commits (or rolls back) itself, inside the gate
        gate = write_lock(request, ctx)
        response = sync_service.push(session, caller, body, now=ctx.clock(), check_sizes=not small, gate=gate)
    _poke(ctx, caller.organization_id, response.last_seq)
    return response


def _entitlement(ctx: ServerContext, session: Any, caller: Caller, streams: tuple[str, ...]) -> str | None:
    return sync_service_pull.issue_entitlement(ctx, session, caller) if Stream.ENTITLEMENTS in streams else None


@router.get("/pull", response_model=PullResponse, responses=GONE_RESPONSE)
async def pull(
    ctx: ContextDep,
    credentials: Bearer,
    since: Annotated[int, Query(ge=0)] = 0,
    streams: Annotated[str, Query(max_length=200)] = DEFAULT_STREAMS,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = DEFAULT_PULL_LIMIT,
) -> Response:
    """Changes of the organisation after ``since`` in ``streams``; 410 when the cursor is too old."""
    page = await run_in_threadpool(_pull, ctx, credentials, since, streams, limit)  # one trip, as the push
    return Response(page.model_dump_json(), media_type="application/json")


def _pull(
    ctx: ServerContext, credentials: HTTPAuthorizationCredentials, since: int, streams: str, limit: int
) -> PullResponse:
    caller = get_caller(ctx, credentials)
    names = sync_service_pull.parse_streams(streams)
    with ctx.db.reading() as session:  # one snapshot for the page and the entitlement
        page = sync_service_pull.pull(session, caller, since=since, streams=names, limit=limit)
        if not page.has_more:
            page.entitlement = _entitlement(ctx, session, caller, names)
    return page


@router.get("/snapshot", response_model=SnapshotResponse)
def snapshot(
    ctx: ContextDep,
    caller: CallerDep,
    streams: Annotated[str, Query(max_length=200)] = DEFAULT_STREAMS,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = DEFAULT_PULL_LIMIT,
) -> SnapshotResponse:
    """The current records of ``streams`` page by page (full resync after 410 Gone)."""
    names = sync_service_pull.parse_streams(streams)
    with ctx.db.reading() as session:
        page = sync_service_pull.snapshot(session, caller, streams=names, after=after, limit=limit)
        if after == 0:
            page.entitlement = _entitlement(ctx, session, caller, names)
    return page


def _last_seq(ctx: ServerContext, organization_id: str) -> int:
    with ctx.db.reading() as session:
        return sync_service.current_seq(session, organization_id)[0]


def _sse(event: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return (head + f"data: {json.dumps(data)}\n\n").encode()


async def _event_stream(
    ctx: ServerContext, organization_id: str, after: int, last: int, heartbeat: float
) -> AsyncIterator[bytes]:
    yield b"retry: 3000\n\n"
    sent = after
    if last > after:
        sent = last
        yield _sse("poke", {"seq": last}, last)
    deadline = time.monotonic() + SSE_MAX_SECONDS
    while time.monotonic() < deadline:
        try:
            seq = await ctx.store.wait(organization_id, sent, heartbeat)
        except StoreUnavailable:
            yield _sse("error", {"detail": "store unavailable"})
            await asyncio.sleep(min(heartbeat, 5.0))  # let the client's reconnect find the store back
            return
        if seq is None:
            yield b": heartbeat\n\n"
        else:
            sent = seq
            yield _sse("poke", {"seq": seq}, seq)


@router.get(
    "/events",
    response_model=Poke,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Poke (JSON) oder Ereignisstrom"}},
)
async def events(
    request: Request,
    ctx: ContextDep,
    caller: CallerDep,
    after: Annotated[int, Query(ge=0)] = 0,
    wait: Annotated[float, Query(ge=0, le=LONG_POLL_SECONDS)] = LONG_POLL_SECONDS,
    heartbeat: Annotated[float, Query(ge=1, le=30)] = HEARTBEAT_SECONDS,
) -> Response:
    """Change pokes: server-sent events with ``Accept: text/event-stream``, else one long-poll answer."""
    last = await run_in_threadpool(_last_seq, ctx, caller.organization_id)  # no transaction open while waiting
    org = caller.organization_id
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(
            _event_stream(ctx, org, after, last, heartbeat),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    if last != after:  # news (or a cursor from another timeline, which the next pull answers with 410)
        return JSONResponse(Poke(seq=last, changed=True).model_dump())
    try:
        seq = await ctx.store.wait(org, after, wait)
    except StoreUnavailable as exc:
        raise ServiceUnavailable() from exc
    return JSONResponse(Poke(seq=seq if seq is not None else last, changed=seq is not None).model_dump())
