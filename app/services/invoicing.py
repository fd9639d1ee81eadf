"""Invoices: drafts from work orders, finalising (number, VAT, PDF/A-3 + e-invoice, archive, audit, hash
chain, legal hold – in ONE transaction), Stornorechnungen, reprints and the XRechnung export.

State machine of an invoice row: draft → final. Nothing else: a final invoice is corrected by a
Stornorechnung (its own final invoice citing the original), never edited (INV-05, INV-06, GOBD-01).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.changes import Changes
from app.db import Database
from app.errors import InvalidTransition, NotFound, ValidationError
from app.invoice_document import DocLine, InvoiceDocument, document_from_json, document_to_json
from app.models import Customer, Invoice, InvoiceArchive, InvoiceLine, NumberRange, Vehicle, WorkOrder
from app.retention import RetentionCategory
from app.services import audit, invoice_build, numbering
from app.services.order_lines import RateTotal
from app.services.privacy import add_hold_in
from app.services.settings import workshop_row
from app.tax import negated

TRANSITIONS = frozenset({("draft", "final")})


@dataclass(frozen=True)
class FinalizeResult:
    """What `carbot invoice finalize --json` prints."""

    id: int
    number: str
    kind: str
    issue_date: dt.date
    taxes: tuple[RateTotal, ...]
    net: Decimal
    tax: Decimal
    gross: Decimal
    altteil_tax: Decimal
    small_invoice: bool
    reverse_charge: bool


def _result(inv: Invoice, doc: InvoiceDocument) -> FinalizeResult:
    assert inv.number is not None and inv.issue_date is not None
    return FinalizeResult(
        id=inv.id,
        number=inv.number,
        kind=inv.kind,
        issue_date=inv.issue_date,
        taxes=tuple(RateTotal(str(t.category), t.rate, t.net, t.tax) for t in doc.taxes),
        net=doc.net_total,
        tax=doc.tax_total,
        gross=doc.gross_total,
        altteil_tax=doc.altteil_tax,
        small_invoice=doc.small_invoice,
        reverse_charge=doc.reverse_charge,
    )


class InvoiceService:
    """Creates, finalises, cancels and reprints invoices."""

    def __init__(self, db: Database, *, today: dt.date | None = None, validate: bool = True) -> None:
        self._db = db
        self._today = today
        self.validate = validate

    @property
    def today(self) -> dt.date:
        """Today (fixed in tests)."""
        return self._today or dt.date.today()

    # --- drafts ---------------------------------------------------------------------------------

    def create_draft_from_order(
        self, order_id: int, *, user: str = "", number_range: str | None = None
    ) -> tuple[int, Changes]:
        """Turn a completed work order into an invoice draft – no retyping (DOM-04). ``number_range`` is the
        prefix of the range (site or device, INV-04) whose number the invoice gets; default: the first
        active range."""
        from app.services.work_orders import check_invoiceable

        with self._db.unit() as s:
            check_invoiceable(s, order_id)
            range_id = numbering.range_id_in(s, number_range) if number_range is not None else None
            order = s.get(WorkOrder, order_id, options=[selectinload(WorkOrder.lines)])
            assert order is not None
            workshop = workshop_row(s)
            inv = Invoice(
                work_order_id=order.id,
                customer_id=order.customer_id,
                vehicle_id=order.vehicle_id,
                service_date=order.date_of_service or self.today,
                mileage=order.mileage_in,
                payment_terms_days=workshop.payment_terms_days,
                range_id=range_id,
            )
            for position, ln in enumerate((ln for ln in order.lines if not ln.proposed), start=1):
                labour = ln.kind == "labour"
                inv.lines.append(
                    InvoiceLine(
                        position=position,
                        kind=ln.kind,
                        text=ln.text,
                        part_no=ln.part_no,
                        quantity=ln.aw if labour and ln.aw is not None else ln.quantity,
                        unit_code=ln.unit_code,
                        unit_label="AW" if labour else ln.unit_label,
                        unit_price_net=None if labour else ln.unit_price_net,
                        vat_rate=ln.vat_rate,
                        aw=ln.aw if labour else None,
                        aw_per_hour=workshop.aw_per_hour if labour else None,
                        hourly_rate=workshop.labour_rate_net if labour else None,
                        discount_percent=ln.discount_percent,
                        discount_amount_net=ln.discount_amount_net,
                    )
                )
            s.add(inv)
            s.flush()
            audit.log_in(
                s,
                user=user,
                entity="invoice",
                entity_id=inv.id,
                action="create",
                new={"work_order": order.number, "lines": len(inv.lines)},
            )
            return inv.id, Changes(invoices=True)

    def delete_draft(self, invoice_id: int, *, user: str = "") -> Changes:
        """Abandon a draft: it never had a number, so no number is lost (INV-03)."""
        with self._db.unit() as s:
            inv = self._load(s, invoice_id)
            if inv.status != "draft":
                self._deny(invoice_id, user, {"action": "delete"})
            audit.log_in(s, user=user, entity="invoice", entity_id=inv.id, action="delete", old={"status": "draft"})
            s.delete(inv)
        return Changes(invoices=True)

    def set_draft_line_text(self, invoice_id: int, position: int, text: str, *, user: str = "") -> Changes:
        """Edit a draft line's text; on a final invoice the attempt is refused and logged (INV-05)."""
        with self._db.unit() as s:
            inv = self._load(s, invoice_id)
            if inv.status != "draft":
                self._deny(invoice_id, user, {"action": "edit_line", "position": position, "text": text})
            for ln in inv.lines:
                if ln.position == position:
                    ln.text = text.strip()
        return Changes(invoices=True)

    def _deny(self, invoice_id: int, user: str, attempt: dict[str, Any]) -> None:
        audit.log_denied(self._db, user=user, entity="invoice", entity_id=invoice_id, attempt=attempt)
        raise InvalidTransition(
            "Die Rechnung ist festgeschrieben und kann nicht mehr geändert werden – bitte stornieren und neu "
            "erstellen (GoBD)."
        )

    # --- finalising -----------------------------------------------------------------------------

    def finalize(self, invoice_id: int, *, user: str = "", issue_date: dt.date | None = None) -> FinalizeResult:
        """Assign the number and issue the invoice, all in one transaction (INV-03, GOBD-01/02, INV-07)."""
        with self._db.unit() as s:
            inv = self._load(s, invoice_id)
            if (inv.status, "final") not in TRANSITIONS:
                self._deny(invoice_id, user, {"action": "finalize"})
            if not inv.lines:
                raise ValidationError("Eine Rechnung ohne Positionen kann nicht festgeschrieben werden.", field="lines")
            doc = self._issue(s, inv, user=user, issue_date=issue_date or self.today)
            return _result(inv, doc)

    def _issue(self, s: Session, inv: Invoice, *, user: str, issue_date: dt.date) -> InvoiceDocument:
        workshop = workshop_row(s)
        customer = s.get(Customer, inv.customer_id) if inv.customer_id else None
        vehicle = s.get(Vehicle, inv.vehicle_id) if inv.vehicle_id else None
        invoice_build.check_seller(workshop)
        original = self._original_document(s, inv)
        if original is None:
            result = invoice_build.compute_invoice(inv, invoice_build.tax_context(workshop, customer, vehicle))
        else:
            # A Storno repeats the original's frozen figures negated – never recomputed from today's master data.
            result = negated(invoice_build.result_of(original))
        small = result.small_invoice_allowed and original is None and result.gross_total > 0
        if original is None:
            invoice_build.check_buyer(customer, small_invoice=small)
        rng = numbering.default_range_in(s) if inv.range_id is None else s.get_one(NumberRange, inv.range_id)
        number = numbering.allocate_in(s, rng, issue_date.year)
        due = issue_date + dt.timedelta(days=inv.payment_terms_days)
        notes = list(result.notes)
        if original is not None:
            notes.insert(0, f"Stornorechnung zur Rechnung Nr. {original.number} vom {original.issue_date:%d.%m.%Y}.")
            if inv.reason:
                notes.insert(1, f"Grund: {inv.reason}")
        doc = InvoiceDocument(
            number=number,
            issue_date=issue_date,
            service_date=inv.service_date or issue_date,
            seller=invoice_build.seller_party(workshop) if original is None else original.seller,
            buyer=invoice_build.buyer_party(customer) if original is None else original.buyer,
            lines=result.lines,
            taxes=result.taxes,
            net_total=result.net_total,
            tax_total=result.tax_total,
            gross_total=result.gross_total,
            due_date=due,
            payment_terms=invoice_build.payment_terms(inv.payment_terms_days, due)
            if original is None
            else "Der Betrag wird verrechnet bzw. erstattet.",
            iban=workshop.iban,
            bic=workshop.bic,
            bank_name=workshop.bank_name,
            vehicle=invoice_build.vehicle_info(vehicle, inv.mileage) if original is None else original.vehicle,
            altteil_tax=result.altteil_tax,
            is_storno=original is not None,
            cancels=(original.number, original.issue_date) if original is not None else None,
            reverse_charge=result.reverse_charge,
            small_invoice=small,
            kleinunternehmer=result.kleinunternehmer,
            notes=tuple(notes),
            buyer_reference=(customer.number if customer else "n/a") if original is None else original.buyer_reference,
            customer_number=(customer.number if customer else "") if original is None else original.customer_number,
            order_number=self._order_number(s, inv),
        )
        files = invoice_build.issue_files(doc, workshop=workshop, validate=self.validate)
        _store_document_lines(s, inv, result.lines)
        s.add(
            InvoiceArchive(
                invoice_id=inv.id, pdf=files.pdf, xml=files.xml, pdf_sha256=hashlib.sha256(files.pdf).hexdigest()
            )
        )
        inv.number = number
        inv.range_id = rng.id
        inv.issue_date = issue_date
        inv.due_date = due
        inv.net_total = result.net_total
        inv.tax_total = result.tax_total
        inv.gross_total = result.gross_total
        inv.altteil_tax = result.altteil_tax
        inv.reverse_charge = result.reverse_charge
        inv.small_invoice = small
        inv.document_json = document_to_json(doc)
        inv.finalized_by = user
        inv.finalized_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        inv.status = "final"
        s.flush()
        if inv.work_order_id is not None and original is None:
            from app.services.work_orders import mark_invoiced_in

            mark_invoiced_in(s, inv.work_order_id)
        audit.log_in(
            s,
            user=user,
            entity="invoice",
            entity_id=inv.id,
            action="finalize",
            new={"number": number, "gross": str(result.gross_total)},
        )
        audit.chain_in(s, entity="invoice", entity_id=inv.id)
        if inv.customer_id is not None:
            add_hold_in(
                s,
                customer_id=inv.customer_id,
                entity="invoice",
                entity_id=inv.id,
                category=RetentionCategory.VOUCHER_8Y,
                reason=f"Rechnung {number}",
                event_date=issue_date,
            )
        return doc

    @staticmethod
    def _order_number(s: Session, inv: Invoice) -> str:
        if inv.work_order_id is None:
            return ""
        order = s.get(WorkOrder, inv.work_order_id)
        return order.number if order else ""

    @staticmethod
    def _original_document(s: Session, inv: Invoice) -> InvoiceDocument | None:
        if inv.cancels_id is None:
            return None
        original = s.get(Invoice, inv.cancels_id)
        assert original is not None
        return document_from_json(original.document_json)

    # --- cancellation ---------------------------------------------------------------------------

    def cancel(self, number: str, *, reason: str, user: str = "", issue_date: dt.date | None = None) -> FinalizeResult:
        """Issue a Stornorechnung: own number, cites the original number and date, negated lines (INV-06)."""
        if not reason.strip():
            raise ValidationError("Bitte einen Grund für die Stornierung angeben.", field="reason")
        with self._db.unit() as s:
            original = self._by_number(s, number)
            if original.kind != "invoice" or original.status != "final":
                raise InvalidTransition("Nur festgeschriebene Rechnungen können storniert werden.")
            if s.scalar(select(Invoice.id).where(Invoice.cancels_id == original.id)) is not None:
                raise InvalidTransition("Die Rechnung {number} ist bereits storniert.", number=number)
            storno = Invoice(
                kind="storno",
                cancels_id=original.id,
                customer_id=original.customer_id,
                vehicle_id=original.vehicle_id,
                work_order_id=None,
                service_date=original.service_date,
                mileage=original.mileage,
                payment_terms_days=0,
                reason=reason.strip(),
                range_id=original.range_id,
            )
            for ln in original.lines:
                storno.lines.append(
                    InvoiceLine(
                        position=ln.position,
                        kind=ln.kind,
                        text=ln.text,
                        part_no=ln.part_no,
                        quantity=-ln.quantity,
                        unit_code=ln.unit_code,
                        unit_label=ln.unit_label,
                        unit_price_net=ln.unit_price_net,
                        vat_rate=ln.vat_rate,
                        aw=-ln.aw if ln.aw else ln.aw,
                        aw_per_hour=ln.aw_per_hour,
                        hourly_rate=ln.hourly_rate,
                        discount_percent=ln.discount_percent,
                        discount_amount_net=-ln.discount_amount_net if ln.discount_amount_net else None,
                    )
                )
            s.add(storno)
            s.flush()
            if original.work_order_id is not None:
                from app.services.work_orders import invoice_cancelled_in

                invoice_cancelled_in(s, original.work_order_id)
            audit.log_in(
                s, user=user, entity="invoice", entity_id=original.id, action="cancel", new={"reason": reason.strip()}
            )
            doc = self._issue(s, storno, user=user, issue_date=issue_date or self.today)
            return _result(storno, doc)

    # --- reading --------------------------------------------------------------------------------

    def _load(self, s: Session, invoice_id: int) -> Invoice:
        inv = s.get(Invoice, invoice_id, options=[selectinload(Invoice.lines)])
        if inv is None:
            raise NotFound("Die Rechnung {id} gibt es nicht.", id=invoice_id)
        return inv

    @staticmethod
    def _by_number(s: Session, number: str) -> Invoice:
        inv = s.scalar(select(Invoice).where(Invoice.number == number.strip()).options(selectinload(Invoice.lines)))
        if inv is None:
            raise NotFound("Die Rechnung {number} gibt es nicht.", number=number)
        return inv

    def pdf(self, number: str) -> bytes:
        """The archived PDF/A-3, byte for byte as issued (INV-07)."""
        with self._db.unit() as s:
            inv = self._by_number(s, number)
            archive = s.get(InvoiceArchive, inv.id)
            assert archive is not None
            return archive.pdf

    def xml(self, number: str) -> bytes:
        """The archived EN 16931 CII XML embedded in the PDF."""
        with self._db.unit() as s:
            archive = s.get(InvoiceArchive, self._by_number(s, number).id)
            assert archive is not None
            return archive.xml

    def xrechnung(self, number: str) -> bytes:
        """XRechnung 3.0 CII XML of an issued invoice, built from its frozen document and validated."""
        from app.einvoice.cii import build_cii
        from app.einvoice.validate import ensure_valid

        with self._db.unit() as s:
            doc = document_from_json(self._by_number(s, number).document_json)
        xml = build_cii(doc, profile="xrechnung")
        ensure_valid(xml, profile="xrechnung")
        return xml

    def document_id(self, number: str) -> int:
        """The database id of an issued invoice."""
        with self._db.unit() as s:
            return self._by_number(s, number).id

    def document(self, number: str) -> InvoiceDocument:
        """The frozen document of an issued invoice."""
        with self._db.unit() as s:
            return document_from_json(self._by_number(s, number).document_json)


def _store_document_lines(s: Session, inv: Invoice, lines: tuple[DocLine, ...]) -> None:
    """Replace the draft lines by exactly the lines of the issued document (split discounts and the
    generated Altteil lines included), so the stored lines and the PDF/XML always agree."""
    inv.lines.clear()
    s.flush()
    for d in lines:
        inv.lines.append(
            InvoiceLine(
                position=d.position,
                kind=str(d.kind),
                text=d.text,
                part_no=d.part_no,
                quantity=d.quantity,
                unit_code=d.unit_code,
                unit_label=d.unit_label,
                unit_price_net=d.unit_price_net,
                vat_rate=d.vat_rate,
                aw=d.aw,
                aw_per_hour=d.aw_per_hour,
                hourly_rate=d.hourly_rate,
                net=d.net,
            )
        )
    s.flush()
