"""Entity policies of the sync push: what the server does with one op, given the record's current state.

Pure functions over in-memory state (no database access), so the push can decide a whole batch first and
write it with a few bulk statements. The policies (docs/sync.md, "Konfliktregeln"):

- customer, vehicle, appointment, work_order: one writer per location (its desktop). Last write wins by
  HLC: an op older than (or as old as) the stored stamp is a ``conflict`` and changes nothing; the answer
  carries the stored state as ``canonical``. A delete becomes a tombstone (``deleted_at``, no data);
  a newer upsert after a tombstone revives the id (SQLite may reuse row ids).
- invoice: only final invoices and Stornorechnungen; the number must look like ``W1-2026-000123`` and
  its prefix must belong to this location (the first location that uses a prefix claims it; the claim
  is published in the ``settings`` stream). Final invoices are IMMUTABLE: the same content again is a
  ``duplicate``, different content or a delete is ``rejected``.
- payment: immutable like invoices (a correction is a new, negative payment).
- daily_fact: upsert per (location, date), newest HLC wins; recomputed from source data on the desktop.
- entitlement, setting, number_prefix (and every unknown entity): server-authoritative → ``rejected``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from sync.protocol import DailyFacts, Entity, Op, OpStatus, Stream

MUTABLE = frozenset({Entity.CUSTOMER, Entity.VEHICLE, Entity.APPOINTMENT, Entity.WORK_ORDER})
IMMUTABLE = frozenset({Entity.INVOICE, Entity.PAYMENT})
RECORD_ENTITIES = MUTABLE | IMMUTABLE
INVOICE_NUMBER = re.compile(r"^([A-Z][A-Z0-9]{0,5})-(\d{4})-(\d{6,})$")

SERVER_OWNED = "Diese Daten verwaltet der Server; Änderungen vom Arbeitsplatz werden nicht übernommen."
UNKNOWN_ENTITY = "Unbekannte Datenart „{entity}“."
STALE = "Auf dem Server liegt bereits ein neuerer Stand vor."
FINAL_IMMUTABLE = "Eine festgeschriebene Rechnung kann nicht mehr geändert werden (GoBD)."
FINAL_NOT_DELETABLE = "Festgeschriebene Rechnungen und Zahlungen können nicht gelöscht werden (GoBD)."
PAYMENT_IMMUTABLE = "Eine erfasste Zahlung kann nicht geändert werden; bitte eine Korrekturbuchung erfassen."
NOT_FINAL = "Nur festgeschriebene Rechnungen werden übertragen."
BAD_NUMBER = "Die Rechnungsnummer „{number}“ hat nicht das Format PRÄFIX-JJJJ-NNNNNN."
FOREIGN_PREFIX = "Der Nummernkreis „{prefix}“ gehört zu einem anderen Standort."
BAD_FACTS = "Die Tageskennzahlen sind ungültig: {problem}"
FACTS_DATE = "Das Datum der Tageskennzahlen passt nicht zur Kennung."
NO_FACT_DELETE = "Tageskennzahlen können nicht gelöscht werden; sie werden neu berechnet."
TOO_LARGE = "Die Änderung ist zu groß."


@dataclass
class RecordState:
    """A sync_records row as the batch sees it (``id`` None until inserted)."""

    entity: str
    entity_id: str
    version: int
    hlc: str
    data: dict[str, Any] | None
    deleted_at: dt.datetime | None
    id: int | None = None
    changed: bool = False


@dataclass
class FactState:
    """The stored daily facts of one day (None fields = no row yet)."""

    day: dt.date
    version: int = 0
    hlc: str = ""
    facts: DailyFacts | None = None
    changed: bool = False


@dataclass(frozen=True)
class Decision:
    """The outcome for one op; ``change`` is the change-log entry to write when applied."""

    status: OpStatus
    version: int | None = None
    reason: str | None = None
    canonical: dict[str, Any] | None = None
    change: tuple[str, str, str, str, dict[str, Any] | None] | None = None  # stream, entity, id, op, data
    claim: str | None = None  # an invoice number prefix this op claims for its location


def rejected(reason: str) -> Decision:
    """A refused op (never retried by the client)."""
    return Decision("rejected", reason=reason)


@dataclass
class Prefixes:
    """Who owns which invoice number prefix in the organisation (loaded once per batch)."""

    owners: dict[str, str] = field(default_factory=dict)

    def check(self, prefix: str, location_id: str) -> str | None:
        """None when ``location_id`` may use ``prefix``; else the reason."""
        owner = self.owners.get(prefix)
        return None if owner in (None, location_id) else FOREIGN_PREFIX.format(prefix=prefix)


def decide_record(
    op: Op, state: RecordState | None, *, location_id: str, prefixes: Prefixes, now: dt.datetime
) -> tuple[Decision, RecordState | None]:
    """Apply the entity policy; returns the decision and the record's new state (None if unchanged)."""
    entity = Entity(op.entity)
    if entity in IMMUTABLE:
        return _decide_immutable(op, entity, state, location_id=location_id, prefixes=prefixes)
    if state is not None and op.hlc <= state.hlc:
        canonical = None if state.deleted_at else state.data
        return Decision("conflict", version=state.version, reason=STALE, canonical=canonical), None
    version = (state.version + 1) if state else 1
    data = None if op.op == "delete" else op.payload
    new = RecordState(
        entity.value,
        op.entity_id,
        version,
        op.hlc,
        data,
        now if op.op == "delete" else None,
        id=state.id if state else None,
        changed=True,
    )
    return Decision("applied", version=version, change=(Stream.RECORDS, entity.value, op.entity_id, op.op, data)), new


def _decide_immutable(
    op: Op, entity: Entity, state: RecordState | None, *, location_id: str, prefixes: Prefixes
) -> tuple[Decision, RecordState | None]:
    if op.op == "delete":
        return rejected(FINAL_NOT_DELETABLE), None
    claim = None
    if entity is Entity.INVOICE:
        problem, claim = _check_invoice(op.payload, location_id=location_id, prefixes=prefixes)
        if problem:
            return rejected(problem), None
    if state is not None and state.deleted_at is None:
        if state.data == op.payload:
            return Decision("duplicate", version=state.version), None
        return rejected(FINAL_IMMUTABLE if entity is Entity.INVOICE else PAYMENT_IMMUTABLE), None
    version = (state.version + 1) if state else 1
    new = RecordState(
        entity.value, op.entity_id, version, op.hlc, op.payload, None, id=state.id if state else None, changed=True
    )
    change = (Stream.RECORDS, entity.value, op.entity_id, "upsert", op.payload)
    return Decision("applied", version=version, change=change, claim=claim), new


def _check_invoice(payload: dict[str, Any], *, location_id: str, prefixes: Prefixes) -> tuple[str | None, str | None]:
    """(problem, prefix to claim): final status, number format and the location's number range."""
    if payload.get("status") != "final" or payload.get("kind") not in ("invoice", "storno"):
        return NOT_FINAL, None
    number = str(payload.get("number") or "")
    match = INVOICE_NUMBER.match(number)
    if match is None:
        return BAD_NUMBER.format(number=number), None
    prefix = match.group(1)
    problem = prefixes.check(prefix, location_id)
    if problem:
        return problem, None
    return None, (prefix if prefix not in prefixes.owners else None)


def parse_facts(op: Op, location_id: str) -> tuple[DailyFacts | None, str | None]:
    """The validated facts of a daily_fact op (location forced to the caller's), or the problem."""
    if op.op == "delete":
        return None, NO_FACT_DELETE
    try:
        facts = DailyFacts.model_validate(op.payload | {"location_id": location_id})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return None, BAD_FACTS.format(problem=f"{where}: {first.get('msg', '')}")
    if facts.date.isoformat() != op.entity_id:
        return None, FACTS_DATE
    return facts, None


def decide_facts(op: Op, state: FactState, facts: DailyFacts) -> Decision:
    """Upsert per (location, date); the newest HLC wins."""
    if state.facts is not None and op.hlc <= state.hlc:
        return Decision("conflict", version=state.version, reason=STALE, canonical=state.facts.model_dump(mode="json"))
    state.version += 1
    state.hlc = op.hlc
    state.facts = facts
    state.changed = True
    data = facts.model_dump(mode="json")
    return Decision(
        "applied", version=state.version, change=(Stream.FACTS, Entity.DAILY_FACT.value, op.entity_id, "upsert", data)
    )


def decide_other(op: Op) -> Decision:
    """Server-owned and unknown entities."""
    try:
        Entity(op.entity)
    except ValueError:
        return rejected(UNKNOWN_ENTITY.format(entity=op.entity))
    return rejected(SERVER_OWNED)
