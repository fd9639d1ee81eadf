"""What the calendar shows, loaded in one background query (Qt-free, runs on the DB worker thread)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.calendar_rules import OpeningHours, is_holiday
from app.services.appointments import AppointmentDTO
from app.services.registry import Services
from app.services.settings import BayDTO, MechanicDTO

NO_BAY = 0
"""Lane key for appointments without an (active) bay."""

_FALLBACK_RANGE = (dt.time(7, 0), dt.time(18, 0))


@dataclass(frozen=True)
class CalendarData:
    """One screenful: the shown days, the bays and mechanics, the appointments and the workshop's rules."""

    days: tuple[dt.date, ...]
    bays: tuple[BayDTO, ...]
    mechanics: tuple[MechanicDTO, ...]
    appointments: tuple[AppointmentDTO, ...]
    hours: OpeningHours
    holidays: dict[dt.date, str] = field(default_factory=dict)
    slot_minutes: int = 15

    def appointment(self, appointment_id: int) -> AppointmentDTO | None:
        """The shown appointment with ``appointment_id`` or None."""
        return next((a for a in self.appointments if a.id == appointment_id), None)

    def time_range(self) -> tuple[dt.time, dt.time]:
        """First and last time of the grid: earliest opening to latest closing of the whole week (so the
        rows do not jump between days), widened to whole hours for appointments booked outside it."""
        intervals = [i for day in self.hours.days for i in day]
        first, last = (min(a for a, _b in intervals), max(b for _a, b in intervals)) if intervals else _FALLBACK_RANGE
        first_minutes, last_minutes = _minutes(first), _minutes(last)
        for appt in self.appointments:
            if appt.start.date() in self.days and _minutes(appt.start.time()) < first_minutes:
                first_minutes = appt.start.hour * 60  # booked before opening: show from its full hour
            if appt.end.date() in self.days and _minutes(appt.end.time()) > last_minutes:
                last_minutes = _minutes(appt.end.time()) + (60 - appt.end.minute) % 60
            if appt.end.date() > appt.start.date():  # runs past midnight: show the day to its end
                last_minutes = 24 * 60
        return _time(first_minutes), _time(min(last_minutes, 24 * 60))


def _minutes(value: dt.time) -> int:
    return value.hour * 60 + value.minute


def _time(minutes: int) -> dt.time:
    # 24:00 has no dt.time; the grid treats 23:59:59 as the end of the day.
    return dt.time(23, 59, 59) if minutes >= 24 * 60 else dt.time(minutes // 60, minutes % 60)


def week_days(day: dt.date, hours: OpeningHours) -> tuple[dt.date, ...]:
    """Monday to Saturday of ``day``'s week, plus Sunday when the workshop opens on Sundays."""
    monday = day - dt.timedelta(days=day.weekday())
    count = 7 if hours.for_weekday(6) else 6
    return tuple(monday + dt.timedelta(days=i) for i in range(count))


def load_calendar(services: Services, day: dt.date, *, week: bool) -> CalendarData:
    """Everything the grid needs for ``day`` (or its week). Runs on the worker thread: no Qt here."""
    settings = services.settings.get()
    hours = services.appointments.opening_hours()
    days = week_days(day, hours) if week else (day,)
    start = dt.datetime.combine(days[0], dt.time.min)
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time.min)
    holidays = {d: name for d in days if (name := is_holiday(d, settings.bundesland))}
    return CalendarData(
        days=days,
        bays=tuple(services.settings.bays()),
        mechanics=tuple(services.settings.mechanics()),
        appointments=tuple(services.appointments.between(start, end)),
        hours=hours,
        holidays=holidays,
        slot_minutes=settings.slot_minutes or 15,
    )
