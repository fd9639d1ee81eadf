"""GoBD audit log and hash chain (GOBD-01, GOBD-02).

``log_in`` appends an audit entry inside the caller's transaction; ``log_denied`` records a refused
attempt in its own transaction (the caller's work is rolled back, the record of the attempt is not).
``chain_in`` appends a link over the canonical payload of a finalised invoice, a payment or a cash
record, built from the stored row itself, so ``verify`` can rebuild every payload and find any row
that was changed behind the application's back (e.g. with the database guards removed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import AuditEntry, CashRecord, ChainEntry, Invoice, InvoiceArchive, Payment

GENESIS = "0" * 64


def canonical(payload: dict[str, Any]) -> bytes:
    """Stable JSON bytes: sorted keys, no spaces, Decimals and dates as strings."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False).encode()


def sha256(data: bytes | str) -> str:
    """Hex SHA-256."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def num(value: Decimal | None) -> str | None:
    """A Decimal as text independent of its stored scale ("4.500" and "4.5" are the same amount)."""
    return None if value is None else format(value.normalize(), "f")


def _invoice_payload(s: Session, entity_id: int) -> dict[str, Any]:
    inv = s.get(Invoice, entity_id)
    if inv is None:
        return {"missing": entity_id}
    archive = s.get(InvoiceArchive, entity_id)
    lines = [
        [ln.position, ln.kind, ln.text, num(ln.quantity), num(ln.unit_price_net), num(ln.vat_rate), num(ln.net)]
        for ln in inv.lines
    ]
    return {
        "number": inv.number,
        "kind": inv.kind,
        "status": inv.status,
        "issue_date": inv.issue_date,
        "service_date": inv.service_date,
        "cancels_id": inv.cancels_id,
        "net": num(inv.net_total),
        "tax": num(inv.tax_total),
        "gross": num(inv.gross_total),
        "altteil_tax": num(inv.altteil_tax),
        "document_sha256": sha256(inv.document_json),
        "lines_sha256": sha256(canonical({"lines": lines})),
        # Hashed from the stored bytes, not read from the pdf_sha256 column: a swapped PDF must show.
        "pdf_sha256": sha256(archive.pdf) if archive else None,
        "xml_sha256": sha256(archive.xml) if archive else None,
    }


def _payment_payload(s: Session, entity_id: int) -> dict[str, Any]:
    pay = s.get(Payment, entity_id)
    if pay is None:
        return {"missing": entity_id}
    return {
        "invoice": pay.invoice.number,
        "amount": num(pay.amount),
        "method": pay.method,
        "date": pay.date,
        "reference": pay.reference,
    }


def _cash_payload(s: Session, entity_id: int) -> dict[str, Any]:
    cash = s.get(CashRecord, entity_id)
    if cash is None:
        return {"missing": entity_id}
    return {"payment_id": cash.payment_id, "amount": num(cash.amount), "recorded_at": cash.recorded_at}


PAYLOADS: dict[str, Callable[[Session, int], dict[str, Any]]] = {
    "invoice": _invoice_payload,
    "payment": _payment_payload,
    "cash_record": _cash_payload,
}


def log_in(
    session: Session,
    *,
    user: str,
    entity: str,
    entity_id: int,
    action: str,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> None:
    """Append an audit entry in the caller's transaction."""
    session.add(
        AuditEntry(
            user=user,
            entity=entity,
            entity_id=entity_id,
            action=action,
            old=canonical(old).decode() if old is not None else "",
            new=canonical(new).decode() if new is not None else "",
        )
    )


def log_denied(db: Database, *, user: str, entity: str, entity_id: int, attempt: dict[str, Any]) -> None:
    """Record a refused change of a protected record in its own transaction (INV-05)."""
    with db.unit() as s:
        log_in(s, user=user, entity=entity, entity_id=entity_id, action="denied", new=attempt)


def chain_in(session: Session, *, entity: str, entity_id: int) -> str:
    """Append a hash-chain link for a stored row; returns the new hash. The payload is always built from
    the stored row itself, so ``verify`` can rebuild exactly what was chained."""
    session.flush()
    built = PAYLOADS[entity](session, entity_id)
    last = session.scalars(select(ChainEntry).order_by(ChainEntry.id.desc()).limit(1)).first()
    prev = last.hash if last else GENESIS
    payload_hash = sha256(canonical(built))
    link = sha256(f"{prev}|{entity}|{entity_id}|{payload_hash}")
    session.add(ChainEntry(entity=entity, entity_id=entity_id, payload_sha256=payload_hash, prev_hash=prev, hash=link))
    session.flush()
    return link


_CHAINED_ACTIONS = (("invoice", "finalize", "Rechnung"), ("payment", "create", "Zahlung"),
                    ("cash_record", "create", "Kassenbuchung"))  # fmt: skip


def _unchained(s: Session) -> list[str]:
    """Records the audit log says were finalised or created but that have no link: removing the newest
    link leaves no break in the chain, so it must not hide a record changed after it."""
    chained = {(entity, entity_id) for entity, entity_id in s.execute(select(ChainEntry.entity, ChainEntry.entity_id))}
    problems: list[str] = []
    for entity, action, label in _CHAINED_ACTIONS:
        logged = s.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.entity == entity, AuditEntry.action == action).distinct()
        )
        for entity_id in sorted(set(logged)):
            if (entity, entity_id) in chained:
                continue
            number = s.scalar(select(Invoice.number).where(Invoice.id == entity_id)) if entity == "invoice" else None
            name = f"{label} {number} (id {entity_id})" if number else f"{label} {entity_id}"
            problems.append(f"{name} fehlt in der Prüfkette")
    return problems


@dataclass(frozen=True)
class ChainReport:
    """Result of ``verify``: number of links checked and every problem found (German)."""

    checked: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the chain and every covered record are intact."""
        return not self.problems


class AuditService:
    """Reads the audit log and verifies the hash chain (`carbot audit verify`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def verify(self) -> ChainReport:
        """Recompute every payload and link; report breaks and changed records."""
        problems: list[str] = []
        prev = GENESIS
        count = 0
        with self._db.unit() as s:
            for link in s.scalars(select(ChainEntry).order_by(ChainEntry.id)):
                count += 1
                builder = PAYLOADS.get(link.entity)
                if builder is None:
                    problems.append(f"Glied {link.id}: unbekannter Typ {link.entity}")
                    continue
                if link.prev_hash != prev:
                    problems.append(f"Glied {link.id}: Kette unterbrochen (Vorgänger-Hash passt nicht)")
                payload_hash = sha256(canonical(builder(s, link.entity_id)))
                if payload_hash != link.payload_sha256:
                    problems.append(f"Glied {link.id}: {link.entity} {link.entity_id} wurde verändert")
                expected = sha256(f"{link.prev_hash}|{link.entity}|{link.entity_id}|{link.payload_sha256}")
                if expected != link.hash:
                    problems.append(f"Glied {link.id}: Hash des Glieds stimmt nicht")
                prev = link.hash
            problems += _unchained(s)
        return ChainReport(count, tuple(problems))

    def entries(self, *, entity: str | None = None, entity_id: int | None = None, limit: int = 200) -> list[AuditRow]:
        """The newest audit entries, optionally for one record."""
        with self._db.unit() as s:
            query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if entity:
                query = query.where(AuditEntry.entity == entity)
            if entity_id is not None:
                query = query.where(AuditEntry.entity_id == entity_id)
            return [AuditRow(e.id, e.at.isoformat(), e.user, e.entity, e.entity_id, e.action) for e in s.scalars(query)]


@dataclass(frozen=True)
class AuditRow:
    """One audit entry for display."""

    id: int
    at: str
    user: str
    entity: str
    entity_id: int
    action: str
