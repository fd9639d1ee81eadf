"""Money as Decimal: one rounding rule (commercial, half-up to the cent) and German parsing.

Babel formats with half-even rounding, so amounts are always rounded here first and only then
formatted (``app.formatting``).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
_DE_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def round_money(value: Decimal) -> Decimal:
    """Round to the cent, half-up (kaufmännisch)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_decimal(text: str | int | float | Decimal) -> Decimal:
    """Parse a number as German users type it ("1.234,50", "12,5") or with a decimal point ("12.5").

    Raises ValueError for anything else; floats are converted through their repr so 0.1 stays 0.1.
    """
    if isinstance(text, Decimal):
        return text
    if isinstance(text, bool):
        raise ValueError("bool is not a number")
    if isinstance(text, int | float):
        return Decimal(repr(text)) if isinstance(text, float) else Decimal(text)
    raw = text.strip().replace("\u00a0", "").replace(" ", "").replace("€", "")
    if not raw:
        raise ValueError("empty")
    if "," in raw and _DE_NUMBER.match(raw):
        raw = raw.replace(".", "").replace(",", ".")
    elif not _PLAIN_NUMBER.match(raw):
        # "1.234.567" can only be German thousands; a single point ("1.234", "12.5") is a decimal point,
        # as in JSON imports and machine-written files.
        if _DE_NUMBER.match(raw):
            raw = raw.replace(".", "")
        else:
            raise ValueError(f"not a number: {text!r}")
    try:
        return Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - guarded by the regexes
        raise ValueError(f"not a number: {text!r}") from exc


def decimal_places(value: Decimal) -> int:
    """Number of decimal places actually written (Decimal("1.50") → 2)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
