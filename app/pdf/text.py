"""German number, money and date formatting for printed documents.

Invoices and reminders are German legal documents, so they are always formatted with the de_DE locale,
whatever language the user interface runs in (``app.formatting`` follows the UI language, and switching
the process-wide language from a PDF worker thread would not be thread-safe). Money is rounded half-up
with ``app.money.round_money`` before Babel (which would round half-even) formats it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from xml.sax.saxutils import escape

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from app.money import round_money

LOCALE = "de_DE"
NBSP = "\u00a0"


def money(value: Decimal, currency: str = "EUR") -> str:
    """Decimal("1234.5") → "1.234,50 €" (NBSP before the sign)."""
    return format_currency(round_money(value), currency, locale=LOCALE)


def unit_price(value: Decimal, currency: str = "EUR") -> str:
    """A unit price with 2 to 4 decimals (AW prices such as 110 € / 12 = 9,1667 €)."""
    if value == round_money(value):
        return money(value, currency)
    amount = format_decimal(value.quantize(Decimal("0.0001")), format="#,##0.00##", locale=LOCALE)
    symbol = "€" if currency == "EUR" else currency
    return f"{amount}{NBSP}{symbol}"


def quantity(value: Decimal) -> str:
    """Decimal("4.500") → "4,5"; up to 3 decimals."""
    return format_decimal(value, format="#,##0.###", locale=LOCALE)


def percent(rate: Decimal) -> str:
    """A VAT rate given in percent: Decimal("19.00") → "19 %", Decimal("10.7") → "10,7 %"."""
    return f"{format_decimal(rate, format='#,##0.##', locale=LOCALE)}{NBSP}%"


def date(value: dt.date) -> str:
    """dt.date(2026, 11, 27) → "27.11.2026"."""
    return format_date(value, format="dd.MM.yyyy", locale=LOCALE)


def kilometres(value: int) -> str:
    """123456 → "123.456 km"."""
    return f"{format_decimal(value, format='#,##0', locale=LOCALE)}{NBSP}km"


def country_name(code: str) -> str:
    """The German name of an ISO country code, upper case as the last address line ("FRANKREICH")."""
    name = Locale.parse(LOCALE).territories.get(code.upper(), code)
    return str(name).upper()


def xml(text: str) -> str:
    """Escape user text for ReportLab paragraph markup ("Müller & Söhne" must not break the parser)."""
    return escape(text)
