"""ObdReader and LiveSampler against the in-process ELM327 emulator (one session per module)."""

from __future__ import annotations

import threading
import time
from typing import Any

import elm.obd_message as emulated
import pytest

from app.dtc import describe
from app.errors import ValidationError
from drivers.obd.live import LiveSample, LiveSampler
from drivers.obd.memory import LinkMemory
from drivers.obd.reader import ObdReader
from drivers.obd.replies import ReplyState
from tests.drivers.emulator import url as emulator_url

SIX = ["RPM", "SPEED", "COOLANT_TEMP", "ENGINE_LOAD", "THROTTLE_POS", "INTAKE_TEMP"]


def test_connect_reports_adapter_protocol_and_voltage(reader: ObdReader) -> None:
    info = reader.info
    assert info is not None
    assert (info.protocol, info.protocol_name) == ("6", "ISO 15765-4 (CAN 11/500)")
    assert info.adapter_id == "STN1100 v1.2.3" and info.elm_version == "ELM327 v1.5"
    assert info.voltage is not None and 12.0 < info.voltage < 15.0
    assert info.ecus == ("7E8",) and not info.auto_detected and info.is_can


def test_vin_is_read_in_full(reader: ObdReader, car: Any) -> None:
    result = reader.read_vin()
    assert result.state is ReplyState.OK
    assert result.vin == "WP0ZZZ99ZTS390000"  # python-OBD returns WP0ZZZ99ZTS39
    assert result.valid


def test_values_come_as_float_and_unit(reader: ObdReader, car: Any) -> None:
    values = reader.read_pids(["rpm", "SPEED", "COOLANT_TEMP"])
    assert list(values) == ["RPM", "SPEED", "COOLANT_TEMP"]
    assert all(v.ok and isinstance(v.value, float) for v in values.values())
    assert [v.unit for v in values.values()] == ["1/min", "km/h", "°C"]
    assert values["RPM"].ecu == "7E8" and values["RPM"].label == "Drehzahl"


def test_count_digit_is_used_and_dropped_for_a_clone_without_it(
    reader: ObdReader, car: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader.read_pids(["RPM"])
    assert car.counters["cmd_last_cmd"] == "010C1"  # the ELM returns after one answer, no ATST wait
    original = car.handle_request

    def clone(cmd: str, do_write: bool = False) -> Any:
        if len(cmd) == 5 and cmd.startswith("01"):
            return None, cmd, "<writeln>?</writeln>"
        return original(cmd, do_write)

    monkeypatch.setattr(car, "handle_request", clone)
    try:
        assert reader.read_pids(["SPEED"])["SPEED"].ok
        assert car.counters["cmd_last_cmd"] == "010D"
    finally:
        reader._count_digit = True


def test_unsupported_and_unknown_pids(reader: ObdReader, car: Any) -> None:
    assert 0x0C in reader.supported_pids() and 0x0A not in reader.supported_pids()
    before = car.counters.get("commands", 0)
    value = reader.read_pids(["FUEL_PRESSURE"])["FUEL_PRESSURE"]
    assert value.state is ReplyState.UNSUPPORTED and value.value is None
    assert car.counters.get("commands", 0) == before  # not even asked
    with pytest.raises(ValidationError, match="Unbekannter Messwert: BLINKER"):
        reader.read_pids(["RPM", "BLINKER"])


def test_no_data_is_a_state(reader: ObdReader, car: Any) -> None:
    car.answer["SPEED"] = "NO DATA\r"
    values = reader.read_pids(["SPEED", "RPM"])
    assert values["SPEED"].state is ReplyState.NO_DATA
    assert values["SPEED"].value is None and values["SPEED"].text == "Keine Daten"
    assert values["RPM"].ok


@pytest.mark.parametrize(
    ("answer", "state"),
    [
        ("CAN ERROR\r", ReplyState.CAN_ERROR),
        ("UNABLE TO CONNECT\r", ReplyState.UNABLE_TO_CONNECT),
        ("BUS INIT: ...ERROR\r", ReplyState.BUS_INIT_ERROR),
        ("STOPPED\r", ReplyState.STOPPED),
        ("?\r", ReplyState.UNKNOWN_COMMAND),
        ("<string>#%!~ \u00ff\u00fe &amp; Müll</string>", ReplyState.GARBAGE),
        ("<exec>self.write_to_device(bytes([0, 255, 1, 254, 27, 13]))</exec>X", ReplyState.GARBAGE),
        ("<header>7E8</header><size>10</size><data>0F 41 0C 14 5F 0D 0A</data>", ReplyState.GARBAGE),
        ("<header>7E8</header><size>04</size><data>41 0D 14 5F</data>", ReplyState.GARBAGE),
    ],
)
def test_adapter_errors_and_garbage_never_become_values(
    reader: ObdReader, car: Any, answer: str, state: ReplyState
) -> None:
    car.answer["RPM"] = answer
    value = reader.read_pids(["RPM"])["RPM"]
    assert value.state is state
    assert value.value is None
    car.answer.clear()
    assert reader.read_pids(["RPM"])["RPM"].ok  # the session carries on


def test_stored_pending_permanent_codes_with_german_texts(reader: ObdReader, car: Any) -> None:
    emulated.DTC_STORED[:] = ["0143", "0300"]
    emulated.DTC_PENDING[:] = ["0420"]
    emulated.DTC_PERMANENT[:] = ["0171", "C123"]
    report = reader.read_dtcs()
    assert [d.code for d in report.stored.codes] == ["P0143", "P0300"]
    assert [d.code for d in report.pending.codes] == ["P0420"]
    assert [d.code for d in report.permanent.codes] == ["P0171", "U0123"]
    p0300 = report.stored.codes[1]
    assert p0300.text_de == describe("P0300", "de").text and p0300.text_en == describe("P0300", "en").text
    assert p0300.text_de != p0300.text_en
    assert (p0300.ecu, p0300.ecu_name) == ("7E8", "Motor")
    assert list(report.stored.by_ecu()) == ["7E8"]
    status = reader.read_status()
    assert status.mil and status.dtc_count == 2 and status.ignition == "spark"


def test_clearing_erases_the_codes(reader: ObdReader, car: Any) -> None:
    emulated.DTC_STORED[:] = ["0143"]
    assert [d.code for d in reader.read_dtcs().stored.codes] == ["P0143"]
    result = reader.clear_dtcs()
    assert result.ok and result.ecus == ("7E8",) and result.text == "Fehlerspeicher gelöscht."
    assert reader.read_dtcs().stored.codes == ()
    assert not reader.read_status().mil


def test_readiness_monitors_have_german_names(reader: ObdReader, car: Any) -> None:
    status = reader.read_status()
    supported = [m.name for m in status.monitors if m.supported]
    assert supported == [
        "Zündaussetzer",
        "Kraftstoffsystem",
        "Bauteile",
        "Katalysator",
        "Lambdasonde",
        "AGR/VVT",
    ]
    assert status.ready


def test_freeze_frame_with_negative_responses(reader: ObdReader, car: Any) -> None:
    assert reader.freeze_frame().text == "Kein Freeze-Frame gespeichert."
    car.answer["INJ_MF_2"] = "<header>7E8</header><size>05</size><data>42 02 00 01 43</data>"
    frame = reader.freeze_frame()
    assert frame.dtc is not None and frame.dtc.code == "P0143"
    assert frame.dtc.text_de == describe("P0143", "de").text
    rpm = next(v for v in frame.values if v.name == "RPM")
    assert rpm.state is ReplyState.NEGATIVE and rpm.value is None  # python-OBD made 1152 rpm of 7F 02 12
    assert rpm.text == "nicht unterstützt"
    assert all(v.state is ReplyState.NEGATIVE for v in frame.values)
    reply = reader.request("020C00", expect=b"\x42\x0c")
    assert (reply.state, reply.nrc) == (ReplyState.NEGATIVE, 0x12)


@pytest.mark.parametrize("delay", [0.03, 0.2])
def test_slow_answers_within_the_timeout(reader: ObdReader, car: Any, delay: float) -> None:
    car.delay = delay
    started = time.monotonic()
    values = reader.read_pids(["RPM", "SPEED"])
    assert all(v.ok for v in values.values())
    assert time.monotonic() - started >= 2 * delay
    sample = LiveSampler(reader, SIX, batch=True).sample()
    assert sample.decoded == 6


def test_batching_detected_once_and_remembered(reader: ObdReader, car: Any) -> None:
    reader.memory, reader.batching = LinkMemory(), None
    sampler = LiveSampler(reader, SIX)
    assert sampler.batched and reader.batching is True
    assert reader.memory.facts(emulator_url(car)).batching is True
    sample = sampler.sample()
    assert sample.requests == 1 and sample.decoded == 6
    assert all(sample.values[name].unit for name in SIX)
    single = LiveSampler(reader, SIX, batch=False).sample()
    assert single.requests == 6 and single.decoded == 6
    assert single.values["COOLANT_TEMP"].unit == sample.values["COOLANT_TEMP"].unit == "°C"


def test_a_pid_missing_from_a_batched_reply(reader: ObdReader, car: Any) -> None:
    car.answer["SPEED"] = "NO DATA\r"
    sample = LiveSampler(reader, SIX, batch=True).sample()
    assert sample.values["SPEED"].state is ReplyState.NO_DATA
    assert sample.decoded == 5


@pytest.mark.parametrize(
    "behaviour",
    ["no_data", "garbage", "hang"],
)
def test_batching_falls_back_to_single_requests(
    reader: ObdReader, car: Any, monkeypatch: pytest.MonkeyPatch, behaviour: str
) -> None:
    def clone(cmd: str, header: str) -> Any:
        if len(cmd) <= 5:  # single PID: answered normally
            return None
        if behaviour == "garbage":
            return "<header>7E8</header><size>10</size><data>0F 41 0C 14 5F 0D 0A</data>"
        if behaviour == "hang":
            time.sleep(2.0)  # answers long after our 1.5 s probe limit
        return None

    monkeypatch.setattr(car, "multi_pid_answer", clone)
    reader.batching = None
    sampler = LiveSampler(reader, SIX)
    assert not sampler.batched and reader.batching is False
    sample = sampler.sample()
    assert sample.requests == 6 and sample.decoded == 6  # the session survived the probe
    assert not LiveSampler(reader, SIX).batched  # remembered: no second probe
    reader.batching = None


def test_run_reports_values_per_second(reader: ObdReader, car: Any) -> None:
    car.delay = 0.01
    seen: list[LiveSample] = []
    stats = LiveSampler(reader, SIX, batch=True).run(0.3, on_sample=seen.append)
    assert stats.samples == len(seen) >= 3
    assert stats.values == 6 * stats.samples and stats.batched
    assert stats.values_per_second > 0


def test_only_the_owner_thread_may_talk_to_the_adapter(reader: ObdReader, car: Any) -> None:
    errors: list[BaseException] = []

    def intruder() -> None:
        try:
            reader.read_vin()
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=intruder)
    thread.start()
    thread.join(5)
    assert errors and "another thread" in str(errors[0])
