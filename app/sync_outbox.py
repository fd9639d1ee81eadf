"""Change capture for sync: every change of a syncable entity becomes an outbox row in the SAME transaction.

``OutboxCapture.install(db)`` registers an ``after_flush`` listener on the database's session factory
(``Database.enable_outbox()``; ``open_database`` does it by itself once a device is registered). After
each flush it looks at the new, changed and deleted objects; for syncable entities it writes an outbox
row through the flushing session's own connection, so the row commits or rolls back together with the
business change, and a rolled-back domain write leaves no outbox row.

Syncable entities and what is captured (payloads: ids and business fields, never secrets, no free-text
notes): customer, vehicle, appointment (every change; deletes become ``delete`` ops = tombstones);
work order (creation and status changes only); invoice (once, when it becomes final; Stornorechnungen
too: both are immutable afterwards); payment (creation; payments are never changed).

A newer change of an entity whose op is still ``pending`` (not yet sent) replaces that op's payload
instead of queueing a second op; ops already sent are never touched. The dates whose daily facts a change
affects are recorded in ``sync_dirty_day`` for the next sync round (``app.services.daily_facts``).
Bulk DML statements (``session.execute(update(...))``) bypass the ORM flush and are not captured; no
service uses them on syncable tables.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, Engine, event, func, insert, inspect, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, UOWTransaction

from app.hlc import HlcError, HlcStamp, HybridLogicalClock
from app.models import Appointment, Customer, Invoice, Payment, Vehicle, WorkOrder
from app.models.sync import OutboxEntry, SyncDirtyDay, SyncState

if TYPE_CHECKING:
    from app.db import Database

IMMUTABLE = frozenset({"invoice", "payment"})
CUSTOMER_FIELDS = (
    "id",
    "number",
    "kind",
    "salutation",
    "first_name",
    "last_name",
    "company",
    "street",
    "postcode",
    "city",
    "country",
    "vat_id",
    "email",
    "phone",
    "mobile",
)
VEHICLE_FIELDS = (
    "id",
    "customer_id",
    "vin",
    "plate",
    "make",
    "model",
    "model_year",
    "hsn",
    "tsn",
    "fuel",
    "first_registration",
    "hu_due",
    "business_use",
)
APPOINTMENT_FIELDS = (
    "id",
    "start",
    "end",
    "status",
    "source",
    "title",
    "customer_id",
    "vehicle_id",
    "bay_id",
    "mechanic_id",
)
WORK_ORDER_FIELDS = ("id", "number", "status", "customer_id", "vehicle_id", "appointment_id", "date_of_service")
INVOICE_FIELDS = (
    "id",
    "number",
    "kind",
    "status",
    "cancels_id",
    "customer_id",
    "vehicle_id",
    "work_order_id",
    "issue_date",
    "service_date",
    "due_date",
    "net_total",
    "tax_total",
    "gross_total",
    "altteil_tax",
    "reverse_charge",
    "small_invoice",
    "finalized_at",
)
PAYMENT_FIELDS = ("id", "invoice_id", "date", "amount", "method", "reference", "recorded_at")


_AS_IS: Final = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """A JSON-safe form: Decimals as strings, dates ISO 8601."""
    if type(value) in _AS_IS:  # the common case first: a backfill calls this 1.5 million times
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _fields(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    mapping = getattr(obj, "_mapping", None)
    if mapping is not None:  # a plain row (backfill): key lookups are three times cheaper than attributes
        return {name: plain(mapping[name]) for name in names}
    return {name: plain(getattr(obj, name)) for name in names}


def local_day(moment_utc: dt.datetime) -> dt.date:
    """The PC's local date of a naive-UTC timestamp (daily facts count by the workshop's calendar day)."""
    return moment_utc.replace(tzinfo=dt.UTC).astimezone().date()


def new_op_id() -> str:
    """A UUIDv7 (time-ordered, RFC 9562): 48 bits of Unix milliseconds, then random bits."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    digits = f"{value:032x}"  # str(uuid.UUID(int=value)) without building the object (100,000 per backfill)
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _changed(obj: Any, name: str) -> bool:
    return bool(inspect(obj).attrs[name].history.has_changes())


@dataclass(frozen=True)
class Capture:
    """One change to write to the outbox."""

    entity: str
    entity_id: str
    op: str
    payload: dict[str, Any]
    days: frozenset[dt.date]


def _appointment_days(obj: Appointment) -> frozenset[dt.date]:
    state = inspect(obj, raiseerr=False)
    if state is None:  # a plain row (backfill)
        starts: list[Any] = [obj.start]
    else:  # a move changes the facts of the old day as well
        history = state.attrs["start"].history
        starts = [*history.added, *history.unchanged, *history.deleted]
    return frozenset(s.date() for s in starts if isinstance(s, dt.datetime))


def _capture_customer(obj: Customer, is_new: bool, deleted: bool) -> Capture | None:
    payload = (
        {"id": obj.id} if deleted else _fields(obj, CUSTOMER_FIELDS) | {"restricted": obj.restricted_at is not None}
    )
    days = frozenset({local_day(obj.created_at)}) if (is_new or deleted) and obj.created_at else frozenset()
    return Capture("customer", str(obj.id), "delete" if deleted else "upsert", payload, days)


def _capture_vehicle(obj: Vehicle, _is_new: bool, deleted: bool) -> Capture | None:
    payload = {"id": obj.id} if deleted else _fields(obj, VEHICLE_FIELDS)
    return Capture("vehicle", str(obj.id), "delete" if deleted else "upsert", payload, frozenset())


def _capture_appointment(obj: Appointment, _is_new: bool, deleted: bool) -> Capture | None:
    payload = {"id": obj.id} if deleted else _fields(obj, APPOINTMENT_FIELDS)
    return Capture("appointment", str(obj.id), "delete" if deleted else "upsert", payload, _appointment_days(obj))


def _capture_work_order(obj: WorkOrder, is_new: bool, deleted: bool) -> Capture | None:
    if deleted:
        return Capture("work_order", str(obj.id), "delete", {"id": obj.id}, frozenset())
    if not is_new and not _changed(obj, "status"):
        return None  # only the status travels; line edits stay local
    return Capture("work_order", str(obj.id), "upsert", _fields(obj, WORK_ORDER_FIELDS), frozenset())


def _capture_invoice(obj: Invoice, is_new: bool, deleted: bool) -> Capture | None:
    # Drafts stay local; a final invoice is sent once (it can never change or be deleted afterwards).
    if deleted or obj.status != "final" or not (is_new or _changed(obj, "status")):
        return None
    payload = _fields(obj, INVOICE_FIELDS) | {"taxes": _invoice_taxes(obj.document_json)}
    days = frozenset({obj.issue_date}) if obj.issue_date else frozenset()
    return Capture("invoice", str(obj.id), "upsert", payload, days)


def _invoice_taxes(document_json: str) -> list[dict[str, Any]]:
    """Net and tax per VAT rate as printed on the invoice (from its frozen document)."""
    if not document_json:
        return []
    taxes = json.loads(document_json).get("taxes", [])
    # The frozen document writes Decimals as {"$d": "19.00"} (app.invoice_document); the wire wants strings.
    return [{k: _undollar(t.get(k)) for k in ("category", "rate", "net", "tax")} for t in taxes]


def _undollar(value: Any) -> Any:
    return value["$d"] if isinstance(value, dict) and "$d" in value else value


def _capture_payment(obj: Payment, is_new: bool, deleted: bool) -> Capture | None:
    if deleted or not is_new:
        return None
    return Capture("payment", str(obj.id), "upsert", _fields(obj, PAYMENT_FIELDS), frozenset())


Capturer = Callable[[Any, bool, bool], Capture | None]
CAPTURERS: dict[type, Capturer] = {
    Customer: _capture_customer,
    Vehicle: _capture_vehicle,
    Appointment: _capture_appointment,
    WorkOrder: _capture_work_order,
    Invoice: _capture_invoice,
    Payment: _capture_payment,
}


def _captures(session: Session) -> Iterator[Capture]:
    for objects, is_new, deleted in (
        (session.new, True, False),
        (session.dirty, False, False),
        (session.deleted, False, True),
    ):
        for obj in objects:
            capturer = CAPTURERS.get(type(obj))
            if capturer is None or (not is_new and not deleted and not session.is_modified(obj)):
                continue
            found = capturer(obj, is_new, deleted)
            if found is not None:
                yield found


def node_for(device_id: str | None) -> str:
    """The HLC node name of a device (its id without dashes), or ``local`` before registration."""
    return device_id.replace("-", "") if device_id else "local"


class OutboxCapture:
    """The listener installed on one database's session factory, with the HLC that stamps its changes."""

    def __init__(self, clock: HybridLogicalClock) -> None:
        self.clock = clock
        self._lock = threading.Lock()

    @classmethod
    def install(cls, db: Database) -> OutboxCapture:
        """Start capturing on ``db.sessions``; the HLC resumes after the newest stamp in the outbox."""
        with db.engine.connect() as conn:
            state = conn.execute(select(SyncState.device_id).where(SyncState.id == 1)).first()
            newest = conn.execute(select(func.max(OutboxEntry.hlc))).scalar()
        last = None
        if newest:
            try:
                last = HlcStamp.parse(newest)
            except HlcError:
                last = None
        capture = cls(HybridLogicalClock(node_for(state[0] if state else None), last=last))
        event.listen(db.sessions, "after_flush", capture.after_flush)
        return capture

    def uninstall(self, db: Database) -> None:
        """Stop capturing (tests, and when a device is unregistered)."""
        event.remove(db.sessions, "after_flush", self.after_flush)

    def set_node(self, device_id: str | None) -> None:
        """Stamp further changes with this device's id (after registration)."""
        with self._lock:
            self.clock = HybridLogicalClock(node_for(device_id), last=self.clock.last)

    def after_flush(self, session: Session, _flush_context: UOWTransaction) -> None:
        """Write an outbox row per captured change, on the flushing transaction's connection."""
        captures = list(_captures(session))
        if captures:
            write_captures(session.connection(), captures, self.clock)


def write_captures(conn: Connection, captures: list[Capture], clock: HybridLogicalClock) -> None:
    """Queue ``captures`` (replacing still-pending ops of the same entity) and mark their days dirty."""
    days: set[dt.date] = set()
    for item in captures:
        days |= item.days
        body = json.dumps(item.payload, separators=(",", ":"), sort_keys=True)
        stamp = clock.now().encode()
        if item.entity not in IMMUTABLE:
            replaced = conn.execute(
                update(OutboxEntry)
                .where(
                    OutboxEntry.entity == item.entity,
                    OutboxEntry.entity_id == item.entity_id,
                    OutboxEntry.state == "pending",
                )
                .values(op=item.op, payload=body, hlc=stamp)
            )
            if replaced.rowcount:
                continue
        conn.execute(
            insert(OutboxEntry).values(
                op_id=new_op_id(),
                entity=item.entity,
                entity_id=item.entity_id,
                op=item.op,
                payload=body,
                hlc=stamp,
                state="pending",
                attempts=0,
                last_error="",
                created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            )
        )
    mark_days_dirty(conn, days)


def mark_days_dirty(conn: Connection, days: set[dt.date] | frozenset[dt.date]) -> None:
    """Remember that the daily facts of ``days`` must be recomputed."""
    if days:
        stmt = sqlite_insert(SyncDirtyDay).on_conflict_do_nothing(index_elements=["day"])
        conn.execute(stmt, [{"day": day} for day in sorted(days)])


def backfill(session: Session, clock: HybridLogicalClock, *, chunk: int = 2000) -> int:
    """Queue every existing syncable row (first registration of an installation); returns the op count.

    Reads plain rows page by page (keyset on the id; the capturers only read column attributes), so memory
    stays flat and 100,000 records take seconds; final invoices only, like the capture.
    """
    conn = session.connection()
    count = 0
    for model, capturer in CAPTURERS.items():
        table = model.__table__  # type: ignore[attr-defined]
        last_id = 0
        while True:
            query = select(table).where(table.c.id > last_id).order_by(table.c.id).limit(chunk)
            if model is Invoice:
                query = query.where(table.c.status == "final")
            page = conn.execute(query).all()
            if not page:
                break
            last_id = page[-1].id
            captures = [found for row in page if (found := capturer(row, True, False)) is not None]
            count += _write_plain(conn, captures, clock)
    return count


def _write_plain(conn: Connection, captures: list[Capture], clock: HybridLogicalClock) -> int:
    """Insert ops without looking for pending ones (the backfill writes each entity once)."""
    if not captures:
        return 0
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    conn.execute(
        insert(OutboxEntry),
        [
            {
                "op_id": new_op_id(),
                "entity": c.entity,
                "entity_id": c.entity_id,
                "op": c.op,
                "payload": json.dumps(c.payload, separators=(",", ":"), sort_keys=True),
                "hlc": clock.now().encode(),
                "state": "pending",
                "attempts": 0,
                "last_error": "",
                "created_at": now,
            }
            for c in captures
        ],
    )
    mark_days_dirty(conn, set().union(*(c.days for c in captures)))
    return len(captures)


def registered_device(engine: Engine) -> str | None:
    """The registered device id of this database, or None (also before migration 0004)."""
    try:
        with engine.connect() as conn:
            return conn.execute(select(SyncState.device_id).where(SyncState.id == 1)).scalar()
    except OperationalError:
        return None
