"""The connect sequence: adapter set-up, then the bus protocol (remembered one first, else search).

No fixed sleeps: every step waits only for the adapter's prompt, bounded by the connect deadline.
With the protocol known this is ~10 short round trips plus the adapter's reset (``ATZ``, 0.5–1 s),
against ≥ 3 s of sleeps in python-OBD. ``ATTP n`` is used for a known protocol (like ``ATSP n`` but
not written to the adapter's EEPROM); when its ``0100`` fails, ``ATSP0`` lets the adapter search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from obd.elm327 import ELM327

from app.i18n import _
from drivers.obd.elm import Deadline, ElmLink
from drivers.obd.errors import AdapterTimeout, NotConnected, ProtocolError
from drivers.obd.replies import Reply, classify, elm_state, is_hex_line
from drivers.obd.results import PROTOCOL_NAMES, ConnectionInfo, ecu_label

# python-OBD's frame parsers per ELM protocol number ("6" → ISO_15765_4_11bit_500k …).
PROTOCOL_CLASSES: dict[str, Any] = dict(ELM327._SUPPORTED_PROTOCOLS)
AT_BUDGET = 1.0  # an AT command is answered at once; 1 s covers slow Bluetooth links
RESET_BUDGET = 3.0  # ATZ: 0.5–1 s on real adapters
KNOWN_PROTOCOL_BUDGET = 5.0  # 0100 on a fixed protocol: the ELM gives up well before
_VOLTAGE = re.compile(r"(\d+(?:[.,]\d+)?)\s*V", re.IGNORECASE)
_VERSION = re.compile(r"v(\d+)\.(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Handshake:
    """The outcome of a successful connect sequence."""

    info: ConnectionInfo
    protocol: Any  # python-OBD protocol object with the ECU map of this car
    reply_0100: Reply


def at(link: ElmLink, command: str, limit: Deadline, budget: float = AT_BUDGET) -> list[str]:
    """One AT/ST command; its reply lines."""
    return link.exchange(command, limit.within(budget))


def expect_ok(link: ElmLink, command: str, limit: Deadline) -> None:
    """An AT command that must be confirmed with OK, else the device is no usable ELM327."""
    lines = at(link, command, limit)
    if not any(line.upper().endswith("OK") for line in lines):
        raise ProtocolError(f"{command} → {' / '.join(lines) or '—'}")


def set_protocol(link: ElmLink, number: str, limit: Deadline) -> None:
    """``ATTP n`` (not stored in the adapter); clones without ATTP get ``ATSP n``."""
    if any(line.upper().endswith("OK") for line in at(link, f"ATTP{number}", limit)):
        return
    expect_ok(link, f"ATSP{number}", limit)


def supports_count_digit(version: str) -> bool:
    """ELM327 ≥ 1.3 (and STN chips) accept the response-count digit (``010C1``)."""
    match = _VERSION.search(version)
    return match is None or (int(match.group(1)), int(match.group(2))) >= (1, 3)


def init_adapter(link: ElmLink, limit: Deadline) -> ConnectionInfo:
    """Reset and configure the adapter; returns what is known before the car is asked."""
    reset = at(link, "ATZ", limit, RESET_BUDGET)
    if not any(_VERSION.search(line) for line in reset):
        # A late reply of an earlier (timed-out) command came first: wait for the reset banner itself.
        link.drain(limit.within(1.5))
    expect_ok(link, "ATE0", limit)  # no echo
    at(link, "ATL0", limit)  # no line feeds
    at(link, "ATS0", limit)  # no spaces: ~30 % fewer bytes per reply; a clone without it keeps them
    expect_ok(link, "ATH1", limit)  # headers: needed to tell ECUs apart and to reassemble frames
    version = _first_text(at(link, "ATI", limit)) or _first_text(reset) or "ELM327"
    stn = _first_text(at(link, "STI", limit))  # OBDLink/STN chips; a plain ELM327 answers "?"
    voltage_lines = at(link, "ATRV", limit)
    match = _VOLTAGE.search(" ".join(voltage_lines))
    voltage = float(match.group(1).replace(",", ".")) if match else None
    return ConnectionInfo(
        url=link.url,
        adapter_id=stn or version,
        elm_version=version,
        protocol="",
        protocol_name="",
        voltage=voltage,
    )


def _first_text(lines: list[str]) -> str:
    for line in lines:
        if elm_state(line) is None and line.upper() != "OK":
            return line
    return ""


def select_protocol(link: ElmLink, wanted: str | None, limit: Deadline, adapter: ConnectionInfo) -> Handshake:
    """Ask ``0100`` on the wanted protocol, then let the adapter search; NotConnected if none answers."""
    attempts: list[str | None] = [wanted] if wanted and wanted != "0" else []
    attempts.append(None)  # automatic search
    detail = ""
    for number in attempts:
        if number:
            set_protocol(link, number, limit)
        else:
            expect_ok(link, "ATSP0", limit)
        budget = KNOWN_PROTOCOL_BUDGET if number else limit.remaining()  # a search may take 10 s
        try:
            lines = link.exchange("0100", limit.within(budget))
        except AdapterTimeout as exc:  # the adapter answered AT commands: the car is what is silent
            raise NotConnected(_("Zeitüberschreitung"), adapter=adapter) from exc
        found = number or _searched_protocol(link, lines, limit)
        if found is None:
            detail = _detail(lines)
            continue
        protocol = PROTOCOL_CLASSES[found](lines)  # builds the ECU map from the 0100 answers
        reply = classify(lines, protocol, expect=b"\x41\x00")
        if reply.ok:
            info = _connected(adapter, found, protocol, reply, searched=number is None)
            return Handshake(info, protocol, reply)
        detail = _detail(lines)
    raise NotConnected(detail or _("keine Antwort"), adapter=adapter)


def _searched_protocol(link: ElmLink, lines: list[str], limit: Deadline) -> str | None:
    if not any(is_hex_line(line) for line in lines):
        return None
    answer = _first_text(at(link, "ATDPN", limit, 2.0)).upper()
    number = answer[1:] if answer.startswith("A") and len(answer) == 2 else answer
    return number if number in PROTOCOL_CLASSES else None


def _detail(lines: list[str]) -> str:
    texts = [line for line in lines if not is_hex_line(line)]
    return texts[-1] if texts else (_("unverständliche Antwort") if lines else _("keine Antwort"))


def _connected(adapter: ConnectionInfo, number: str, protocol: Any, reply: Reply, *, searched: bool) -> ConnectionInfo:
    ecus = tuple(dict.fromkeys(ecu_label(number, m.tx_id) for m in reply.engine_first()))
    return ConnectionInfo(
        url=adapter.url,
        adapter_id=adapter.adapter_id,
        elm_version=adapter.elm_version,
        protocol=number,
        protocol_name=PROTOCOL_NAMES.get(number, protocol.ELM_NAME),
        voltage=adapter.voltage,
        ecus=ecus,
        auto_detected=searched,
    )
