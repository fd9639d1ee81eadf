"""Calendar rules of the workshop: opening hours, German public holidays per Bundesland, durations.

Pure functions and frozen values (no database, no Qt), used by ``app.services.appointments`` and,
through it, by the chat's slot search. All times are naive local wall-clock times of the workshop
(Europe/Berlin), as stored in the ``appointment`` table.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from babel.dates import format_date, get_day_names
from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

from app import validation
from app.errors import ValidationError
from app.i18n import _, language, locale_name

WORKSHOP_TZ = ZoneInfo("Europe/Berlin")

# One table of the 16 Länder (code → name) for the whole app: app.validation owns it.
BUNDESLAENDER = validation.BUNDESLAENDER

Interval = tuple[dt.time, dt.time]
_FIELD = "opening_hours"


def weekday_name(weekday: int) -> str:
    """The full weekday name in the current language (0 = Montag)."""
    return str(get_day_names("wide", locale=locale_name())[weekday])


def weekday_short(weekday: int) -> str:
    """The two-letter weekday ("Mo", "Di", …) in the current language, without Babel's trailing dot."""
    return str(get_day_names("short", locale=locale_name())[weekday]).rstrip(".")


def format_day(day: dt.date) -> str:
    """A day for messages: "Samstag, 28.11.2026"."""
    return format_date(day, "EEEE, dd.MM.yyyy", locale=locale_name())


def format_span(start: dt.datetime, end: dt.datetime) -> str:
    """A time span for messages: "28.11.2026 10:00–11:00", or with both dates when it spans days."""
    if start.date() == end.date():
        return f"{start:%d.%m.%Y %H:%M}–{end:%H:%M}"
    return f"{start:%d.%m.%Y %H:%M} – {end:%d.%m.%Y %H:%M}"


def _fmt(interval: Interval) -> str:
    return f"{interval[0]:%H:%M}–{interval[1]:%H:%M}"


@dataclass(frozen=True)
class OpeningHours:
    """Opening intervals per weekday; ``days[0]`` is Monday, an empty tuple means closed.

    Intervals of a day are sorted, do not overlap and do not touch (touching ones are merged on parsing).
    """

    days: tuple[tuple[Interval, ...], ...]

    def for_weekday(self, weekday: int) -> tuple[Interval, ...]:
        """The intervals of weekday ``weekday`` (0 = Monday)."""
        return self.days[weekday]

    def intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The opening intervals of ``day`` as datetimes (empty when closed)."""
        return [(dt.datetime.combine(day, a), dt.datetime.combine(day, b)) for a, b in self.days[day.weekday()]]

    def is_open(self, start: dt.datetime, end: dt.datetime) -> bool:
        """True if the whole span [start, end) lies within one opening interval of one day."""
        if end <= start or start.date() != end.date():
            return False
        return any(a <= start and end <= b for a, b in self.intervals(start.date()))

    def day_summary(self, weekday: int) -> str:
        """ "07:30–12:00, 13:00–17:30", or "" when closed."""
        return ", ".join(_fmt(i) for i in self.days[weekday])

    def summary(self) -> str:
        """Human summary grouping consecutive equal days: "Mo–Fr 07:30–12:00, 13:00–17:30 · Sa 08:00–12:00"."""
        parts: list[str] = []
        weekday = 0
        while weekday < 7:
            last = weekday
            while last + 1 < 7 and self.days[last + 1] == self.days[weekday]:
                last += 1
            if self.days[weekday]:
                days = weekday_short(weekday)
                if last > weekday:
                    days += "–" + weekday_short(last)
                parts.append(f"{days} {self.day_summary(weekday)}")
            weekday = last + 1
        return " · ".join(parts) if parts else _("geschlossen")

    def to_json(self) -> str:
        """The workshop column's JSON, e.g. ``{"0": [["07:30", "12:00"]], …}``; closed days are left out."""
        data = {
            str(weekday): [[f"{a:%H:%M}", f"{b:%H:%M}"] for a, b in intervals]
            for weekday, intervals in enumerate(self.days)
            if intervals
        }
        return json.dumps(data)


def _parse_time(value: object, weekday: int) -> dt.time:
    if isinstance(value, str):
        try:
            hours, minutes = value.strip().split(":")
            if len(minutes) == 2 and hours.isdigit() and minutes.isdigit():
                return dt.time(int(hours), int(minutes))
        except ValueError:
            pass
    raise ValidationError(
        "Ungültige Uhrzeit „{value}“ am {day} – erwartet wird HH:MM, z. B. 07:30.",
        field=_FIELD,
        value=str(value),
        day=weekday_name(weekday),
    )


def _parse_day(raw: object, weekday: int) -> tuple[Interval, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(p, list) and len(p) == 2 for p in raw):
        raise ValidationError(
            "Die Öffnungszeiten für {day} müssen eine Liste von Zeitfenstern [von, bis] sein.",
            field=_FIELD,
            day=weekday_name(weekday),
        )
    intervals = sorted((_parse_time(a, weekday), _parse_time(b, weekday)) for a, b in raw)
    for start, end in intervals:
        if end <= start:
            raise ValidationError(
                "Am {day} endet das Zeitfenster {interval} nicht nach seinem Beginn.",
                field=_FIELD,
                day=weekday_name(weekday),
                interval=_fmt((start, end)),
            )
    merged: list[Interval] = []
    for interval in intervals:
        if merged and interval[0] < merged[-1][1]:
            raise ValidationError(
                "Am {day} überschneiden sich die Zeitfenster {first} und {second}.",
                field=_FIELD,
                day=weekday_name(weekday),
                first=_fmt(merged[-1]),
                second=_fmt(interval),
            )
        if merged and interval[0] == merged[-1][1]:
            # Touching windows are one open period; merging keeps is_open() simple.
            merged[-1] = (merged[-1][0], interval[1])
        else:
            merged.append(interval)
    return tuple(merged)


def parse_opening_hours(text: str) -> OpeningHours:
    """Parse the workshop's opening-hours JSON (Monday = "0"; a missing or empty day is closed).

    Raises ValidationError (field ``opening_hours``) for invalid JSON, unknown days, bad times,
    reversed or overlapping intervals.
    """
    if not text.strip():
        return OpeningHours(days=((),) * 7)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError("Die Öffnungszeiten sind kein gültiges JSON.", field=_FIELD) from exc
    if not isinstance(data, dict):
        raise ValidationError("Die Öffnungszeiten sind kein gültiges JSON.", field=_FIELD)
    days: list[tuple[Interval, ...]] = [()] * 7
    for key, raw in data.items():
        if str(key).strip() not in {str(i) for i in range(7)}:
            raise ValidationError(
                "Unbekannter Wochentag „{key}“ in den Öffnungszeiten (0 = Montag … 6 = Sonntag).",
                field=_FIELD,
                key=str(key),
            )
        weekday = int(str(key).strip())
        days[weekday] = _parse_day(raw, weekday)
    return OpeningHours(days=tuple(days))


_MORNING = (dt.time(7, 30), dt.time(12, 0))
_AFTERNOON = (dt.time(13, 0), dt.time(17, 30))
DEFAULT_OPENING_HOURS = OpeningHours(days=((_MORNING, _AFTERNOON),) * 5 + (((dt.time(8, 0), dt.time(12, 0)),), ()))


def normalise_bundesland(bundesland: str) -> str:
    """The two-letter code ("by" → "BY"); ValidationError (field ``bundesland``) for unknown codes."""
    code = bundesland.strip().upper()
    if code not in BUNDESLAENDER:
        raise ValidationError(
            "Unbekanntes Bundesland „{value}“ – erwartet wird ein Kürzel wie BY, NI oder SN.",
            field="bundesland",
            value=bundesland,
        )
    return code


@lru_cache(maxsize=128)
def _holidays(code: str, year: int, lang: str) -> tuple[tuple[dt.date, str], ...]:
    # Building the holiday table is slow (Easter arithmetic, many rules); the slot search asks per day.
    table = holidays.country_holidays("DE", subdiv=code, years=year, language=lang)
    return tuple(sorted(table.items()))


def holidays_for(bundesland: str, year: int) -> dict[dt.date, str]:
    """The public holidays of ``bundesland`` in ``year``, named in the current language."""
    lang = "de" if language() == "de" else "en_US"
    return dict(_holidays(normalise_bundesland(bundesland), year, lang))


def is_holiday(day: dt.date, bundesland: str) -> str | None:
    """The holiday's name if ``day`` is a public holiday in ``bundesland``, else None."""
    return holidays_for(bundesland, day.year).get(day)


def duration_for_services(
    aw_values: list[Decimal], aw_per_hour: int, *, slot_minutes: int = 15, minimum: int = 15
) -> dt.timedelta:
    """The booking duration for services of ``aw_values`` AW: minutes rounded UP to whole slots.

    With 10 AW per hour 7 AW are 42 minutes, booked as 45 with 15-minute slots; never less than
    ``minimum`` minutes (also rounded up to a slot).
    """
    if aw_per_hour <= 0:
        raise ValidationError("Die AW pro Stunde müssen größer als 0 sein (üblich: 10 oder 12).", field="aw_per_hour")
    if slot_minutes <= 0:
        raise ValidationError("Das Zeitraster muss größer als 0 Minuten sein.", field="slot_minutes")
    if any(aw < 0 for aw in aw_values):
        raise ValidationError("Eine Leistung kann keine negativen AW haben.", field="aw")
    minutes = sum(aw_values, Decimal(0)) * 60 / aw_per_hour
    slots = (max(minutes, Decimal(minimum)) / slot_minutes).to_integral_value(rounding=ROUND_CEILING)
    return dt.timedelta(minutes=int(slots) * slot_minutes)


def check_open(hours: OpeningHours, bundesland: str, start: dt.datetime, end: dt.datetime) -> None:
    """Raise ValidationError (field ``start``) if [start, end) touches a public holiday of ``bundesland``
    or does not lie within one opening interval; the message names the day and its hours."""
    day, last = start.date(), max(start.date(), (end - dt.timedelta(microseconds=1)).date())
    while day <= last:
        name = is_holiday(day, bundesland)
        if name:
            raise ValidationError(
                "Der {date} ist in {land} ein Feiertag ({name}).",
                field="start",
                date=f"{day:%d.%m.%Y}",
                land=BUNDESLAENDER[normalise_bundesland(bundesland)],
                name=name,
            )
        day += dt.timedelta(days=1)
    if hours.is_open(start, end):
        return
    open_hours = hours.day_summary(start.weekday())
    if not open_hours:
        raise ValidationError("Die Werkstatt ist am {day} geschlossen.", field="start", day=format_day(start.date()))
    raise ValidationError(
        "Die Werkstatt hat am {day} nur {hours} geöffnet.",
        field="start",
        day=format_day(start.date()),
        hours=open_hours,
    )


def slot_starts(
    hours: OpeningHours,
    bundesland: str,
    *,
    date_from: dt.date,
    days: int,
    duration: dt.timedelta,
    step: dt.timedelta,
) -> Iterator[dt.datetime]:
    """Start times on the ``step`` grid of each opening interval, holidays skipped, where ``duration``
    still fits before the interval closes (so no slot spans the lunch break)."""
    for offset in range(days):
        day = date_from + dt.timedelta(days=offset)
        if is_holiday(day, bundesland):
            continue
        for open_start, open_end in hours.intervals(day):
            t = open_start
            while t + duration <= open_end:
                yield t
                t += step


def berlin_vtimezone() -> Timezone:
    """A compact VTIMEZONE for Europe/Berlin with the EU DST rules (valid for any year, unlike the
    table of dates icalendar generates, which ends in 2038)."""
    tz = Timezone()
    tz.add("tzid", "Europe/Berlin")
    for part, name, start, offsets, month in (
        (TimezoneDaylight(), "CEST", dt.datetime(1981, 3, 29, 2), (1, 2), 3),
        (TimezoneStandard(), "CET", dt.datetime(1996, 10, 27, 3), (2, 1), 10),
    ):
        part.add("tzname", name)
        part.add("dtstart", start)
        part.add("tzoffsetfrom", dt.timedelta(hours=offsets[0]))
        part.add("tzoffsetto", dt.timedelta(hours=offsets[1]))
        part.add("rrule", {"freq": "yearly", "bymonth": month, "byday": "-1su"})
        tz.add_component(part)
    return tz
