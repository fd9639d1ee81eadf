"""Appointment slots to offer a visitor, from the free intervals of the public profile.

A slot starts on the calendar grid (every ``slot_minutes`` from the start of the opening interval, as
``app.services.appointments.free_slots`` counts), lies in one free interval of one bay and within one
opening interval of its day (never across the lunch break or closing time), and never starts in the past.
Visitors do not choose bays, so equal times on several bays are one slot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from app.chat.profile import PublicProfile


@dataclass(frozen=True)
class SlotOffer:
    """A start and end (naive local wall-clock time) the visitor may ask for."""

    start: dt.datetime
    end: dt.datetime


def opening_windows(profile: PublicProfile, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """The opening intervals of ``day`` as datetimes (empty when closed)."""
    windows = []
    for start, end in profile.hours_of(day.weekday()):
        windows.append(
            (
                dt.datetime.combine(day, dt.time.fromisoformat(start)),
                dt.datetime.combine(day, dt.time.fromisoformat(end)),
            )
        )
    return windows


def _grid_starts(
    profile: PublicProfile, duration: dt.timedelta, not_before: dt.datetime
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """(start, opening-window start) of every fitting grid start, per free interval, unsorted."""
    step = dt.timedelta(minutes=profile.slot_minutes)
    for free in profile.free_intervals:
        if free.end <= not_before:
            continue
        for window_start, window_end in opening_windows(profile, free.start.date()):
            low = max(free.start, window_start, not_before)
            high = min(free.end, window_end)
            if low + duration > high:
                continue
            steps = -((window_start - low) // step)  # ceil((low - window_start) / step)
            t = window_start + steps * step
            while t + duration <= high:
                yield t, window_start
                t += step


def slot_starts(
    profile: PublicProfile,
    *,
    duration_minutes: int,
    now_local: dt.datetime,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every distinct free start after ``now_local`` (and from ``date_from`` up to ``date_to``, inclusive),
    in time order, each with the start of its opening interval."""
    if duration_minutes <= 0:
        return []
    duration = dt.timedelta(minutes=duration_minutes)
    not_before = now_local + dt.timedelta(microseconds=1)  # strictly after now: a slot starting now is gone
    if date_from is not None:
        not_before = max(not_before, dt.datetime.combine(date_from, dt.time.min))
    starts = sorted(dict(_grid_starts(profile, duration, not_before)).items())
    return [s for s in starts if date_to is None or s[0].date() <= date_to]


def offer_slots(
    profile: PublicProfile,
    *,
    duration_minutes: int,
    now_local: dt.datetime,
    date_from: dt.date | None = None,
    limit: int = 3,
    date_to: dt.date | None = None,
) -> list[SlotOffer]:
    """Up to ``limit`` slots of ``duration_minutes``, spread out: the earliest free start of each opening
    interval first (e.g. Tuesday morning, Tuesday afternoon, Wednesday morning), then further starts if
    there are fewer intervals than ``limit``; in time order. ``date_to`` (inclusive) limits the days."""
    if limit < 1:
        return []
    starts = slot_starts(
        profile, duration_minutes=duration_minutes, now_local=now_local, date_from=date_from, date_to=date_to
    )
    chosen: list[dt.datetime] = []
    seen_windows: set[dt.datetime] = set()
    for start, window in starts:
        if window not in seen_windows:
            seen_windows.add(window)
            chosen.append(start)
            if len(chosen) == limit:
                break
    if len(chosen) < limit:
        rest = [s for s, _w in starts if s not in chosen]
        chosen.extend(rest[: limit - len(chosen)])
    duration = dt.timedelta(minutes=duration_minutes)
    return [SlotOffer(s, s + duration) for s in sorted(chosen)]


def slot_problem(profile: PublicProfile, start: dt.datetime, end: dt.datetime, *, now_local: dt.datetime) -> str | None:
    """Why [start, end) cannot be requested — "slot_past" or "slot_unavailable" — or None if it is free:
    in the future, on the grid, inside one free interval and one opening interval."""
    if start <= now_local:
        return "slot_past"
    if end <= start or start.date() != end.date():
        return "slot_unavailable"
    step = dt.timedelta(minutes=profile.slot_minutes)
    window = next(((a, b) for a, b in opening_windows(profile, start.date()) if a <= start and end <= b), None)
    if window is None or (start - window[0]) % step:
        return "slot_unavailable"
    if not any(f.start <= start and end <= f.end for f in profile.free_intervals):
        return "slot_unavailable"
    return None
