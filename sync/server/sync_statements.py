"""The statements of the sync push, built once: the batch's reads, the sequence counter, the bulk tables.

Built at import with bindparams (expanding for the IN lists): building them per batch coerced each of
the 100 op ids anew and compiled again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sync.server.sync_models import AppliedOp, ChangeLogEntry, SyncCounter, SyncRecord


@dataclass(frozen=True)
class _Tables:
    """The Core tables of the bulk statements (typed as ``Table``: the ORM types them as ``FromClause``)."""

    records: Table = cast(Table, SyncRecord.__table__)
    change_log: Table = cast(Table, ChangeLogEntry.__table__)
    applied_ops: Table = cast(Table, AppliedOp.__table__)


TABLES = _Tables()


# The op ids of a batch answered before: any answer in sync_applied_ops, applied ones in the change log.
APPLIED = select(AppliedOp.op_id, AppliedOp.organization_id, AppliedOp.result).where(
    AppliedOp.op_id.in_(bindparam("ids", expanding=True))
)
LOGGED = select(ChangeLogEntry.op_id, ChangeLogEntry.organization_id, ChangeLogEntry.version, ChangeLogEntry.seq).where(
    ChangeLogEntry.op_id.in_(bindparam("ids", expanding=True))
)
# Both key columns constrained: the unique index (org, location, entity, entity_id) is then used to the
# end; with entity_id alone SQLite scanned every record of the location.
RECORDS = select(
    SyncRecord.id,
    SyncRecord.entity,
    SyncRecord.entity_id,
    SyncRecord.version,
    SyncRecord.hlc,
    SyncRecord.data,
    SyncRecord.deleted_at,
).where(
    SyncRecord.organization_id == bindparam("org"),
    SyncRecord.location_id == bindparam("location"),
    SyncRecord.entity.in_(bindparam("entities", expanding=True)),
    SyncRecord.entity_id.in_(bindparam("entity_ids", expanding=True)),
)


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


_BUMP = (
    update(SyncCounter)
    .where(SyncCounter.organization_id == bindparam("org"))
    .values(last_seq=SyncCounter.last_seq + bindparam("count"))
    .returning(SyncCounter.last_seq)
)


def allocate_seqs(session: Session, organization_id: str, count: int) -> int:
    """Reserve ``count`` sequence numbers; returns the last one (the row stays locked until commit)."""
    params = {"org": organization_id, "count": count}
    conn = session.connection()  # Core: the ORM layer adds nothing to these statements but time
    last = conn.execute(_BUMP, params).scalar_one_or_none()
    if last is None:  # the organisation's first change: create its counter (a racing twin is ignored)
        stmt = _insert(session)(SyncCounter).values(organization_id=organization_id, last_seq=0, pruned_seq=0)
        session.execute(stmt.on_conflict_do_nothing(index_elements=["organization_id"]))
        last = conn.execute(_BUMP, params).scalar_one()
    return int(last)


def current_seq(session: Session, organization_id: str) -> tuple[int, int]:
    """(last_seq, pruned_seq) of the organisation (0, 0 before its first change)."""
    row = session.execute(
        select(SyncCounter.last_seq, SyncCounter.pruned_seq).where(SyncCounter.organization_id == organization_id)
    ).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)
