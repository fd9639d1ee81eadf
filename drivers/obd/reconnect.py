"""``Reconnector``: when to try again after the adapter was lost (pure logic, injectable clock).

The worker calls ``attempt(connect)`` from its loop; it runs ``connect`` only when the back-off has
passed (0.5 s, 1 s, 2 s … up to 10 s), swallows the driver errors that mean "not back yet" and
reports a German status line for the window. Success resets the schedule.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

from app.i18n import _
from drivers.obd.errors import ObdError

T = TypeVar("T")


class Reconnector:
    """Exponential back-off for reconnect attempts."""

    def __init__(
        self,
        *,
        first: float = 0.5,
        factor: float = 2.0,
        maximum: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.first, self.factor, self.maximum = first, factor, maximum
        self._clock = clock
        self.failures = 0
        self.next_at = clock()
        self.last_error: ObdError | None = None

    def delay(self) -> float:
        """The pause after the current number of failures."""
        if self.failures == 0:
            return 0.0
        return float(min(self.maximum, self.first * self.factor ** (self.failures - 1)))

    def due(self) -> bool:
        """True when the next attempt may run now."""
        return self._clock() >= self.next_at

    def wait_time(self) -> float:
        """Seconds until the next attempt (0 when due)."""
        return max(0.0, self.next_at - self._clock())

    def failed(self, error: ObdError | None = None) -> float:
        """Record a failed attempt (or the loss itself); returns the pause until the next one."""
        self.failures += 1
        self.last_error = error
        self.next_at = self._clock() + self.delay()
        return self.delay()

    def succeeded(self) -> None:
        """Back to normal: the next loss starts the schedule from the beginning."""
        self.failures = 0
        self.last_error = None
        self.next_at = self._clock()

    def attempt(self, connect: Callable[[], T]) -> T | None:
        """Run ``connect`` if due; None when not due or when the adapter/car is not back yet."""
        if not self.due():
            return None
        try:
            result = connect()
        except ObdError as error:
            self.failed(error)
            return None
        self.succeeded()
        return result

    def status_text(self) -> str:
        """German status line for the connection panel."""
        if self.failures == 0:
            return _("Verbunden.")
        seconds = math.ceil(self.wait_time())
        reason = self.last_error.message if self.last_error is not None else _("Verbindung verloren.")
        return _("{reason} Neuer Versuch in {seconds} s (Versuch {attempt}).").format(
            reason=reason, seconds=seconds, attempt=self.failures + 1
        )
