"""Turning positive OBD messages into plain values: PIDs, batched replies, VIN, DTC bytes, readiness.

Mode 01/02 sensor values go through python-OBD's command table and decoders (scaling, pint units)
and leave this module as ``float`` + unit string. Three things are decoded here instead, because
python-OBD gets them wrong: the VIN (its decoder strips valid characters), the readiness monitors
(its STATUS decoder drops the A/C monitor) and DTC bytes (its text table is not ours; ``app.dtc``
supplies the German texts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import obd
from obd.protocols.protocol import Message

from app.formatting import number as format_number
from app.i18n import N_, _
from drivers.obd.replies import ReplyState, state_text

MODE01 = obd.commands[1]
MAX_BATCH = 6  # SAE J1979: at most six PIDs in one Mode 01 request

# pint unit names → what a German workshop screen shows.
UNIT_TEXTS = {
    "revolutions_per_minute": "1/min",
    "kilometer_per_hour": "km/h",
    "degree_Celsius": "°C",
    "percent": "%",
    "kilopascal": "kPa",
    "pascal": "Pa",
    "volt": "V",
    "milliampere": "mA",
    "gps": "g/s",
    "lph": "l/h",
    "second": "s",
    "minute": "min",
    "kilometer": "km",
    "degree": "°",
    "ratio": "",
    "count": "",
}

# German names of the common Mode 01 PIDs; the rest falls back to python-OBD's English description.
PID_LABELS = {
    "ENGINE_LOAD": N_("Motorlast"),
    "COOLANT_TEMP": N_("Kühlmitteltemperatur"),
    "SHORT_FUEL_TRIM_1": N_("Kurzzeit-Gemischkorrektur Bank 1"),
    "LONG_FUEL_TRIM_1": N_("Langzeit-Gemischkorrektur Bank 1"),
    "SHORT_FUEL_TRIM_2": N_("Kurzzeit-Gemischkorrektur Bank 2"),
    "LONG_FUEL_TRIM_2": N_("Langzeit-Gemischkorrektur Bank 2"),
    "FUEL_PRESSURE": N_("Kraftstoffdruck"),
    "INTAKE_PRESSURE": N_("Saugrohrdruck"),
    "RPM": N_("Drehzahl"),
    "SPEED": N_("Geschwindigkeit"),
    "TIMING_ADVANCE": N_("Zündzeitpunkt"),
    "INTAKE_TEMP": N_("Ansauglufttemperatur"),
    "MAF": N_("Luftmasse"),
    "THROTTLE_POS": N_("Drosselklappenstellung"),
    "RUN_TIME": N_("Laufzeit seit Motorstart"),
    "FUEL_LEVEL": N_("Tankfüllstand"),
    "BAROMETRIC_PRESSURE": N_("Luftdruck"),
    "CONTROL_MODULE_VOLTAGE": N_("Steuergerätespannung"),
    "AMBIANT_AIR_TEMP": N_("Außentemperatur"),
    "OIL_TEMP": N_("Öltemperatur"),
    "FUEL_RATE": N_("Kraftstoffverbrauch"),
    "DISTANCE_W_MIL": N_("Strecke mit MIL an"),
    "DISTANCE_SINCE_DTC_CLEAR": N_("Strecke seit Fehlerlöschen"),
    "O2_B1S1": N_("Lambdasonde Bank 1 Sonde 1"),
    "O2_B1S2": N_("Lambdasonde Bank 1 Sonde 2"),
}

_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


@dataclass(frozen=True)
class PidValue:
    """One decoded value: ``value``/``unit`` when numeric, ``text`` always (value or state text)."""

    name: str
    pid: int
    state: ReplyState
    value: float | None = None
    unit: str = ""
    text: str = ""
    ecu: str = ""

    @property
    def ok(self) -> bool:
        """True when the value was decoded."""
        return self.state is ReplyState.OK

    @property
    def label(self) -> str:
        """German display name of the PID."""
        return pid_label(self.name)


def pid_label(name: str) -> str:
    """German display name of a python-OBD command name (English description as a fallback)."""
    if name in PID_LABELS:
        return _(PID_LABELS[name])
    return str(obd.commands[name].desc) if obd.commands.has_name(name) else name


def mode01_command(name: str) -> Any:
    """python-OBD's Mode 01 command for a live value ``name`` (e.g. ``RPM``), or None.

    Support bitmaps (``PIDS_A`` …), STATUS and FREEZE_DTC are no live values: the reader has its own
    calls for them (``supported_pids``, ``read_status``, ``freeze_frame``).
    """
    if not obd.commands.has_name(name) or name in ("STATUS", "FREEZE_DTC"):
        return None
    command = obd.commands[name]
    if command.mode != 1 or command.pid is None or command.pid % 0x20 == 0:
        return None
    return command


def unit_text(units: Any) -> str:
    """Short unit string for a pint unit."""
    name = str(units)
    if name in UNIT_TEXTS:
        return UNIT_TEXTS[name]
    return f"{units:~}"


def not_ok(name: str, pid: int, state: ReplyState, nrc: int | None = None) -> PidValue:
    """A value slot that carries only a state (NO DATA, refused, unsupported …)."""
    return PidValue(name, pid, state, text=state_text(state, nrc))


def decode_pid(command: Any, payload: bytes, *, ecu_flags: int, ecu: str = "", mode: int = 1) -> PidValue:
    """Decode the data bytes of one PID with python-OBD's decoder (pint → float + unit)."""
    message = Message([])
    message.data = bytearray([0x40 + mode, command.pid]) + bytearray(payload)
    message.ecu = ecu_flags
    try:
        value = command([message]).value
    except (ValueError, IndexError, TypeError, ZeroDivisionError):  # malformed bytes from a clone
        return not_ok(command.name, command.pid, ReplyState.GARBAGE)
    if value is None:
        return not_ok(command.name, command.pid, ReplyState.NO_DATA)
    if isinstance(value, obd.Unit.Quantity):
        number = float(value.magnitude)
        unit = unit_text(value.units)
        text = f"{format_number(number, 2)} {unit}".strip()
        return PidValue(command.name, command.pid, ReplyState.OK, number, unit, text, ecu)
    if isinstance(value, bool):
        return PidValue(
            command.name, command.pid, ReplyState.OK, float(value), "", _("ja") if value else _("nein"), ecu
        )
    return PidValue(command.name, command.pid, ReplyState.OK, None, "", _format_other(value), ecu)


def _format_other(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value if v not in ("", None, ()))
    return str(value)


def split_batched(data: bytes, wanted: Iterable[int] | None = None) -> dict[int, bytes] | None:
    """Split a batched Mode 01 reply ``41 p1 d… p2 d…`` by each PID's byte length; None if malformed.

    The ECU may answer in any order and leaves out PIDs it does not support, so the reply is walked
    PID by PID using python-OBD's table of lengths. A PID that was not asked for (``wanted``) means
    the walk has gone off the rails: the whole reply is rejected rather than partly misread.
    """
    asked = None if wanted is None else set(wanted)
    if not data or data[0] != 0x41:
        return None
    values: dict[int, bytes] = {}
    index = 1
    while index < len(data):
        if not any(data[index:]):  # padding at the end of the last frame
            break
        pid = data[index]
        command = MODE01[pid] if pid < len(MODE01) else None
        if command is None or command.bytes <= 2 or (asked is not None and pid not in asked):
            return None
        length = command.bytes - 2
        if index + 1 + length > len(data):
            return None
        values[pid] = bytes(data[index + 1 : index + 1 + length])
        index += 1 + length
    return values


def batchable(command: Any) -> bool:
    """Fixed-length Mode 01 PIDs can be batched; the support bitmaps (00, 20, 40 …) cannot."""
    return command is not None and command.bytes > 2 and command.pid % 0x20 != 0


def decode_vin(messages: Iterable[Any]) -> str | None:
    """The VIN from Mode 09 PID 02 messages, or None.

    CAN puts the number of data items (01) before the 17 characters; the legacy protocols pad the
    first frame with 00 bytes. Both are stripped from the front only — a VIN never contains bytes
    below 0x20, so nothing of the VIN itself is lost (python-OBD strips the characters 0, 1, 2 and x).
    """
    for message in messages:
        data = bytes(message.data)
        if data[:2] != b"\x49\x02":
            continue
        payload = data[2:]
        start = 0
        while start < len(payload) and payload[start] < 0x20:
            start += 1
        text = payload[start:].rstrip(b"\x00").decode("ascii", errors="replace")
        if text:
            return text
    return None


def vin_is_valid(vin: str) -> bool:
    """17 characters of the VIN alphabet (no I, O, Q); the check digit is not mandatory in Europe."""
    return bool(_VIN.match(vin))


def dtc_code(first: int, second: int) -> str | None:
    """The SAE J2012 code of two DTC bytes (``01 43`` → ``P0143``); None for the ``00 00`` filler."""
    if first == 0 and second == 0:
        return None
    letter = "PCBU"[first >> 6]
    return f"{letter}{(first >> 4) & 0x03}{first & 0x0F:X}{second:02X}"


def dtc_pairs(payload: bytes) -> list[str]:
    """Codes from a run of DTC byte pairs (fillers skipped, an odd last byte ignored)."""
    codes = []
    for index in range(0, len(payload) - 1, 2):
        code = dtc_code(payload[index], payload[index + 1])
        if code is not None:
            codes.append(code)
    return codes
