"""One push batch of the sync: read what it touches, decide every op by its entity policy, write the outcome.

``Batch`` is decided in memory (``sync_service_policies``) after its reads (the op ids answered before – an
applied op by its change-log entry, any other answer in ``sync_applied_ops`` –, the records it touches, the
organisation's number prefixes) and written with bulk statements; the change sequence is
allocated last (``allocate_seqs``), so the organisation's counter row is locked only for the final inserts
and the commit. The transaction, the retries after a race and the op-by-op fallback are
``sync_service.push``'s.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from sync.protocol import MAX_PAYLOAD_BYTES, DailyFacts, Entity, Op, OpResult, Stream
from sync.server.bulk import insert_many
from sync.server.sync_models import (
    ORG_WIDE,
    DailyFactRow,
    NumberPrefix,
    SyncRecord,
)
from sync.server.sync_service_policies import (
    RECORD_ENTITIES,
    TOO_LARGE,
    Decision,
    FactState,
    Prefixes,
    RecordState,
    decide_facts,
    decide_other,
    decide_record,
    parse_facts,
    rejected,
)
from sync.server.sync_statements import APPLIED, LOGGED, RECORDS, TABLES, allocate_seqs, current_seq

OP_ID_TAKEN = "Die Änderungskennung ist bereits vergeben."
_RESULTS = TypeAdapter(list[OpResult])


@dataclass(frozen=True)
class Caller:
    """The pushing device: its organisation and location come from its token and device row."""

    organization_id: str
    location_id: str
    device_id: str


class Batch:
    """Decides the ops of one request and writes the outcome."""

    def __init__(
        self, session: Session, caller: Caller, ops: Sequence[Op], now: dt.datetime, *, check_sizes: bool = True
    ) -> None:
        self.session = session
        self.check_sizes = check_sizes
        self.decided: set[str] = set()
        self.repeats: set[str] = set()
        self.caller = caller
        self.ops = ops
        self.now = now
        self.results: dict[str, OpResult] = {}
        self.written: list[dict[str, Any]] = []  # the stored results of this batch's new ops, see finish()
        self.decisions: list[tuple[Op, Decision]] = []
        self.records: dict[tuple[str, str], RecordState] = {}
        self.facts: dict[str, FactState] = {}
        self.prefixes = Prefixes()
        self.claims: list[str] = []

    @property
    def connection(self) -> Connection:
        """The session's connection in its current transaction (Core reads skip the ORM's per-statement work)."""
        return self.session.connection()

    # --- reading ---------------------------------------------------------------------------------

    def _load(self) -> None:
        ids = [str(op.op_id) for op in self.ops]
        stored = {op_id: (org, result) for op_id, org, result in self.connection.execute(APPLIED, {"ids": ids})}
        for op_id, org, version, seq in self.connection.execute(LOGGED, {"ids": ids}):  # applied ones
            stored[op_id] = (org, {"op_id": op_id, "status": "applied", "version": version, "seq": seq})
        for op_id, (org, result) in stored.items():
            if org == self.caller.organization_id:
                self.results[op_id] = _as_duplicate(OpResult.model_validate(result))
            else:  # another organisation's op id: answer without revealing anything about it
                self.results[op_id] = OpResult(op_id=uuid.UUID(op_id), status="rejected", reason=OP_ID_TAKEN)
        keys = {(str(op.entity), op.entity_id) for op in self.ops if op.entity in RECORD_ENTITIES}
        if keys:
            params = {
                "org": self.caller.organization_id,
                "location": self.caller.location_id,
                "entities": sorted({entity for entity, _id in keys}),
                "entity_ids": sorted({entity_id for _entity, entity_id in keys}),
            }
            for row in self.connection.execute(RECORDS, params):
                self.records[(row.entity, row.entity_id)] = RecordState(
                    row.entity, row.entity_id, row.version, row.hlc, row.data, row.deleted_at, id=row.id
                )
        if any(op.entity == Entity.INVOICE for op in self.ops):
            owners = self.session.execute(
                select(NumberPrefix.prefix, NumberPrefix.location_id).where(
                    NumberPrefix.organization_id == self.caller.organization_id
                )
            )
            self.prefixes.owners = {prefix: location for prefix, location in owners}

    def _fact_state(self, day: dt.date) -> FactState:
        key = day.isoformat()
        if key not in self.facts:
            row = self.session.get(DailyFactRow, (self.caller.organization_id, self.caller.location_id, day))
            self.facts[key] = FactState(day) if row is None else FactState(day, row.version, row.hlc, _facts_of(row))
        return self.facts[key]

    # --- deciding --------------------------------------------------------------------------------

    def decide(self) -> None:
        """Run every new op through its policy, in order (later ops see earlier ones of the batch)."""
        self._load()
        for op in self.ops:
            op_id = str(op.op_id)
            if op_id in self.results or op_id in self.decided:
                if op_id in self.decided:  # the same op twice in one batch: the second is a duplicate
                    self.repeats.add(op_id)
                continue
            self.decided.add(op_id)
            self.decisions.append((op, self._decide(op)))

    def _decide(self, op: Op) -> Decision:
        if self.check_sizes and len(json.dumps(op.payload, separators=(",", ":"))) > MAX_PAYLOAD_BYTES:
            return rejected(TOO_LARGE)
        if op.entity in RECORD_ENTITIES:
            key = (op.entity, op.entity_id)
            decision, new = decide_record(
                op, self.records.get(key), location_id=self.caller.location_id, prefixes=self.prefixes, now=self.now
            )
            if new is not None:
                self.records[key] = new
            if decision.claim:
                self.prefixes.owners[decision.claim] = self.caller.location_id
                self.claims.append(decision.claim)
            return decision
        if op.entity == Entity.DAILY_FACT:
            facts, problem = parse_facts(op, self.caller.location_id)
            if facts is None:
                return rejected(problem or "")
            return decide_facts(op, self._fact_state(facts.date), facts)
        return decide_other(op)

    # --- writing ---------------------------------------------------------------------------------

    def write(self) -> int:
        """Write records, facts, prefix claims, the change log and the applied ops; returns last_seq."""
        conn = self.session.connection()  # Core executemany: no ORM bookkeeping for 200 rows
        self._write_records()
        self._write_facts()
        changes = self._changes()
        seqs: dict[str, int] = {}
        if changes:
            last = allocate_seqs(self.session, self.caller.organization_id, len(changes))
            first = last - len(changes) + 1
            org = self.caller.organization_id
            rows = []
            for offset, (op_id, version, (stream, location, entity, entity_id, kind, data)) in enumerate(changes):
                rows.append(
                    {
                        "organization_id": org,
                        "seq": first + offset,
                        "stream": stream,
                        "location_id": location,
                        "entity": entity,
                        "entity_id": entity_id,
                        "op": kind,
                        "data": data,
                        "origin_device": self.caller.device_id,
                        "created_at": self.now,
                        "op_id": op_id,
                        "version": version,
                    }
                )
                if op_id is not None:
                    seqs[op_id] = first + offset
            insert_many(conn, TABLES.change_log, rows)
        else:
            last = current_seq(self.session, self.caller.organization_id)[0]
        applied = []
        for op, decision in self.decisions:
            op_id = str(op.op_id)
            result: dict[str, Any] = {
                "op_id": op_id,
                "status": decision.status,
                "version": decision.version,
                "seq": seqs.get(op_id),
                "reason": decision.reason,
                "canonical": decision.canonical,
            }
            self.written.append(result)
            if op_id in seqs:  # remembered by its change-log entry (op_id, version, seq)
                continue
            applied.append(
                {
                    "op_id": op_id,
                    "organization_id": self.caller.organization_id,
                    "device_id": self.caller.device_id,
                    "result": result,
                    "created_at": self.now,
                }
            )
        if applied:
            insert_many(conn, TABLES.applied_ops, applied)
        return last

    def finish(self) -> list[OpResult]:
        """One result per op in request order – built after the commit, outside the write gate."""
        # One validation of all new results in pydantic's core: three times faster than model_construct per result.
        for result in _RESULTS.validate_python(self.written):
            self.results[str(result.op_id)] = result
        self.written = []
        for op_id in self.repeats:
            self.results[op_id] = _as_duplicate(self.results[op_id])
        self.repeats = set()
        return [self.results[str(op.op_id)] for op in self.ops]

    def _changes(
        self,
    ) -> list[tuple[str | None, int | None, tuple[str, str, str, str, str, dict[str, Any] | None]]]:
        """(op id, version, change) of every change-log entry: the server's own prefix claims first."""
        org_wide = [
            (
                None,
                None,
                (
                    Stream.SETTINGS.value,
                    ORG_WIDE,
                    Entity.NUMBER_PREFIX.value,
                    prefix,
                    "upsert",
                    {"prefix": prefix, "location_id": self.caller.location_id},
                ),
            )
            for prefix in self.claims
        ]
        own = [
            (str(op.op_id), d.version, (str(d.change[0]), self.caller.location_id, *d.change[1:]))
            for op, d in self.decisions
            if d.change is not None
        ]
        return [*org_wide, *own]

    def _write_records(self) -> None:
        base = {
            "organization_id": self.caller.organization_id,
            "location_id": self.caller.location_id,
            "stream": Stream.RECORDS.value,
            "updated_at": self.now,
            "origin_device": self.caller.device_id,
        }
        fresh, changed = [], []
        for state in self.records.values():
            if not state.changed:
                continue
            values = {
                "entity": state.entity,
                "entity_id": state.entity_id,
                "version": state.version,
                "hlc": state.hlc,
                "data": state.data,
                "deleted_at": state.deleted_at,
            }
            if state.id is None:
                fresh.append(base | values)
            else:
                changed.append(
                    {
                        "id": state.id,
                        "version": state.version,
                        "hlc": state.hlc,
                        "data": state.data,
                        "deleted_at": state.deleted_at,
                        "updated_at": self.now,
                        "origin_device": self.caller.device_id,
                    }
                )
        for prefix in self.claims:
            self.session.add(
                NumberPrefix(
                    organization_id=self.caller.organization_id,
                    prefix=prefix,
                    location_id=self.caller.location_id,
                    claimed_at=self.now,
                )
            )
            fresh.append(
                base
                | {
                    "location_id": ORG_WIDE,
                    "stream": Stream.SETTINGS.value,
                    "entity": Entity.NUMBER_PREFIX.value,
                    "entity_id": prefix,
                    "version": 1,
                    "hlc": "",
                    "data": {"prefix": prefix, "location_id": self.caller.location_id},
                    "deleted_at": None,
                }
            )
        self.session.flush()  # the prefix claims
        if fresh:
            # Core, not insert_many: the webhook hook (webhooks_sync) sees the new records in Connection.execute.
            self.session.connection().execute(TABLES.records.insert(), fresh)
        if changed:
            self.session.execute(update(SyncRecord), changed)

    def _write_facts(self) -> None:
        for state in self.facts.values():
            if not state.changed or state.facts is None:
                continue
            key = (self.caller.organization_id, self.caller.location_id, state.day)
            row = self.session.get(DailyFactRow, key)
            if row is None:
                row = DailyFactRow(organization_id=key[0], location_id=key[1], day=key[2])
                self.session.add(row)
            facts = state.facts
            row.version, row.hlc, row.updated_at = state.version, state.hlc, self.now
            row.revenue = [r.model_dump(mode="json") for r in facts.revenue]
            for name in (
                "net_total",
                "tax_total",
                "gross_total",
                "altteil_tax",
                "invoice_count",
                "storno_count",
                "aw_sold",
                "labour_net",
                "parts_net",
                "other_net",
                "new_customers",
                "appointments",
                "chats",
                "leads",
            ):
                setattr(row, name, getattr(facts, name))
        self.session.flush()


def _facts_of(row: DailyFactRow) -> DailyFacts:
    return DailyFacts.model_validate(
        {
            name: getattr(row, name)
            for name in DailyFacts.model_fields
            if name not in ("date", "location_id", "currency")
        }
        | {"date": row.day, "location_id": row.location_id}
    )


def _as_duplicate(result: OpResult) -> OpResult:
    """The stored result of a resent op: ``applied`` turns into ``duplicate``, the rest stays as it was."""
    return result.model_copy(update={"status": "duplicate"}) if result.status == "applied" else result
