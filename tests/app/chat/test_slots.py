"""Slots offered to visitors: on the grid, inside free and opening intervals, never in the past, spread out."""

from __future__ import annotations

import datetime as dt

from app.chat.profile import FreeInterval, PublicProfile
from app.chat.slots import SlotOffer, offer_slots, slot_problem, slot_starts
from tests.app.chat.support import NOW, small_profile

THURSDAY = dt.date(2026, 3, 12)


def _at(hhmm: str, day: dt.date = THURSDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm))


def _starts(profile: PublicProfile, minutes: int, now: dt.datetime = NOW) -> list[str]:
    return [f"{s:%H:%M}" for s, _w in slot_starts(profile, duration_minutes=minutes, now_local=now)]


def test_starts_lie_on_the_grid_and_fit_before_the_interval_ends() -> None:
    profile = small_profile(free=(FreeInterval(_at("08:05"), _at("10:00"), "1"),))
    # grid from the opening (07:30) every 15 minutes; 08:05 rounds up to 08:15; 60 minutes must fit by 10:00
    assert _starts(profile, 60) == ["08:15", "08:30", "08:45", "09:00"]


def test_the_grid_counts_from_the_opening_time_not_the_full_hour() -> None:
    profile = small_profile(slot_minutes=60, free=(FreeInterval(_at("07:30"), _at("12:00"), "1"),))
    assert _starts(profile, 60) == ["07:30", "08:30", "09:30", "10:30"]


def test_no_slot_spans_the_lunch_break_or_closing_time() -> None:
    profile = small_profile(free=(FreeInterval(_at("07:30"), _at("17:30"), "1"),))  # too long: crosses lunch
    starts = _starts(profile, 90)
    assert starts[0] == "07:30"
    assert "10:30" in starts
    assert "10:45" not in starts  # would end 12:15, after the morning closes
    assert "12:00" not in starts
    assert "13:00" in starts
    assert starts[-1] == "16:00"


def test_free_time_outside_opening_hours_is_never_offered() -> None:
    saturday = dt.date(2026, 3, 14)  # closed in the small profile
    profile = small_profile(free=(FreeInterval(_at("08:00", saturday), _at("12:00", saturday), "1"),))
    assert offer_slots(profile, duration_minutes=30, now_local=NOW) == []


def test_nothing_in_the_past_and_nothing_starting_right_now() -> None:
    profile = small_profile()
    assert _starts(profile, 30, now=_at("10:05"))[0] == "10:15"
    assert _starts(profile, 30, now=_at("10:15"))[0] == "10:30"
    assert _starts(profile, 30, now=_at("18:00")) == []


def test_equal_times_on_several_bays_are_one_slot() -> None:
    starts = _starts(small_profile(), 30)
    assert len(starts) == len(set(starts))
    assert starts.count("08:00") == 1


def test_offers_are_spread_over_opening_intervals() -> None:
    profile = small_profile(
        free=(
            FreeInterval(_at("07:30"), _at("12:00"), "1"),
            FreeInterval(_at("13:00"), _at("17:30"), "1"),
            FreeInterval(_at("08:00", dt.date(2026, 3, 13)), _at("09:00", dt.date(2026, 3, 13)), "2"),
        )
    )
    offers = offer_slots(profile, duration_minutes=30, now_local=NOW)
    assert offers == [
        SlotOffer(_at("07:30"), _at("08:00")),
        SlotOffer(_at("13:00"), _at("13:30")),
        SlotOffer(_at("08:00", dt.date(2026, 3, 13)), _at("08:30", dt.date(2026, 3, 13))),
    ]


def test_offers_fill_up_from_one_interval_when_there_are_few() -> None:
    profile = small_profile(free=(FreeInterval(_at("08:00"), _at("09:00"), "1"),))
    offers = offer_slots(profile, duration_minutes=30, now_local=NOW, limit=3)
    assert [f"{o.start:%H:%M}" for o in offers] == ["08:00", "08:15", "08:30"]
    assert offer_slots(profile, duration_minutes=30, now_local=NOW, limit=0) == []


def test_date_from_skips_earlier_days() -> None:
    friday = dt.date(2026, 3, 13)
    profile = small_profile(
        free=(
            FreeInterval(_at("08:00"), _at("09:00"), "1"),
            FreeInterval(_at("10:00", friday), _at("11:00", friday), "1"),
        )
    )
    offers = offer_slots(profile, duration_minutes=60, now_local=NOW, date_from=friday)
    assert offers == [SlotOffer(_at("10:00", friday), _at("11:00", friday))]


def test_slot_problem_names_past_taken_and_off_grid_slots() -> None:
    profile = small_profile()
    assert slot_problem(profile, _at("08:00"), _at("08:30"), now_local=NOW) is None
    assert slot_problem(profile, _at("08:00"), _at("08:30"), now_local=_at("08:00")) == "slot_past"
    assert slot_problem(profile, _at("08:07"), _at("08:37"), now_local=NOW) == "slot_unavailable"  # off grid
    assert slot_problem(profile, _at("15:00"), _at("15:30"), now_local=NOW) == "slot_unavailable"  # booked
    assert slot_problem(profile, _at("11:45"), _at("12:15"), now_local=NOW) == "slot_unavailable"  # lunch
    assert slot_problem(profile, _at("09:00"), _at("09:00"), now_local=NOW) == "slot_unavailable"  # empty
