"""Fixtures: one in-process ELM327 emulator (pty, ``car``) and one connected reader per test module.

Connecting costs ~0.5 s (the emulated ATZ), so tests share the session and ``clean_emulator`` puts
the emulator back to normal after each test (answers, delay, injected codes, counters).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import elm.obd_message as emulated
import pytest

from drivers.obd.reader import ObdReader
from tests.drivers import emulator


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    """A running emulator on a pty, ``car`` scenario, no delay."""
    with emulator.running_emulator("car") as running:
        yield running


@pytest.fixture(scope="module")
def reader(emu: Any) -> Iterator[ObdReader]:
    """A reader connected to ``emu`` with the protocol known (CAN 11/500)."""
    session = ObdReader(command_timeout=2.0)
    session.connect(emulator.url(emu), protocol="6", deadline=5.0)
    yield session
    session.close()


def reset(emu: Any) -> None:
    """Undo what a test changed in the emulator."""
    emu.answer.clear()
    emu.delay = 0
    emulated.DTC_STORED[:] = []
    emulated.DTC_PENDING[:] = []
    emulated.DTC_PERMANENT[:] = []
    emu.counters["cmd_dtc_cleared"] = 0
    emu.counters["VIN"] = 0  # the emulated VIN cycles through three cars per request


@pytest.fixture
def car(emu: Any) -> Iterator[Any]:
    """The shared emulator, reset before and after the test."""
    reset(emu)
    yield emu
    reset(emu)
