"""Line logic shared by estimates (KVA) and work orders: input, validation, catalogue lines, totals.

A line is labour (in AW, priced by the workshop's hourly rate ÷ AW per hour when totals are computed,
INV-12), a part, an exchange part (Austauschteil, Altteilsteuer applies), a fee or a discount (percent
or amount, applied by the VAT engine to all lines before it). Validation messages name the 1-based
position and set ``field`` to the 0-based list index, e.g. ``lines[2].quantity`` – the same convention as
``app.tax_lines``, so engine errors and ours point at the same line. Totals always come from
``app.tax.compute``; no VAT arithmetic happens here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Final

from app.errors import ValidationError
from app.i18n import N_
from app.invoice_document import LineKind
from app.models import OrderLine, Service
from app.money import decimal_places, parse_decimal
from app.services.catalog import ServiceDTO
from app.tax import InputLine, TaxContext, TaxResult, compute

KINDS: Final = ("labour", "part", "exchange_part", "fee", "discount")
# UN/ECE Rec. 20 codes the counter may use, with the label printed on documents.
UNITS: Final = {"C62": "Stk", "LTR": "l", "MTR": "m", "KGM": "kg", "SET": "Satz"}
DEFAULT_UNITS: Final = {
    "labour": ("C62", "AW"),
    "part": ("C62", "Stk"),
    "exchange_part": ("C62", "Stk"),
    "fee": ("C62", "Stk"),
    "discount": ("C62", ""),
}
VAT_RATES: Final = (Decimal("19.00"), Decimal("7.00"), Decimal("0.00"))
MAX_TEXT, MAX_PART_NO = 300, 40
MAX_QUANTITY: Final = Decimal("99999")
MAX_AW: Final = Decimal("1000")
MAX_PRICE: Final = Decimal("9999999.99")
ONE: Final = Decimal(1)

Number = Decimal | int | str


@dataclass(frozen=True)
class LineInput:
    """A line as the counter types it. Numbers may be Decimals, ints or German text ("4,5").

    Labour: ``aw`` is the AW count (``quantity`` stays 1 or equals ``aw``), no unit price. Parts, exchange
    parts and fees need ``unit_price_net``. A discount needs exactly one of ``discount_percent`` and
    ``discount_amount_net``; its quantity, price and VAT rate are not used. Empty units get the kind's
    default ("C62"/"AW" for labour, "C62"/"Stk" otherwise; "LTR"/"l" for oil).
    """

    kind: str
    text: str = ""
    part_no: str = ""
    quantity: Number = ONE
    unit_code: str = ""
    unit_label: str = ""
    unit_price_net: Number | None = None
    vat_rate: Number = Decimal("19.00")
    aw: Number | None = None
    discount_percent: Number | None = None
    discount_amount_net: Number | None = None
    service_id: int | None = None
    mechanic_id: int | None = None
    proposed: bool = False


@dataclass(frozen=True)
class LineDTO:
    """A stored line with its net as the VAT engine computes it (discounts negative)."""

    id: int
    position: int
    kind: str
    text: str
    part_no: str
    quantity: Decimal
    unit_code: str
    unit_label: str
    unit_price_net: Decimal | None
    vat_rate: Decimal
    aw: Decimal | None
    aw_actual: Decimal | None
    discount_percent: Decimal | None
    discount_amount_net: Decimal | None
    service_id: int | None
    mechanic_id: int | None
    mechanic_name: str
    proposed: bool
    net: Decimal

    def as_input(self) -> LineInput:
        """The line as input again, e.g. to change one field with ``dataclasses.replace``."""
        return LineInput(
            kind=self.kind,
            text=self.text,
            part_no=self.part_no,
            quantity=self.quantity,
            unit_code=self.unit_code,
            unit_label=self.unit_label,
            unit_price_net=self.unit_price_net,
            vat_rate=self.vat_rate,
            aw=self.aw,
            discount_percent=self.discount_percent,
            discount_amount_net=self.discount_amount_net,
            service_id=self.service_id,
            mechanic_id=self.mechanic_id,
            proposed=self.proposed,
        )


@dataclass(frozen=True)
class RateTotal:
    """Net and VAT of one (category, rate) group, as on the invoice (category S, Z, E or AE)."""

    category: str
    rate: Decimal
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    """Totals of a KVA or an order, computed by ``app.tax`` exactly as the invoice will be."""

    rates: tuple[RateTotal, ...]
    net: Decimal
    tax: Decimal
    gross: Decimal
    altteil_tax: Decimal
    reverse_charge: bool = False
    kleinunternehmer: bool = False

    @property
    def net_by_rate(self) -> dict[Decimal, Decimal]:
        """Net per VAT rate (categories with the same rate added up)."""
        result: dict[Decimal, Decimal] = {}
        for group in self.rates:
            result[group.rate] = result.get(group.rate, Decimal("0.00")) + group.net
        return result

    @property
    def tax_by_rate(self) -> dict[Decimal, Decimal]:
        """VAT per rate."""
        result: dict[Decimal, Decimal] = {}
        for group in self.rates:
            result[group.rate] = result.get(group.rate, Decimal("0.00")) + group.tax
        return result


@dataclass(frozen=True)
class LabourRate:
    """The workshop's hourly rate and AW per hour; one AW costs hourly rate ÷ AW per hour."""

    hourly_rate: Decimal
    aw_per_hour: int

    @property
    def aw_price(self) -> Decimal:
        """Unrounded AW price (the engine rounds per line)."""
        return self.hourly_rate / Decimal(self.aw_per_hour)


# ------------------------------------------------------------------------------------------ validation


def _fail(message_id: str, index: int, name: str, **params: object) -> ValidationError:
    field = f"lines[{index}].{name}"  # outside the call: the gettext extractor warns about f-strings in it
    return ValidationError(message_id, field=field, position=index + 1, **params)


def _decimal(value: Number, index: int, name: str) -> Decimal:
    try:
        number = parse_decimal(value)
    except ValueError as exc:
        raise _fail(N_("Position {position}: „{value}“ ist keine Zahl."), index, name, value=value) from exc
    if not number.is_finite():
        raise _fail(N_("Position {position}: „{value}“ ist keine Zahl."), index, name, value=value)
    return number


def _places(number: Decimal, places: int, index: int, name: str) -> Decimal:
    if decimal_places(number.normalize()) > places:
        raise _fail(N_("Position {position}: höchstens {places} Nachkommastellen erlaubt."), index, name, places=places)
    return number


def _price(value: Number | None, index: int, name: str = "unit_price_net") -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _fail(N_("Position {position}: Bitte einen Einzelpreis (netto) angeben."), index, name)
    number = _decimal(value, index, name)
    if number < 0 or number > MAX_PRICE:
        raise _fail(N_("Position {position}: Der Preis muss zwischen 0 und 9.999.999,99 € liegen."), index, name)
    return _places(number, 2, index, name)


def _clean_quantity(line: LineInput, index: int) -> Decimal:
    quantity = _decimal(line.quantity, index, "quantity")
    if quantity <= 0 or quantity > MAX_QUANTITY:
        raise _fail(N_("Position {position}: Die Menge muss größer als 0 sein."), index, "quantity")
    return _places(quantity, 3, index, "quantity")


def _clean_units(line: LineInput, index: int) -> tuple[str, str]:
    default_code, default_label = DEFAULT_UNITS[line.kind]
    code = line.unit_code.strip().upper() or default_code
    if line.kind == "labour":
        if code != "C62":
            raise _fail(N_("Position {position}: Arbeitslohn wird in AW abgerechnet."), index, "unit_code")
        return code, "AW"
    if code not in UNITS:
        raise _fail(
            N_("Position {position}: unbekannte Einheit „{code}“ – erlaubt: {codes}."),
            index,
            "unit_code",
            code=code,
            codes=", ".join(UNITS),
        )
    label = line.unit_label.strip() or (default_label if code == default_code else UNITS[code])
    return code, label[:12]


def _clean_labour(line: LineInput, index: int) -> tuple[Decimal, Decimal]:
    """(quantity, aw) of a labour line: the quantity is stored as the AW count."""
    if line.aw is None or (isinstance(line.aw, str) and not line.aw.strip()):
        raise _fail(N_("Position {position}: Arbeitslohn braucht AW größer als 0."), index, "aw")
    aw = _decimal(line.aw, index, "aw")
    if aw <= 0 or aw > MAX_AW:
        raise _fail(N_("Position {position}: Arbeitslohn braucht AW größer als 0."), index, "aw")
    aw = _places(aw, 2, index, "aw")
    quantity = _decimal(line.quantity, index, "quantity")
    if quantity not in (ONE, aw):
        raise _fail(
            N_("Position {position}: Beim Arbeitslohn ist die Menge die AW-Anzahl – bitte nur AW angeben."),
            index,
            "quantity",
        )
    if line.unit_price_net is not None:
        raise _fail(
            N_(
                "Position {position}: Arbeitslohn wird über AW und Stundenverrechnungssatz berechnet – bitte "
                "keinen Einzelpreis angeben."
            ),
            index,
            "unit_price_net",
        )
    return aw, aw


def _clean_discount(line: LineInput, index: int) -> tuple[Decimal | None, Decimal | None]:
    if (line.discount_percent is None) == (line.discount_amount_net is None):
        raise _fail(
            N_("Position {position}: Beim Rabatt bitte entweder Prozent oder Betrag angeben."),
            index,
            "discount_percent",
        )
    if line.discount_percent is not None:
        percent = _decimal(line.discount_percent, index, "discount_percent")
        if not 0 < percent <= 100:
            raise _fail(
                N_("Position {position}: Der Rabatt muss über 0 und höchstens 100 % sein."),
                index,
                "discount_percent",
            )
        return _places(percent, 2, index, "discount_percent"), None
    assert line.discount_amount_net is not None
    amount = _price(line.discount_amount_net, index, "discount_amount_net")
    if amount == 0:
        raise _fail(N_("Position {position}: Der Rabatt muss größer als 0 sein."), index, "discount_amount_net")
    return None, amount


def clean_line(line: LineInput, index: int = 0) -> LineInput:
    """The validated, normalised line (Decimals, default units); raises the first ValidationError."""
    if line.kind not in KINDS:
        raise _fail(N_("Position {position}: unbekannte Positionsart „{kind}“."), index, "kind", kind=line.kind)
    text, part_no = line.text.strip(), line.part_no.strip()
    if not text and line.kind != "discount":  # the engine names an empty discount "Rabatt 10 %"
        raise _fail(N_("Position {position}: Bitte eine Bezeichnung eingeben."), index, "text")
    if len(text) > MAX_TEXT:
        raise _fail(N_("Position {position}: Die Bezeichnung ist länger als 300 Zeichen."), index, "text")
    if len(part_no) > MAX_PART_NO:
        raise _fail(N_("Position {position}: Die Teilenummer ist länger als 40 Zeichen."), index, "part_no")
    rate = _decimal(line.vat_rate, index, "vat_rate")
    if rate not in VAT_RATES:
        raise _fail(N_("Position {position}: Der Steuersatz muss 19 %, 7 % oder 0 % sein."), index, "vat_rate")
    unit_code, unit_label = _clean_units(line, index)
    if line.kind != "discount" and (line.discount_percent is not None or line.discount_amount_net is not None):
        raise _fail(
            N_("Position {position}: Rabatte bitte als eigene Rabatt-Position erfassen."), index, "discount_percent"
        )
    if line.kind != "labour" and line.aw is not None:
        raise _fail(N_("Position {position}: AW gibt es nur beim Arbeitslohn."), index, "aw")
    percent: Decimal | None = None
    amount: Decimal | None = None
    aw: Decimal | None = None
    price: Decimal | None = None
    if line.kind == "labour":
        quantity, aw = _clean_labour(line, index)
    elif line.kind == "discount":
        quantity = ONE
        percent, amount = _clean_discount(line, index)
    else:
        quantity = _clean_quantity(line, index)
        price = _price(line.unit_price_net, index)
    return replace(
        line,
        text=text,
        part_no=part_no,
        quantity=quantity,
        unit_code=unit_code,
        unit_label=unit_label,
        unit_price_net=price,
        vat_rate=rate.quantize(Decimal("0.01")),
        aw=aw,
        discount_percent=percent,
        discount_amount_net=amount,
    )


def line_problems(lines: Sequence[LineInput]) -> list[ValidationError]:
    """Every line's first problem, for inline messages next to each row of a form."""
    problems = []
    for index, line in enumerate(lines):
        try:
            clean_line(line, index)
        except ValidationError as exc:
            problems.append(exc)
    return problems


def line_from_service(service: Service | ServiceDTO, quantity: Number = 1) -> LineInput:
    """The line a catalogue service becomes (its typical parts are added separately, as part lines).

    ``aw`` and ``from`` ("ab" price) rules → labour with the catalogue's AW × ``quantity``: the order is
    billed by AW, the "ab" price only advertises the minimum. ``fixed`` → a fee line at the fixed net
    price; so is a service without AW that has a price.
    """
    count = parse_decimal(quantity)
    if count <= 0:
        raise ValidationError("Die Menge muss größer als 0 sein.", field="quantity")
    line = LineInput(kind="labour", text=service.name, part_no=service.code, vat_rate=service.vat_rate)
    line = replace(line, service_id=service.id)
    if service.price_net is not None and (service.price_rule == "fixed" or not service.aw):
        return replace(line, kind="fee", quantity=count, unit_price_net=service.price_net)
    if not service.aw:
        raise ValidationError(
            "Die Leistung „{name}“ hat weder AW noch einen Preis – bitte im Leistungskatalog ergänzen.",
            field="service_id",
            name=service.name,
        )
    return replace(line, aw=service.aw * count)


# ----------------------------------------------------------------------------------------- the engine


def to_input_line(line: OrderLine | LineDTO, rate: LabourRate) -> InputLine:
    """A stored line as VAT engine input; labour gets the workshop's hourly rate and AW per hour."""
    kind = LineKind(line.kind)
    base = InputLine(
        kind=kind,
        text=line.text,
        vat_rate=line.vat_rate,
        unit_code=line.unit_code,
        unit_label=line.unit_label,
        part_no=line.part_no,
    )
    if kind == LineKind.LABOUR:
        # The AW count is the quantity; the price follows today's rate (the model keeps no AW price).
        return replace(base, aw=line.aw, aw_per_hour=rate.aw_per_hour, hourly_rate=rate.hourly_rate)
    if kind == LineKind.DISCOUNT:
        return replace(base, percent=line.discount_percent, amount_net=line.discount_amount_net)
    price = line.unit_price_net if line.unit_price_net is not None else Decimal(0)
    return replace(base, quantity=line.quantity, unit_price_net=price)


def _totals(result: TaxResult) -> Totals:
    return Totals(
        rates=tuple(RateTotal(str(t.category), t.rate, t.net, t.tax) for t in result.taxes),
        net=result.net_total,
        tax=result.tax_total,
        gross=result.gross_total,
        altteil_tax=result.altteil_tax,
        reverse_charge=result.reverse_charge,
        kleinunternehmer=result.kleinunternehmer,
    )


def totals_of(lines: Sequence[OrderLine | LineDTO], rate: LabourRate, ctx: TaxContext) -> Totals:
    """Totals of the lines in order (without the per-line nets)."""
    return _totals(compute([to_input_line(line, rate) for line in lines], ctx))


def compute_totals(
    lines: Sequence[OrderLine | LineDTO], rate: LabourRate, ctx: TaxContext
) -> tuple[Totals, tuple[Decimal, ...]]:
    """Totals of the lines in order, and each line's net (a discount's net is the sum of its parts).

    Raises the engine's ValidationError for an impossible sequence, e.g. a discount with nothing before it.
    """
    inputs = [to_input_line(line, rate) for line in lines]
    result = compute(inputs, ctx)
    nets: list[Decimal] = []
    previous = Decimal("0.00")
    for index, item in enumerate(inputs):
        if item.kind == LineKind.DISCOUNT:
            # The engine spreads a discount over the rates before it; its net is the prefix difference.
            upto = compute(inputs[: index + 1], ctx).net_total
            nets.append(upto - previous)
            previous = upto
        else:
            net = compute([item], ctx).lines[0].net
            nets.append(net)
            previous += net
    return _totals(result), tuple(nets)
