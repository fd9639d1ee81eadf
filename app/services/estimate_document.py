"""The printable Kostenvoranschlag: an :class:`EstimateDocument` built from a stored KVA, and its PDF in
the workshop's style (accent colour, logo).

Lines, taxes and totals come from the same path as the KVA's totals on screen and the later invoice:
``order_lines.to_input_line`` with the workshop's labour rate and the customer's tax context, priced by
``app.tax.compute`` – no VAT arithmetic here. The fee of a charged KVA is priced by the engine as a fee
line at the standard rate, so reverse charge and § 19 apply to it as well.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session, selectinload

from app.calendar_rules import WORKSHOP_TZ
from app.db import Database
from app.errors import NotFound
from app.invoice_document import LineKind
from app.models import Estimate, Vehicle, Workshop
from app.pdf.estimate import EstimateDocument, render_estimate_pdf
from app.pdf.layout import PdfStyle
from app.services.invoice_build import buyer_party, seller_party, vehicle_info
from app.services.order_lines import to_input_line
from app.services.order_rows import customer_in, labour_rate, sorted_lines, tax_context
from app.services.settings import workshop_row
from app.tax import compute
from app.tax_lines import InputLine

__all__ = ["RenderedEstimate", "estimate_document", "estimate_document_in", "estimate_pdf", "workshop_style"]

_FEE_RATE = Decimal("19.00")  # drawing up a KVA is a service taxed at the standard rate


@dataclass(frozen=True)
class RenderedEstimate:
    """A KVA as printed: the document and its PDF bytes."""

    document: EstimateDocument
    pdf: bytes

    @property
    def file_name(self) -> str:
        """ "Kostenvoranschlag_KVA-2026-0001.pdf"."""
        return f"Kostenvoranschlag_{self.document.number}.pdf"


def _local_date(utc: dt.datetime) -> dt.date:
    """The workshop's calendar day of a stored UTC timestamp (a KVA made at 00:30 is dated that day)."""
    return utc.replace(tzinfo=dt.UTC).astimezone(WORKSHOP_TZ).date()


def _last_mileage(vehicle: Vehicle | None) -> int | None:
    if vehicle is None or not vehicle.mileages:
        return None
    return max(vehicle.mileages, key=lambda m: (m.date, m.id or 0)).km


def estimate_document_in(session: Session, estimate_id: int) -> EstimateDocument:
    """The document of KVA ``estimate_id`` inside the caller's unit of work; NotFound for an unknown KVA
    or a customer whose data is restricted (Art. 18 DSGVO)."""
    row = session.get(Estimate, estimate_id, options=[selectinload(Estimate.lines)])
    if row is None:
        raise NotFound("Den Kostenvoranschlag {id} gibt es nicht.", id=estimate_id)
    customer = customer_in(session, row.customer_id)
    vehicle = session.get(Vehicle, row.vehicle_id) if row.vehicle_id is not None else None
    workshop = workshop_row(session)
    ctx = tax_context(session, row.customer_id, row.vehicle_id)
    rate = labour_rate(session)
    result = compute([to_input_line(line, rate) for line in sorted_lines(row.lines)], ctx)
    fee_net = fee_gross = Decimal("0.00")
    if row.charged:
        fee = InputLine(kind=LineKind.FEE, text="Kostenvoranschlag", unit_price_net=row.fee_net, vat_rate=_FEE_RATE)
        priced = compute([fee], ctx)
        fee_net, fee_gross = priced.net_total, priced.gross_total
    return EstimateDocument(
        number=row.number,
        issue_date=_local_date(row.created_at),
        valid_until=row.valid_until,
        seller=seller_party(workshop),
        buyer=buyer_party(customer),
        vehicle=vehicle_info(vehicle, _last_mileage(vehicle)),
        lines=result.lines,
        taxes=result.taxes,
        net_total=result.net_total,
        tax_total=result.tax_total,
        gross_total=result.gross_total,
        binding=row.binding,
        overrun_percent=workshop.estimate_overrun_percent,
        charged=row.charged,
        fee_net=fee_net,
        fee_gross=fee_gross,
        altteil_tax=result.altteil_tax,
        reverse_charge=result.reverse_charge,
        kleinunternehmer=result.kleinunternehmer,
        notes=result.notes,
        remarks=row.notes,
        customer_number=customer.number,
        iban=workshop.iban,
        bic=workshop.bic,
        bank_name=workshop.bank_name,
    )


def estimate_document(db: Database, estimate_id: int) -> EstimateDocument:
    """The printable document of KVA ``estimate_id`` (one unit of work)."""
    with db.unit() as s:
        return estimate_document_in(s, estimate_id)


def workshop_style(workshop: Workshop) -> PdfStyle:
    """The workshop's accent colour and logo (a logo file that went missing is left out, not an error)."""
    logo = Path(workshop.logo_path) if workshop.logo_path and Path(workshop.logo_path).is_file() else None
    return PdfStyle(accent=workshop.accent_color or "#1f4e79", logo_path=logo)


def estimate_pdf(db: Database, estimate_id: int) -> RenderedEstimate:
    """The KVA as PDF in the workshop's style, for the preview, the printer or a file."""
    with db.unit() as s:
        document = estimate_document_in(s, estimate_id)
        style = workshop_style(workshop_row(s))
    return RenderedEstimate(document, render_estimate_pdf(document, style=style))
