"""``carbot obd ports|scan|live|clear`` in-process against the emulator."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import elm.obd_message as emulated
import pytest

from app.cli import main
from app.dtc import describe
from tests.drivers import emulator


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    try:
        return code, json.loads(out), err
    except ValueError:
        return code, out, err


def test_ports_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, ports, _err = run(capsys, "obd", "ports", "--json")
    assert code == 0
    assert {
        "url": "socket://192.168.0.10:35000",
        "description": "WLAN-Adapter (Standardadresse)",
        "kind": "tcp",
        "suggested": True,
    } in ports


def test_scan_json_and_remembered_protocol(capsys: pytest.CaptureFixture[str], car: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "carbot.db")
    emulated.DTC_STORED[:] = ["0143", "0300"]
    emulated.DTC_PENDING[:] = ["0420"]
    code, scan, _err = run(capsys, "--db", db, "obd", "scan", "--port", emulator.url(car), "--protocol", "6", "--json")
    assert code == 0
    assert scan["vin"] == "WP0ZZZ99ZTS390000"
    assert scan["protocol"] == "6" and scan["mil"] is True and 12 < scan["voltage"] < 15
    assert scan["dtcs"]["stored"] == [
        {
            "code": "P0143",
            "de": describe("P0143", "de").text,
            "en": describe("P0143", "en").text,
            "ecu": "7E8",
        },
        {
            "code": "P0300",
            "de": describe("P0300", "de").text,
            "en": describe("P0300", "en").text,
            "ecu": "7E8",
        },
    ]
    assert [d["code"] for d in scan["dtcs"]["pending"]] == ["P0420"] and scan["dtcs"]["permanent"] == []
    assert {"monitor": "misfire", "name": "Zündaussetzer", "supported": True, "complete": True} in scan["readiness"]
    memory = json.loads((tmp_path / "obd_links.json").read_text(encoding="utf-8"))
    assert memory["ports"][emulator.url(car)]["protocol"] == "6"
    code, text, _err = run(capsys, "--db", db, "obd", "scan", "--port", emulator.url(car))  # protocol from memory
    assert code == 0
    assert "Protokoll: 6 – ISO 15765-4 (CAN 11/500)" in text and "P0300 – " in text and "Zündaussetzer" in text


def test_live_json_and_csv(capsys: pytest.CaptureFixture[str], car: Any, tmp_path: Path) -> None:
    target = tmp_path / "live.csv"
    car.delay = 0.01
    code, live, _err = run(
        capsys,
        "--db",
        str(tmp_path / "c.db"),
        "obd",
        "live",
        "--port",
        emulator.url(car),
        "--protocol",
        "6",
        "--pids",
        "RPM,SPEED,COOLANT_TEMP",
        "--seconds",
        "0.3",
        "--csv",
        str(target),
        "--json",
    )
    assert code == 0
    assert live["batched"] is True and live["samples"] >= 3 and live["values_per_second"] > 0
    assert live["last"]["RPM"]["unit"] == "1/min" and live["last"]["RPM"]["state"] == "ok"
    rows = list(csv.reader(target.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["t_s", "RPM [1/min]", "SPEED [km/h]", "COOLANT_TEMP [°C]"]
    assert len(rows) == live["samples"] + 1 and all(cell != "" for cell in rows[1])
    code, _out, _err = run(
        capsys,
        "obd",
        "live",
        "--port",
        emulator.url(car),
        "--protocol",
        "6",
        "--pids",
        "RPM,BLINKER",
        "--seconds",
        "0.1",
    )
    assert code == 1


def test_clear_needs_yes(capsys: pytest.CaptureFixture[str], car: Any, tmp_path: Path) -> None:
    emulated.DTC_STORED[:] = ["0143"]
    port = emulator.url(car)
    code, _out, err = run(capsys, "--db", str(tmp_path / "c.db"), "obd", "clear", "--port", port, "--protocol", "6")
    assert code == 2 and "--yes" in err
    assert not car.counters.get("cmd_dtc_cleared")
    code, result, _err = run(
        capsys,
        "--db",
        str(tmp_path / "c.db"),
        "obd",
        "clear",
        "--port",
        port,
        "--protocol",
        "6",
        "--yes",
        "--json",
    )
    assert code == 0 and result["cleared"] is True and result["ecus"] == ["7E8"]
    assert car.counters.get("cmd_dtc_cleared")


def test_missing_adapter_is_a_german_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _out, err = run(capsys, "--db", str(tmp_path / "c.db"), "obd", "scan", "--port", "/dev/ttyUSB-fehlt")
    assert code == 1
    assert "Adapter nicht gefunden (/dev/ttyUSB-fehlt)" in err
