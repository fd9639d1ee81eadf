"""OBD diagnostics against the in-process ELM327 emulator: live-data throughput and connect time.

1. Live data, six values (RPM, SPEED, COOLANT_TEMP, ENGINE_LOAD, THROTTLE_POS, INTAKE_TEMP), the
   emulator answering every request after 0.03 s (a CAN car's latency): our ``LiveSampler`` (batched
   requests, detected once) against a plain python-OBD ``query()`` loop over the same six commands,
   same run, same seconds. Goal ≥ 4× the values per second.
2. Connect with the remembered protocol (``LinkMemory``), same 0.03 s latency. Goal ≤ 1.5 s; baseline
   python-OBD's auto-detect connect in the same run.

The emulator is a test-only dependency (CC-BY-NC-SA); ``tests/drivers/emulator.py`` corrects its
batched answers to cost one latency per request like a real ECU (see docs/diagnostics.md). It never
models the ELM's ATST wait, so real adapters gain even more from batching and the count digit.
"""

from __future__ import annotations

import logging
import statistics
import time

import obd

from bench.common import Result
from drivers.obd.live import LiveSampler
from drivers.obd.memory import LinkMemory
from drivers.obd.reader import ObdReader
from tests.drivers import emulator

SIX = ["RPM", "SPEED", "COOLANT_TEMP", "ENGINE_LOAD", "THROTTLE_POS", "INTAKE_TEMP"]
LATENCY = 0.03
SECONDS = 3.0


def _ours_values_per_second(url: str) -> tuple[float, bool]:
    with ObdReader() as reader:
        reader.connect(url, protocol="6")
        sampler = LiveSampler(reader, SIX)
        stats = sampler.run(SECONDS)
    return stats.values_per_second, stats.batched


def _python_obd_values_per_second(url: str) -> float:
    connection = obd.OBD(url, protocol="6")
    commands = [obd.commands[name] for name in SIX]
    values = 0
    started = time.monotonic()
    try:
        while time.monotonic() - started < SECONDS:
            for command in commands:
                values += not connection.query(command).is_null()
        return values / (time.monotonic() - started)
    finally:
        connection.close()


def throughput() -> Result:
    """Values per second, ours vs python-OBD, against the same emulator."""
    with emulator.running_emulator(delay=LATENCY) as emu:
        ours, batched = _ours_values_per_second(emulator.url(emu))
        time.sleep(0.2)
        baseline = _python_obd_values_per_second(emulator.url(emu))
    return Result(
        f"obd live data, 6 PIDs, {LATENCY * 1000:.0f} ms per answer ({'batched' if batched else 'single'})",
        ours,
        "values/s",
        baseline,
        "≥ 4× python-OBD",
        ours >= 4 * baseline,
    )


def _connect_remembered() -> float:
    with emulator.running_emulator(delay=LATENCY) as emu:
        url = emulator.url(emu)
        memory = LinkMemory()
        memory.record(url, adapter_id="STN1100 v1.2.3", protocol="6")
        started = time.perf_counter()
        with ObdReader(memory=memory) as reader:
            reader.connect(url)
            elapsed = time.perf_counter() - started
            assert reader.info is not None and not reader.info.auto_detected
    return elapsed


def _connect_python_obd_auto() -> float:
    with emulator.running_emulator(delay=LATENCY) as emu:
        started = time.perf_counter()
        connection = obd.OBD(emulator.url(emu))
        elapsed = time.perf_counter() - started
        connected = connection.status() == obd.OBDStatus.CAR_CONNECTED
        connection.close()
    if not connected:
        raise RuntimeError("python-OBD did not connect to the emulator")
    return elapsed


def connect_time() -> Result:
    """Seconds to a usable session: remembered protocol (ours, median of 3) vs python-OBD's search."""
    ours = statistics.median(_connect_remembered() for _ in range(3))
    baseline = _connect_python_obd_auto()
    return Result(
        "obd connect, remembered protocol",
        ours,
        "s",
        baseline,
        "≤ 1.5 s (python-OBD auto-detect)",
        ours <= 1.5,
    )


def run() -> list[Result]:
    """Both OBD figures."""
    logging.getLogger("obd").setLevel(logging.CRITICAL)  # python-OBD prints its connect chatter otherwise
    return [throughput(), connect_time()]


if __name__ == "__main__":
    for result in run():
        print(result.line())
