"""The VAT engine (issue 3): from the counter's lines to invoice lines, the tax breakdown per rate and the
totals, with the German special cases (german-workshop-law.md §2.1, §2.9–§2.11):

- line nets rounded half-up once per line; VAT rounded once per (category, rate), never per line (INV-08);
- labour in AW computed exactly from the hourly rate (INV-12);
- discounts split over the VAT rates of the lines before them, summing exactly (``app.tax_lines``);
- Altteilsteuer for exchange parts unless a business customer's business vehicle (INV-09);
- reverse charge for EU B2B customers with a matching foreign VAT id (INV-10);
- §19 Kleinunternehmer: no VAT shown (INV-11); Kleinbetragsrechnung up to €250 gross (INV-02).

Pure and Qt-free, no database: the invoice service feeds it and stores the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from app import formatting
from app.i18n import N_, _
from app.invoice_document import DocLine, LineKind, TaxBreakdown, VatCategory
from app.money import round_money
from app.tax_lines import (
    ALTTEIL_SETOFF_TEXT,
    ALTTEIL_VALUE_TEXT,
    RATE_STANDARD,
    RATE_ZERO,
    InputLine,
    TaxKey,
    altteil_lines,
    check_kind,
    check_rate,
    discount_lines,
    key_order,
    priced_line,
)

__all__ = [
    "ALTTEIL_SETOFF_TEXT",
    "ALTTEIL_VALUE_TEXT",
    "EU_VAT_PREFIXES",
    "EXEMPTION_ALTTEIL",
    "EXEMPTION_KLEINUNTERNEHMER",
    "EXEMPTION_REVERSE_CHARGE",
    "KLEINUNTERNEHMER_CURRENT_YEAR_LIMIT",
    "KLEINUNTERNEHMER_PREVIOUS_YEAR_LIMIT",
    "NOTE_REVERSE_CHARGE",
    "SMALL_INVOICE_LIMIT",
    "InputLine",
    "TaxContext",
    "TaxResult",
    "compute",
    "kleinunternehmer_warnings",
    "negated",
    "reverse_charge_applies",
]

# The texts printed on the invoice and written to the XML (BT-120) stay German: German invoices.
EXEMPTION_REVERSE_CHARGE = N_("Steuerschuldnerschaft des Leistungsempfängers")
NOTE_REVERSE_CHARGE = N_("Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)")
EXEMPTION_KLEINUNTERNEHMER = N_("Kein Ausweis von Umsatzsteuer, da Kleinunternehmer gemäß § 19 UStG")
EXEMPTION_ALTTEIL = N_("Altteil im Austausch vom Kunden geliefert (UStAE 10.5 Abs. 3)")

SMALL_INVOICE_LIMIT = Decimal("250.00")  # §33 UStDV, gross
KLEINUNTERNEHMER_PREVIOUS_YEAR_LIMIT = Decimal("25000.00")  # §19 Abs. 1 UStG (since 2025)
KLEINUNTERNEHMER_CURRENT_YEAR_LIMIT = Decimal("100000.00")

# ISO country → VAT id prefix of the EU member states; Greece uses EL (ISO GR). Northern Ireland (XI)
# counts only for goods, so a workshop service to XI is not reverse charge here.
_EU_MEMBERS = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
EU_VAT_PREFIXES: dict[str, str] = {code: "EL" if code == "GR" else code for code in _EU_MEMBERS}


@dataclass(frozen=True)
class TaxContext:
    """Who sells to whom: decides reverse charge, Kleinunternehmer and Altteilsteuer.

    ``customer_vat_id`` must already be validated (``app.validation.vat_id``); ``business_vehicle`` means
    the vehicle belongs to the customer's business.
    """

    customer_business: bool = False
    business_vehicle: bool = False
    customer_country: str = "DE"
    customer_vat_id: str = ""
    seller_country: str = "DE"
    kleinunternehmer: bool = False


@dataclass(frozen=True)
class TaxResult:
    """Invoice lines (positions 1..n, generated Altteil lines included), breakdown and totals.

    ``taxes`` is sorted by category (S, Z, E, AE) then descending rate. ``altteil_tax`` is the part of the
    19 % tax caused by the Altteil values (see ``compute``). ``notes`` must be printed on the invoice.
    """

    lines: tuple[DocLine, ...]
    taxes: tuple[TaxBreakdown, ...]
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    altteil_tax: Decimal = Decimal("0.00")
    reverse_charge: bool = False
    kleinunternehmer: bool = False
    small_invoice_allowed: bool = False
    notes: tuple[str, ...] = ()


def reverse_charge_applies(ctx: TaxContext) -> bool:
    """EU B2B (INV-10): a business customer in another member state whose VAT id carries that state's
    prefix. Customers outside the EU (e.g. CH) are not reverse charge: exports of services follow §3a UStG
    and are out of scope for now, so they stay taxed normally unless the counter decides otherwise."""
    country, seller = _iso(ctx.customer_country), _iso(ctx.seller_country)
    prefix = EU_VAT_PREFIXES.get(country)
    if not ctx.customer_business or prefix is None or country == seller:
        return False
    vat_id = "".join(ctx.customer_vat_id.split()).upper()
    return len(vat_id) > len(prefix) and vat_id.startswith(prefix)


def _iso(country: str) -> str:
    """Upper-case ISO code; the VAT prefix EL, sometimes typed for Greece, means GR."""
    code = country.strip().upper()
    return "GR" if code == "EL" else code


def compute(lines: Sequence[InputLine], ctx: TaxContext) -> TaxResult:
    """Compute an invoice's lines, tax breakdown and totals (rules: module docstring).

    Reverse charge wins over Kleinunternehmer: an EU B2B service is not taxable in Germany at all, and the
    buyer's §13b note is the one the invoice needs. Neither mode gets Altteil lines (no German VAT shown).

    Altteilsteuer: the 19 % breakdown includes the Altteil values V, so its tax is rounded once over all
    19 % nets; ``altteil_tax`` = tax(19 % with V) − tax(19 % without V). That keeps breakdown, totals and
    ``altteil_tax`` consistent; it equals round(19 % × V) except, at most, for one cent of rounding.

    Raises ``ValidationError`` naming the input position and field ("lines[2].vat_rate").
    """
    reverse_charge = reverse_charge_applies(ctx)
    kleinunternehmer = ctx.kleinunternehmer and not reverse_charge
    business_vehicle = ctx.customer_business and ctx.business_vehicle
    with_altteil = not (reverse_charge or kleinunternehmer or business_vehicle)

    out: list[DocLine] = []
    base: dict[TaxKey, Decimal] = {}  # non-discount nets so far: what a discount applies to
    running: dict[TaxKey, Decimal] = {}  # the same after the discounts so far
    for index, entered in enumerate(lines):
        line = replace(entered, kind=check_kind(entered, index))
        rate = check_rate(line, index)
        key = _tax_key(rate, reverse_charge=reverse_charge, kleinunternehmer=kleinunternehmer)
        if line.kind == LineKind.DISCOUNT:
            parts = discount_lines(line, index, base, running)
            for part in parts:
                part_key = (part.vat_category, part.vat_rate)
                running[part_key] = running.get(part_key, Decimal(0)) + part.net
            out.extend(parts)
            continue
        doc = priced_line(line, index, key)
        base[key] = base.get(key, Decimal(0)) + doc.net
        running[key] = running.get(key, Decimal(0)) + doc.net
        out.append(doc)
        if line.kind == LineKind.EXCHANGE_PART and with_altteil:
            out.extend(altteil_lines(doc))

    numbered = tuple(replace(doc, position=number) for number, doc in enumerate(out, start=1))
    taxes = _breakdown(numbered, kleinunternehmer=kleinunternehmer)
    net_total = sum((doc.net for doc in numbered), Decimal("0.00"))
    tax_total = sum((tax.tax for tax in taxes), Decimal("0.00"))
    gross_total = net_total + tax_total
    notes: list[str] = []
    if reverse_charge:
        notes.append(NOTE_REVERSE_CHARGE)
    if kleinunternehmer:
        notes.append(EXEMPTION_KLEINUNTERNEHMER)
    return TaxResult(
        lines=numbered,
        taxes=taxes,
        net_total=net_total,
        tax_total=tax_total,
        gross_total=gross_total,
        altteil_tax=_altteil_tax(numbered, taxes),
        reverse_charge=reverse_charge,
        kleinunternehmer=kleinunternehmer,
        small_invoice_allowed=gross_total <= SMALL_INVOICE_LIMIT and not reverse_charge,
        notes=tuple(notes),
    )


def negated(result: TaxResult) -> TaxResult:
    """The figures of a Stornorechnung for ``result``: quantities, nets, taxes and totals negated, unit
    prices kept positive (EN 16931 BR-27), flags and notes unchanged.

    ``compute`` rejects negative quantities, so a Storno is made from the original's result: half-up
    rounds away from zero, so negating is exactly what computing the negated lines would give.
    """

    def neg(value: Decimal) -> Decimal:
        return Decimal(0) - value  # never "-0.00"

    return replace(
        result,
        lines=tuple(
            replace(
                doc,
                quantity=neg(doc.quantity),
                net=neg(doc.net),
                aw=None if doc.aw is None else neg(doc.aw),  # the AW count is the labour line's quantity
            )
            for doc in result.lines
        ),
        taxes=tuple(replace(tax, net=neg(tax.net), tax=neg(tax.tax)) for tax in result.taxes),
        net_total=neg(result.net_total),
        tax_total=neg(result.tax_total),
        gross_total=neg(result.gross_total),
        altteil_tax=neg(result.altteil_tax),
    )


def _tax_key(rate: Decimal, *, reverse_charge: bool, kleinunternehmer: bool) -> TaxKey:
    if reverse_charge:
        return VatCategory.REVERSE_CHARGE, RATE_ZERO
    if kleinunternehmer:
        return VatCategory.EXEMPT, RATE_ZERO
    if rate == RATE_ZERO:
        return VatCategory.ZERO, RATE_ZERO
    return VatCategory.STANDARD, rate


def _tax(net: Decimal, rate: Decimal) -> Decimal:
    # Adding zero turns a "-0.00" (a negative exempt net at 0 %) into "0.00" before it reaches the XML.
    return round_money(net * rate / 100) + Decimal("0.00")


def _breakdown(lines: Sequence[DocLine], *, kleinunternehmer: bool) -> tuple[TaxBreakdown, ...]:
    """Net per (category, rate) and its tax, rounded once per group (§14 Abs. 4 Nr. 7–8, INV-08)."""
    nets: dict[TaxKey, Decimal] = {}
    for doc in lines:
        key = (doc.vat_category, doc.vat_rate)
        nets[key] = nets.get(key, Decimal("0.00")) + doc.net
    reasons = {
        VatCategory.REVERSE_CHARGE: EXEMPTION_REVERSE_CHARGE,
        # In Kleinunternehmer mode there are no Altteil lines, so E has exactly one meaning each time.
        VatCategory.EXEMPT: EXEMPTION_KLEINUNTERNEHMER if kleinunternehmer else EXEMPTION_ALTTEIL,
    }
    return tuple(
        TaxBreakdown(
            category=key[0],
            rate=key[1],
            net=nets[key],
            tax=_tax(nets[key], key[1]),
            exemption_reason=reasons.get(key[0], ""),
        )
        for key in sorted(nets, key=key_order)
    )


def _altteil_tax(lines: Sequence[DocLine], taxes: Sequence[TaxBreakdown]) -> Decimal:
    values = sum((doc.net for doc in lines if doc.kind == LineKind.ALTTEIL_VALUE), Decimal("0.00"))
    if not values:
        return Decimal("0.00")
    standard = next(t for t in taxes if t.category == VatCategory.STANDARD and t.rate == RATE_STANDARD)
    return standard.tax - _tax(standard.net - values, RATE_STANDARD)


def kleinunternehmer_warnings(previous_year_turnover: Decimal, current_year_turnover: Decimal) -> list[str]:
    """Warnings for a §19 Kleinunternehmer (INV-11, limits since 2025): over €25,000 in the previous year,
    or over €100,000 in the current year (which ends the status at once)."""
    warnings: list[str] = []
    if previous_year_turnover > KLEINUNTERNEHMER_PREVIOUS_YEAR_LIMIT:
        warnings.append(
            _(
                "Der Umsatz des Vorjahres ({amount}) liegt über 25.000 € – die Kleinunternehmerregelung "
                "(§ 19 UStG) gilt in diesem Jahr nicht. Bitte mit der Steuerberatung klären und die "
                "Umsatzsteuer ausweisen."
            ).format(amount=formatting.money(previous_year_turnover))
        )
    if current_year_turnover > KLEINUNTERNEHMER_CURRENT_YEAR_LIMIT:
        warnings.append(
            _(
                "Der Umsatz des laufenden Jahres ({amount}) liegt über 100.000 € – die "
                "Kleinunternehmerregelung (§ 19 UStG) endet sofort. Ab dem Umsatz, mit dem die Grenze "
                "überschritten wurde, muss Umsatzsteuer ausgewiesen werden."
            ).format(amount=formatting.money(current_year_turnover))
        )
    return warnings
