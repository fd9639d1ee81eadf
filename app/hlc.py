"""A hybrid logical clock (Kulkarni et al. 2014): timestamps that never run backwards.

A stamp is ``(wall_ms, counter, node)``: ``wall_ms`` follows the PC clock while it moves forward; when
the clock stands still or jumps back, ``counter`` counts on, so every new stamp is larger than every
stamp this clock made or received before. ``node`` (the device id) breaks ties between devices.

The encoded form ``0001764000000000-00000-<node>`` sorts as text in the same order as the stamps, so the
outbox and the server can compare stamps with plain string comparison. Pure Python, thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

WALL_DIGITS = 16
COUNTER_DIGITS = 5
MAX_COUNTER = 10**COUNTER_DIGITS - 1
DEFAULT_MAX_DRIFT_MS = 24 * 3600 * 1000
"""A received stamp further ahead of the local clock than this is refused (a broken peer clock)."""


class HlcError(ValueError):
    """A stamp cannot be parsed or lies too far in the future."""


def wall_clock_ms() -> int:
    """The PC clock in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, order=True)
class HlcStamp:
    """One timestamp; compares as (wall_ms, counter, node)."""

    wall_ms: int
    counter: int
    node: str

    def encode(self) -> str:
        """The sortable text form."""
        return f"{self.wall_ms:0{WALL_DIGITS}d}-{self.counter:0{COUNTER_DIGITS}d}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> HlcStamp:
        """The stamp of an encoded text; raises HlcError for anything else."""
        parts = text.split("-", 2)
        if len(parts) != 3 or len(parts[0]) != WALL_DIGITS or len(parts[1]) != COUNTER_DIGITS:
            raise HlcError(f"not an HLC stamp: {text!r}")
        if not (parts[0].isdigit() and parts[1].isdigit()):
            raise HlcError(f"not an HLC stamp: {text!r}")
        return cls(int(parts[0]), int(parts[1]), parts[2])

    def __str__(self) -> str:
        return self.encode()


class HybridLogicalClock:
    """Makes monotonic stamps for one node; ``last`` restores the state after a restart."""

    def __init__(
        self,
        node: str,
        *,
        wall: Callable[[], int] = wall_clock_ms,
        last: HlcStamp | None = None,
        max_drift_ms: int = DEFAULT_MAX_DRIFT_MS,
    ) -> None:
        if "-" in node or not node:
            raise HlcError("the node id must be non-empty and free of '-'")
        self.node = node
        self._wall = wall
        self._max_drift_ms = max_drift_ms
        self._lock = threading.Lock()
        self._wall_ms = last.wall_ms if last else 0
        self._counter = last.counter if last else 0

    @property
    def last(self) -> HlcStamp:
        """The newest stamp made or seen so far."""
        with self._lock:
            return HlcStamp(self._wall_ms, self._counter, self.node)

    def _advance(self, candidate_ms: int) -> None:
        """Move to ``candidate_ms`` if that is later, else count on (caller holds the lock)."""
        if candidate_ms > self._wall_ms:
            self._wall_ms, self._counter = candidate_ms, 0
        elif self._counter < MAX_COUNTER:
            self._counter += 1
        else:  # more than 99,999 stamps in one millisecond: borrow the next millisecond
            self._wall_ms, self._counter = self._wall_ms + 1, 0

    def now(self) -> HlcStamp:
        """A new stamp for a local event, larger than every earlier one."""
        with self._lock:
            self._advance(self._wall())
            return HlcStamp(self._wall_ms, self._counter, self.node)

    def update(self, remote: HlcStamp) -> HlcStamp:
        """Take a received stamp into account; the result is larger than it and than every local stamp."""
        with self._lock:
            physical = self._wall()
            if remote.wall_ms - physical > self._max_drift_ms:
                raise HlcError(f"remote stamp {remote.encode()} is too far ahead of the local clock")
            if remote.wall_ms > self._wall_ms or (remote.wall_ms == self._wall_ms and remote.counter > self._counter):
                self._wall_ms, self._counter = remote.wall_ms, remote.counter
            self._advance(physical)
            return HlcStamp(self._wall_ms, self._counter, self.node)
