"""The desktop-database side of the sync client: registration, outbox batches, results, pulled changes.

Every function is one unit of work on the desktop database (no network): the client calls them between
its HTTP requests, so a crash at any point leaves a state the next round can resume from:

- ``next_batch`` marks the ops it hands out ``sent`` (attempts + 1) BEFORE the request goes out; an op
  still ``sent`` at the next round is simply sent again and answered ``duplicate`` by the server;
- ``record_results`` marks a whole batch's answers in one transaction;
- ``apply_pull`` applies a page of pulled changes and stores the new cursor in one transaction, so a
  page is applied exactly once however often it is fetched.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.db import Database
from app.models.sync import OutboxEntry, RemoteRecord, SyncState
from app.services.chat_stats import CONVERSATION, conversation_days
from app.services.daily_facts import facts_in, take_dirty_days
from app.sync_outbox import Capture, OutboxCapture, backfill, mark_days_dirty, write_captures
from sync.errors import SyncError
from sync.protocol import Change, Entity, Op, OpResult

ACKED_KEEP = dt.timedelta(days=7)
"""Answered outbox rows are kept this long (for diagnostics), then deleted."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class LocalState:
    """The installation's sync registration and progress."""

    server_url: str
    device_id: str | None
    location_id: str | None
    cursor: int
    last_sync_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    last_error: str
    pending: int
    entitlement_token: str
    jwks: dict[str, Any] | None

    @property
    def registered(self) -> bool:
        """True once the installation is a device of a location."""
        return bool(self.device_id and self.location_id)


def _state_row(s: Session) -> SyncState:
    row = s.get(SyncState, 1)
    if row is None:
        row = SyncState(id=1, server_url="", cursor=0, last_error="", entitlement_token="", jwks_json="")
        s.add(row)
        s.flush()
    return row


def pending_count(s: Session) -> int:
    """Ops not yet answered by the server."""
    return int(s.scalar(select(func.count()).where(OutboxEntry.state.in_(("pending", "sent")))) or 0)


def state(db: Database) -> LocalState:
    """The current sync state (read-only)."""
    with db.unit() as s:
        row = _state_row(s)
        return LocalState(
            server_url=row.server_url,
            device_id=row.device_id,
            location_id=row.location_id,
            cursor=row.cursor,
            last_sync_at=row.last_sync_at,
            last_attempt_at=row.last_attempt_at,
            last_error=row.last_error,
            pending=pending_count(s),
            entitlement_token=row.entitlement_token,
            jwks=json.loads(row.jwks_json) if row.jwks_json else None,
        )


def register(db: Database, *, server_url: str, device_id: str, location_id: str) -> int:
    """Make this installation the device ``device_id``; queue every existing record (returns the op count).

    Capturing starts first, so nothing written after this call can be missed; the backfill and the new
    registration commit together.
    """
    capture: OutboxCapture = db.enable_outbox()
    capture.set_node(device_id)
    with db.unit() as s:
        row = _state_row(s)
        row.server_url, row.device_id, row.location_id = server_url, device_id, location_id
        row.cursor, row.last_error, row.entitlement_token, row.jwks_json = 0, "", "", ""
        s.execute(delete(OutboxEntry).where(OutboxEntry.state.in_(("pending", "sent"))))
        return backfill(s, capture.clock)


def queue_daily_facts(db: Database, location_id: str) -> int:
    """Recompute the facts of every dirty day and queue them as ``daily_fact`` ops; returns the day count."""
    capture = db.enable_outbox()
    with db.unit() as s:
        days = take_dirty_days(s)
        captures = [
            Capture(
                Entity.DAILY_FACT.value,
                day.isoformat(),
                "upsert",
                facts_in(s, day).as_payload(location_id),
                frozenset(),
            )
            for day in days
        ]
        if captures:
            write_captures(s.connection(), captures, capture.clock)
        return len(days)


def next_batch(db: Database, limit: int) -> list[Op]:
    """The oldest unanswered ops (at most ``limit``), marked ``sent`` before they go out."""
    return next_batch_after(db, limit, after_id=0)[0]


def next_batch_after(db: Database, limit: int, *, after_id: int) -> tuple[list[Op], int]:
    """Like ``next_batch``, but only ops queued after the outbox row ``after_id`` (the last one of a batch
    still in flight); returns the ops and the outbox id of the last one (``after_id`` when there are none)."""
    table = cast(Table, OutboxEntry.__table__)
    with db.unit() as s:
        conn = s.connection()  # Core statements: no ORM bookkeeping for 200 rows per batch
        rows = conn.execute(
            select(
                table.c.id,
                table.c.op_id,
                table.c.entity,
                table.c.entity_id,
                table.c.op,
                table.c.base_version,
                table.c.hlc,
                table.c.payload,
            )
            .where(table.c.state.in_(("pending", "sent")), table.c.id > after_id)
            .order_by(table.c.id)
            .limit(limit)
        ).all()
        if rows:
            conn.execute(
                update(table)
                .where(table.c.id.in_([row.id for row in rows]))
                .values(state="sent", attempts=table.c.attempts + 1)
            )
        ops = [
            Op(
                op_id=row.op_id,
                entity=row.entity,
                entity_id=row.entity_id,
                op=row.op,
                base_version=row.base_version,
                hlc=row.hlc,
                payload=json.loads(row.payload),
            )
            for row in rows
        ]
        return ops, (rows[-1].id if rows else after_id)


@dataclass
class BatchOutcome:
    """How many ops of a batch ended in which state."""

    acked: int = 0
    rejected: int = 0
    conflicts: int = 0


_STATE_OF = {"applied": "acked", "duplicate": "acked", "conflict": "conflict", "rejected": "rejected"}


def record_results(db: Database, results: Sequence[OpResult]) -> BatchOutcome:
    """Mark the server's answers in one transaction (one executemany UPDATE, fast on 200 rows)."""
    outcome = BatchOutcome()
    now = _now()
    table = cast(Table, OutboxEntry.__table__)
    stmt = (
        update(table)
        .where(table.c.op_id == bindparam("b_op_id"), table.c.state == "sent")
        .values(
            state=bindparam("b_state"), version=bindparam("b_version"), last_error=bindparam("b_error"), done_at=now
        )
    )
    rows = [
        {"b_op_id": str(r.op_id), "b_state": _STATE_OF[r.status], "b_version": r.version, "b_error": r.reason or ""}
        for r in results
    ]
    for row in rows:
        if row["b_state"] == "acked":
            outcome.acked += 1
        elif row["b_state"] == "rejected":
            outcome.rejected += 1
        else:
            outcome.conflicts += 1
    if rows:
        with db.unit() as s:
            s.connection().execute(stmt, rows)
    return outcome


def apply_changes(
    db: Database,
    changes: Sequence[Change],
    *,
    cursor: int,
    entitlement: str | None = None,
    jwks: dict[str, Any] | None = None,
    replace_all: bool = False,
) -> None:
    """Store pulled changes and the new cursor (and a verified entitlement) in ONE transaction.

    ``replace_all`` (full resync) drops the earlier copies of the server's records first.
    """
    now = _now()
    with db.unit() as s:
        mark_days_dirty(s.connection(), _chat_days(s, changes))  # before a full resync drops the old copies
        if replace_all:
            s.execute(delete(RemoteRecord))
        for change in changes:
            values = {
                "stream": change.stream,
                "entity": change.entity,
                "entity_id": change.entity_id,
                "data": json.dumps(change.data or {}, sort_keys=True),
                "deleted": change.op == "delete",
                "seq": change.seq,
                "updated_at": now,
            }
            stmt = sqlite_insert(RemoteRecord).values(**values)
            s.execute(stmt.on_conflict_do_update(index_elements=["stream", "entity", "entity_id"], set_=values))
        row = _state_row(s)
        if cursor < row.cursor and not replace_all:
            raise SyncError("Der Server hat einen älteren Stand geliefert; der Abgleich wird wiederholt.")
        row.cursor = cursor
        if entitlement is not None:
            row.entitlement_token = entitlement
        if jwks is not None:
            row.jwks_json = json.dumps(jwks, sort_keys=True)


def _chat_days(s: Session, changes: Sequence[Change]) -> set[dt.date]:
    """The days whose chat figures (daily facts) change: a conversation's old and new chat and lead days."""
    days: set[dt.date] = set()
    for change in changes:
        if change.stream != "chat" or change.entity != CONVERSATION:
            continue
        days |= conversation_days(change.data or {})
        old = s.scalar(
            select(RemoteRecord.data).where(
                RemoteRecord.stream == change.stream,
                RemoteRecord.entity == change.entity,
                RemoteRecord.entity_id == change.entity_id,
            )
        )
        if old:
            days |= conversation_days(json.loads(old))
    return days


def record_attempt(db: Database, *, error: str | None) -> None:
    """Remember the outcome of a round (``error`` None = success)."""
    now = _now()
    with db.unit() as s:
        row = _state_row(s)
        row.last_attempt_at = now
        row.last_error = error or ""
        if error is None:
            row.last_sync_at = now
            s.execute(delete(OutboxEntry).where(OutboxEntry.state == "acked", OutboxEntry.done_at < now - ACKED_KEEP))


def remote_records(db: Database, stream: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(entity, entity_id, data) of the server's live records in ``stream`` (e.g. taken number prefixes)."""
    with db.unit() as s:
        rows = s.execute(
            select(RemoteRecord.entity, RemoteRecord.entity_id, RemoteRecord.data)
            .where(RemoteRecord.stream == stream, RemoteRecord.deleted.is_(False))
            .order_by(RemoteRecord.id)
        ).all()
        return [(entity, entity_id, json.loads(data)) for entity, entity_id, data in rows]
