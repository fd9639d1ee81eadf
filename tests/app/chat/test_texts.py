"""Visitor texts: complete in four languages with the same placeholders; prices, durations and slot times
formatted per language and readable back."""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal

import pytest

from app.chat import texts
from app.chat.texts import (
    KEYS,
    all_languages,
    format_duration,
    format_money,
    format_price_from,
    format_when,
    parse,
    parse_when,
    text,
)

LANGS = ("de", "en", "tr", "pl")


def _fields(template: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_text_exists_in_four_languages_with_the_same_placeholders(key: str) -> None:
    variants = all_languages(key)
    assert len(variants) == 4
    assert all(v.strip() for v in variants)
    assert all(_fields(v) == _fields(variants[0]) for v in variants)


def test_turkish_and_polish_are_real_translations() -> None:
    def untranslated(key: str) -> bool:
        de, _en, tr, pl = all_languages(key)
        return tr == de or pl == de

    assert [k for k in sorted(KEYS) if k != "slot_line" and untranslated(k)] == []
    assert "ı" in text("fallback", "tr") and "ş" in text("handoff", "tr")
    assert "ł" in text("handoff", "pl") and "ę" in text("callback_ask", "pl")


def test_unknown_languages_fall_back_to_german() -> None:
    assert text("thanks", "fr") == text("thanks", "de")
    assert text("thanks", "pl-PL") == text("thanks", "pl")


@pytest.mark.parametrize(
    ("language", "money", "price", "duration"),
    [
        ("de", "1.089,50 €", "ab 89,00 €", "1 Std. 30 Min."),
        ("en", "€1,089.50", "from €89.00", "1 h 30 min"),
        ("tr", "1.089,50 €", "89,00 €'dan itibaren", "1 sa. 30 dk."),
        ("pl", "1 089,50 €", "od 89,00 €", "1 godz. 30 min"),
    ],
)
def test_money_and_durations_per_language(language: str, money: str, price: str, duration: str) -> None:
    assert format_money(Decimal("1089.5"), language) == money
    assert format_price_from(Decimal("89"), language) == price
    assert format_duration(90, language) == duration
    assert "\u00a0" not in money


def test_durations_under_an_hour_and_whole_hours() -> None:
    assert format_duration(45, "de") == "45 Min."
    assert format_duration(120, "en") == "2 h"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", "Dienstag, 10.03.2026, 08:00 Uhr"),
        ("en", "Tuesday, 10/03/2026, 08:00"),
        ("tr", "Salı, 10.03.2026, 08:00"),
        ("pl", "wtorek, 10.03.2026, 08:00"),
    ],
)
def test_slot_times_are_written_and_read_back(language: str, expected: str) -> None:
    start = dt.datetime(2026, 3, 10, 8, 0)
    assert format_when(start, language) == expected
    assert parse_when(f"1) {expected}") == start


def test_parse_reads_a_template_back_in_any_language() -> None:
    for language in LANGS:
        message = "Vorspann\n\n" + text("ask_contact_booking", language, service="Ölwechsel X", when="W")
        assert parse("ask_contact_booking", message) == {"service": "Ölwechsel X", "when": "W"}
    assert parse("ask_contact_booking", text("thanks", "de")) is None


def test_parse_when_ignores_text_without_a_slot() -> None:
    assert parse_when("Danke!") is None
    assert parse_when("31.02.2026, 08:00") is None
    assert texts.examples_list(["A", "B", "C"], "pl") == "A, B lub C"
