"""The finished invoice as plain data: what the PDF renderer, the e-invoice (CII XML) builder and the
archive all read. Built once at finalising from the stored invoice; never from live ORM objects.

Amounts are Decimal, already rounded half-up to the cent where they are amounts of money; unit prices
may carry up to 4 decimals (AW prices). A Stornorechnung carries negative quantities and amounts and
``cancels`` = (original number, original issue date).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class VatCategory(StrEnum):
    """UNTDID 5305 VAT category codes used by EN 16931 (BT-151, BT-118)."""

    STANDARD = "S"  # 19 % / 7 %
    ZERO = "Z"  # 0 % taxable
    EXEMPT = "E"  # exempt (Kleinunternehmer §19, Altteil set-off line)
    REVERSE_CHARGE = "AE"  # §13b / Art. 196: Steuerschuldnerschaft des Leistungsempfängers


class LineKind(StrEnum):
    """Kinds of invoice lines."""

    LABOUR = "labour"
    PART = "part"
    EXCHANGE_PART = "exchange_part"
    FEE = "fee"
    DISCOUNT = "discount"
    ALTTEIL_VALUE = "altteil_value"  # old-part value (10 % of the exchange part): basis of the Altteilsteuer
    ALTTEIL_SETOFF = "altteil_setoff"  # the same value set off (the customer delivered the old part)


@dataclass(frozen=True)
class Party:
    """Seller or buyer (§14 Abs. 4 Nr. 1–2 UStG)."""

    name: str
    street: str
    postcode: str
    city: str
    country: str = "DE"
    vat_id: str = ""
    tax_number: str = ""
    email: str = ""
    phone: str = ""
    contact_name: str = ""


@dataclass(frozen=True)
class VehicleInfo:
    """The vehicle the service was performed on."""

    plate: str = ""
    vin: str = ""
    mileage: int | None = None
    make_model: str = ""


@dataclass(frozen=True)
class DocLine:
    """One invoice line. ``unit_code`` is the UN/ECE Rec. 20 code for the XML (C62 piece, HUR hour, LTR litre,
    ... ; labour in AW uses C62 with ``unit_label`` "AW"), ``unit_label`` what the PDF prints."""

    position: int
    kind: LineKind
    text: str
    quantity: Decimal
    unit_code: str
    unit_label: str
    unit_price_net: Decimal
    net: Decimal
    vat_rate: Decimal
    vat_category: VatCategory
    part_no: str = ""
    aw: Decimal | None = None
    aw_price: Decimal | None = None
    aw_per_hour: int | None = None
    hourly_rate: Decimal | None = None


@dataclass(frozen=True)
class TaxBreakdown:
    """Net and VAT per rate and category (§14 Abs. 4 Nr. 7–8), rounded per rate."""

    category: VatCategory
    rate: Decimal
    net: Decimal
    tax: Decimal
    exemption_reason: str = ""


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything printed on, and encoded into, one issued invoice or Stornorechnung."""

    number: str
    issue_date: dt.date
    service_date: dt.date
    seller: Party
    buyer: Party
    lines: tuple[DocLine, ...]
    taxes: tuple[TaxBreakdown, ...]
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    due_date: dt.date
    payment_terms: str
    iban: str = ""
    bic: str = ""
    bank_name: str = ""
    vehicle: VehicleInfo = field(default_factory=VehicleInfo)
    altteil_tax: Decimal = Decimal("0.00")
    prepaid: Decimal = Decimal("0.00")
    is_storno: bool = False
    cancels: tuple[str, dt.date] | None = None
    reverse_charge: bool = False
    small_invoice: bool = False
    kleinunternehmer: bool = False
    notes: tuple[str, ...] = ()
    buyer_reference: str = ""
    order_number: str = ""
    customer_number: str = ""  # the workshop's own customer number ("K-1001"), printed as "Kundennummer"
    currency: str = "EUR"

    @property
    def amount_due(self) -> Decimal:
        """What is still to pay (gross − prepaid)."""
        return self.gross_total - self.prepaid


def _encode(value: object) -> object:
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _encode(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def _decode_value(value: object) -> object:
    if isinstance(value, dict) and "$d" in value:
        return Decimal(value["$d"])
    if isinstance(value, dict) and "$date" in value:
        return dt.date.fromisoformat(value["$date"])
    return value


def document_to_json(doc: InvoiceDocument) -> str:
    """Lossless JSON of the document (stored with the finalised invoice)."""
    return json.dumps(_encode(doc), ensure_ascii=False, sort_keys=True)


def document_from_json(text: str) -> InvoiceDocument:
    """The document back from ``document_to_json``."""
    raw: dict[str, Any] = json.loads(text)

    def plain(d: dict[str, Any]) -> dict[str, Any]:
        return {k: _decode_value(v) for k, v in d.items()}

    lines = tuple(
        DocLine(**(plain(ln) | {"kind": LineKind(ln["kind"]), "vat_category": VatCategory(ln["vat_category"])}))
        for ln in raw.pop("lines")
    )
    taxes = tuple(TaxBreakdown(**(plain(t) | {"category": VatCategory(t["category"])})) for t in raw.pop("taxes"))
    cancels = raw.pop("cancels")
    rest = plain(raw)
    return InvoiceDocument(
        **rest
        | {
            "lines": lines,
            "taxes": taxes,
            "seller": Party(**raw["seller"]),
            "buyer": Party(**raw["buyer"]),
            "vehicle": VehicleInfo(**raw["vehicle"]),
            "cancels": (cancels[0], dt.date.fromisoformat(cancels[1]["$date"])) if cancels else None,
            "notes": tuple(raw["notes"]),
        }
    )
