"""Report periods: a closed range of local calendar days (Europe/Berlin), the presets of the reports tab,
the previous period to compare with, and the sub-periods (buckets) of sparklines and charts.

Days are the workshop's local dates: an invoice's ``issue_date`` is one already, appointment times are
naive local wall-clock times, and UTC timestamps (``created_at``) are converted with :data:`WORKSHOP_TZ`
(:func:`utc_bounds`), never with the PC's time zone.

Previous period: a period of whole calendar months (a month, a quarter, a year, or any run of months)
is compared with the same number of months just before it (March 2028 → February 2028 with its 29 days;
2028 → 2027); any other period with the same number of days just before it.

Granularity of sparklines and charts: up to 31 days by day, up to 183 days by ISO week (Monday to
Sunday, the first and last week clipped to the period), longer by calendar month (clipped likewise).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

from app.calendar_rules import WORKSHOP_TZ
from app.errors import ValidationError
from app.i18n import N_, _

Granularity = Literal["day", "week", "month"]
GRANULARITIES: Final = ("day", "week", "month")
PresetName = Literal["this_month", "last_month", "quarter", "year", "custom"]
PRESETS: Final = ("this_month", "last_month", "quarter", "year", "custom")
PRESET_LABELS: Final = {
    "this_month": N_("Dieser Monat"),
    "last_month": N_("Letzter Monat"),
    "quarter": N_("Dieses Quartal"),
    "year": N_("Dieses Jahr"),
    "custom": N_("Benutzerdefiniert"),
}
MAX_DAYS: Final = 366 * 20  # a guard against typos like 0206 instead of 2026
_DAY_LIMIT: Final = 31
_WEEK_LIMIT: Final = 183
_MONTH_NAMES: Final = ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez")


@dataclass(frozen=True, order=True)
class Period:
    """The local days ``start`` to ``end``, both included."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError(
                "Der Zeitraum endet ({end}) vor seinem Beginn ({start}).",
                field="end",
                start=self.start.strftime("%d.%m.%Y"),
                end=self.end.strftime("%d.%m.%Y"),
            )
        if self.days > MAX_DAYS:
            raise ValidationError("Der Zeitraum ist länger als 20 Jahre.", field="start")

    @property
    def days(self) -> int:
        """Number of days, both ends included."""
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    @property
    def whole_months(self) -> int:
        """How many calendar months the period spans exactly (0 when it does not start on the 1st or
        end on a month's last day)."""
        if self.start.day != 1 or (self.end + dt.timedelta(days=1)).day != 1:
            return 0
        return _month_index(self.end) - _month_index(self.start) + 1

    def previous(self) -> Period:
        """The period to compare with (rule: module docstring)."""
        months = self.whole_months
        if months:
            first = _month_start(_month_index(self.start) - months)
            return Period(first, self.start - dt.timedelta(days=1))
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def label(self) -> str:
        """ "01.11.2026 – 30.11.2026"."""
        return f"{self.start:%d.%m.%Y} – {self.end:%d.%m.%Y}"


@dataclass(frozen=True)
class Bucket:
    """One sub-period of a sparkline or chart, with its short label ("12.11.", "KW 46", "Nov 2026")."""

    start: dt.date
    end: dt.date
    label: str


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    return _month_start(_month_index(day) + 1) - dt.timedelta(days=1)


def preset(name: str, today: dt.date) -> Period:
    """The period of a preset relative to ``today``: this month, last month, this quarter, this year.

    ``custom`` has no fixed range (build a :class:`Period` directly); an unknown name is a ValidationError.
    """
    if name == "this_month":
        return Period(today.replace(day=1), month_end(today))
    if name == "last_month":
        last = today.replace(day=1) - dt.timedelta(days=1)
        return Period(last.replace(day=1), last)
    if name == "quarter":
        first = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return Period(first, month_end(_month_start(_month_index(first) + 2)))
    if name == "year":
        return Period(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))
    raise ValidationError(
        "Unbekannter Zeitraum „{name}“ – erlaubt sind this_month, last_month, quarter und year.",
        field="preset",
        name=name,
    )


def preset_label(name: str) -> str:
    """The German label of a preset ("Letzter Monat")."""
    return _(PRESET_LABELS.get(name, name))


def granularity_for(period: Period) -> Granularity:
    """day, week or month by the period's length (rule: module docstring)."""
    if period.days <= _DAY_LIMIT:
        return "day"
    if period.days <= _WEEK_LIMIT:
        return "week"
    return "month"


def buckets(period: Period, granularity: Granularity | None = None) -> tuple[Bucket, ...]:
    """The sub-periods covering ``period`` exactly, oldest first."""
    unit = granularity or granularity_for(period)
    if unit not in GRANULARITIES:
        raise ValidationError(
            "Unbekannte Einteilung „{unit}“ – erlaubt sind day, week und month.", field="granularity", unit=unit
        )
    result: list[Bucket] = []
    day = period.start
    while day <= period.end:
        if unit == "day":
            end = day
            label = f"{day:%d.%m.}"
        elif unit == "week":
            end = min(day + dt.timedelta(days=6 - day.weekday()), period.end)
            label = f"KW {day.isocalendar().week}"
        else:
            end = min(month_end(day), period.end)
            label = f"{_MONTH_NAMES[day.month - 1]} {day.year}"
        result.append(Bucket(day, end, label))
        day = end + dt.timedelta(days=1)
    return tuple(result)


def bucket_index(bounds: tuple[Bucket, ...], day: dt.date) -> int | None:
    """The index of the bucket holding ``day`` (None outside); buckets are sorted and contiguous."""
    if not bounds or day < bounds[0].start or day > bounds[-1].end:
        return None
    low, high = 0, len(bounds) - 1
    while low < high:
        middle = (low + high) // 2
        if bounds[middle].end < day:
            low = middle + 1
        else:
            high = middle
    return low


def utc_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """Naive-UTC [start, end) of the period's local days, for columns stored in UTC (``created_at``)."""
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=WORKSHOP_TZ)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=WORKSHOP_TZ)
    return start.astimezone(dt.UTC).replace(tzinfo=None), end.astimezone(dt.UTC).replace(tzinfo=None)


def local_date(utc: dt.datetime) -> dt.date:
    """The Europe/Berlin date of a naive-UTC timestamp."""
    return utc.replace(tzinfo=dt.UTC).astimezone(WORKSHOP_TZ).date()


def parse_day(text: str, *, field: str = "date") -> dt.date:
    """A date typed as 2026-11-30 or 30.11.2026; ValidationError otherwise."""
    raw = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValidationError(
        "„{value}“ ist kein Datum – bitte als 30.11.2026 oder 2026-11-30 angeben.", field=field, value=text
    )


@dataclass(frozen=True)
class Scope:
    """What one report covers: the period, the period it is compared with, the sparkline buckets and the
    day stock figures refer to (``as_of``: the period's end, or ``today`` while the period is running)."""

    period: Period
    previous: Period | None
    buckets: tuple[Bucket, ...]
    today: dt.date

    @classmethod
    def of(cls, period: Period, *, today: dt.date, compare: bool = True) -> Scope:
        """The scope of ``period`` with automatic granularity."""
        return cls(period, period.previous() if compare else None, buckets(period), today)

    @property
    def as_of(self) -> dt.date:
        """Stock figures (open receivables, capacity) are taken on this day."""
        return min(self.period.end, self.today)

    @property
    def previous_as_of(self) -> dt.date | None:
        """The as-of day of the previous period."""
        return min(self.previous.end, self.today) if self.previous is not None else None

    @property
    def first_day(self) -> dt.date:
        """The first day any figure of the report needs (start of the previous period)."""
        return self.previous.start if self.previous is not None else self.period.start
