"""Mechanic utilisation: AW worked against AW available, per mechanic and for the workshop.

- **AW worked**: the labour lines of work orders in progress, completed or invoiced whose service date
  lies in the period – the mechanic's actual AW, or the target AW where no actual AW was recorded.
  Proposed lines (not yet confirmed by the counter) do not count. Labour without a mechanic is shown
  as "nicht zugeordnet" and counts for the workshop, not for anyone's utilisation.
- **AW available**: per working day hours_per_day × AW per hour (the workshop's setting), where a working
  day is a day with opening hours that is no public holiday in the workshop's Bundesland; on a short day
  (e.g. Saturday 08:00–12:00) a mechanic is available for at most the opening hours. Days after today
  have no capacity yet, so a running month is measured up to today. Mechanics counted: the active ones
  and any inactive one with AW in the period.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar_rules import OpeningHours, holidays_for, parse_opening_hours
from app.i18n import N_, _
from app.models import Mechanic
from app.reports.period import Period, Scope, bucket_index
from app.reports.sql import day_of, fetch, hundredths, shop_settings
from app.reports.types import AW_PLACES, Kpi, MechanicUtilisation, kpi, percent

TITLE: Final = N_("Auslastung Monteure")
UNASSIGNED: Final = N_("nicht zugeordnet")
WORKED_STATUSES: Final = ("in_progress", "completed", "invoiced")
_WORKED: Final = f"""
SELECT w.date_of_service, ol.mechanic_id, sum({hundredths("coalesce(ol.aw_actual, ol.aw)")})
FROM work_order w JOIN order_line ol ON ol.work_order_id = w.id
WHERE w.date_of_service BETWEEN :lo AND :hi AND w.status IN ({", ".join(f"'{s}'" for s in WORKED_STATUSES)})
  AND ol.kind = 'labour' AND ol.proposed = 0
GROUP BY 1, 2
"""


class Workforce:
    """Who can work when, from ``start`` to ``end``: mechanics (id → name, hours per day, active) and, per
    day, the AW each could work – kept as running sums so any range costs two look-ups."""

    def __init__(
        self,
        mechanics: dict[int, tuple[str, Decimal, bool]],
        hours: OpeningHours,
        bundesland: str,
        aw_per_hour: int,
        start: dt.date,
        end: dt.date,
    ) -> None:
        self.mechanics = mechanics
        self.start = start
        holidays: set[dt.date] = set()
        for year in range(start.year, end.year + 1):
            holidays |= set(holidays_for(bundesland, year))
        opening: list[Decimal] = []
        day = start
        while day <= end:
            seconds = sum((b - a).total_seconds() for a, b in hours.intervals(day)) if day not in holidays else 0
            opening.append(Decimal(int(seconds)) / 3600)
            day += dt.timedelta(days=1)
        self._days = [0]
        for hours_open in opening:
            self._days.append(self._days[-1] + (1 if hours_open else 0))
        self._aw: dict[Decimal, list[Decimal]] = {}
        for _name, per_day, _active in mechanics.values():
            if per_day not in self._aw:
                running = [Decimal(0)]
                for hours_open in opening:
                    running.append(running[-1] + min(per_day, hours_open) * aw_per_hour)
                self._aw[per_day] = running

    def available(self, mechanic_id: int, start: dt.date, end: dt.date) -> tuple[int, Decimal]:
        """(working days, AW available) of one mechanic from ``start`` to ``end`` (nothing when end < start)."""
        if end < start:
            return 0, Decimal("0.00")
        first, last = (start - self.start).days, (end - self.start).days + 1
        running = self._aw[self.mechanics[mechanic_id][1]]
        return self._days[last] - self._days[first], (running[last] - running[first]).quantize(AW_PLACES)


def workforce(session: Session, start: dt.date, end: dt.date) -> Workforce:
    """Read mechanics and the workshop's calendar settings for the days ``start`` to ``end``."""
    shop = shop_settings(session)
    mechanics = {m.id: (m.name, Decimal(m.hours_per_day), bool(m.active)) for m in session.scalars(select(Mechanic))}
    hours = parse_opening_hours(shop.opening_hours)
    return Workforce(mechanics, hours, shop.bundesland, shop.aw_per_hour, start, end)


def worked(session: Session, start: dt.date, end: dt.date) -> list[tuple[dt.date, int | None, int]]:
    """AW worked (in hundredths) per service date and mechanic from ``start`` to ``end``."""
    return [(day_of(day), mechanic, int(aw or 0)) for day, mechanic, aw in fetch(session, _WORKED, lo=start, hi=end)]


def _rows(force: Workforce, done: dict[int | None, int], start: dt.date, until: dt.date) -> list[MechanicUtilisation]:
    rows = []
    for mechanic_id, (name, per_day, active) in force.mechanics.items():
        if not active and mechanic_id not in done:
            continue
        days, available = force.available(mechanic_id, start, until)
        aw = (Decimal(done.get(mechanic_id, 0)) / 100).quantize(AW_PLACES)
        rows.append(MechanicUtilisation(mechanic_id, name, per_day, days, available, aw, percent(aw, available)))
    rows.sort(key=lambda r: r.name.casefold())
    if done.get(None):
        unassigned = (Decimal(done[None]) / 100).quantize(AW_PLACES)
        rows.append(MechanicUtilisation(None, _(UNASSIGNED), None, 0, Decimal("0.00"), unassigned, None))
    return rows


def _rate(rows: list[MechanicUtilisation]) -> Decimal | None:
    """Utilisation of the workshop: all AW worked (assigned or not) ÷ all AW available."""
    return percent(sum((r.aw_worked for r in rows), Decimal(0)), sum((r.aw_available for r in rows), Decimal(0)))


def utilisation(session: Session, period: Period, today: dt.date) -> list[MechanicUtilisation]:
    """Per mechanic (by name) and, last, the labour nobody was assigned to (chart "Auslastung")."""
    force = workforce(session, period.start, period.end)
    done: dict[int | None, int] = {}
    for _day, mechanic, value in worked(session, period.start, period.end):
        done[mechanic] = done.get(mechanic, 0) + value
    return _rows(force, done, period.start, min(period.end, today))


def utilisation_kpi(session: Session, scope: Scope) -> tuple[Kpi, list[MechanicUtilisation], Decimal]:
    """The widget "Auslastung Monteure", its rows per mechanic and the workshop's AW available."""
    force = workforce(session, scope.first_day, scope.period.end)
    now: dict[int | None, int] = {}
    before: dict[int | None, int] = {}
    parts: list[dict[int | None, int]] = [{} for _bucket in scope.buckets]
    for day, mechanic, value in worked(session, scope.first_day, scope.period.end):
        index = bucket_index(scope.buckets, day)
        target = now if index is not None else before
        target[mechanic] = target.get(mechanic, 0) + value
        if index is not None:
            parts[index][mechanic] = parts[index].get(mechanic, 0) + value
    rows = _rows(force, now, scope.period.start, scope.as_of)
    previous = None
    if scope.previous is not None:
        until = scope.previous_as_of or scope.previous.end
        previous = _rate(_rows(force, before, scope.previous.start, until))
    spark = tuple(
        _rate(_rows(force, part, bucket.start, min(bucket.end, scope.today)))
        for bucket, part in zip(scope.buckets, parts, strict=True)
    )
    available = sum((r.aw_available for r in rows), Decimal(0))
    detail = tuple((r.name, r.hours_per_day, r.working_days, r.aw_available, r.aw_worked, r.utilisation) for r in rows)
    widget = kpi(
        "utilisation",
        _(TITLE),
        "%",
        _rate(rows),
        previous,
        sparkline=spark,
        columns=(
            _("Monteur"),
            _("Stunden/Tag"),
            _("Arbeitstage"),
            _("AW verfügbar"),
            _("AW geleistet"),
            _("Auslastung %"),
        ),
        rows=detail,
        note=_("Geleistete AW (Ist, sonst Soll) je verfügbare AW bis {day}.").format(
            day=scope.as_of.strftime("%d.%m.%Y")
        ),
    )
    return widget, rows, available.quantize(AW_PLACES)
