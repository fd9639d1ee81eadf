"""Faults: adapter missing, silent or no ELM, unplugged mid-stream (pty, TCP), ignition off, reconnecting."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.obd.errors import AdapterNotFound, AdapterTimeout, LinkLost, NotConnected, ProtocolError
from drivers.obd.live import LiveSampler
from drivers.obd.reader import ObdReader
from drivers.obd.reconnect import Reconnector
from tests.drivers import emulator

SIX = ["RPM", "SPEED", "COOLANT_TEMP", "ENGINE_LOAD", "THROTTLE_POS", "INTAKE_TEMP"]


@pytest.fixture
def fake_adapter() -> Iterator[tuple[str, list[bytes]]]:
    """A pty whose far end answers every line with the bytes in ``replies[0]`` (empty = silent)."""
    master, slave = os.openpty()
    replies: list[bytes] = [b""]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data = os.read(master, 256)
            except OSError:
                return
            if b"\r" in data and replies[0]:
                os.write(master, replies[0])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield os.ttyname(slave), replies
    stop.set()
    os.close(slave)
    os.close(master)
    thread.join(1)


def test_missing_port_is_adapter_not_found() -> None:
    with pytest.raises(AdapterNotFound, match="Adapter nicht gefunden") as raised:
        ObdReader().connect("/dev/ttyUSB-gibt-es-nicht", protocol="6", deadline=2.0)
    assert "Anschluss" in str(raised.value)
    with pytest.raises(AdapterNotFound):
        ObdReader().connect(f"socket://127.0.0.1:{emulator.free_port()}", protocol="6", deadline=2.0)


def test_silent_adapter_times_out_within_the_deadline(fake_adapter: tuple[str, list[bytes]]) -> None:
    port, _replies = fake_adapter
    started = time.monotonic()
    with pytest.raises(AdapterTimeout) as raised:
        ObdReader().connect(port, protocol="6", deadline=1.0)
    assert time.monotonic() - started < 1.5
    assert str(raised.value) == "Adapter antwortet nicht – Stecker und Zündung prüfen."
    assert isinstance(raised.value, LinkLost)


def test_a_device_that_is_no_elm327(fake_adapter: tuple[str, list[bytes]]) -> None:
    port, replies = fake_adapter
    replies[0] = b"ELM327 v2.1 \xff\xfe\x00 Kauderwelsch \r\r>"  # a clone that answers junk to everything
    with pytest.raises(ProtocolError, match="Unerwartete Antwort vom Adapter: ATE0"):
        ObdReader().connect(port, protocol="6", deadline=3.0)


def test_adapter_unplugged_mid_stream_on_a_pty() -> None:
    emu = emulator.start()
    reader = ObdReader(command_timeout=1.0)
    try:
        reader.connect(emulator.url(emu), protocol="6", deadline=5.0)
        sampler = LiveSampler(reader, SIX, batch=True)
        unplug = threading.Timer(0.3, emulator.stop, [emu])
        unplug.start()
        started = time.monotonic()
        with pytest.raises(LinkLost):
            sampler.run(10.0)
        assert time.monotonic() - started < 0.3 + 1.5
        assert not reader.connected
        with pytest.raises(LinkLost, match="bitte zuerst verbinden"):
            reader.read_vin()
    finally:
        emulator.stop(emu)
        reader.close()


def test_wifi_adapter_lost_and_back_over_tcp() -> None:
    port = emulator.free_port()
    url = f"socket://127.0.0.1:{port}"
    first = emulator.start(net_port=port)
    reader = ObdReader(command_timeout=1.0)
    second = None
    try:
        reader.connect(url, protocol="6", deadline=5.0)
        assert reader.read_vin().vin == "WP0ZZZ99ZTS390000"
        assert LiveSampler(reader, SIX).batched
        emulator.stop(first)  # the adapter closes the TCP connection
        started = time.monotonic()
        with pytest.raises(LinkLost):
            reader.read_pids(["RPM"])
        assert time.monotonic() - started < 1.5
        backoff = Reconnector(first=0.05, maximum=0.2)

        def reconnect() -> Any:
            return reader.connect(url, protocol="6", deadline=3.0)

        assert backoff.attempt(reconnect) is None  # nobody listens: connection refused
        assert isinstance(backoff.last_error, AdapterNotFound)
        second = emulator.start(net_port=port)
        info = None
        deadline = time.monotonic() + 5
        while info is None and time.monotonic() < deadline:
            info = backoff.attempt(reconnect)
            time.sleep(0.02)
        assert info is not None and info.protocol == "6"
        assert backoff.failures == 0 and backoff.status_text() == "Verbunden."
        assert reader.read_pids(["RPM"])["RPM"].ok
    finally:
        reader.close()
        emulator.stop(first)
        if second is not None:
            emulator.stop(second)


def test_a_slow_adapter_beyond_the_timeout_then_a_clean_reconnect() -> None:
    with emulator.running_emulator() as emu:
        reader = ObdReader(command_timeout=0.5)
        reader.connect(emulator.url(emu), protocol="6", deadline=5.0)
        emu.delay = 1.0
        started = time.monotonic()
        with pytest.raises(AdapterTimeout):
            reader.read_pids(["RPM"])
        assert time.monotonic() - started < 0.8
        emu.delay = 0
        reader.connect(emulator.url(emu), protocol="6", deadline=5.0)  # the late answer must not confuse it
        assert reader.read_pids(["RPM"])["RPM"].ok
        reader.close()


def test_ignition_off_is_not_connected_with_what_the_adapter_said() -> None:
    with emulator.running_emulator("engineoff") as emu:
        emu.answer["ELM_PIDS_A"] = "UNABLE TO CONNECT\r"
        with pytest.raises(NotConnected) as raised:
            ObdReader().connect(emulator.url(emu), protocol="6", deadline=5.0)
        assert str(raised.value) == (
            "Fahrzeug antwortet nicht (UNABLE TO CONNECT) – Zündung einschalten und erneut verbinden."
        )
        adapter = raised.value.adapter
        assert adapter.elm_version == "ELM327 v1.5" and adapter.voltage is not None
        assert emu.counters["ELM_PIDS_A"] == 2  # the known protocol, then the adapter's own search


def test_ignition_off_while_the_adapter_searches_respects_the_deadline() -> None:
    with emulator.running_emulator("engineoff") as emu:  # first 0100: SEARCHING… for 4.5 s
        started = time.monotonic()
        with pytest.raises(NotConnected, match="Zeitüberschreitung"):
            ObdReader().connect(emulator.url(emu), protocol="6", deadline=2.0)
        assert time.monotonic() - started < 2.3


def test_search_when_the_remembered_protocol_fails() -> None:
    with emulator.running_emulator() as emu:
        original = emu.handle_request

        def only_can(cmd: str, do_write: bool = False) -> Any:  # a car that does not talk K-line
            if cmd == "0100" and emu.counters.get("cmd_try_proto") == 3 and emu.counters.get("cmd_proto") != "0":
                return None, cmd, "<writeln>BUS INIT: ...ERROR</writeln>"
            return original(cmd, do_write)

        emu.handle_request = only_can
        reader = ObdReader()
        info = reader.connect(emulator.url(emu), protocol="3", deadline=8.0)
        assert info.protocol == "6" and info.auto_detected
        assert reader.read_vin().valid
        reader.close()


def test_a_clone_without_attp_gets_atsp() -> None:
    with emulator.running_emulator() as emu:
        original = emu.handle_request
        sent: list[str] = []

        def clone(cmd: str, do_write: bool = False) -> Any:
            sent.append(cmd)
            if cmd.startswith("ATTP"):
                emu.counters["cmd_try_proto"] = 6  # only spares the emulator's 1.5 s "SEARCHING…"
                return None, cmd, "<writeln>?</writeln>"
            return original(cmd, do_write)

        emu.handle_request = clone
        reader = ObdReader()
        info = reader.connect(emulator.url(emu), protocol="6", deadline=5.0)
        assert info.protocol == "6" and not info.auto_detected
        assert ["ATTP6", "ATSP6", "0100"] == [c for c in sent if c in ("ATTP6", "ATSP6", "0100")]
        reader.close()
