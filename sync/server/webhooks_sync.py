"""Webhook events from the sync push, written in the push's own transaction (transactional outbox).

``install(engine)`` adds an ``after_execute`` listener to the server's engine. Whenever a statement
INSERTs rows into ``sync_records`` (records the server has never had), the listener calls
``webhooks.emit_event`` on the SAME connection for each new appointment (``appointment.created``) and
each new invoice (``invoice.finalized``; only final invoices and Stornorechnungen are ever pushed, and
they are immutable). Updates of existing records (a moved appointment, a revived tombstone) are
UPDATEs and send nothing. The event rows are written in the same transaction or savepoint as the
records, so a push that rolls back (race retry, failing op) leaves no event behind, and a push that
commits always has its events.

Why an engine hook and not a call inside ``sync_service``: the sync policies stay free of webhook
concerns, and the hook depends only on the ``sync_records`` table, whichever way the push writes it
(ORM flush, ORM bulk insert or Core executemany all pass ``Connection.execute``).
``tests/server/test_webhooks.py`` pushes through the real route, so a change that bypasses the hook
fails there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, event

from sync.protocol import Entity, Stream
from sync.server.models import utcnow
from sync.server.sync_models import SyncRecord
from sync.server.webhooks import EventType, emit_event

TRIGGERS = {Entity.APPOINTMENT.value: EventType.APPOINTMENT_CREATED, Entity.INVOICE.value: EventType.INVOICE_FINALIZED}


def _rows(clause: Any, multiparams: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The inserted rows' values, however the statement was executed."""
    if multiparams:
        return list(multiparams)
    if params:
        return [params]
    return [clause.compile().params]  # insert(...).values(...) with the values inside the statement


def new_records(
    clause: Any, multiparams: Sequence[Mapping[str, Any]], params: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    """The new appointment and invoice records an INSERT into ``sync_records`` stores (else [])."""
    if not getattr(clause, "is_insert", False) or getattr(getattr(clause, "table", None), "name", None) != (
        SyncRecord.__tablename__
    ):
        return []
    return [
        row
        for row in _rows(clause, multiparams, params)
        if row.get("entity") in TRIGGERS and row.get("data") is not None
        and row.get("stream", Stream.RECORDS.value) == Stream.RECORDS.value
    ]  # fmt: skip


def emit_for_record(conn: Connection, row: Mapping[str, Any]) -> str | None:
    """The event for one newly stored sync record (``sync_records`` column values)."""
    now = row.get("updated_at")
    now = now if isinstance(now, dt.datetime) else utcnow()
    location_id, entity_id = str(row["location_id"]), str(row["entity_id"])
    data = {"location_id": location_id, "id": entity_id, "object": row["data"]}
    return emit_event(conn, str(row["organization_id"]), TRIGGERS[str(row["entity"])],
                      subject=f"{location_id}:{entity_id}", data=data, now=now)  # fmt: skip


def _after_execute(conn: Connection, clause: Any, multiparams: Any, params: Any, _options: Any, _result: Any) -> None:
    for row in new_records(clause, multiparams, params):
        emit_for_record(conn, row)


def install(engine: Engine) -> None:
    """Emit webhook events for records inserted through ``engine`` (idempotent per engine)."""
    if not event.contains(engine, "after_execute", _after_execute):
        event.listen(engine, "after_execute", _after_execute)
