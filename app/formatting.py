"""Locale-aware formatting (Babel) of money, numbers and dates for the current language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from app.i18n import locale_name
from app.money import round_money


def money(value: Decimal, currency: str = "EUR") -> str:
    """1234.5 → "1.234,50 €" (de) — rounded half-up before Babel's half-even formatting."""
    return format_currency(round_money(value), currency, locale=locale_name())


def number(value: Decimal | int | float, digits: int = 2) -> str:
    """A number with the locale's separators and up to ``digits`` decimals."""
    pattern = "#,##0." + "#" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=locale_name())


def date(value: dt.date | None, fmt: str = "medium") -> str:
    """A date as "27.11.2026" (de, medium)."""
    if value is None:
        return ""
    return format_date(value, format=fmt, locale=locale_name())


def datetime(value: dt.datetime | None, fmt: str = "short") -> str:
    """A date and time, short format by default."""
    if value is None:
        return ""
    return format_datetime(value, format=fmt, locale=locale_name())


def month(value: dt.date | None) -> str:
    """The HU month as "11/2026"."""
    return "" if value is None else f"{value.month:02d}/{value.year}"
