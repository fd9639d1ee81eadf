"""The sync pull, the full-resync snapshot, entitlement tokens for devices and the retention clean-up.

**Pull.** ``last_seq`` is read first; then the changes ``since < seq <= last_seq`` of the requested streams
that are organisation-wide or belong to the caller's location, oldest first. Without more pages the new
cursor is ``last_seq`` itself, so changes of streams the device does not read still move its cursor
(two desktops of one organisation end on the same cursor).

**Retention and 410 Gone.** ``prune`` deletes change-log entries older than ``CHANGE_RETENTION`` (180 days,
tombstones included) and raises the organisation's ``pruned_seq``; applied op ids are kept
``APPLIED_OPS_RETENTION`` (60 days). A cursor below ``pruned_seq`` (or above ``last_seq``: the server
was restored from a backup) gets ``410 Gone``. The desktop then does a **full resync**: it pages through
``GET /v1/sync/snapshot`` (the current records of its streams, tombstones left out) and keeps its own
unsent outbox, stores ``as_of_seq`` of the first page as its cursor, and pulls on from there; changes
between the pages come again through the pull and are applied idempotently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from sync.entitlements import build_claims, encode_entitlement
from sync.protocol import Change, PullResponse, SnapshotResponse, Stream
from sync.server.context import ServerContext
from sync.server.errors import ApiError, Unprocessable
from sync.server.plans_gate import plan_state
from sync.server.sync_models import ORG_WIDE, AppliedOp, ChangeLogEntry, SyncCounter, SyncRecord
from sync.server.sync_service import Caller, current_seq

CHANGE_RETENTION = dt.timedelta(days=180)
APPLIED_OPS_RETENTION = dt.timedelta(days=60)


class CursorGone(ApiError):
    """410: the cursor is older than the change-log retention (or newer than the server): full resync."""

    status_code = 410
    default_code = "cursor_gone"

    def __init__(
        self,
        message_id: str = "Der Synchronisationsstand ist veraltet; eine vollständige Neusynchronisation ist nötig.",
        **kwargs: Any,
    ) -> None:
        super().__init__(message_id, **kwargs)


def parse_streams(text: str) -> tuple[str, ...]:
    """The stream names of ``a,b,c``; 422 for unknown names."""
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    known = {s.value for s in Stream}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise Unprocessable("Unbekannter Datenstrom „{stream}“.", field="streams", stream=",".join(unknown) or text)
    return names


# Columns, not ORM entities: a page of 100 changes skips the identity map and instance state (a pull
# was the server's second-largest CPU cost under the 50-client benchmark).
_PAGE = (
    select(
        ChangeLogEntry.seq,
        ChangeLogEntry.stream,
        ChangeLogEntry.entity,
        ChangeLogEntry.entity_id,
        ChangeLogEntry.op,
        ChangeLogEntry.data,
        ChangeLogEntry.location_id,
    )
    .where(
        ChangeLogEntry.organization_id == bindparam("org"),
        ChangeLogEntry.stream.in_(bindparam("streams", expanding=True)),
        ChangeLogEntry.seq > bindparam("since"),
        ChangeLogEntry.seq <= bindparam("last"),
        or_(ChangeLogEntry.location_id == ORG_WIDE, ChangeLogEntry.location_id == bindparam("location")),
    )
    .order_by(ChangeLogEntry.seq)
    .limit(bindparam("rows"))
)


def pull(session: Session, caller: Caller, *, since: int, streams: Sequence[str], limit: int) -> PullResponse:
    """The next page of changes after ``since`` (entitlement token added by the route)."""
    last, pruned = current_seq(session, caller.organization_id)
    if since < pruned or since > last:
        raise CursorGone()
    params = {
        "org": caller.organization_id,
        "streams": list(streams),
        "since": since,
        "last": last,
        "location": caller.location_id,
        "rows": limit + 1,
    }
    rows = session.execute(_PAGE, params).all()
    has_more = len(rows) > limit
    page = rows[:limit]
    return PullResponse(
        changes=[_change(*row) for row in page],
        next_since=page[-1].seq if has_more else last,
        has_more=has_more,
    )


def _change(
    seq: int, stream: str, entity: str, entity_id: str, op: str, data: dict[str, Any] | None, location_id: str
) -> Change:
    return Change(
        seq=seq,
        stream=stream,
        entity=entity,
        entity_id=entity_id,
        op="delete" if op == "delete" else "upsert",
        data=data,
        location_id=location_id or None,
    )


def snapshot(session: Session, caller: Caller, *, streams: Sequence[str], after: int, limit: int) -> SnapshotResponse:
    """A page of the current (not deleted) records of ``streams`` visible to the caller, by record id."""
    last, _pruned = current_seq(session, caller.organization_id)
    rows = (
        session.execute(
            select(SyncRecord)
            .where(
                SyncRecord.organization_id == caller.organization_id,
                SyncRecord.stream.in_(streams),
                SyncRecord.id > after,
                SyncRecord.deleted_at.is_(None),
                or_(SyncRecord.location_id == ORG_WIDE, SyncRecord.location_id == caller.location_id),
            )
            .order_by(SyncRecord.id)
            .limit(limit + 1)
        )
        .scalars()
        .all()
    )
    page = rows[:limit]
    records = [
        Change(
            seq=0,
            stream=r.stream,
            entity=r.entity,
            entity_id=r.entity_id,
            op="upsert",
            data=r.data,
            location_id=r.location_id or None,
        )
        for r in page
    ]
    return SnapshotResponse(records=records, as_of_seq=last, after=page[-1].id if len(rows) > limit else None)


def issue_entitlement(ctx: ServerContext, session: Session, caller: Caller) -> str:
    """A fresh entitlement token for the caller's location (the organisation's plan state from
    ``plans_gate``, an ended trial counted as cancelled), signed with the current signing key."""
    now = ctx.clock()
    state = plan_state(session, caller.organization_id)
    claims = build_claims(
        issuer=ctx.settings.jwt_issuer,
        organization_id=caller.organization_id,
        location_id=caller.location_id,
        plan_id=state.plan_id,
        status=state.effective_status(now),
        issued_at=now,
        grace_until=state.grace_until,
    )
    kid, key = ctx.keyring.signing_key()
    return encode_entitlement(claims, key, kid=kid)


@dataclass(frozen=True)
class PruneReport:
    """What ``prune`` removed."""

    changes: int
    tombstones: int
    applied_ops: int


def prune(
    session: Session,
    *,
    now: dt.datetime,
    retention: dt.timedelta = CHANGE_RETENTION,
    applied_retention: dt.timedelta = APPLIED_OPS_RETENTION,
) -> PruneReport:
    """Drop change-log entries and tombstones past ``retention`` and old applied op ids (maintenance job)."""
    cutoff = now - retention
    changes = 0
    oldest = (
        select(ChangeLogEntry.organization_id, func.max(ChangeLogEntry.seq))
        .where(ChangeLogEntry.created_at < cutoff)
        .group_by(ChangeLogEntry.organization_id)
    )
    for org, upto in session.execute(oldest).all():
        changes += _rowcount(
            session.execute(
                delete(ChangeLogEntry).where(ChangeLogEntry.organization_id == org, ChangeLogEntry.seq <= upto)
            )
        )
        session.execute(
            update(SyncCounter)
            .where(SyncCounter.organization_id == org, SyncCounter.pruned_seq < upto)
            .values(pruned_seq=upto)
        )
    tombstones = _rowcount(session.execute(delete(SyncRecord).where(SyncRecord.deleted_at < cutoff)))
    applied = _rowcount(session.execute(delete(AppliedOp).where(AppliedOp.created_at < now - applied_retention)))
    return PruneReport(changes, tombstones, applied)


def _rowcount(result: Any) -> int:
    """Rows touched by a DELETE/UPDATE (a CursorResult; typed loosely by SQLAlchemy's stubs)."""
    return int(result.rowcount)
