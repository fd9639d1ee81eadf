"""The public profile: prices and durations from the catalogue, free intervals from opening hours minus
bookings and holidays, nothing private in it, and a lossless JSON form."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from app.chat.profile import FreeInterval, PublicProfile, build_profile
from app.money import round_money
from app.services.appointments import AppointmentInput
from app.services.catalog import price_for
from app.services.customers import CustomerInput
from app.services.registry import Services
from tests.app.chat.support import NOW

THURSDAY = dt.date(2026, 3, 12)


def _at(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm))


def _spans(profile: PublicProfile, day: dt.date, bay: str) -> list[tuple[str, str]]:
    return [
        (f"{f.start:%H:%M}", f"{f.end:%H:%M}") for f in profile.free_intervals if f.start.date() == day and f.bay == bay
    ]


def test_prices_are_the_catalogue_price_plus_vat_rounded(services: Services, profile: PublicProfile) -> None:
    settings = services.settings.get()
    catalogue = services.catalog.search("", limit=5000)
    expected = {
        s.code: round_money(price_for(s, settings.labour_rate_net, settings.aw_per_hour) * (1 + s.vat_rate / 100))
        for s in catalogue
    }
    assert {s.code: s.price_from_gross for s in profile.services} == expected
    by_code = {s.code: s for s in profile.services}
    assert by_code["OE-0011"].price_from_gross == Decimal("70.21")  # fixed 59,00 € net
    assert by_code["BR-0001"].price_from_gross == Decimal("112.34")  # 8 AW × 11,80 € = 94,40 € net
    assert by_code["IN-0001"].price_from_gross == Decimal("141.61")  # "ab" 119,00 € beats 8 AW = 94,40 €


def test_kleinunternehmer_prices_carry_no_vat(services: Services) -> None:
    services.settings.update(kleinunternehmer=True)
    by_code = {s.code: s for s in build_profile(services, now=NOW).services}
    assert by_code["OE-0011"].price_from_gross == Decimal("59.00")


def test_durations_follow_aw_and_the_slot_grid(services: Services, profile: PublicProfile) -> None:
    by_code = {s.code: s for s in profile.services}
    assert by_code["OE-0011"].duration_minutes == 30  # 3 AW = 18 min → two 15-minute slots
    assert by_code["IN-0002"].duration_minutes == 90  # 15 AW = 90 min
    assert by_code["OE-0018"].duration_minutes == 15  # 0.5 AW = 3 min → at least one slot
    services.settings.update(slot_minutes=60)
    coarse = {s.code: s for s in build_profile(services, now=NOW).services}
    assert coarse["OE-0011"].duration_minutes == 60
    assert coarse["IN-0002"].duration_minutes == 120


def test_only_active_services_are_public(services: Services) -> None:
    oil = services.catalog.get_by_code("OE-0011")
    services.catalog.deactivate(oil.id)
    codes = {s.code for s in build_profile(services, now=NOW).services}
    assert "OE-0011" not in codes
    assert "OE-0012" in codes


def test_free_intervals_are_opening_hours_minus_bookings_per_bay(services: Services) -> None:
    bays = services.settings.bays()
    services.appointments.book(
        AppointmentInput(start=_at(THURSDAY, "10:00"), end=_at(THURSDAY, "11:00"), bay_id=bays[0].id)
    )
    cancelled = services.appointments.book(
        AppointmentInput(start=_at(THURSDAY, "14:00"), end=_at(THURSDAY, "15:00"), bay_id=bays[0].id)
    ).appointment
    services.appointments.cancel(cancelled.id)
    profile = build_profile(services, now=NOW)
    assert _spans(profile, THURSDAY, "1") == [("07:30", "10:00"), ("11:00", "12:00"), ("13:00", "17:30")]
    assert _spans(profile, THURSDAY, "2") == [("07:30", "12:00"), ("13:00", "17:30")]
    assert {f.bay for f in profile.free_intervals} == {"1", "2", "3", "4"}


def test_free_intervals_start_now_and_skip_closed_days(profile: PublicProfile) -> None:
    assert min(f.start for f in profile.free_intervals) == NOW  # Wednesday 09:07, not 07:30
    assert _spans(profile, NOW.date(), "1") == [("09:07", "12:00"), ("13:00", "17:30")]
    sunday = dt.date(2026, 3, 15)
    assert not [f for f in profile.free_intervals if f.start.date() == sunday]
    assert _spans(profile, dt.date(2026, 3, 14), "1") == [("08:00", "12:00")]  # Saturday
    days = {f.start.date() for f in profile.free_intervals}
    assert max(days) == NOW.date() + dt.timedelta(days=13)  # 14 days from today


def test_public_holidays_have_no_free_intervals(services: Services) -> None:
    profile = build_profile(services, now=dt.datetime(2026, 4, 1, 8, 0), days=7)
    days = {f.start.date() for f in profile.free_intervals}
    assert dt.date(2026, 4, 2) in days  # Gründonnerstag is a working day
    assert dt.date(2026, 4, 3) not in days  # Karfreitag
    assert dt.date(2026, 4, 6) not in days  # Ostermontag
    assert dt.date(2026, 4, 7) in days


def test_inactive_bays_are_left_out(services: Services) -> None:
    bays = services.settings.bays()
    services.settings.set_bay_active(bays[3].id, False)
    assert {f.bay for f in build_profile(services, now=NOW).free_intervals} == {"1", "2", "3"}


def test_profile_holds_workshop_data_but_nothing_about_customers(services: Services) -> None:
    customer, _changes = services.customers.create(
        CustomerInput(first_name="Gerlinde", last_name="Geheimrat", phone="0171 9999999")
    )
    services.appointments.book(
        AppointmentInput(
            start=_at(THURSDAY, "08:00"),
            end=_at(THURSDAY, "09:00"),
            bay_id=services.settings.bays()[0].id,
            customer_id=customer.id,
            title="Kupplung Geheimrat",
            notes="Schlüssel im Briefkasten",
        )
    )
    profile = build_profile(services, now=NOW)
    dumped = json.dumps(profile.to_dict(), ensure_ascii=False)
    for private in ("Geheimrat", "Gerlinde", "9999999", "Briefkasten", "Bühne", "Tobias"):
        assert private not in dumped
    assert profile.workshop_name == "Kfz-Meisterbetrieb Huber GmbH"
    assert profile.phone == "089 5467 1200"
    assert profile.address == "Landsberger Straße 312, 80687 München"
    assert profile.opening_hours[0] == (0, (("07:30", "12:00"), ("13:00", "17:30")))
    assert profile.opening_hours[6] == (6, ())
    assert profile.slot_minutes == 15


def test_generated_at_is_utc_and_aware_now_works(services: Services) -> None:
    naive = build_profile(services, now=NOW, days=1)
    assert naive.generated_at == dt.datetime(2026, 3, 11, 8, 7, tzinfo=dt.UTC)  # CET = UTC+1 in March
    aware = build_profile(services, now=dt.datetime(2026, 3, 11, 8, 7, tzinfo=dt.UTC), days=1)
    assert aware.free_intervals == naive.free_intervals
    assert aware.generated_at == naive.generated_at


def test_to_dict_is_json_and_round_trips(profile: PublicProfile) -> None:
    data = json.loads(json.dumps(profile.to_dict()))
    assert data["services"][0]["price_from_gross"] == str(profile.services[0].price_from_gross)
    again = PublicProfile.from_dict(data)
    assert again == profile
    assert again.service("OE-0011") == profile.service("OE-0011")
    assert again.service("XX-9999") is None


def _valid() -> dict[str, Any]:
    return {
        "workshop_name": "W",
        "phone": "",
        "email": "",
        "address": "",
        "opening_hours": [[0, [["08:00", "12:00"]]]],
        "services": [
            {"code": "A-1", "name": "A", "category": "C", "price_from_gross": "10.00", "duration_minutes": 15}
        ],
        "free_intervals": [{"start": "2026-03-12T08:00:00", "end": "2026-03-12T09:00:00", "bay": "1"}],
        "slot_minutes": 15,
        "generated_at": "2026-03-11T08:00:00+00:00",
    }


def test_from_dict_accepts_the_minimal_form() -> None:
    profile = PublicProfile.from_dict(_valid())
    assert profile.free_intervals == (FreeInterval(dt.datetime(2026, 3, 12, 8), dt.datetime(2026, 3, 12, 9), "1"),)
    assert profile.hours_of(0) == (("08:00", "12:00"),)
    assert profile.hours_of(1) == ()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("version",), 2),
        (("workshop_name",), None),
        (("slot_minutes",), "15"),
        (("slot_minutes",), 0),
        (("generated_at",), "2026-03-11T08:00:00"),
        (("generated_at",), "yesterday"),
        (("opening_hours",), [[7, []]]),
        (("opening_hours",), [[0, [["12:00", "08:00"]]]]),
        (("opening_hours",), [[0, [["8:00", "12:00"]]]]),
        (("opening_hours",), [[0, []], [0, []]]),
        (("services", 0, "price_from_gross"), "zehn"),
        (("services", 0, "price_from_gross"), "-1"),
        (("services", 0, "duration_minutes"), 0),
        (("services", 0, "code"), ""),
        (("services",), {"not": "a list"}),
        (("free_intervals", 0, "start"), "2026-03-12T08:00:00+01:00"),
        (("free_intervals", 0, "end"), "2026-03-12T07:00:00"),
    ],
)
def test_from_dict_rejects_bad_input(path: tuple[Any, ...], value: Any) -> None:
    data = _valid()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValueError):
        PublicProfile.from_dict(data)


def test_from_dict_rejects_a_missing_field_and_non_objects() -> None:
    data = _valid()
    del data["services"]
    with pytest.raises(ValueError):
        PublicProfile.from_dict(data)
    with pytest.raises(ValueError):
        PublicProfile.from_dict([])  # type: ignore[arg-type]
