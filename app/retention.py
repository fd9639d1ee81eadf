"""Retention categories and their clocks (§147 AO, §257 HGB, §7a UWG; law reference §2.5 and §3.1).

Pure rules, no database: every legal hold (``app.models.LegalHold``) names one of these categories,
and its end date is computed here. The clock starts at the end of the calendar year of the last
entry or issue (§147 Abs. 4 AO), so a voucher from 15.03.2026 is kept until 31.12.2034.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from app.errors import ValidationError
from app.i18n import N_, _


class RetentionCategory(StrEnum):
    """A retention category; the value is what ``LegalHold.category`` stores."""

    VOUCHER_8Y = "voucher_8y"
    BOOKS_10Y = "books_10y"
    LETTERS_6Y = "letters_6y"
    WARRANTY_3Y = "warranty_3y"
    CONSENT_PROOF_5Y = "consent_proof_5y"


@dataclass(frozen=True)
class RetentionRule:
    """How long a category is kept, what it covers (German msgid) and on which legal basis."""

    category: RetentionCategory
    years: int
    label_id: str
    basis: str

    @property
    def label(self) -> str:
        """The label in the current language."""
        return _(self.label_id)


# Since 2025 (Bürokratieentlastungsgesetz IV) vouchers are kept 8 instead of 10 years.
RULES: dict[RetentionCategory, RetentionRule] = {
    rule.category: rule
    for rule in (
        RetentionRule(
            RetentionCategory.VOUCHER_8Y,
            8,
            N_("Buchungsbelege: Rechnungen, Auftragszettel – 8 Jahre"),
            "§ 147 Abs. 1 Nr. 4, Abs. 3 AO; § 14b UStG",
        ),
        RetentionRule(
            RetentionCategory.BOOKS_10Y,
            10,
            N_("Bücher, Verfahrensdokumentation – 10 Jahre"),
            "§ 147 Abs. 1 Nr. 1, Abs. 3 AO; § 257 HGB",
        ),
        RetentionRule(
            RetentionCategory.LETTERS_6Y,
            6,
            N_("Geschäftsbriefe, Kostenvoranschläge – 6 Jahre"),
            "§ 147 Abs. 1 Nr. 2, 3, Abs. 3 AO; § 257 HGB",
        ),
        # [judgment] legitimate interest: warranty (§634a BGB) and the standard limitation period.
        RetentionRule(
            RetentionCategory.WARRANTY_3Y,
            3,
            N_("Auftragsdaten für Gewährleistung – 3 Jahre"),
            "Art. 6 Abs. 1 lit. f DSGVO; §§ 195, 634a BGB",
        ),
        RetentionRule(
            RetentionCategory.CONSENT_PROOF_5Y,
            5,
            N_("Einwilligungsnachweis – 5 Jahre"),
            "§ 7a UWG",
        ),
    )
}


def category(value: str | RetentionCategory) -> RetentionCategory:
    """The category for a stored or typed value; ValidationError for an unknown one."""
    try:
        return RetentionCategory(str(value).strip())
    except ValueError as exc:
        raise ValidationError(
            "Unbekannte Aufbewahrungskategorie „{value}“. Erlaubt: {allowed}.",
            field="category",
            value=value,
            allowed=", ".join(c.value for c in RetentionCategory),
        ) from exc


def rule(value: str | RetentionCategory) -> RetentionRule:
    """The retention rule of a category."""
    return RULES[category(value)]


def retention_end(value: str | RetentionCategory, event_date: dt.date) -> dt.date:
    """Last day the data must be kept: 31 December of (year of the event + N years).

    The clock starts at the end of the calendar year of the event (§147 Abs. 4 AO), so the
    exact day within the year does not matter.
    """
    return dt.date(event_date.year + rule(value).years, 12, 31)
