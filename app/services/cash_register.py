"""The cash register: THE one place where a cash movement at the counter is recorded.

Every cash payment (and every cash refund, which is a negative payment) becomes exactly one
``CashRecord`` here, chained into the GoBD hash chain (entity "cash_record") and written to the
audit log. No other code may create ``CashRecord`` rows; services call :meth:`CashRegister.record_in`
inside their own unit of work, so the payment, its cash record, the chain links and the audit entries
commit or roll back together.

KassenSichV (§146a AO, later issue): once the counter records cash, a certified TSE (technical security
module, BSI TR-03153) must sign every transaction. The TSE plugs in behind the :class:`Signer`
protocol: ``record_in`` starts a TSE transaction, finishes it with the process data (amount, payment
type) and stores transaction number, signature and status in the record. Because ``cash_record`` is
append-only (database triggers), the record is inserted only *after* the signer has finished, never
updated afterwards. A signer that fails raises, which rolls back the whole unit of work – an unsigned
cash sale cannot slip through unless a future outage mode returns an explicit status such as
"tse_failed" and that outage is logged. Until then :class:`NoTse` marks every record "no_tse".
A cash cancellation (KASSE-04) is a new, negative record – nothing is ever changed or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.orm import Session

from app.models import CashRecord, Payment
from app.money import round_money
from app.services.audit import chain_in, log_in

NO_TSE = "no_tse"


@dataclass(frozen=True)
class TseResult:
    """What a signer hands back for one finished transaction."""

    transaction: str
    signature: str
    status: str


class Signer(Protocol):
    """A TSE (or its stand-in): wraps one cash movement in a signed transaction."""

    def start(self, *, amount: Decimal, payment_id: int) -> str:
        """Open a transaction before the movement is recorded; returns the signer's transaction handle."""
        ...

    def finish(self, handle: str, *, amount: Decimal, payment_type: str, process_data: str) -> TseResult:
        """Close the transaction with the final process data and return number, signature and status."""
        ...


class NoTse:
    """The default until a certified TSE is connected: signs nothing, marks records "no_tse"."""

    def start(self, *, amount: Decimal, payment_id: int) -> str:
        """No transaction to open."""
        del amount, payment_id  # the protocol's arguments; nothing to sign without a TSE
        return ""

    def finish(self, handle: str, *, amount: Decimal, payment_type: str, process_data: str) -> TseResult:
        """No signature; the record says so."""
        del handle, amount, payment_type, process_data
        return TseResult(transaction="", signature="", status=NO_TSE)


def cash_record_payload(record: CashRecord) -> dict[str, Any]:
    """The chained content of a stored cash record; must equal what ``app.services.audit`` rebuilds for
    "cash_record" (``chain_in`` compares both, so a drift fails loudly instead of breaking ``verify``)."""
    return {"payment_id": record.payment_id, "amount": str(record.amount), "recorded_at": record.recorded_at}


def _audit_payload(record: CashRecord) -> dict[str, Any]:
    return {
        **cash_record_payload(record),
        "tse_transaction": record.tse_transaction,
        "tse_signature": record.tse_signature,
        "tse_status": record.tse_status,
    }


class CashRegister:
    """Records cash movements; the only creator of ``CashRecord`` rows."""

    def __init__(self, signer: Signer | None = None) -> None:
        self._signer: Signer = signer if signer is not None else NoTse()

    def record_in(self, session: Session, payment: Payment, *, user: str) -> CashRecord:
        """Record the cash movement of ``payment`` (positive: money in, negative: refund) in ``session``.

        The caller owns the transaction; the payment must be a cash payment. Returns the flushed record.
        """
        if payment.method != "cash":
            raise ValueError(f"only cash payments go through the cash register, not {payment.method!r}")
        if payment.id is None:
            session.flush()  # the record references the payment's id
        amount = round_money(payment.amount)
        handle = self._signer.start(amount=amount, payment_id=payment.id)
        process_data = f"payment={payment.id};invoice={payment.invoice_id};amount={amount}"
        result = self._signer.finish(handle, amount=amount, payment_type="Bar", process_data=process_data)
        record = CashRecord(
            payment_id=payment.id,
            amount=amount,
            tse_transaction=result.transaction,
            tse_signature=result.signature,
            tse_status=result.status,
        )
        session.add(record)
        session.flush()  # id and recorded_at are needed for the chain payload
        chain_in(session, entity="cash_record", entity_id=record.id)
        log_in(
            session,
            user=user,
            entity="cash_record",
            entity_id=record.id,
            action="create",
            old=None,
            new=_audit_payload(record),
        )
        return record
