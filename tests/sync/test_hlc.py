"""The hybrid logical clock: monotonic when the PC clock stands still or jumps back, sortable as text."""

from __future__ import annotations

import pytest

from app.hlc import HlcError, HlcStamp, HybridLogicalClock


class Wall:
    """A settable PC clock in milliseconds."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def test_follows_the_wall_clock_and_counts_while_it_stands_still() -> None:
    wall = Wall(1_000)
    clock = HybridLogicalClock("a", wall=wall)
    assert clock.now() == HlcStamp(1_000, 0, "a")
    assert clock.now() == HlcStamp(1_000, 1, "a")
    wall.ms = 2_000
    assert clock.now() == HlcStamp(2_000, 0, "a")


def test_a_clock_jumping_back_never_produces_an_older_stamp() -> None:
    wall = Wall(5_000)
    clock = HybridLogicalClock("a", wall=wall)
    before = clock.now()
    wall.ms = 1_000  # the PC's time was set back by hand
    after = [clock.now() for _ in range(3)]
    assert before < after[0] < after[1] < after[2]
    assert all(stamp.wall_ms == 5_000 for stamp in after)
    assert before.encode() < after[0].encode() < after[2].encode()  # text order = stamp order


def test_restart_resumes_after_the_last_stamp() -> None:
    last = HlcStamp(9_000, 7, "a")
    clock = HybridLogicalClock("a", wall=Wall(100), last=last)
    assert clock.now() == HlcStamp(9_000, 8, "a")


def test_update_moves_past_a_received_stamp() -> None:
    clock = HybridLogicalClock("a", wall=Wall(1_000))
    clock.now()
    merged = clock.update(HlcStamp(3_000, 4, "b"))
    assert merged == HlcStamp(3_000, 5, "a")
    assert clock.now() > merged
    assert clock.update(HlcStamp(10, 0, "b")) > merged  # an old remote stamp never moves us back


def test_a_remote_stamp_far_in_the_future_is_refused() -> None:
    clock = HybridLogicalClock("a", wall=Wall(1_000), max_drift_ms=60_000)
    with pytest.raises(HlcError):
        clock.update(HlcStamp(1_000 + 120_000, 0, "b"))


def test_counter_overflow_borrows_the_next_millisecond() -> None:
    clock = HybridLogicalClock("a", wall=Wall(1_000), last=HlcStamp(1_000, 99_999, "a"))
    assert clock.now() == HlcStamp(1_001, 0, "a")


def test_encode_parse_round_trip_and_bad_input() -> None:
    stamp = HlcStamp(1_764_000_000_123, 42, "0f3c")
    assert HlcStamp.parse(stamp.encode()) == stamp
    assert stamp.encode() == "0001764000000123-00042-0f3c"
    for bad in ("", "12-3-x", "abcdefghijklmnop-00000-a", "0001764000000123-0004-a"):
        with pytest.raises(HlcError):
            HlcStamp.parse(bad)
    with pytest.raises(HlcError):
        HybridLogicalClock("with-dash")
