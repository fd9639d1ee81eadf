"""Shared helpers for benchmarks: timing, percentiles and one uniform result line.

Every benchmark measures its own baseline in the same run and prints the ratio, so figures from
different machines stay comparable (no absolute timings in unit tests).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Result:
    """One benchmark figure with its baseline and goal."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    goal: str = ""
    ok: bool | None = None

    def line(self) -> str:
        """A printable summary line."""
        ratio = (
            f"  ratio {self.value / self.baseline:.2f}× baseline {self.baseline:.2f} {self.unit}"
            if (self.baseline)
            else ""
        )
        verdict = "" if self.ok is None else ("  OK" if self.ok else "  MISSED")
        return f"{self.name}: {self.value:.2f} {self.unit}{ratio}  goal {self.goal}{verdict}"


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes (perf_counter)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def percentile(samples: list[float], pct: float) -> float:
    """The pct-th percentile (inclusive method)."""
    return statistics.quantiles(samples, n=100, method="inclusive")[int(pct) - 1]
