"""Money: half-up rounding and parsing numbers as German users type them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app import formatting
from app.i18n import set_language
from app.money import decimal_places, parse_decimal, round_money


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.005", "0.01"), ("0.015", "0.02"), ("2.675", "2.68"), ("-0.005", "-0.01"), ("19.99499", "19.99")],
)
def test_round_half_up(value: str, expected: str) -> None:
    assert round_money(Decimal(value)) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,50", "1234.50"),
        ("12,5", "12.5"),
        ("12.5", "12.5"),
        ("1234", "1234"),
        ("1.234", "1.234"),
        ("1.234.567", "1234567"),
        (" 99,90 € ", "99.90"),
        ("-3,00", "-3.00"),
        (7, "7"),
        (0.1, "0.1"),
        ("1.234.567,89", "1234567.89"),
    ],
)
def test_parse_decimal(text: object, expected: str) -> None:
    assert parse_decimal(text) == Decimal(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "12.34.5", "1e5x", True])
def test_parse_decimal_rejects(text: object) -> None:
    with pytest.raises(ValueError):
        parse_decimal(text)  # type: ignore[arg-type]


def test_decimal_places() -> None:
    assert decimal_places(Decimal("1.50")) == 2
    assert decimal_places(Decimal("7")) == 0


def test_german_formats_round_half_up_not_half_even() -> None:
    # Babel alone would print 0,02 € for 0.025 (half-even); commercial rounding gives 0,03 €.
    assert formatting.money(Decimal("0.025")) == "0,03\xa0€"
    assert formatting.money(Decimal("1234.5")) == "1.234,50\xa0€"
    assert formatting.number(Decimal("1234.5")) == "1.234,5"
    import datetime as dt

    assert formatting.date(dt.date(2026, 11, 27)) == "27.11.2026"
    assert formatting.month(dt.date(2026, 3, 1)) == "03/2026"
    set_language("en")
    try:
        assert formatting.money(Decimal("1234.5")) == "€1,234.50"
    finally:
        set_language("de")
