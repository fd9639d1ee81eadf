"""Line arithmetic of the VAT engine (``app.tax``): the input line, its validation, line nets (AW labour
computed exactly and rounded once, INV-12), discounts split over the VAT rates they touch so the parts
sum exactly to the discount, and the two generated Altteil lines (INV-09).

Pure functions without Qt or database access. Messages name the 1-based input position ("Position 3");
``field`` names the 0-based list index like the caller's list ("lines[2].vat_rate").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from app import formatting
from app.errors import ValidationError
from app.i18n import N_
from app.invoice_document import DocLine, LineKind, VatCategory
from app.money import CENT, round_money

# Rates as stored (Numeric(5, 2)); Decimal compares and hashes by value, so 19 == 19.00 for callers.
RATE_STANDARD = Decimal("19.00")
RATE_REDUCED = Decimal("7.00")
RATE_ZERO = Decimal("0.00")
ALLOWED_RATES = (RATE_STANDARD, RATE_REDUCED, RATE_ZERO)
# Sort order of breakdowns and discount parts: by category as UNTDID order in VatCategory (S, Z, E, AE),
# then descending rate.
CATEGORY_ORDER = tuple(VatCategory)

ALTTEIL_SHARE = Decimal("0.10")  # UStAE 10.5 Abs. 3: flat 10 % of the exchange part's price
ALTTEIL_VALUE_TEXT = N_("Altteilwert (10 % des Austauschteils, Altteilsteuer)")
ALTTEIL_SETOFF_TEXT = N_("Verrechnung Altteil (vom Kunden geliefert)")

_PRICE_PLACES = 2
_AW_PRICE_PLACES = 4  # an AW price like 9.8333 (€118/h at 12 AW/h) is printed with 4 decimals
_FOUR_PLACES = Decimal("0.0001")
_ZERO = Decimal("0.00")
_GENERATED = (LineKind.ALTTEIL_VALUE, LineKind.ALTTEIL_SETOFF)

TaxKey = tuple[VatCategory, Decimal]
"""(category, rate) of a line: the grouping of the tax breakdown and of discount parts."""


@dataclass(frozen=True)
class InputLine:
    """One line as the counter entered it, before tax.

    Labour in AW: ``aw`` (or ``quantity``) is the AW count; the AW price is ``unit_price_net`` (up to 4
    decimals) or, exactly, ``hourly_rate`` ÷ ``aw_per_hour``. Discounts (kind DISCOUNT) carry either
    ``percent`` or ``amount_net`` (its size; the sign is ignored, a discount always reduces) and apply to
    all non-discount lines before them; their own quantity and price are not used, and their rate only
    has to be a valid one (the parts take the rates of the lines they reduce).
    """

    kind: LineKind
    text: str = ""
    quantity: Decimal = Decimal(1)
    unit_price_net: Decimal = Decimal(0)
    vat_rate: Decimal = RATE_STANDARD
    unit_code: str = ""
    unit_label: str = ""
    part_no: str = ""
    aw: Decimal | None = None
    aw_per_hour: int | None = None
    hourly_rate: Decimal | None = None
    percent: Decimal | None = None
    amount_net: Decimal | None = None


def key_order(key: TaxKey) -> tuple[int, Decimal]:
    """Sort key: category (S, Z, E, AE), then descending rate."""
    return CATEGORY_ORDER.index(key[0]), -key[1]


def _fail(message_id: str, index: int, name: str, **params: object) -> ValidationError:
    """A ValidationError for input line ``index``; callers wrap the message in N_() for extraction."""
    where = f"lines[{index}].{name}"
    return ValidationError(message_id, field=where, position=index + 1, **params)


def _number(value: object, index: int, name: str) -> Decimal:
    """The value as a finite Decimal (ints are accepted); anything else is a validation error."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _fail(N_("Position {position}: „{value}“ ist keine gültige Zahl."), index, name, value=value)
    return value


def _amount(value: object, index: int, name: str, places: int) -> Decimal:
    """A non-negative number with at most ``places`` decimals (trailing zeros do not count)."""
    number = _number(value, index, name)
    if number < 0:
        raise _fail(N_("Position {position}: Der Betrag darf nicht negativ sein."), index, name)
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise _fail(
            N_("Position {position}: Der Betrag hat mehr als {places} Nachkommastellen."),
            index,
            name,
            places=places,
        )
    return number


def _quantity(value: object, index: int, name: str = "quantity") -> Decimal:
    number = _number(value, index, name)
    if number < 0:
        raise _fail(
            N_("Position {position}: Die Menge darf nicht negativ sein – nur Rabatte sind negativ."),
            index,
            name,
        )
    return number


def check_kind(line: InputLine, index: int) -> LineKind:
    """The line's kind as a LineKind (stored rows carry plain strings); Altteil lines are generated only."""
    try:
        kind = LineKind(line.kind)
    except ValueError:
        raise _fail(
            N_("Position {position}: unbekannte Positionsart „{kind}“."), index, "kind", kind=line.kind
        ) from None
    if kind in _GENERATED:
        raise _fail(N_("Position {position}: Altteil-Zeilen werden automatisch erzeugt."), index, "kind")
    return kind


def check_rate(line: InputLine, index: int) -> Decimal:
    """The line's VAT rate as one of 19.00, 7.00, 0.00; anything else is a validation error."""
    rate = _number(line.vat_rate, index, "vat_rate")
    for allowed in ALLOWED_RATES:
        if rate == allowed:
            return allowed
    raise _fail(
        N_("Position {position}: unbekannter Steuersatz {rate} % – erlaubt sind 19 %, 7 % und 0 %."),
        index,
        "vat_rate",
        rate=formatting.number(rate),
    )


def priced_line(line: InputLine, index: int, key: TaxKey) -> DocLine:
    """A labour, part, exchange part or fee line with its net (position 0; the caller numbers).
    ``line.kind`` must already be checked (``check_kind``)."""
    if line.kind == LineKind.DISCOUNT:  # pragma: no cover - the caller routes discounts elsewhere
        raise ValueError("discounts are not priced lines")
    if line.kind == LineKind.LABOUR:
        return _labour_line(line, index, key)
    quantity = _quantity(line.quantity, index)
    price = _amount(line.unit_price_net, index, "unit_price_net", _PRICE_PLACES).quantize(CENT)
    return DocLine(
        position=0,
        kind=line.kind,
        text=line.text,
        quantity=quantity,
        unit_code=line.unit_code or "C62",
        unit_label=line.unit_label,
        unit_price_net=price,
        net=round_money(quantity * price),
        vat_rate=key[1],
        vat_category=key[0],
        part_no=line.part_no,
    )


def _labour_line(line: InputLine, index: int, key: TaxKey) -> DocLine:
    quantity = _quantity(line.quantity, index)
    aw: Decimal | None = None
    if line.aw is not None:
        aw = _quantity(line.aw, index, "aw")
        # ``aw`` is the count; a quantity other than the default 1 must say the same.
        if quantity not in (Decimal(1), aw):
            raise _fail(
                N_("Position {position}: AW-Anzahl ({aw}) und Menge ({quantity}) widersprechen sich."),
                index,
                "aw",
                aw=formatting.number(aw),
                quantity=formatting.number(quantity),
            )
        quantity = aw
    per_hour = line.aw_per_hour
    valid_per_hour = isinstance(per_hour, int) and not isinstance(per_hour, bool) and per_hour > 0
    if per_hour is not None and not valid_per_hour:
        raise _fail(
            N_("Position {position}: AW pro Stunde muss eine ganze Zahl größer 0 sein."),
            index,
            "aw_per_hour",
        )
    price = _amount(line.unit_price_net, index, "unit_price_net", _AW_PRICE_PLACES)
    hourly: Decimal | None = None
    if line.hourly_rate is not None:
        hourly = _amount(line.hourly_rate, index, "hourly_rate", _PRICE_PLACES).quantize(CENT)
        if per_hour is None:
            raise _fail(
                N_("Position {position}: Zum Stundensatz fehlt die Zahl der AW pro Stunde."),
                index,
                "aw_per_hour",
            )
        shown = (hourly / per_hour).quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP)
        if price not in (Decimal(0), shown):
            raise _fail(
                N_("Position {position}: Der AW-Preis passt nicht zu Stundensatz ÷ AW pro Stunde."),
                index,
                "unit_price_net",
            )
        price = shown
        # Exact: AW × hourly rate ÷ AW per hour, rounded once (INV-12), not AW × the 4-decimal price.
        net = round_money(quantity * hourly / per_hour)
    else:
        net = round_money(quantity * price)
    in_aw = aw is not None or per_hour is not None
    # Cents where the price has no more (€11.80 from €118 at 10 AW/h), else 4 places (€9.8333).
    price = price.quantize(CENT) if price == price.quantize(CENT) else price.quantize(_FOUR_PLACES)
    return DocLine(
        position=0,
        kind=LineKind.LABOUR,
        text=line.text,
        quantity=quantity,
        unit_code=line.unit_code or "C62",
        unit_label=line.unit_label or ("AW" if in_aw else ""),
        unit_price_net=price,
        net=net,
        vat_rate=key[1],
        vat_category=key[0],
        part_no=line.part_no,
        aw=quantity if in_aw else None,
        aw_price=price if in_aw else None,
        aw_per_hour=per_hour,
        hourly_rate=hourly,
    )


def split_exact(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split a non-negative cent amount proportionally to positive weights; the parts sum exactly to
    ``total`` (largest remainder: every part is floored to the cent, the left-over cents go to the largest
    remainders, ties to the earlier weight)."""
    whole = sum(weights, Decimal(0))
    exact = [total * weight / whole for weight in weights]
    parts = [value.quantize(CENT, rounding=ROUND_DOWN) for value in exact]
    left = int((total - sum(parts, Decimal(0))) / CENT)
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for step in range(left):
        parts[order[step % len(order)]] += CENT
    return parts


def discount_lines(
    line: InputLine, index: int, base: Mapping[TaxKey, Decimal], running: Mapping[TaxKey, Decimal]
) -> list[DocLine]:
    """The negative lines of one discount: one per (category, rate) of the lines before it.

    ``base`` holds the nets of the non-discount lines before the discount (the percent base), ``running``
    what is left of them after earlier discounts; no part may exceed what is left.
    """
    if (line.percent is None) == (line.amount_net is None):
        raise _fail(
            N_("Position {position}: Beim Rabatt entweder Prozent oder Betrag angeben."),
            index,
            "percent",
        )
    keys = sorted((key for key, net in base.items() if net > 0), key=key_order)
    if not keys:
        raise _fail(N_("Position {position}: Vor dem Rabatt steht keine Position mit Betrag."), index, "kind")
    whole = sum((base[key] for key in keys), Decimal(0))
    if line.percent is not None:
        percent = _amount(line.percent, index, "percent", _PRICE_PLACES)
        if not 0 < percent <= 100:
            raise _fail(
                N_("Position {position}: Der Rabatt muss über 0 und höchstens 100 % sein."),
                index,
                "percent",
            )
        total = round_money(whole * percent / 100)
        name = "percent"
        text = line.text or f"Rabatt {german_number(percent)} %"
    else:
        size = abs(_number(line.amount_net, index, "amount_net"))
        total = _amount(size, index, "amount_net", _PRICE_PLACES)
        name = "amount_net"
        text = line.text or "Rabatt"
    parts = split_exact(total, [base[key] for key in keys])
    shares = list(zip(keys, parts, strict=True))
    if total > whole or any(part > running.get(key, Decimal(0)) for key, part in shares):
        raise _fail(
            N_("Position {position}: Der Rabatt ist höher als der Wert der Positionen davor."),
            index,
            name,
        )
    shares = [(key, part) for key, part in shares if part]
    if not shares:
        # A discount that rounds to 0.00 stays visible as one zero line rather than vanishing.
        shares = [(keys[0], Decimal("0.00"))]
    split = len(shares) > 1
    return [
        DocLine(
            position=0,
            kind=LineKind.DISCOUNT,
            text=f"{text} ({german_number(key[1])} %)" if split else text,
            # EN 16931 BR-27: the item price must not be negative, so the quantity carries the sign.
            quantity=Decimal(-1),
            unit_code=line.unit_code or "C62",
            unit_label=line.unit_label,
            unit_price_net=part,
            net=_ZERO - part,  # never "-0.00" (it would reach the XML)
            vat_rate=key[1],
            vat_category=key[0],
            part_no=line.part_no,
        )
        for key, part in shares
    ]


def altteil_lines(exchange: DocLine) -> tuple[DocLine, ...]:
    """The Altteil value (+V, 19 %) and its set-off (−V, exempt) for one exchange part line, V = 10 % of
    its net before discounts (UStAE 10.5 Abs. 3); none when V rounds to 0."""
    value = round_money(exchange.net * ALTTEIL_SHARE)
    if not value:
        return ()
    return (
        DocLine(
            position=0,
            kind=LineKind.ALTTEIL_VALUE,
            text=ALTTEIL_VALUE_TEXT,
            quantity=Decimal(1),
            unit_code="C62",
            unit_label="",
            unit_price_net=value,
            net=value,
            vat_rate=RATE_STANDARD,
            vat_category=VatCategory.STANDARD,
        ),
        DocLine(
            position=0,
            kind=LineKind.ALTTEIL_SETOFF,
            text=ALTTEIL_SETOFF_TEXT,
            quantity=Decimal(-1),  # BR-27 again: the sign goes on the quantity
            unit_code="C62",
            unit_label="",
            unit_price_net=value,
            net=-value,
            vat_rate=RATE_ZERO,
            vat_category=VatCategory.EXEMPT,
        ),
    )


def german_number(value: Decimal) -> str:
    """Plain German notation for texts printed on the invoice: 19.00 → "19", 2.5 → "2,5"."""
    text = format(value.normalize(), "f")
    return text.replace(".", ",")
