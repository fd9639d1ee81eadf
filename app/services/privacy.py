"""Customer data rights at the counter: Art. 15/20 export, Art. 17 erasure and the final purge.

Erasure follows the deletion concept of the law reference (§3.1): everything without a legal hold
is deleted, the consent proof survives only in the request log (§7a UWG, 5 years), and whatever a
hold protects stays **restricted** (Art. 18): name and address only, hidden from search and lists.
``purge_expired`` deletes restricted customers once their retention clocks have ended (GDPR-01).
Holds are generic (``entity``/``entity_id``), so invoices and orders of later waves plug in as-is.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, delete, or_, select, text
from sqlalchemy.orm import Session

from app import formatting, retention
from app.changes import Changes
from app.db import Database
from app.errors import NotFound, ValidationError
from app.i18n import N_, _
from app.models import (
    Appointment,
    Consent,
    Contact,
    Customer,
    Estimate,
    Invoice,
    LegalHold,
    MileageReading,
    ObdProtocolMemory,
    ObdRecording,
    ObdScan,
    PrivacyRequest,
    Vehicle,
    VehicleEvent,
    WorkOrder,
)
from app.models.base import utcnow
from app.services.privacy_export import build_zip, record

ENTITY_LABELS = {
    "customer": N_("Kunde"),
    "contact": N_("Kontakt"),
    "consent": N_("Einwilligung"),
    "vehicle": N_("Fahrzeug"),
    "appointment": N_("Termin"),
    "invoice": N_("Rechnung"),
    "order": N_("Auftrag"),
    "estimate": N_("Kostenvoranschlag"),
}
# Entities of this wave that belong to a customer: a hold on one of them must name the owner's row.
_OWNED: dict[str, type[Vehicle] | type[Contact] | type[Consent] | type[Appointment]] = {
    "vehicle": Vehicle,
    "contact": Contact,
    "consent": Consent,
    "appointment": Appointment,
}
_ENTITY_NAME = re.compile(r"^[a-z][a-z_]{0,29}$")


@dataclass(frozen=True)
class LegalHoldDTO:
    """A legal hold: ``entity``/``entity_id`` must be kept until ``until`` (inclusive)."""

    id: int
    customer_id: int
    entity: str
    entity_id: int
    category: str
    reason: str
    until: dt.date

    @property
    def label(self) -> str:
        """The retention category's label, e.g. "Buchungsbelege: Rechnungen, Auftragszettel – 8 Jahre"."""
        return retention.rule(self.category).label

    def describe(self) -> str:
        """One line for the counter and the request log."""
        entity = _(ENTITY_LABELS[self.entity]) if self.entity in ENTITY_LABELS else self.entity
        line = _("{entity} {id}: {label}, aufzubewahren bis {until}").format(
            entity=entity, id=self.entity_id, label=self.label, until=formatting.date(self.until)
        )
        return f"{line} ({self.reason})" if self.reason else line


@dataclass(frozen=True)
class ErasureOutcome:
    """Result of an erasure: deleted entirely or restricted, rows removed per entity, holds kept."""

    deleted: bool
    restricted: bool
    removed: dict[str, int]
    kept: list[str]

    @property
    def changes(self) -> Changes:
        """What the views have to refresh."""
        return Changes(customers=True, vehicles=True, appointments=True)


def _hold_dto(row: LegalHold) -> LegalHoldDTO:
    return LegalHoldDTO(row.id, row.customer_id, row.entity, row.entity_id, row.category, row.reason, row.until)


def _customer(s: Session, customer_id: int) -> Customer:
    customer = s.get(Customer, customer_id)
    if customer is None:
        raise NotFound("Den Kunden {id} gibt es nicht.", id=customer_id)
    return customer


def _active_holds(s: Session, customer_id: int, today: dt.date) -> list[LegalHoldDTO]:
    query = (
        select(LegalHold)
        .where(LegalHold.customer_id == customer_id, LegalHold.until >= today)
        .order_by(LegalHold.until, LegalHold.id)
    )
    return [_hold_dto(row) for row in s.scalars(query)]


def _delete(s: Session, statement: Executable) -> int:
    return cast(CursorResult[Any], s.execute(statement)).rowcount


def add_hold_in(
    s: Session, *, customer_id: int, entity: str, entity_id: int, category: str, reason: str, event_date: dt.date
) -> LegalHold:
    """Create or extend a hold inside the caller's transaction (invoices call this on finalising).

    One hold per customer, record and category: a later event moves its end, never shortens it.
    """
    cat = retention.category(category)
    entity = entity.strip()
    if not _ENTITY_NAME.match(entity):
        raise ValidationError("Ungültiger Datensatztyp „{entity}“ für eine Aufbewahrungspflicht.", field="entity",
                              entity=entity)  # fmt: skip
    _customer(s, customer_id)
    model = _OWNED.get(entity)
    owned = entity_id == customer_id if entity == "customer" else None
    if model is not None:
        row = s.get(model, entity_id)
        owned = row is not None and getattr(row, "customer_id", None) == customer_id
    if owned is False:
        raise ValidationError("{entity} {id} gehört nicht zum Kunden {customer}.", field="entity_id",
                              entity=_(ENTITY_LABELS[entity]), id=entity_id, customer=customer_id)  # fmt: skip
    until = retention.retention_end(cat, event_date)
    hold = s.scalar(
        select(LegalHold).where(
            LegalHold.customer_id == customer_id,
            LegalHold.entity == entity,
            LegalHold.entity_id == entity_id,
            LegalHold.category == cat.value,
        )
    )
    if hold is None:
        hold = LegalHold(customer_id=customer_id, entity=entity, entity_id=entity_id, category=cat.value,
                         reason=reason.strip(), until=until)  # fmt: skip
        s.add(hold)
    elif until > hold.until:
        hold.until, hold.reason = until, reason.strip() or hold.reason
    s.flush()
    return hold


def _vehicles_on_vouchers(s: Session, vehicle_ids: list[int]) -> set[int]:
    """The vehicles an invoice, work order or KVA names: they stay (restricted) with those records, which
    point at them with ON DELETE RESTRICT and are kept by their own holds (or are GoBD-final)."""
    found: set[int] = set()
    for column in (Invoice.vehicle_id, WorkOrder.vehicle_id, Estimate.vehicle_id):
        found.update(vid for vid in s.scalars(select(column).where(column.in_(vehicle_ids))) if vid is not None)
    return found


def _customer_vouchers(s: Session, customer_id: int) -> list[str]:
    """Vouchers that still name the customer (they point at the row with ON DELETE RESTRICT)."""
    found = []
    for model, label in ((Invoice, "Rechnung"), (WorkOrder, "Auftrag"), (Estimate, "Kostenvoranschlag")):
        for number in s.scalars(select(model.number).where(model.customer_id == customer_id)):
            found.append(f"{label} {number or '(Entwurf)'}")
    return found


def _erase(s: Session, customer: Customer, today: dt.date) -> tuple[ErasureOutcome, list[dict[str, Any]]]:
    """Delete what no active hold protects; delete the customer too when nothing is held.

    Returns the outcome and the consent proof (the consent rows that were deleted).
    """
    holds = _active_holds(s, customer.id, today)
    held: dict[str, list[int]] = {}
    for hold in holds:
        held.setdefault(hold.entity, []).append(hold.entity_id)
    proof = [
        record(c, ("channel", "purpose", "granted", "text_version", "source", "recorded_by", "recorded_at"))
        for c in s.scalars(select(Consent).where(Consent.customer_id == customer.id).order_by(Consent.id))
        if c.id not in held.get("consent", [])
    ]
    vehicle_ids = [
        vid
        for vid in s.scalars(select(Vehicle.id).where(Vehicle.customer_id == customer.id))
        if vid not in held.get("vehicle", [])
    ]
    on_vouchers = _vehicles_on_vouchers(s, vehicle_ids)
    unheld, vehicle_ids = vehicle_ids, [vid for vid in vehicle_ids if vid not in on_vouchers]
    # OBD data (personal via the VIN) goes unless it belongs to a kept work order; a vehicle kept for a
    # voucher loses its other scans and recordings, and the protocol memory is never part of a voucher.
    obd_keys = [f"vehicle:{vid}" for vid in unheld] + [
        vin for vin in s.scalars(select(Vehicle.vin).where(Vehicle.id.in_(unheld))) if vin
    ]
    removed = {
        "appointment": _delete(s, delete(Appointment).where(
            Appointment.customer_id == customer.id, Appointment.id.not_in(held.get("appointment", [])))),
        "obd_scan": _delete(s, delete(ObdScan).where(ObdScan.vehicle_id.in_(unheld), or_(
            ObdScan.vehicle_id.in_(vehicle_ids), ObdScan.work_order_id.is_(None)))),
        "obd_recording": _delete(s, delete(ObdRecording).where(ObdRecording.vehicle_id.in_(unheld), or_(
            ObdRecording.vehicle_id.in_(vehicle_ids), ObdRecording.work_order_id.is_(None)))),
        "obd_protocol_memory": _delete(s, delete(ObdProtocolMemory).where(ObdProtocolMemory.vehicle_key.in_(obd_keys))),
        "mileage_reading": _delete(s, delete(MileageReading).where(MileageReading.vehicle_id.in_(vehicle_ids))),
        "vehicle_event": _delete(s, delete(VehicleEvent).where(VehicleEvent.vehicle_id.in_(vehicle_ids))),
        "vehicle": _delete(s, delete(Vehicle).where(Vehicle.id.in_(vehicle_ids))),
        "contact": _delete(s, delete(Contact).where(
            Contact.customer_id == customer.id, Contact.id.not_in(held.get("contact", [])))),
        "consent": _delete(s, delete(Consent).where(
            Consent.customer_id == customer.id, Consent.id.not_in(held.get("consent", [])))),
        "legal_hold": _delete(s, delete(LegalHold).where(
            LegalHold.customer_id == customer.id, LegalHold.until < today)),
        "customer": 0,
    }  # fmt: skip
    vouchers = _customer_vouchers(s, customer.id)
    if not holds and not vouchers:
        removed["customer"] = _delete(s, delete(Customer).where(Customer.id == customer.id))
        return ErasureOutcome(deleted=True, restricted=False, removed=removed, kept=[]), proof
    # Invoices, orders and estimates still name the customer (GoBD: final invoices are never deleted by
    # this app; removing vouchers after their retention period arrives with the retention-automation wave).
    kept_texts = [h.describe() for h in holds] + vouchers
    # Keep only what the vouchers need (name, address, VAT ID); the rest is contact data.
    customer.notes = customer.email = customer.phone = customer.mobile = ""
    if customer.restricted_at is None:
        customer.restricted_at = utcnow()  # the FTS trigger drops the customer from search
    s.flush()
    # Held vehicles point to a restricted person: take them out of the search index as well.
    kept_vehicles = s.scalars(select(Vehicle.id).where(Vehicle.customer_id == customer.id)).all()
    if kept_vehicles:
        s.execute(text("DELETE FROM search_index WHERE rowid = :rowid"), [{"rowid": v * 2 + 1} for v in kept_vehicles])
    outcome = ErasureOutcome(deleted=False, restricted=True, removed=removed, kept=kept_texts)
    return outcome, proof


def _log_request(s: Session, number: str, kind: str, user: str, outcome: dict[str, Any]) -> None:
    s.add(PrivacyRequest(customer_number=number, kind=kind, performed_by=user.strip(),
                         outcome=json.dumps(outcome, ensure_ascii=False, sort_keys=True)))  # fmt: skip
    s.flush()


def _erasure_log(
    number: str, outcome: ErasureOutcome, proof: list[dict[str, Any]], today: dt.date, *, final: bool
) -> dict[str, Any]:
    return {
        "deleted": outcome.deleted,
        "restricted": outcome.restricted,
        "final": final,
        "removed": outcome.removed,
        "kept": outcome.kept,
        # §7a UWG: the proof outlives the customer for 5 years after its last use (= today).
        "consent_proof": {
            "customer_number": number,
            "keep_until": retention.retention_end(retention.RetentionCategory.CONSENT_PROOF_5Y, today).isoformat(),
            "consents": proof,
        }
        if proof
        else None,
    }


class PrivacyService:
    """Legal holds, Art. 15/20 export, Art. 17 erasure with Art. 18 restriction, and the final purge."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_hold(
        self, *, customer_id: int, entity: str, entity_id: int, category: str, reason: str, event_date: dt.date
    ) -> LegalHoldDTO:
        """Keep ``entity``/``entity_id`` of a customer until the end of its retention period."""
        with self._db.unit() as s:
            hold = add_hold_in(s, customer_id=customer_id, entity=entity, entity_id=entity_id,
                               category=category, reason=reason, event_date=event_date)  # fmt: skip
            return _hold_dto(hold)

    def holds(self, customer_id: int, *, today: dt.date) -> list[LegalHoldDTO]:
        """The customer's active holds (``until >= today``), the soonest ending first."""
        with self._db.unit() as s:
            return _active_holds(s, customer_id, today)

    def is_restricted(self, customer_id: int) -> bool:
        """True when an erasure request had to keep the customer restricted (Art. 18)."""
        with self._db.unit() as s:
            return _customer(s, customer_id).restricted_at is not None

    def export_customer(self, customer_id: int, dest: Path, *, user: str) -> Path:
        """Write the Art. 15/20 ZIP (daten.json, one CSV per entity, LIESMICH.txt) and log the request.

        ``dest`` is the ZIP file or a folder to put it in. Restricted customers can be exported too
        (audit path). The file is written completely or not at all.
        """
        created = utcnow().replace(microsecond=0)
        written: Path | None = None
        try:
            with self._db.unit() as s:
                customer = _customer(s, customer_id)
                payload, counts = build_zip(s, customer, user=user, created=created)
                if dest.is_dir():
                    number = re.sub(r"[^A-Za-z0-9_-]", "_", customer.number)
                    dest = dest / f"DSGVO-Export_{number}_{created:%Y-%m-%d}.zip"
                _log_request(s, customer.number, "export", user, {"file": dest.name, "counts": counts})
                # Written last and atomically: a failure rolls the log back and leaves no half ZIP.
                dest.parent.mkdir(parents=True, exist_ok=True)
                partial = dest.with_name(dest.name + ".part")
                partial.write_bytes(payload)
                written = partial.replace(dest)
        except Exception:
            if written is not None:  # the commit failed after the file was written
                written.unlink(missing_ok=True)
            raise
        return dest

    def erase_customer(self, customer_id: int, *, user: str, today: dt.date) -> ErasureOutcome:
        """Art. 17: delete everything without an active hold; restrict the rest (one transaction)."""
        with self._db.unit() as s:
            customer = _customer(s, customer_id)
            number = customer.number
            outcome, proof = _erase(s, customer, today)
            _log_request(s, number, "erasure", user, _erasure_log(number, outcome, proof, today, final=False))
            return outcome

    def purge_expired(self, *, today: dt.date, user: str) -> int:
        """Final deletion when the retention clocks have ended; returns the number of customers purged.

        Restricted customers without an active hold are deleted; for the others, records whose own
        hold ended are deleted. Expired holds go, and consent proofs older than 5 years leave the log.
        """
        purged = 0
        with self._db.unit() as s:
            restricted = select(Customer).where(Customer.restricted_at.is_not(None)).order_by(Customer.id)
            for customer in s.scalars(restricted).all():
                number = customer.number
                outcome, proof = _erase(s, customer, today)
                purged += outcome.deleted
                if outcome.deleted or any(n for key, n in outcome.removed.items() if key != "legal_hold"):
                    _log_request(s, number, "erasure", user, _erasure_log(number, outcome, proof, today, final=True))
            s.execute(delete(LegalHold).where(LegalHold.until < today))
            _expire_consent_proofs(s, today)
        return purged


def _expire_consent_proofs(s: Session, today: dt.date) -> None:
    """Drop consent proofs whose 5 years (§7a UWG) have passed; the request entry itself stays."""
    for request in s.scalars(select(PrivacyRequest).where(PrivacyRequest.kind == "erasure")):
        outcome = json.loads(request.outcome or "{}")
        proof = outcome.get("consent_proof")
        if proof and dt.date.fromisoformat(proof["keep_until"]) < today:
            outcome["consent_proof"] = None
            outcome["consent_proof_deleted_on"] = today.isoformat()
            request.outcome = json.dumps(outcome, ensure_ascii=False, sort_keys=True)
