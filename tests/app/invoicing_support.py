"""Shared fixture and helpers of the invoicing checklist tests (test_invoicing*.py): the demo workshop with an
invoice service pinned to TODAY, orders through the JSON import, PDF text and CII XML readers."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree
from pypdf import PdfReader
from sqlalchemy import text

from app.db import Database
from app.demo import setup_workshop
from app.services.invoicing import FinalizeResult, InvoiceService
from app.services.order_import_service import OrderImportService
from app.services.registry import Services

TODAY = dt.date(2026, 11, 27)
ZERO = Decimal("0.00")
DATA = Path(__file__).resolve().parent.parent / "data"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
ANNA = {"name": "Anna Müller", "street": "Hauptstraße 1", "postcode": "80331", "city": "München"}
FIRMA = {
    "name": "Spedition Berger GmbH",
    "street": "Industriestraße 7",
    "postcode": "85748",
    "city": "Garching",
    "business": True,
    "vat_id": "DE812345673",
}
WIEN = {
    "name": "Wiener Transporte GmbH",
    "street": "Ring 1",
    "postcode": "1010",
    "city": "Wien",
    "country": "AT",
    "business": True,
    "vat_id": "ATU13585627",
}  # ATU13585627 passes python-stdnum


def part(price: str, text: str = "Bremsscheibe", rate: str = "19", quantity: object = 1) -> dict[str, Any]:
    return {"kind": "part", "text": text, "unit_price_net": price, "vat_rate": rate, "quantity": quantity}


def exchange(price: str) -> dict[str, Any]:
    return {"kind": "exchange_part", "text": "Austausch-Lichtmaschine", "unit_price_net": price}


@dataclass
class Shop:
    """The demo workshop with an invoice service pinned to TODAY."""

    db: Database
    invoices: InvoiceService

    def order(self, *lines: dict[str, Any], customer: dict[str, Any] = ANNA, **extra: Any) -> int:
        data = {"customer": customer, "date_of_service": "2026-11-26", "lines": list(lines), **extra}
        return OrderImportService(self.db, today=TODAY).import_file(json.dumps(data))[0]

    def draft(self, *lines: dict[str, Any], **kw: Any) -> int:
        return self.invoices.create_draft_from_order(self.order(*lines, **kw), user="Theke")[0]

    def invoice(self, *lines: dict[str, Any], **kw: Any) -> FinalizeResult:
        return self.invoices.finalize(self.draft(*lines, **kw), user="Theke")

    def text(self, number: str) -> str:
        return pdf_text(self.invoices.pdf(number))

    def xml(self, number: str) -> Any:
        return etree.fromstring(self.invoices.xml(number))

    def sql(self, statement: str, **params: Any) -> Any:
        with self.db.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else None


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\u00a0", " ")


def xpath(root: Any, path: str) -> list[str]:
    return [str(v).strip() if isinstance(v, str) else (v.text or "").strip() for v in root.xpath(path, namespaces=NS)]


def total(root: Any, name: str) -> Decimal:
    return Decimal(xpath(root, f"//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}")[0])


def make_shop(db: Database) -> Shop:
    """The demo workshop (Huber GmbH: €118/h, 10 AW/h, valid tax ids and IBAN) with invoices pinned to TODAY."""
    setup_workshop(Services.for_database(db))
    return Shop(db, InvoiceService(db, today=TODAY))
