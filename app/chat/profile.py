"""The workshop's public profile: the only data any chat assistant (built-in or cloud LLM) ever sees.

Name and contact details, opening hours, the active catalogue with "ab" prices and durations, and the
free intervals of the next days per anonymous bay. No customer, vehicle, appointment title or staff
name ever enters it: free intervals are computed from the bookings' times only. The desktop builds it
from its database (:func:`build_profile`) and uploads it as JSON (:meth:`PublicProfile.to_dict`); the
hosted API reads it back (:meth:`PublicProfile.from_dict`) to answer while the counter PC is offline.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.calendar_rules import WORKSHOP_TZ, duration_for_services, is_holiday
from app.money import round_money
from app.services.catalog import price_for

if TYPE_CHECKING:
    from app.services.registry import Services

PROFILE_VERSION = 1
OpeningDay = tuple[int, tuple[tuple[str, str], ...]]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class PublicService:
    """A catalogue service as visitors may see it."""

    code: str  # catalogue code, e.g. "OE-0001"
    name: str  # German name from the catalogue
    category: str
    price_from_gross: Decimal  # "ab" price incl. VAT (none for a Kleinunternehmer), rounded to cents
    duration_minutes: int  # from the AW, whole slots, at least one slot


@dataclass(frozen=True)
class FreeInterval:
    """A free stretch of one bay, within one opening interval of one day."""

    start: dt.datetime  # naive local wall-clock time (Europe/Berlin), like the appointment table
    end: dt.datetime
    bay: str  # anonymous bay label ("1", "2" … in the calendar's bay order) — never customer data


@dataclass(frozen=True)
class PublicProfile:
    """Everything an assistant may tell a visitor."""

    workshop_name: str
    phone: str
    email: str
    address: str
    opening_hours: tuple[OpeningDay, ...]  # (weekday 0 = Monday, (("07:30", "12:00"), ("13:00", "17:30")))
    services: tuple[PublicService, ...]
    free_intervals: tuple[FreeInterval, ...]  # next `days` days, opening hours minus bookings, per active bay
    slot_minutes: int  # the calendar grid
    generated_at: dt.datetime  # aware UTC

    def service(self, code: str) -> PublicService | None:
        """The service with catalogue code ``code`` (None if the profile has none)."""
        return self._by_code.get(code)

    @cached_property
    def _by_code(self) -> dict[str, PublicService]:
        # cached_property writes the instance __dict__ directly, so it works on a frozen dataclass.
        return {s.code: s for s in self.services}

    def hours_of(self, weekday: int) -> tuple[tuple[str, str], ...]:
        """The opening intervals of ``weekday`` (empty when closed)."""
        for day, intervals in self.opening_hours:
            if day == weekday:
                return intervals
        return ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: Decimals as strings, datetimes in ISO 8601."""
        return {
            "version": PROFILE_VERSION,
            "workshop_name": self.workshop_name,
            "phone": self.phone,
            "email": self.email,
            "address": self.address,
            "opening_hours": [[day, [[a, b] for a, b in intervals]] for day, intervals in self.opening_hours],
            "services": [
                {
                    "code": s.code,
                    "name": s.name,
                    "category": s.category,
                    "price_from_gross": str(s.price_from_gross),
                    "duration_minutes": s.duration_minutes,
                }
                for s in self.services
            ],
            "free_intervals": [
                {"start": f.start.isoformat(), "end": f.end.isoformat(), "bay": f.bay} for f in self.free_intervals
            ],
            "slot_minutes": self.slot_minutes,
            "generated_at": self.generated_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PublicProfile:
        """Read :meth:`to_dict`'s form back; ValueError naming the first bad field otherwise."""
        if not isinstance(data, Mapping):
            raise ValueError("profile: expected an object")
        version = data.get("version", PROFILE_VERSION)
        if version != PROFILE_VERSION:
            raise ValueError(f"profile: unsupported version {version!r}")
        slot = _int(data.get("slot_minutes"), "slot_minutes")
        if not 1 <= slot <= 240:
            raise ValueError("profile.slot_minutes: out of range")
        generated = _datetime(data.get("generated_at"), "generated_at")
        if generated.tzinfo is None:
            raise ValueError("profile.generated_at: needs a time zone")
        return cls(
            workshop_name=_str(data.get("workshop_name"), "workshop_name"),
            phone=_str(data.get("phone", ""), "phone"),
            email=_str(data.get("email", ""), "email"),
            address=_str(data.get("address", ""), "address"),
            opening_hours=_opening_hours(data.get("opening_hours")),
            services=tuple(_service(item, i) for i, item in enumerate(_list(data.get("services"), "services"))),
            free_intervals=tuple(
                _interval(item, i) for i, item in enumerate(_list(data.get("free_intervals"), "free_intervals"))
            ),
            slot_minutes=slot,
            generated_at=generated.astimezone(dt.UTC),
        )


# ---------------------------------------------------------------------------------------- from_dict helpers


def _str(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) > 1000:
        raise ValueError(f"profile.{field}: expected a string")
    return value


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"profile.{field}: expected an integer")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"profile.{field}: expected a list")
    return value


def _datetime(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError(f"profile.{field}: expected an ISO date-time")
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"profile.{field}: expected an ISO date-time") from exc


def _opening_hours(value: Any) -> tuple[OpeningDay, ...]:
    days: list[OpeningDay] = []
    for index, item in enumerate(_list(value, "opening_hours")):
        field = f"opening_hours[{index}]"
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValueError(f"profile.{field}: expected [weekday, intervals]")
        weekday = _int(item[0], field)
        if not 0 <= weekday <= 6 or any(d == weekday for d, _i in days):
            raise ValueError(f"profile.{field}: bad or repeated weekday")
        intervals: list[tuple[str, str]] = []
        for pair in _list(list(item[1]) if isinstance(item[1], tuple) else item[1], field):
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ValueError(f"profile.{field}: expected [from, to]")
            start, end = (_str(p, field) for p in pair)
            if not (_HHMM.match(start) and _HHMM.match(end)) or end <= start:
                raise ValueError(f"profile.{field}: bad interval {start}-{end}")
            intervals.append((start, end))
        days.append((weekday, tuple(sorted(intervals))))
    return tuple(sorted(days))


def _service(item: Any, index: int) -> PublicService:
    field = f"services[{index}]"
    if not isinstance(item, Mapping):
        raise ValueError(f"profile.{field}: expected an object")
    try:
        price = Decimal(_str(item.get("price_from_gross"), field))
    except InvalidOperation as exc:
        raise ValueError(f"profile.{field}.price_from_gross: not a number") from exc
    if not price.is_finite() or price < 0:
        raise ValueError(f"profile.{field}.price_from_gross: not a price")
    duration = _int(item.get("duration_minutes"), field)
    if duration <= 0:
        raise ValueError(f"profile.{field}.duration_minutes: must be positive")
    code = _str(item.get("code"), field)
    if not code:
        raise ValueError(f"profile.{field}.code: empty")
    return PublicService(code, _str(item.get("name"), field), _str(item.get("category", ""), field), price, duration)


def _interval(item: Any, index: int) -> FreeInterval:
    field = f"free_intervals[{index}]"
    if not isinstance(item, Mapping):
        raise ValueError(f"profile.{field}: expected an object")
    start, end = _datetime(item.get("start"), field), _datetime(item.get("end"), field)
    if start.tzinfo is not None or end.tzinfo is not None or end <= start:
        raise ValueError(f"profile.{field}: expected naive local start < end")
    return FreeInterval(start, end, _str(item.get("bay", ""), field))


# ---------------------------------------------------------------------------------------- build_profile


def _local_now(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(naive local wall-clock time, aware UTC) of ``now``; a naive ``now`` is local time already."""
    if now.tzinfo is None:
        return now, now.replace(tzinfo=WORKSHOP_TZ).astimezone(dt.UTC)
    return now.astimezone(WORKSHOP_TZ).replace(tzinfo=None), now.astimezone(dt.UTC)


def _subtract(
    start: dt.datetime, end: dt.datetime, busy: list[tuple[dt.datetime, dt.datetime]]
) -> list[tuple[dt.datetime, dt.datetime]]:
    """[start, end) minus the busy spans (sorted by start), as sorted non-empty pieces."""
    pieces: list[tuple[dt.datetime, dt.datetime]] = []
    cursor = start
    for a, b in busy:
        if b <= cursor or a >= end:
            continue
        if a > cursor:
            pieces.append((cursor, a))
        cursor = max(cursor, b)
        if cursor >= end:
            break
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def build_profile(services: Services, *, now: dt.datetime, days: int = 14) -> PublicProfile:
    """The public profile from the local database: settings, active catalogue, opening hours and the free
    intervals from ``now`` (aware, or naive local time) for ``days`` days, per active bay.

    Prices: the catalogue's customer price (``price_for``) plus the service's VAT, rounded half-up to the
    cent (a Kleinunternehmer charges no VAT, so net = gross). Durations: the AW at the workshop's AW per
    hour in whole slots (as the calendar books them). Free intervals skip public holidays of the
    workshop's Bundesland and everything before ``now``; bookings only subtract their times.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    now_local, now_utc = _local_now(now)
    settings = services.settings.get()
    hours = services.appointments.opening_hours()
    slot = settings.slot_minutes or 15
    catalogue = services.catalog.search("", limit=max(1, services.catalog.count(active_only=True)))
    public_services = []
    for item in sorted(catalogue, key=lambda s: s.code):
        net = price_for(item, settings.labour_rate_net, settings.aw_per_hour)
        vat = Decimal(0) if settings.kleinunternehmer else item.vat_rate
        minutes = duration_for_services([item.aw], settings.aw_per_hour, slot_minutes=slot, minimum=slot)
        public_services.append(
            PublicService(
                code=item.code,
                name=item.name,
                category=item.category,
                price_from_gross=round_money(net * (1 + vat / 100)),
                duration_minutes=int(minutes.total_seconds() // 60),
            )
        )
    first_day = now_local.date()
    window_start = dt.datetime.combine(first_day, dt.time.min)
    window_end = window_start + dt.timedelta(days=days)
    bays = services.settings.bays()
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {b.id: [] for b in bays}
    for appt in services.appointments.between(window_start, window_end):
        if appt.bay_id in busy:  # only the times are used; the DTO's names are dropped right here
            busy[appt.bay_id].append((appt.start, appt.end))
    free: list[FreeInterval] = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        if is_holiday(day, settings.bundesland):
            continue
        for open_start, open_end in hours.intervals(day):
            start = max(open_start, now_local)
            if start >= open_end:
                continue
            for label, bay in enumerate(bays, start=1):
                for a, b in _subtract(start, open_end, sorted(busy[bay.id])):
                    free.append(FreeInterval(a, b, str(label)))
    free.sort(key=lambda f: (f.start, int(f.bay)))
    address = ", ".join(p for p in (settings.street, f"{settings.postcode} {settings.city}".strip()) if p)
    return PublicProfile(
        workshop_name=settings.name,
        phone=settings.phone,
        email=settings.email,
        address=address,
        opening_hours=tuple(
            (weekday, tuple((f"{a:%H:%M}", f"{b:%H:%M}") for a, b in hours.for_weekday(weekday)))
            for weekday in range(7)
        ),
        services=tuple(public_services),
        free_intervals=tuple(free),
        slot_minutes=slot,
        generated_at=now_utc,
    )
