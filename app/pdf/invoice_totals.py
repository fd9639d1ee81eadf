"""The totals block and the legal notes of an invoice (and, through :class:`PricedDocument`, of a
Kostenvoranschlag), computed from the document.

The Altteilsteuer (UStAE 10.5 Abs. 3) travels in the document as two lines — the old-part value taxed at
19 % (``ALTTEIL_VALUE``) and the same value set off, exempt (``ALTTEIL_SETOFF``) — so the XML tax
breakdown is complete. On paper only the tax amount may appear: the two lines are not printed, their net
is taken out of the per-rate figures, and ``doc.altteil_tax`` is shown as a line of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from app.invoice_document import DocLine, InvoiceDocument, LineKind, Party, TaxBreakdown, VatCategory
from app.pdf import text

ALTTEIL_KINDS = frozenset({LineKind.ALTTEIL_VALUE, LineKind.ALTTEIL_SETOFF})
RC_NOTE = "Steuerschuldnerschaft des Leistungsempfängers"
KLEINUNTERNEHMER_NOTE = (
    "Steuerfreie Leistung als Kleinunternehmer nach § 19 UStG – es wird keine Umsatzsteuer berechnet."
)
ALTTEIL_NOTE = (
    "Die Altteilsteuer ist die Umsatzsteuer auf den Wert des von Ihnen zurückgegebenen Altteils "
    "(Austauschteil, UStAE 10.5 Abs. 3)."
)


class PricedDocument(Protocol):
    """What the line table, the totals and the tax notes read: an invoice or a KVA, both priced by the VAT
    engine (``app.tax.compute``). Read-only properties, so frozen dataclasses match."""

    @property
    def seller(self) -> Party: ...
    @property
    def buyer(self) -> Party: ...
    @property
    def lines(self) -> tuple[DocLine, ...]: ...
    @property
    def taxes(self) -> tuple[TaxBreakdown, ...]: ...
    @property
    def gross_total(self) -> Decimal: ...
    @property
    def altteil_tax(self) -> Decimal: ...
    @property
    def reverse_charge(self) -> bool: ...
    @property
    def kleinunternehmer(self) -> bool: ...
    @property
    def small_invoice(self) -> bool: ...
    @property
    def currency(self) -> str: ...


@dataclass(frozen=True)
class TotalLine:
    """One line of the totals block: label, amount, and how it is set."""

    label: str
    amount: Decimal
    strong: bool = False
    rule_above: bool = False


@dataclass(frozen=True)
class RateSum:
    """Net and VAT of one rate as printed (Altteil lines taken out)."""

    category: VatCategory
    rate: Decimal
    net: Decimal
    tax: Decimal
    exemption_reason: str


def printed_lines(doc: PricedDocument) -> list[DocLine]:
    """The lines that appear in the table (all but the two Altteil bookkeeping lines)."""
    return [line for line in doc.lines if line.kind not in ALTTEIL_KINDS]


def altteil_rate(doc: PricedDocument) -> Decimal:
    """The rate of the Altteilsteuer (the rate of the old-part value line; 19 % if there is none)."""
    for line in doc.lines:
        if line.kind is LineKind.ALTTEIL_VALUE:
            return line.vat_rate
    return Decimal("19")


def rate_sums(doc: PricedDocument) -> list[RateSum]:
    """Net and VAT per rate and category without the Altteil lines; breakdowns that held only those
    lines (the exempt set-off) are left out."""
    result = []
    for tb in doc.taxes:
        key = (tb.category, tb.rate)
        here = [line for line in doc.lines if (line.vat_category, line.vat_rate) == key]
        altteil_net = sum((line.net for line in here if line.kind in ALTTEIL_KINDS), Decimal(0))
        has_value_line = any(line.kind is LineKind.ALTTEIL_VALUE for line in here)
        net = tb.net - altteil_net
        tax = tb.tax - (doc.altteil_tax if has_value_line else Decimal(0))
        if not any(line.kind not in ALTTEIL_KINDS for line in here) and net == 0 and tax == 0:
            continue
        result.append(RateSum(tb.category, tb.rate, net, tax, _reason(tb)))
    return result


def _reason(tb: TaxBreakdown) -> str:
    return tb.exemption_reason.strip()


def total_lines(doc: InvoiceDocument) -> list[TotalLine]:
    """The invoice's totals block: :func:`tax_total_lines`, then what was prepaid and is still due."""
    lines = tax_total_lines(doc)
    if doc.prepaid:
        lines.append(TotalLine("bereits bezahlt", -doc.prepaid))
        lines.append(TotalLine("Zahlbetrag", doc.amount_due, strong=True, rule_above=True))
    return lines


def tax_total_lines(doc: PricedDocument, gross_label: str = "Gesamtbetrag") -> list[TotalLine]:
    """Net and VAT per rate (or gross per rate for a Kleinbetragsrechnung), the Altteilsteuer and the
    gross total, labelled ``gross_label``."""
    sums = rate_sums(doc)
    lines: list[TotalLine] = []
    if doc.kleinunternehmer:
        pass  # one sum only (§ 34a UStDV); the exemption note says why there is no VAT
    elif doc.small_invoice:
        for entry in sums:
            lines.append(TotalLine(f"Summe {text.percent(entry.rate)} (brutto)", entry.net + entry.tax))
        for entry in sums:
            if entry.tax:
                lines.append(TotalLine(f"darin enthalten {text.percent(entry.rate)} USt", entry.tax))
    else:
        for entry in sums:
            lines.append(TotalLine(_net_label(entry, several=len(sums) > 1), entry.net))
        for entry in sums:
            if entry.category in (VatCategory.STANDARD, VatCategory.ZERO):
                label = f"{text.percent(entry.rate)} USt auf {text.money(entry.net, doc.currency)}"
                lines.append(TotalLine(label, entry.tax))
    if doc.altteil_tax:
        label = f"Altteilsteuer {text.percent(altteil_rate(doc))} (UStAE 10.5 Abs. 3)"
        lines.append(TotalLine(label, doc.altteil_tax))
    lines.append(TotalLine(gross_label, doc.gross_total, strong=True, rule_above=True))
    return lines


def _net_label(entry: RateSum, *, several: bool) -> str:
    if entry.category is VatCategory.REVERSE_CHARGE:
        return "Nettobetrag (Reverse Charge)"
    if entry.category is VatCategory.EXEMPT:
        return "Nettobetrag (steuerfrei)"
    return f"Nettobetrag {text.percent(entry.rate)}" if several or entry.rate else "Nettobetrag"


def notes(doc: InvoiceDocument) -> list[str]:
    """The notes under the totals: the Storno reference, the document's own notes (the invoice service puts
    its Storno reference, the reason and the engine's notes there), reverse charge with both VAT ids, the
    § 19 exemption, other exemption reasons, the Altteilsteuer, and a Storno's payment terms. A note
    contained in a longer one is printed only once."""
    result: list[str] = []
    if doc.is_storno and doc.cancels is not None:
        number, issued = doc.cancels
        if not any(f"Rechnung Nr. {number}" in note for note in doc.notes):
            result.append(f"Diese Stornorechnung hebt die Rechnung Nr. {number} vom {text.date(issued)} auf.")
    result += [note.strip() for note in doc.notes if note.strip()]
    result += tax_notes(doc)
    if doc.is_storno and doc.payment_terms.strip():
        result.append(doc.payment_terms.strip())
    return unique_notes(result)


def tax_notes(doc: PricedDocument) -> list[str]:
    """Reverse charge with both VAT ids, the § 19 exemption, other exemption reasons, the Altteilsteuer."""
    result: list[str] = []
    if doc.reverse_charge:
        result.append(
            f"{RC_NOTE} (Reverse Charge): Die Umsatzsteuer schuldet der Leistungsempfänger "
            "(§ 13b UStG, Art. 196 MwStSystRL). "
            f"USt-IdNr. des Leistenden: {doc.seller.vat_id or '–'}; "
            f"USt-IdNr. des Leistungsempfängers: {doc.buyer.vat_id or '–'}."
        )
    reasons = [entry.exemption_reason for entry in rate_sums(doc) if entry.exemption_reason]
    if doc.kleinunternehmer and not reasons:
        result.append(KLEINUNTERNEHMER_NOTE)
    result += reasons
    if doc.altteil_tax:
        result.append(ALTTEIL_NOTE)
    return result


def unique_notes(entries: list[str]) -> list[str]:
    """Each note once; a note contained in a longer one is left out (the engine's short reverse-charge
    note inside the full one)."""
    unique = list(dict.fromkeys(entries))
    return [note for note in unique if not any(note != other and note in other for other in unique)]


def payment_text(doc: InvoiceDocument) -> str:
    """What the customer is asked to do: pay by the due date, nothing (prepaid), or receive a refund.
    Empty for a Stornorechnung (its payment terms are printed with the notes)."""
    due = doc.amount_due
    terms = doc.payment_terms.strip()
    if doc.is_storno:
        return ""
    if due > 0:
        sentence = f"Bitte zahlen Sie {text.money(due, doc.currency)}"
        if text.date(doc.due_date) not in terms:
            sentence += f" bis zum {text.date(doc.due_date)}"
        if doc.iban:
            sentence += f" unter Angabe der Rechnungsnummer {doc.number} auf das unten genannte Konto"
        sentence += "."
        return f"{terms} {sentence}".strip()
    if due == 0:
        return "Der Rechnungsbetrag ist bereits vollständig bezahlt."
    return f"Den zu viel gezahlten Betrag von {text.money(-due, doc.currency)} erstatten wir Ihnen."
