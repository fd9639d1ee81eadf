"""What the OBD worker reports to the window: link status and the result objects of its signals.

Everything here is a frozen dataclass built in the worker thread and handed over by a queued signal,
so the GUI thread never shares mutable state with the thread that owns the adapter. The driver's own
results (``ConnectionInfo``, ``VinResult``, ``VehicleStatus``, ``DtcReport``, ``FreezeFrame``,
``ClearResult``, ``PidValue``) are frozen too and travel inside these objects unchanged. This module
imports no driver code at runtime: python-OBD and pint load only in the worker thread.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from app.i18n import N_, _

if TYPE_CHECKING:
    from drivers.obd.decode import PidValue
    from drivers.obd.results import ConnectionInfo, DtcReport, FreezeFrame, VehicleStatus, VinResult


class LinkState(StrEnum):
    """Where the link to the adapter stands."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    IGNITION_OFF = "ignition_off"
    LOST = "lost"


STATE_LABELS: dict[LinkState, str] = {
    LinkState.DISCONNECTED: N_("getrennt"),
    LinkState.CONNECTING: N_("verbinde …"),
    LinkState.CONNECTED: N_("verbunden"),
    LinkState.IGNITION_OFF: N_("Zündung aus"),
    LinkState.LOST: N_("Verbindung verloren"),
}


@dataclass(frozen=True)
class LinkStatus:
    """The connection panel's status line: the state, a German text and the driver's reason."""

    state: LinkState
    text: str
    detail: str = ""  # the driver's German message (why the car is silent, why the link broke)
    retry_in: int | None = None  # seconds until the next reconnect attempt (state LOST)
    adapter: ConnectionInfo | None = None  # adapter facts, also when the car does not answer

    @property
    def label(self) -> str:
        """Short German word for the status chip ("verbunden", "Zündung aus" …)."""
        return _(STATE_LABELS[self.state])


def lost_text(seconds: int | None) -> str:
    """ "Verbindung verloren – neuer Versuch in 2 s" (or "… verbinde erneut …" while trying)."""
    if seconds is None or seconds <= 0:
        return _("Verbindung verloren – verbinde erneut …")
    return _("Verbindung verloren – neuer Versuch in {seconds} s").format(seconds=seconds)


@dataclass(frozen=True)
class VehicleFacts:
    """What is read right after connecting (and after clearing): the VIN and MIL/readiness."""

    vin: VinResult
    status: VehicleStatus


@dataclass(frozen=True)
class ScanResult:
    """One complete read of the fault memory: codes of all three kinds, readiness, freeze frame."""

    info: ConnectionInfo
    vin: VinResult
    status: VehicleStatus
    dtcs: DtcReport
    freeze_frame: FreezeFrame
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def clearable_codes(self) -> tuple[str, ...]:
        """Stored and pending codes (Mode 04 clears those; permanent codes stay until the ECU re-tests)."""
        codes = [d.code for group in (self.dtcs.stored, self.dtcs.pending) for d in group.codes]
        return tuple(dict.fromkeys(codes))


@dataclass(frozen=True)
class LiveStarted:
    """Live data is running: the chosen PIDs (in order), when it began, and whether they are batched."""

    names: tuple[str, ...]
    labels: tuple[str, ...]
    started_at: float  # time.monotonic() of the start; sample times are on the same clock
    batched: bool
    unsupported: tuple[str, ...] = ()  # chosen PIDs the car does not offer (shown as such, never polled)


Row = tuple[float, tuple[float | None, ...]]


@dataclass(frozen=True)
class LiveBatch:
    """Coalesced live data (≥ 10 a second): the newest value of each PID and the samples since the last batch.

    ``rows`` are (monotonic time, values in the order of ``names``); None = no value in that round.
    """

    names: tuple[str, ...]
    latest: Mapping[str, PidValue]
    rows: tuple[Row, ...]
    values_per_second: float
    batched: bool

    def series(self, name: str) -> list[tuple[float, float | None]]:
        """The samples of one PID in this batch."""
        index = self.names.index(name)
        return [(at, values[index]) for at, values in self.rows]


def plain_number(value: PidValue) -> float | None:
    """A decoded numeric value, or None (NO DATA, refused, not numeric, not finite)."""
    if not value.ok or value.value is None or not math.isfinite(value.value):
        return None
    return float(value.value)
