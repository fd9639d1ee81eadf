"""The chat's per-app runtime: events, agent presence, the responder, and publishing after commits.

``ChatRuntime`` lives in ``app.state.chat``. The widget router's ``lifespan`` (merged into the app's by
``include_router``) creates it and starts the responder's sweeper on the app's event loop, and stops
both before the app closes its database. ``run`` is how routes and the responder change the chat: one
``service.ChatTx`` committed, then ``publish`` (poke the desktops, touch the widget listeners, switch
typing off, wake the agent and the responder).

**SQLite.** Every server transaction starts with ``BEGIN IMMEDIATE`` (``sync.server.db``), i.e. takes
the write lock, and SQLite's busy handler is slow and unfair under load. So the chat writes inside
``writing()``: the process-wide gate that ``routes.sync.sqlite_gate`` uses too (one lock object), taken
in the thread that does the work, before its transaction begins, and held until it is committed. Reads
(widget pages, the event streams, the responder's context) use ``reading()`` = ``ServerDatabase.reading()``:
on SQLite a second, read-only pool whose transactions are deferred, so in WAL mode they neither wait for
nor block the writer; on PostgreSQL both are the normal sessions and the gate is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, asynccontextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session

from sync.server.chat.events import ChatEvents
from sync.server.chat.responder import Responder
from sync.server.chat.service import ChatTx, TaskPolicy, run_tx
from sync.server.context import ServerContext
from sync.server.store import StoreUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
WRITERS = 8
"""Worker threads for the widget's database work (on SQLite they queue at the gate anyway)."""
DUE_MARGIN_SECONDS = 0.05


class ChatRuntime:
    """The chat's live parts for one app."""

    def __init__(self, ctx: ServerContext, gate: AbstractContextManager[Any] | None = None) -> None:
        self.ctx = ctx
        self.events = ChatEvents(ctx.store)
        self.responder = Responder(self)
        self.gate: AbstractContextManager[Any] = gate or contextlib.nullcontext()
        self._read_lock = threading.Lock()
        self._writers: ThreadPoolExecutor | None = None
        self._lifespans = 0

    async def call(self, func: Callable[..., T], *args: Any) -> T:
        """Run blocking chat work (it may wait for the SQLite gate) in the chat's own worker threads.

        Not in the framework's thread pool: requests that hold the gate (the sync routes take it as a
        dependency) need threads from that pool to finish, so nothing may fill it up waiting for the gate.
        """
        with self._read_lock:
            if self._writers is None:
                self._writers = ThreadPoolExecutor(WRITERS, thread_name_prefix="chat-db")
            pool = self._writers
        return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(func, *args))

    @contextlib.contextmanager
    def writing(self) -> Iterator[Session]:
        """A session for writes, inside the SQLite gate (rolled back if not committed)."""
        with self.gate, self.ctx.db.sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads that never waits for the SQLite write lock (``ServerDatabase.reading``)."""
        with self.ctx.db.reading() as session:
            yield session

    async def start(self) -> None:
        """Start the responder (a second lifespan of the same app only counts up)."""
        self._lifespans += 1
        await self.responder.start()

    async def stop(self) -> None:
        """Stop the responder; the last lifespan also releases the worker threads."""
        self._lifespans = max(0, self._lifespans - 1)
        await self.responder.stop()
        if self._lifespans:
            return
        with self._read_lock:
            pool, self._writers = self._writers, None
        if pool is not None:
            await asyncio.get_running_loop().run_in_executor(None, pool.shutdown)

    @property
    def policy(self) -> TaskPolicy:
        """When the server answers bot tasks itself (from the settings and the agents' presence)."""
        s = self.ctx.settings
        return TaskPolicy(s.chat_agent_claim_seconds, s.chat_lease_seconds, self.agent_present)

    def agent_present(self, location_id: str) -> bool:
        """True when a desktop agent of the location polled within ``chat_agent_presence_seconds``."""
        try:
            return self.ctx.store.get(f"chat:agent:{location_id}") is not None
        except StoreUnavailable:
            return False  # the server answers itself: better than leaving the visitor alone

    def mark_agent(self, location_id: str, device_id: str) -> None:
        """The location's desktop agent is polling now."""
        try:
            self.ctx.store.set(f"chat:agent:{location_id}", device_id, self.ctx.settings.chat_agent_presence_seconds)
        except StoreUnavailable:
            log.warning("agent presence not recorded (store unavailable)")

    def run(self, session: Session, organization_id: str, work: Callable[[ChatTx], T]) -> T:
        """Run ``work`` in one committed transaction, then publish what it changed."""
        result, tx = run_tx(session, organization_id, self.ctx.clock(), self.policy, work)
        self.publish(tx)
        return result

    def publish(self, tx: ChatTx) -> None:
        """After the commit: poke the organisation, update widget listeners, wake agent and responder."""
        tx.changes.poke(self.ctx.store)
        for conversation in tx.touched.values():
            self.events.touch(conversation.location_id, conversation.id)
        for location_id, conversation_id in tx.typing_off:
            self.events.typing(location_id, conversation_id, False)
        for location_id in tx.agent_locations:
            self.events.wake_agent(location_id)
        for claim in tx.claims:
            self.responder.submit(claim)
        if tx.bot_due:
            # The task is the present agent's for claim_seconds. A sweep now finds nothing due and only takes the
            # SQLite write gate just when the woken agent wants it for its lease (bench ``chat_proxy``): sweep when
            # the task falls due instead (a little after, the due time is on ``ctx.clock``, not the loop's clock).
            self.responder.wake(after=tx.policy.claim_seconds + DUE_MARGIN_SECONDS)


def runtime_of(app: Any) -> ChatRuntime:
    """The app's runtime (created on first use if the lifespan has not run, e.g. a bare ASGI call)."""
    runtime: ChatRuntime | None = getattr(app.state, "chat", None)
    if runtime is None:
        ctx: ServerContext = app.state.ctx
        gate = None
        if ctx.settings.uses_sqlite:
            # One writer at a time through a fair lock instead of SQLite's busy handler (see routes.sync
            # sqlite_gate): the same lock object, so chat and sync requests queue together.
            gate = getattr(app.state, "sync_sqlite_gate", None)
            if gate is None:
                gate = app.state.sync_sqlite_gate = threading.Lock()
        runtime = app.state.chat = ChatRuntime(ctx, gate)
    return runtime


def get_runtime(request: Request) -> ChatRuntime:
    """Dependency: the chat runtime of the app."""
    return runtime_of(request.app)


RuntimeDep = Annotated[ChatRuntime, Depends(get_runtime)]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the responder with the app and stop it before the app closes its database."""
    runtime = runtime_of(app)
    await runtime.start()
    try:
        yield
    finally:
        await runtime.stop()
