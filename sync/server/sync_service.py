"""The sync push: de-duplicate, decide every op by its entity policy, write the batch, number the changes.

A batch is read, decided and written by ``sync_batch.Batch``; this module runs it in a transaction, retries
after a race and falls back to op-by-op replay.

Idempotency: every op id is stored with its answer in the same transaction as its effect – an applied op
in its change-log entry (``op_id``, ``version``, ``seq``), any other answer in ``sync_applied_ops``. A
resent op gets the stored result back (status ``duplicate`` for an applied op). Two copies of one batch
running at the same time (a proxy that duplicates requests) collide on a unique key (the change log's op
id, ``sync_applied_ops`` or ``sync_records``): the later transaction rolls back and runs again, and then
sees the earlier one's results. A database error that is not such a race (bad data that slipped past the
policies) is isolated by replaying the batch op by op, each op in its own savepoint; the failing op is
rejected and that result is stored, so it cannot block the desktop's queue (PowerSync's lesson) and a
resend gets the same answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from sync.protocol import Op, OpResult, PushRequest, PushResponse
from sync.server.errors import ServiceUnavailable
from sync.server.sync_batch import Batch, Caller
from sync.server.sync_models import AppliedOp, ChangeLogEntry
from sync.server.sync_statements import allocate_seqs, current_seq

__all__ = ["Caller", "allocate_seqs", "count_changes", "current_seq", "push"]

log = logging.getLogger(__name__)
RACE_RETRIES = 4
INTERNAL = "Die Änderung konnte auf dem Server nicht gespeichert werden und wurde verworfen."
# PostgreSQL: deadlock_detected, serialization_failure, lock_not_available.
RETRYABLE_PGCODES = frozenset({"40P01", "40001", "55P03"})


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return isinstance(exc, OperationalError) and (code in RETRYABLE_PGCODES or "locked" in str(exc.orig).lower())


def push(
    session: Session,
    caller: Caller,
    request: PushRequest,
    *,
    now: dt.datetime,
    check_sizes: bool = True,
    gate: AbstractContextManager[Any] | None = None,
) -> PushResponse:
    """Apply one push request and COMMIT it; the caller sends the poke afterwards.

    ``check_sizes`` False skips the per-op payload size check (the route knows the whole body is small).
    ``gate`` (the route's SQLite write gate, a reusable lock) is held from the first read to the commit or
    rollback of each attempt, not while the response is built.
    """
    for attempt in range(RACE_RETRIES):
        try:
            with gate or nullcontext():
                try:
                    batch = Batch(session, caller, request.ops, now, check_sizes=check_sizes)
                    batch.decide()
                    last = batch.write()
                    session.commit()
                except DBAPIError:
                    session.rollback()  # inside the gate: the next writer must not find the lock still held
                    raise
            return PushResponse(batch_id=request.batch_id, results=batch.finish(), last_seq=last)
        except DBAPIError as exc:
            if not _retryable(exc):
                log.warning("push batch failed (%s); replaying op by op", type(exc.orig).__name__)
                with gate or nullcontext():
                    return _push_one_by_one(session, caller, request, now=now)
            log.info("push batch raced with another (attempt %d): %s", attempt + 1, type(exc.orig).__name__)
    raise ServiceUnavailable()


def _push_one_by_one(session: Session, caller: Caller, request: PushRequest, *, now: dt.datetime) -> PushResponse:
    """Slow path: each op in its own savepoint, so one bad op cannot sink the batch."""
    results: dict[str, OpResult] = {}
    last = 0
    for op in request.ops:
        try:
            with session.begin_nested():
                batch = Batch(session, caller, [op], now)
                batch.decide()
                last = batch.write()
            results[str(op.op_id)] = batch.finish()[0]
        except DBAPIError as exc:
            log.warning("op %s failed: %s", op.op_id, type(exc.orig).__name__)
            results[str(op.op_id)] = _record_failure(session, caller, op, now=now)
    session.commit()
    last = max(last, current_seq(session, caller.organization_id)[0])
    return PushResponse(
        batch_id=request.batch_id, results=[results[str(op.op_id)] for op in request.ops], last_seq=last
    )


def _record_failure(session: Session, caller: Caller, op: Op, *, now: dt.datetime) -> OpResult:
    """Store a rejection for an op that failed in the database (in its own savepoint, too)."""
    result = OpResult(op_id=op.op_id, status="rejected", reason=INTERNAL)
    try:
        with session.begin_nested():
            session.execute(
                insert(AppliedOp).values(
                    op_id=str(op.op_id),
                    organization_id=caller.organization_id,
                    device_id=caller.device_id,
                    result=result.model_dump(mode="json"),
                    created_at=now,
                )
            )
    except DBAPIError:
        log.warning("rejection of op %s not stored", op.op_id)
    return result


def count_changes(session: Session, organization_id: str) -> int:
    """How many change-log entries the organisation has (tests and diagnostics)."""
    return int(
        session.scalar(
            select(func.count()).select_from(ChangeLogEntry).where(ChangeLogEntry.organization_id == organization_id)
        )
        or 0
    )
