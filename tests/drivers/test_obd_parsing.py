"""Pure parts of the OBD driver: reply states, batch splitting, VIN/DTC/readiness, back-off, memory, ports."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import obd
import pytest
from obd.protocols import ISO_9141_2, ISO_15765_4_11bit_500k

from drivers.obd import ports
from drivers.obd.decode import decode_pid, decode_vin, dtc_code, dtc_pairs, split_batched
from drivers.obd.elm import Deadline, split_lines
from drivers.obd.errors import AdapterNotFound, LinkLost, NotConnected
from drivers.obd.memory import LinkMemory
from drivers.obd.reconnect import Reconnector
from drivers.obd.replies import ReplyState, classify
from drivers.obd.results import decode_status

CAN = ISO_15765_4_11bit_500k(["7E8064100BE3FA813"])


@pytest.mark.parametrize(
    ("lines", "state"),
    [
        (["NO DATA"], ReplyState.NO_DATA),
        (["CAN ERROR"], ReplyState.CAN_ERROR),
        (["UNABLE TO CONNECT"], ReplyState.UNABLE_TO_CONNECT),
        (["BUS INIT: ...ERROR"], ReplyState.BUS_INIT_ERROR),
        (["BUS INIT:ERROR"], ReplyState.BUS_INIT_ERROR),
        (["STOPPED"], ReplyState.STOPPED),
        (["?"], ReplyState.UNKNOWN_COMMAND),
        (["BUFFER FULL"], ReplyState.BUFFER_FULL),
        (["7E8 03 41 0D 00 <DATA ERROR"], ReplyState.BUS_ERROR),
        (["ERR94"], ReplyState.BUS_ERROR),
        (["\ufffd\ufffd#%&"], ReplyState.GARBAGE),
        (["7E8 10 99 41 0C"], ReplyState.GARBAGE),  # first frame, consecutive frames never came
        (["7E8 04 41 0D 00 00"], ReplyState.GARBAGE),  # an answer to another PID is not RPM
        ([], ReplyState.NO_DATA),
    ],
)
def test_adapter_messages_and_junk_become_states_not_values(lines: list[str], state: ReplyState) -> None:
    reply = classify(lines, CAN, expect=b"\x41\x0c")
    assert reply.state is state
    assert reply.messages == ()


def test_negative_response_is_a_state_with_its_code() -> None:
    reply = classify(["7E8037F0212"], CAN, expect=b"\x42\x0c")
    assert reply.state is ReplyState.NEGATIVE
    assert reply.nrc == 0x12
    assert reply.text == "nicht unterstützt"
    # python-OBD itself decodes the same bytes as an engine speed (obd.md §2.3): we never hand them to it
    assert not reply.messages


def test_positive_reply_and_python_obd_decoder() -> None:
    reply = classify(["7E804410C1A F8"], CAN, expect=b"\x41\x0c")
    assert reply.ok
    value = decode_pid(obd.commands.RPM, bytes(reply.messages[0].data[2:]), ecu_flags=reply.messages[0].ecu)
    assert value.value == pytest.approx(0x1AF8 / 4)
    assert value.unit == "1/min"
    assert value.text == "1.726 1/min"


def test_split_lines_drops_echo_noise_and_nuls() -> None:
    raw = b"0100\r\x00SEARCHING...\r7E8 06 41 00 BE 3F A8 13 \r\r"
    assert split_lines(raw, "0100") == ["7E8 06 41 00 BE 3F A8 13"]


def test_batched_reply_is_split_by_pid_length_in_any_order() -> None:
    data = bytes.fromhex("41 0D 0A 0C 14 5F 05 5F 11 2B 0F 39 04 10".replace(" ", ""))
    assert split_batched(data) == {
        0x0D: b"\x0a",
        0x0C: b"\x14\x5f",
        0x05: b"\x5f",
        0x11: b"\x2b",
        0x0F: b"\x39",
        0x04: b"\x10",
    }
    assert split_batched(bytes.fromhex("410C14")) is None  # RPM needs two bytes
    assert split_batched(bytes.fromhex("41FF01")) is None  # unknown PID: length unknown


def test_vin_is_decoded_completely_on_can_and_legacy() -> None:
    can = classify(["7E81014490201575030", "7E8215A5A5A39395A54", "7E82253333930303030"], CAN, expect=b"\x49\x02")
    assert decode_vin(can.messages) == "WP0ZZZ99ZTS390000"
    # python-OBD's own decoder loses the trailing zeros of the same bytes (obd.md §2.3)
    assert obd.commands.VIN(list(can.messages)).value != b"WP0ZZZ99ZTS390000"
    kline = ISO_9141_2(["486B104100BE3FA813AA"])
    vin = b"1HGCM82633A004352"
    chunks = [b"\x00\x00\x00" + vin[:1]] + [vin[i : i + 4] for i in range(1, 17, 4)]
    lines = [f"486B104902{n + 1:02X}{chunk.hex().upper()}00" for n, chunk in enumerate(chunks)]
    legacy = classify(lines, kline, expect=b"\x49\x02")
    assert decode_vin(legacy.messages) == "1HGCM82633A004352"


def test_dtc_bytes_follow_sae_j2012() -> None:
    assert dtc_code(0x01, 0x43) == "P0143"
    assert dtc_code(0x41, 0x23) == "C0123"
    assert dtc_code(0x81, 0x23) == "B0123"
    assert dtc_code(0xC1, 0x23) == "U0123"
    assert dtc_code(0xD0, 0x01) == "U1001"
    assert dtc_code(0, 0) is None
    assert dtc_pairs(bytes.fromhex("0143030000")) == ["P0143", "P0300"]


def test_readiness_spark_and_compression() -> None:
    spark = decode_status(bytes.fromhex("4101820761A1"))
    assert spark.mil and spark.dtc_count == 2 and spark.ignition == "spark"
    by_key = {m.key: m for m in spark.monitors}
    assert by_key["misfire"].name == "Zündaussetzer" and by_key["misfire"].supported
    assert by_key["catalyst"].supported and by_key["catalyst"].complete is False  # D bit 0 set
    assert by_key["ac_refrigerant"].name == "Klimaanlage (veraltet)"
    assert by_key["egr_vvt"].name == "AGR/VVT" and by_key["egr_vvt"].complete is False
    assert not spark.ready
    diesel = decode_status(bytes.fromhex("41010008C140"))
    names = {m.key: m for m in diesel.monitors}
    assert diesel.ignition == "compression" and not diesel.mil
    assert names["pm_filter"].name == "Partikelfilter" and names["pm_filter"].supported
    assert names["pm_filter"].complete is False
    assert names["nmhc_catalyst"].name == "NMHC-Kat" and "catalyst" not in names
    assert {"Ladedruck", "Abgassensor", "NOx/SCR"} <= {m.name for m in diesel.monitors}


def test_reconnector_backs_off_and_resets() -> None:
    now = [100.0]
    backoff = Reconnector(first=0.5, factor=2, maximum=4, clock=lambda: now[0])
    calls = []

    def connect_fails() -> str:
        calls.append(now[0])
        raise AdapterNotFound("socket://192.168.0.10:35000")

    pauses = []
    for _ in range(5):
        assert backoff.attempt(connect_fails) is None
        pauses.append(backoff.wait_time())
        assert backoff.attempt(connect_fails) is None  # not due yet: not even tried
        now[0] += backoff.wait_time()
    assert pauses == [0.5, 1, 2, 4, 4]
    assert len(calls) == 5
    assert "Adapter nicht gefunden" in backoff.status_text() and "Neuer Versuch in" in backoff.status_text()
    assert backoff.attempt(lambda: "verbunden") == "verbunden"
    assert backoff.failures == 0 and backoff.due()
    backoff.failed(LinkLost())
    assert backoff.wait_time() == 0.5


def test_reconnector_treats_a_silent_car_as_not_back() -> None:
    backoff = Reconnector(clock=lambda: 0.0)

    def ignition_off() -> None:
        raise NotConnected("UNABLE TO CONNECT")

    assert backoff.attempt(ignition_off) is None
    assert "Zündung einschalten" in backoff.status_text()


def test_deadline_within_never_extends() -> None:
    now = [0.0]
    outer = Deadline(1.0, clock=lambda: now[0])
    assert outer.within(5.0).remaining() == 1.0
    now[0] = 0.75
    assert outer.within(0.1).remaining() == pytest.approx(0.1)
    now[0] = 2.0
    assert outer.expired and outer.within(3.0).expired


def test_link_memory_remembers_protocol_per_port_and_vehicle(tmp_path: Path) -> None:
    path = tmp_path / "obd_links.json"
    memory = LinkMemory(path)
    memory.record("/dev/rfcomm0", adapter_id="OBDLink MX", protocol="6", batching=True)
    memory.record("/dev/rfcomm0", adapter_id="OBDLink MX", protocol="6", vin="WP0ZZZ99ZTS390000")
    memory.record("COM3", adapter_id="ELM327 v2.1", protocol="3", batching=False)
    again = LinkMemory(path)
    assert again.facts("/dev/rfcomm0").protocol == "6"
    assert again.facts("/dev/rfcomm0", adapter_id="OBDLink MX").batching is True
    assert again.facts("/dev/rfcomm0", adapter_id="ELM327 v1.5").batching is None  # another adapter
    assert again.facts("COM3", vin="WP0ZZZ99ZTS390000").protocol == "6"  # the car beats the port
    assert again.facts("COM9").protocol is None
    assert "WP0ZZZ99ZTS390000" not in path.read_text(encoding="utf-8")  # personal data: hashed
    path.write_text("{kaputt", encoding="utf-8")
    assert LinkMemory(path).facts("COM3").protocol is None
    json.loads(json.dumps(again._data))  # what is saved stays plain JSON


def test_ports_are_classified_and_wifi_is_suggested(monkeypatch: pytest.MonkeyPatch) -> None:
    found = [
        SimpleNamespace(device="/dev/ttyS0", description="n/a", hwid="n/a", vid=None),
        SimpleNamespace(device="/dev/rfcomm0", description="n/a", hwid="n/a", vid=None),
        SimpleNamespace(
            device="COM5",
            description="Standard Serial over Bluetooth link (COM5)",
            hwid="BTHENUM\\x",
            vid=None,
        ),
        SimpleNamespace(device="/dev/ttyUSB0", description="FT232R USB UART", hwid="USB VID:PID=0403:6001", vid=0x0403),
    ]
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: found)
    listed = ports.list_ports()
    assert [(p.url, p.kind) for p in listed] == [
        ("/dev/ttyUSB0", "usb"),
        ("/dev/rfcomm0", "bluetooth"),
        ("COM5", "bluetooth"),
        ("/dev/ttyS0", "serial"),
        ("socket://192.168.0.10:35000", "tcp"),
    ]
    assert listed[-1].suggested and listed[-1].kind_text == "WLAN"
    assert listed[3].description == "/dev/ttyS0"
