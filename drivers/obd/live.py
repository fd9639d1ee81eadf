"""``LiveSampler``: Mode 01 live data as fast as the adapter allows.

On CAN protocols up to six PIDs go into one request (``010C0D050F1011``, SAE J1979); the combined
reply is split by each PID's byte length (python-OBD's table), since the ECU may reorder PIDs and
leaves out those it does not support. Some clones hang or answer junk on batched requests, so the
sampler tries ONE batched request per adapter/car (``reader.batching``, kept in the ``LinkMemory``):
when all PIDs come back it batches, otherwise it falls back to single requests for good. Single
requests carry the response-count digit when one ECU answers, so a real ELM skips its ATST wait.
The sampler runs on the reader's thread; every sample is bounded like any reader call.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from drivers.obd.decode import MAX_BATCH, PidValue, batchable, decode_pid, not_ok, split_batched
from drivers.obd.elm import Deadline
from drivers.obd.reader import ObdReader, mode01_commands
from drivers.obd.replies import Reply, ReplyState

PROBE_SECONDS = 1.5  # a batched request the adapter has not answered by then counts as a hang
RATE_WINDOW = 2.0  # seconds over which values_per_second is measured


@dataclass(frozen=True)
class LiveSample:
    """One round over all chosen PIDs (``at`` is time.monotonic())."""

    at: float
    values: dict[str, PidValue]
    requests: int

    @property
    def decoded(self) -> int:
        """Number of values that came back decoded."""
        return sum(1 for value in self.values.values() if value.ok)


@dataclass(frozen=True)
class LiveStats:
    """Totals of a run()."""

    samples: int
    values: int
    seconds: float
    batched: bool

    @property
    def values_per_second(self) -> float:
        """Decoded values per second over the whole run."""
        return self.values / self.seconds if self.seconds > 0 else 0.0


def batch_command(commands: list[Any]) -> str:
    """``01`` followed by up to six PIDs."""
    return "01" + "".join(f"{command.pid:02X}" for command in commands)


class LiveSampler:
    """Polls the chosen Mode 01 PIDs; ``batch`` None = detect once, True = force, False = never."""

    def __init__(self, reader: ObdReader, names: Iterable[str], *, batch: bool | None = None) -> None:
        self.reader = reader
        self.commands = mode01_commands(names)
        supported = reader.supported_pids()
        self._asked = [c for c in self.commands if c.pid in supported]
        self._unsupported = {
            c.name: not_ok(c.name, c.pid, ReplyState.UNSUPPORTED) for c in self.commands if c.pid not in supported
        }
        self._groupable = [c for c in self._asked if batchable(c)]
        self._recent: deque[tuple[float, int]] = deque()
        self.batched = self._decide(batch)

    # -- batching detection ----------------------------------------------------------------------

    def _decide(self, batch: bool | None) -> bool:
        info = self.reader.info
        if batch is False or info is None or not info.is_can or len(self._groupable) < 2:
            return False
        if batch is True:
            return True
        if self.reader.batching is not None:
            return self.reader.batching
        works = self._probe()
        self.reader.remember(batching=works)
        return works

    def _probe(self) -> bool:
        """Send a batched request; it works only if every PID comes back decodable.

        A clean reply that lacks a PID may be a momentary gap of that value, so that case is asked a
        second time; junk, NO DATA, a refusal or a hang end the trial at once.
        """
        group = self._groupable[:MAX_BATCH]
        for _attempt in range(2):
            reply = self.reader.probe(batch_command(group), expect=b"\x41", seconds=PROBE_SECONDS)
            if reply is None or not reply.ok:
                return False
            values: dict[str, PidValue] = {}
            self._split(reply, group, values)
            if all(values[c.name].ok for c in group):
                return True
            if any(v.state is ReplyState.GARBAGE for v in values.values()):
                return False
        return False

    # -- sampling --------------------------------------------------------------------------------

    def sample(self, *, deadline: float | None = None) -> LiveSample:
        """Read every chosen PID once; each value carries its own state (NO DATA, refused …)."""
        groups = self._groups()
        limit = Deadline(deadline if deadline is not None else self.reader.command_timeout * max(1, len(groups)))
        values: dict[str, PidValue] = dict(self._unsupported)
        for group in groups:
            if len(group) == 1:
                command = group[0]
                values[command.name] = self.reader.value_from(self.reader.pid_request(command.pid, limit), command)
            else:
                reply = self.reader.request(batch_command(group), expect=b"\x41", deadline=limit)
                self._split(reply, group, values)
        sample = LiveSample(time.monotonic(), {c.name: values[c.name] for c in self.commands}, len(groups))
        self._count(sample)
        return sample

    def _groups(self) -> list[list[Any]]:
        if not self.batched:
            return [[c] for c in self._asked]
        singles = [[c] for c in self._asked if not batchable(c)]
        chunks = [self._groupable[i : i + MAX_BATCH] for i in range(0, len(self._groupable), MAX_BATCH)]
        return chunks + singles

    def _split(self, reply: Reply, group: list[Any], values: dict[str, PidValue]) -> None:
        """Spread a batched reply over its PIDs (engine ECU first); missing PIDs get a state."""
        wanted = {c.pid: c for c in group}
        malformed = False
        if reply.ok:
            for message in reply.engine_first():
                parts = split_batched(bytes(message.data), wanted)
                if parts is None:
                    malformed = True
                    continue
                for pid, payload in parts.items():
                    command = wanted.get(pid)
                    if command is not None and command.name not in values:
                        values[command.name] = decode_pid(
                            command, payload, ecu_flags=message.ecu, ecu=self.reader.ecu(message)
                        )
        missing = ReplyState.GARBAGE if malformed else ReplyState.NO_DATA
        for command in group:
            if command.name not in values:
                state = reply.state if not reply.ok else missing
                values[command.name] = not_ok(command.name, command.pid, state, reply.nrc)

    def _count(self, sample: LiveSample) -> None:
        self._recent.append((sample.at, sample.decoded))
        while self._recent and self._recent[0][0] < sample.at - RATE_WINDOW:
            self._recent.popleft()

    @property
    def values_per_second(self) -> float:
        """Decoded values per second over the last ~2 s (for the "live requests/s" display)."""
        if len(self._recent) < 2:
            return 0.0
        span = self._recent[-1][0] - self._recent[0][0]
        return sum(count for _, count in list(self._recent)[1:]) / span if span > 0 else 0.0

    def run(
        self,
        seconds: float,
        *,
        on_sample: Callable[[LiveSample], None] | None = None,
        stop: threading.Event | None = None,
    ) -> LiveStats:
        """Sample for ``seconds`` (or until ``stop`` is set); on_sample runs on this thread."""
        started = time.monotonic()
        samples = values = 0
        while time.monotonic() - started < seconds and not (stop is not None and stop.is_set()):
            sample = self.sample()
            samples += 1
            values += sample.decoded
            if on_sample is not None:
                on_sample(sample)
        return LiveStats(samples, values, time.monotonic() - started, self.batched)
