"""The JSON order import (format version 1, documented in docs/json-import.md): customer, vehicle and
lines of one order, or a list of orders. Every problem is reported with the path of the offending
field (e.g. ``[1].lines[2].unit_price_net``); nothing is written unless every order is valid.

Imported orders arrive in status "completed" — the work was done (and recorded) elsewhere; they are
ready for ``carbot invoice finalize ORDER_ID``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from app import vehicle_rules
from app.errors import ImportProblem, ImportRejected, ValidationError
from app.services.customers import CustomerInput, validate_customer

FORMAT_VERSION = 1
CUSTOMER_KEYS = {"name", "street", "postcode", "city", "country", "business", "vat_id", "email", "phone"}
VEHICLE_KEYS = {"vin", "plate", "first_registration", "mileage", "business_use"}
ORDER_KEYS = {"customer", "vehicle", "date_of_service", "lines", "format_version", "reference"}
LINE_KEYS = {
    "labour": {"kind", "text", "aw", "vat_rate"},
    "part": {"kind", "text", "part_no", "quantity", "unit", "unit_price_net", "vat_rate"},
    "exchange_part": {"kind", "text", "part_no", "quantity", "unit", "unit_price_net", "vat_rate"},
    "fee": {"kind", "text", "part_no", "quantity", "unit", "unit_price_net", "vat_rate"},
    "discount": {"kind", "text", "percent", "amount_net"},
}
# German units as people write them → UN/ECE Rec. 20 codes for the e-invoice.
UNITS = {
    "stk": ("C62", "Stk"),
    "stück": ("C62", "Stk"),
    "pcs": ("C62", "Stk"),
    "l": ("LTR", "l"),
    "liter": ("LTR", "l"),
    "h": ("HUR", "Std"),
    "std": ("HUR", "Std"),
    "m": ("MTR", "m"),
    "kg": ("KGM", "kg"),
    "satz": ("SET", "Satz"),
    "set": ("SET", "Satz"),
    "paar": ("PR", "Paar"),
    "pauschal": ("C62", "pauschal"),
}
RATES = {Decimal("19"), Decimal("7"), Decimal("0")}


@dataclass(frozen=True)
class ImportedLine:
    """A validated line."""

    kind: str
    text: str
    part_no: str = ""
    quantity: Decimal = Decimal(1)
    unit_code: str = "C62"
    unit_label: str = "Stk"
    unit_price_net: Decimal | None = None
    vat_rate: Decimal = Decimal("19")
    aw: Decimal | None = None
    percent: Decimal | None = None
    amount_net: Decimal | None = None


@dataclass(frozen=True)
class ImportedOrder:
    """A validated order, ready to be written."""

    customer: CustomerInput
    vin: str
    plate: str
    first_registration: dt.date | None
    mileage: int | None
    business_use: bool
    date_of_service: dt.date
    lines: tuple[ImportedLine, ...]
    reference: str = ""


class _Collector:
    def __init__(self) -> None:
        self.problems: list[ImportProblem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(ImportProblem(0, path, message))


def _decimal(
    value: Any, path: str, errors: _Collector, *, places: int | None = None, strings_only: bool = False
) -> Decimal | None:
    if isinstance(value, bool) or value is None or (strings_only and not isinstance(value, str)):
        errors.add(path, 'Betrag als Zeichenkette mit Dezimalpunkt erwartet, z. B. "12.50".')
        return None
    if not isinstance(value, str | int | float):
        errors.add(path, "Zahl erwartet.")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        errors.add(path, f"„{value}“ ist keine Zahl (Dezimalpunkt verwenden).")
        return None
    if not number.is_finite():
        errors.add(path, "Zahl erwartet.")
        return None
    exponent = number.as_tuple().exponent
    if places is not None and isinstance(exponent, int) and -exponent > places:
        errors.add(path, f"Höchstens {places} Nachkommastellen erlaubt.")
        return None
    return number


def _date(value: Any, path: str, errors: _Collector) -> dt.date | None:
    if not isinstance(value, str):
        errors.add(path, "Datum als Zeichenkette JJJJ-MM-TT erwartet.")
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.add(path, f"„{value}“ ist kein gültiges Datum (JJJJ-MM-TT).")
        return None


def _text(value: Any, path: str, errors: _Collector, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        errors.add(path, "Text erwartet." if not required else "Pflichtfeld fehlt oder ist leer.")
        return ""
    return value.strip()


def _unknown(data: dict[str, Any], allowed: set[str], path: str, errors: _Collector) -> None:
    for key in sorted(set(data) - allowed):
        errors.add(f"{path}{key}", "Unbekanntes Feld.")


def _line(raw: Any, path: str, errors: _Collector) -> ImportedLine | None:
    if not isinstance(raw, dict):
        errors.add(path, "Objekt erwartet.")
        return None
    kind = raw.get("kind")
    if kind not in LINE_KEYS:
        errors.add(f"{path}.kind", "Art muss labour, part, exchange_part, fee oder discount sein.")
        return None
    _unknown(raw, LINE_KEYS[kind], f"{path}.", errors)
    text = _text(raw.get("text"), f"{path}.text", errors, required=True)
    rate = _decimal(raw.get("vat_rate", "19"), f"{path}.vat_rate", errors)
    if rate is not None and rate not in RATES:
        errors.add(f"{path}.vat_rate", f"Unbekannter Steuersatz {rate} % – erlaubt sind 19, 7 und 0.")
    if kind == "labour":
        aw = _decimal(raw.get("aw"), f"{path}.aw", errors, places=2)
        if aw is not None and aw <= 0:
            errors.add(f"{path}.aw", "AW muss größer als 0 sein.")
        return ImportedLine(kind, text, quantity=aw or Decimal(1), unit_label="AW", aw=aw, vat_rate=rate or Decimal(19))
    if kind == "discount":
        percent, amount = raw.get("percent"), raw.get("amount_net")
        if (percent is None) == (amount is None):
            errors.add(path, "Ein Rabatt braucht genau eines von „percent“ oder „amount_net“.")
            return None
        pct = _decimal(percent, f"{path}.percent", errors, places=2) if percent is not None else None
        amt = (
            _decimal(amount, f"{path}.amount_net", errors, places=2, strings_only=True) if amount is not None else None
        )
        if pct is not None and not Decimal(0) < pct <= Decimal(100):
            errors.add(f"{path}.percent", "Prozent muss zwischen 0 und 100 liegen.")
        if amt is not None and amt <= 0:
            errors.add(f"{path}.amount_net", "Der Rabattbetrag muss positiv sein.")
        return ImportedLine(kind, text, percent=pct, amount_net=amt, vat_rate=Decimal(19))
    quantity = _decimal(raw.get("quantity", 1), f"{path}.quantity", errors, places=3)
    if quantity is not None and quantity <= 0:
        errors.add(f"{path}.quantity", "Die Menge muss größer als 0 sein.")
    price = _decimal(raw.get("unit_price_net"), f"{path}.unit_price_net", errors, places=2, strings_only=True)
    if price is not None and price < 0:
        errors.add(f"{path}.unit_price_net", "Der Preis darf nicht negativ sein.")
    unit = UNITS.get(str(raw.get("unit", "Stk")).strip().lower())
    if unit is None:
        errors.add(f"{path}.unit", f"Unbekannte Einheit „{raw.get('unit')}“ – erlaubt: Stk, l, h, m, kg, Satz, Paar.")
        unit = ("C62", "Stk")
    return ImportedLine(
        kind,
        text,
        _text(raw.get("part_no"), f"{path}.part_no", errors),
        quantity or Decimal(1),
        unit[0],
        unit[1],
        price,
        rate or Decimal(19),
    )


def _customer(raw: Any, path: str, errors: _Collector) -> CustomerInput:
    if not isinstance(raw, dict):
        errors.add(path, "Objekt mit Kundendaten erwartet.")
        return CustomerInput()
    _unknown(raw, CUSTOMER_KEYS, f"{path}.", errors)
    business = raw.get("business", False)
    if not isinstance(business, bool):
        errors.add(f"{path}.business", "true oder false erwartet.")
        business = False
    name = _text(raw.get("name"), f"{path}.name", errors, required=True)
    first, _, last = name.rpartition(" ")
    data = CustomerInput(
        kind="business" if business else "private",
        company=name if business else "",
        first_name="" if business else first,
        last_name="" if business else (last or name),
        street=_text(raw.get("street"), f"{path}.street", errors),
        postcode=_text(raw.get("postcode"), f"{path}.postcode", errors),
        city=_text(raw.get("city"), f"{path}.city", errors),
        country=_text(raw.get("country"), f"{path}.country", errors) or "DE",
        vat_id=_text(raw.get("vat_id"), f"{path}.vat_id", errors),
        email=_text(raw.get("email"), f"{path}.email", errors),
        phone=_text(raw.get("phone"), f"{path}.phone", errors),
    )
    cleaned, problems = validate_customer(data)
    for problem in problems:
        errors.add(f"{path}.{_CUSTOMER_FIELD.get(problem.field, problem.field)}", problem.message)
    return cleaned


_CUSTOMER_FIELD = {"last_name": "name", "company": "name", "mobile": "phone"}


def _order(raw: Any, path: str, errors: _Collector, today: dt.date) -> ImportedOrder | None:
    if not isinstance(raw, dict):
        errors.add(path or "$", "Objekt für einen Auftrag erwartet.")
        return None
    prefix = f"{path}." if path else ""
    _unknown(raw, ORDER_KEYS, prefix, errors)
    if raw.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
        errors.add(f"{prefix}format_version", f"Nur Formatversion {FORMAT_VERSION} wird unterstützt.")
    customer = _customer(raw.get("customer"), f"{prefix}customer", errors)
    vehicle = raw.get("vehicle") or {}
    if not isinstance(vehicle, dict):
        errors.add(f"{prefix}vehicle", "Objekt erwartet.")
        vehicle = {}
    _unknown(vehicle, VEHICLE_KEYS, f"{prefix}vehicle.", errors)
    vin = plate = ""
    for key, fn in (("vin", vehicle_rules.validate_vin), ("plate", vehicle_rules.normalize_plate)):
        try:
            value = fn(_text(vehicle.get(key), f"{prefix}vehicle.{key}", errors))
        except ValidationError as exc:
            errors.add(f"{prefix}vehicle.{key}", exc.message)
            value = ""
        vin, plate = (value, plate) if key == "vin" else (vin, value)
    first = (
        _date(vehicle["first_registration"], f"{prefix}vehicle.first_registration", errors)
        if vehicle.get("first_registration") is not None
        else None
    )
    mileage = vehicle.get("mileage")
    if mileage is not None and (isinstance(mileage, bool) or not isinstance(mileage, int) or mileage < 0):
        errors.add(f"{prefix}vehicle.mileage", "Kilometerstand als ganze Zahl ≥ 0 erwartet.")
        mileage = None
    business_use = vehicle.get("business_use", customer.kind == "business")
    if not isinstance(business_use, bool):
        errors.add(f"{prefix}vehicle.business_use", "true oder false erwartet.")
        business_use = False
    service_date = (
        _date(raw.get("date_of_service"), f"{prefix}date_of_service", errors) if "date_of_service" in raw else today
    )
    raw_lines = raw.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.add(f"{prefix}lines", "Mindestens eine Position erwartet.")
        raw_lines = []
    lines = [_line(item, f"{prefix}lines[{i}]", errors) for i, item in enumerate(raw_lines)]
    return ImportedOrder(
        customer,
        vin,
        plate,
        first,
        mileage,
        business_use,
        service_date or today,
        tuple(ln for ln in lines if ln is not None),
        _text(raw.get("reference"), "reference", errors),
    )


def parse_orders(data: bytes | str, *, today: dt.date) -> list[ImportedOrder]:
    """Validate a whole import file; raises ImportRejected listing every problem by path."""
    errors = _Collector()
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportRejected([ImportProblem(0, "$", f"Kein gültiges JSON: {exc}")]) from exc
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ImportRejected([ImportProblem(0, "$", "Die Datei enthält keine Aufträge.")])
    orders = [_order(item, f"[{i}]" if isinstance(raw, list) else "", errors, today) for i, item in enumerate(items)]
    if errors.problems:
        raise ImportRejected(errors.problems)
    return [o for o in orders if o is not None]
