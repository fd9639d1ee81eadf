"""Helpers of the chat core tests: a recording booking sink and a small hand-made profile."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from app.chat.profile import FreeInterval, PublicProfile, PublicService
from app.chat.tools import BookingRequest

NOW = dt.datetime(2026, 3, 11, 9, 7)  # a Wednesday morning, naive Berlin wall-clock time
WEEKDAY_HOURS = (("07:30", "12:00"), ("13:00", "17:30"))


@dataclass
class RecordingSink:
    """A BookingSink that records every call (and can be told to fail)."""

    requests: list[tuple[str, BookingRequest]] = field(default_factory=list)
    handoffs: list[tuple[str, str]] = field(default_factory=list)
    fail_with: Exception | None = None

    def request_appointment(self, conversation_id: str, request: BookingRequest) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.requests.append((conversation_id, request))
        return f"REF-{len(self.requests)}"

    def handoff(self, conversation_id: str, reason: str) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.handoffs.append((conversation_id, reason))


def small_profile(
    *,
    free: tuple[FreeInterval, ...] | None = None,
    slot_minutes: int = 15,
    hours: tuple[tuple[str, str], ...] = WEEKDAY_HOURS,
) -> PublicProfile:
    """A hand-made profile: Mon–Fri opening ``hours``, two services, Thursday 12 March 2026 free on two bays."""
    thursday = dt.date(2026, 3, 12)

    def at(hhmm: str) -> dt.datetime:
        return dt.datetime.combine(thursday, dt.time.fromisoformat(hhmm))

    default_free = (
        FreeInterval(at("07:30"), at("12:00"), "1"),
        FreeInterval(at("07:30"), at("10:00"), "2"),
        FreeInterval(at("13:00"), at("15:00"), "1"),
    )
    return PublicProfile(
        workshop_name="Werkstatt Test",
        phone="089 123456",
        email="info@werkstatt.example",
        address="Hauptstraße 1, 80331 München",
        opening_hours=tuple((day, hours if day < 5 else ()) for day in range(7)),
        services=(
            PublicService("OE-0001", "Ölwechsel-Paket 5W-30", "Ölservice", Decimal("105.91"), 30),
            PublicService("IN-0001", "Inspektion klein", "Inspektion", Decimal("141.61"), 90),
        ),
        free_intervals=default_free if free is None else free,
        slot_minutes=slot_minutes,
        generated_at=dt.datetime(2026, 3, 11, 8, 7, tzinfo=dt.UTC),
    )
