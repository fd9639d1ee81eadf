"""Opening hours, public holidays per Bundesland, durations from AW and the slot grid."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from app.calendar_rules import (
    DEFAULT_OPENING_HOURS,
    check_open,
    duration_for_services,
    format_span,
    holidays_for,
    is_holiday,
    parse_opening_hours,
    slot_starts,
)
from app.errors import ValidationError

MONDAY = dt.date(2026, 11, 23)
SATURDAY = dt.date(2026, 11, 28)
SUNDAY = dt.date(2026, 11, 29)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    hours, minutes = hhmm.split(":")
    return dt.datetime.combine(day, dt.time(int(hours), int(minutes)))


# --- opening hours -------------------------------------------------------------------------------


def test_default_hours_summary_and_json_round_trip() -> None:
    assert DEFAULT_OPENING_HOURS.summary() == "Mo–Fr 07:30–12:00, 13:00–17:30 · Sa 08:00–12:00"
    data = json.loads(DEFAULT_OPENING_HOURS.to_json())
    assert data["0"] == [["07:30", "12:00"], ["13:00", "17:30"]]
    assert data["5"] == [["08:00", "12:00"]]
    assert "6" not in data
    assert parse_opening_hours(DEFAULT_OPENING_HOURS.to_json()) == DEFAULT_OPENING_HOURS


def test_parse_missing_and_empty_days_are_closed() -> None:
    hours = parse_opening_hours('{"0": [["08:00", "16:00"]], "2": [], "4": [["8:00", "12:00"]]}')
    assert hours.for_weekday(0) == ((dt.time(8), dt.time(16)),)
    assert hours.for_weekday(1) == ()
    assert hours.for_weekday(2) == ()
    assert hours.for_weekday(4) == ((dt.time(8), dt.time(12)),)
    assert hours.summary() == "Mo 08:00–16:00 · Fr 08:00–12:00"
    assert parse_opening_hours("  ").summary() == "geschlossen"


def test_parse_sorts_and_merges_touching_intervals() -> None:
    hours = parse_opening_hours('{"1": [["13:00", "17:00"], ["08:00", "12:00"], ["12:00", "13:00"]]}')
    assert hours.for_weekday(1) == ((dt.time(8), dt.time(17)),)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("kein json", "kein gültiges JSON"),
        ("[1, 2]", "kein gültiges JSON"),
        ('{"7": [["08:00", "12:00"]]}', "Unbekannter Wochentag „7“"),
        ('{"0": [["7.30", "12:00"]]}', "Ungültige Uhrzeit „7.30“ am Montag"),
        ('{"1": [["08:00", "25:00"]]}', "Ungültige Uhrzeit „25:00“ am Dienstag"),
        ('{"0": [["08:00", 12]]}', "Ungültige Uhrzeit „12“"),
        ('{"2": "08:00-12:00"}', "Liste von Zeitfenstern"),
        ('{"3": [["12:00", "08:00"]]}', "Am Donnerstag endet das Zeitfenster 12:00–08:00 nicht nach seinem Beginn"),
        ('{"4": [["09:00", "09:00"]]}', "09:00–09:00 nicht nach seinem Beginn"),
        (
            '{"0": [["08:00", "12:00"], ["11:30", "17:00"]]}',
            "Am Montag überschneiden sich die Zeitfenster 08:00–12:00 und 11:30–17:00",
        ),
    ],
)
def test_parse_errors_are_german_and_name_the_field(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_opening_hours(text)
    assert err.value.field == "opening_hours"
    assert fragment in str(err.value)


def test_intervals_and_is_open() -> None:
    hours = DEFAULT_OPENING_HOURS
    assert hours.intervals(MONDAY) == [
        (at(MONDAY, "07:30"), at(MONDAY, "12:00")),
        (at(MONDAY, "13:00"), at(MONDAY, "17:30")),
    ]
    assert hours.intervals(SUNDAY) == []
    assert hours.is_open(at(MONDAY, "07:30"), at(MONDAY, "12:00"))
    assert hours.is_open(at(MONDAY, "13:00"), at(MONDAY, "14:00"))
    assert not hours.is_open(at(MONDAY, "07:15"), at(MONDAY, "08:00"))
    assert not hours.is_open(at(MONDAY, "11:30"), at(MONDAY, "13:30")), "spans the lunch break"
    assert not hours.is_open(at(MONDAY, "17:00"), at(MONDAY, "17:45"))
    assert not hours.is_open(at(SATURDAY, "11:00"), at(SATURDAY, "12:30"))
    assert not hours.is_open(at(SUNDAY, "09:00"), at(SUNDAY, "10:00"))
    assert not hours.is_open(at(MONDAY, "09:00"), at(MONDAY, "09:00"))
    assert not hours.is_open(at(MONDAY, "16:00"), at(MONDAY + dt.timedelta(days=1), "08:00"))


# --- public holidays -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "land", "name"),
    [
        (dt.date(2026, 6, 4), "BY", "Fronleichnam"),
        (dt.date(2026, 6, 4), "NI", None),
        (dt.date(2026, 10, 31), "NI", "Reformationstag"),
        (dt.date(2026, 10, 31), "BY", None),
        (dt.date(2026, 11, 18), "SN", "Buß- und Bettag"),
        (dt.date(2026, 11, 18), "BY", None),
        (dt.date(2026, 3, 8), "BE", "Frauentag"),
        (dt.date(2026, 3, 8), "HH", None),
        (dt.date(2026, 12, 25), "HB", "Erster Weihnachtstag"),
        (dt.date(2026, 12, 24), "BY", None),
        (dt.date(2026, 11, 23), "BY", None),
    ],
)
def test_holidays_depend_on_the_bundesland(day: dt.date, land: str, name: str | None) -> None:
    assert is_holiday(day, land) == name


def test_holidays_for_a_year_and_code_normalisation() -> None:
    by = holidays_for("by", 2026)
    assert by[dt.date(2026, 1, 6)] == "Heilige Drei Könige"
    assert dt.date(2026, 1, 6) not in holidays_for("NW", 2026)
    assert all(day.year == 2026 for day in by)
    by[dt.date(2026, 7, 1)] = "manipuliert"
    assert dt.date(2026, 7, 1) not in holidays_for("BY", 2026), "callers get a copy of the cache"


def test_unknown_bundesland_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as err:
        is_holiday(MONDAY, "XX")
    assert err.value.field == "bundesland"
    assert "Unbekanntes Bundesland „XX“" in str(err.value)


# --- duration from AW ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aw", "per_hour", "minutes"),
    [
        (["7"], 10, 45),  # 42 min → next quarter hour
        (["6"], 10, 45),  # exactly 36 min → 45
        (["4.5"], 10, 30),  # 27 min
        (["3", "3"], 10, 45),  # 36 min in sum, not 2 × 18 rounded each
        (["10"], 10, 60),  # exact hour stays an hour
        (["7"], 12, 45),  # 35 min
        (["9"], 12, 45),  # exactly 45 min
        (["10"], 12, 60),  # 50 min
        (["12"], 12, 60),
        ([], 10, 15),  # minimum
        (["0.5"], 12, 15),  # 2.5 min → minimum
    ],
)
def test_duration_rounds_up_to_slots(aw: list[str], per_hour: int, minutes: int) -> None:
    values = [Decimal(a) for a in aw]
    assert duration_for_services(values, per_hour) == dt.timedelta(minutes=minutes)


def test_duration_slot_size_and_minimum() -> None:
    assert duration_for_services([Decimal(7)], 10, slot_minutes=30) == dt.timedelta(minutes=60)
    assert duration_for_services([Decimal(7)], 10, slot_minutes=5) == dt.timedelta(minutes=45)
    assert duration_for_services([Decimal(1)], 10, slot_minutes=15, minimum=30) == dt.timedelta(minutes=30)


@pytest.mark.parametrize(
    ("values", "per_hour", "slot", "field"),
    [([Decimal(1)], 0, 15, "aw_per_hour"), ([Decimal(1)], 10, 0, "slot_minutes"), ([Decimal(-1)], 10, 15, "aw")],
)
def test_duration_rejects_nonsense(values: list[Decimal], per_hour: int, slot: int, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        duration_for_services(values, per_hour, slot_minutes=slot)
    assert err.value.field == field


# --- check_open and the slot grid ----------------------------------------------------------------


def test_check_open_accepts_open_times() -> None:
    check_open(DEFAULT_OPENING_HOURS, "BY", at(MONDAY, "08:00"), at(MONDAY, "09:00"))
    check_open(DEFAULT_OPENING_HOURS, "BY", at(SATURDAY, "11:00"), at(SATURDAY, "12:00"))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (
            at(SATURDAY, "11:00"),
            at(SATURDAY, "13:00"),
            "Die Werkstatt hat am Samstag, 28.11.2026 nur 08:00–12:00 geöffnet.",
        ),
        (
            at(MONDAY, "11:30"),
            at(MONDAY, "12:30"),
            "Die Werkstatt hat am Montag, 23.11.2026 nur 07:30–12:00, 13:00–17:30 geöffnet.",
        ),
        (at(SUNDAY, "09:00"), at(SUNDAY, "10:00"), "Die Werkstatt ist am Sonntag, 29.11.2026 geschlossen."),
        (
            at(dt.date(2026, 12, 25), "09:00"),
            at(dt.date(2026, 12, 25), "10:00"),
            "Der 25.12.2026 ist in Bayern ein Feiertag (Erster Weihnachtstag).",
        ),
        (
            at(dt.date(2026, 12, 24), "16:00"),
            at(dt.date(2026, 12, 25), "08:00"),
            "Der 25.12.2026 ist in Bayern ein Feiertag (Erster Weihnachtstag).",
        ),
    ],
)
def test_check_open_messages(start: dt.datetime, end: dt.datetime, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        check_open(DEFAULT_OPENING_HOURS, "BY", start, end)
    assert str(err.value) == message
    assert err.value.field == "start"


def test_slot_starts_skip_lunch_break_holidays_and_closed_days() -> None:
    starts = list(
        slot_starts(
            DEFAULT_OPENING_HOURS,
            "BY",
            date_from=dt.date(2026, 12, 24),  # Thu (open), Fri + Sat holidays, Sun closed
            days=4,
            duration=dt.timedelta(hours=1),
            step=dt.timedelta(minutes=15),
        )
    )
    assert {s.date() for s in starts} == {dt.date(2026, 12, 24)}
    day = dt.date(2026, 12, 24)
    assert starts[0] == at(day, "07:30")
    assert at(day, "11:00") in starts
    assert all(not (at(day, "11:00") < s < at(day, "13:00")) for s in starts), "no slot over lunch"
    assert starts[-1] == at(day, "16:30")
    assert len(starts) == 15 + 15  # 07:30…11:00 and 13:00…16:30 in quarter hours


def test_format_span() -> None:
    assert format_span(at(MONDAY, "08:00"), at(MONDAY, "09:15")) == "23.11.2026 08:00–09:15"
    assert format_span(at(MONDAY, "16:00"), at(SATURDAY, "08:00")) == "23.11.2026 16:00 – 28.11.2026 08:00"
