"""``ObdReader``: one diagnostic session on one adapter — connect, VIN, readiness, codes, values.

One instance is owned by one thread (the Qt worker or the CLI): it refuses calls from any other
thread, because an ELM327 port has no locking and interleaved commands corrupt both replies. Every
call is bounded: ``deadline`` is the whole call's budget in seconds (default: ``command_timeout``
per adapter round trip), and no single round trip waits longer than ``command_timeout``. A silent or
vanished adapter raises ``LinkLost``/``AdapterTimeout`` and closes the session; vehicle-side trouble
(``NO DATA``, negative responses, garbage) comes back as a state on the result.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from types import TracebackType
from typing import Any

from obd.protocols import ECU
from obd.protocols.protocol import Frame

from app.dtc import describe
from app.errors import ValidationError
from app.i18n import _
from drivers.obd import decode
from drivers.obd.decode import PidValue, decode_pid, not_ok
from drivers.obd.elm import Deadline, ElmLink
from drivers.obd.errors import AdapterTimeout, LinkLost
from drivers.obd.handshake import PROTOCOL_CLASSES, init_adapter, select_protocol, supports_count_digit
from drivers.obd.memory import LinkMemory
from drivers.obd.replies import Reply, ReplyState, classify, is_hex_line, state_text
from drivers.obd.results import (
    CAN_PROTOCOLS,
    ClearResult,
    ConnectionInfo,
    Dtc,
    DtcGroup,
    DtcReport,
    FreezeFrame,
    VehicleStatus,
    VinResult,
    decode_status,
    ecu_label,
    ecu_name,
)

log = logging.getLogger(__name__)

# Mode 02 (frame 0): the values a mechanic checks first after the code that stored the frame.
FREEZE_PIDS = (
    "ENGINE_LOAD",
    "COOLANT_TEMP",
    "SHORT_FUEL_TRIM_1",
    "LONG_FUEL_TRIM_1",
    "INTAKE_PRESSURE",
    "RPM",
    "SPEED",
    "INTAKE_TEMP",
    "THROTTLE_POS",
)
DTC_MODES = (("stored", "03"), ("pending", "07"), ("permanent", "0A"))


class ObdReader:
    """A bounded, single-thread OBD-II session over an ELM327-compatible adapter."""

    def __init__(self, *, command_timeout: float = 2.5, memory: LinkMemory | None = None) -> None:
        self.command_timeout = command_timeout
        self.memory = memory
        self.info: ConnectionInfo | None = None
        self.batching: bool | None = None  # learned multi-PID support (LiveSampler), None = not tried
        self._link: ElmLink | None = None
        self._protocol: Any = None
        self._owner: int | None = None
        self._supported: frozenset[int] | None = None
        self._count_digit = False

    # -- session ---------------------------------------------------------------------------------

    def connect(
        self, url: str, *, protocol: str | None = None, baudrate: int | None = None, deadline: float = 15.0
    ) -> ConnectionInfo:
        """Open ``url`` and find the car: the given (or remembered) protocol first, else the adapter's search.

        ``protocol`` "1"–"9"/"A" forces a first try, "0" forces the search, None uses the memory.
        Raises AdapterNotFound, AdapterTimeout/LinkLost, ProtocolError, or NotConnected (car silent).
        """
        self.close()
        self.info = None
        self._owner = threading.get_ident()
        started = time.monotonic()
        limit = Deadline(deadline)
        wanted = (protocol if protocol is not None else self._remembered(url)) or None
        if wanted is not None and wanted.upper() != "0" and wanted.upper() not in PROTOCOL_CLASSES:
            raise ValidationError(
                "Unbekanntes Protokoll „{protocol}“ – erlaubt sind 0 (Suche), 1–9 und A.",
                field="protocol",
                protocol=wanted,
            )
        link = ElmLink.open(url, baudrate=baudrate, deadline=limit)
        try:
            adapter = init_adapter(link, limit)
            handshake = select_protocol(link, wanted.upper() if wanted else None, limit, adapter)
        except BaseException:
            link.close()
            raise
        info = handshake.info
        self.info = replace(info, seconds=round(time.monotonic() - started, 3))
        self._link, self._protocol = link, handshake.protocol
        self._supported = None
        self._count_digit = len(info.ecus) == 1 and supports_count_digit(info.elm_version)
        self.batching = self.memory.facts(url, adapter_id=info.adapter_id).batching if self.memory else None
        if self.memory is not None:
            self.memory.record(url, adapter_id=info.adapter_id, protocol=info.protocol)
        log.info("connected to %s: %s, %s in %.2f s", url, info.adapter_id, info.protocol_name, self.info.seconds)
        return self.info

    def _remembered(self, url: str) -> str | None:
        return self.memory.facts(url).protocol if self.memory is not None else None

    @property
    def connected(self) -> bool:
        """True while the adapter link is open."""
        return self._link is not None and self._link.is_open

    @property
    def protocol(self) -> Any:
        """python-OBD's protocol object of this car (frame parser + ECU map); for LiveSampler."""
        return self._protocol

    def close(self) -> None:
        """Close the adapter port (the adapter is left as it is; the next connect resets it)."""
        link, self._link = self._link, None
        if link is not None:
            link.close()

    def __enter__(self) -> ObdReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def remember(self, *, vin: str | None = None, batching: bool | None = None) -> None:
        """Store what this session learned (the car's VIN, batching support) in the memory."""
        if batching is not None:
            self.batching = batching
        if self.memory is not None and self.info is not None:
            self.memory.record(
                self.info.url,
                adapter_id=self.info.adapter_id,
                protocol=self.info.protocol,
                vin=vin,
                batching=batching,
            )

    # -- low level -------------------------------------------------------------------------------

    def request(self, command: str, *, expect: bytes, deadline: Deadline | None = None) -> Reply:
        """Send one OBD request (hex, e.g. ``010C``) and classify the reply; ``expect`` = positive prefix."""
        link = self._require()
        limit = deadline.within(self.command_timeout) if deadline else Deadline(self.command_timeout)
        if limit.expired:
            self.close()
            raise LinkLost("Zeitlimit abgelaufen – Adapter zu langsam, bitte neu verbinden.")
        try:
            lines = link.exchange(command, limit)
        except LinkLost:
            self.close()  # a silent adapter may be mid-reply: only a fresh connect is trustworthy
            raise
        return classify(lines, self._protocol, expect=expect)

    def probe(self, command: str, *, expect: bytes, seconds: float) -> Reply | None:
        """A request some adapters choke on (batched PIDs on clones): None when it hung.

        After a hang the adapter is waited out or interrupted (``resync``), so the session stays usable;
        only if it stays silent does this raise AdapterTimeout and close the session.
        """
        link = self._require()
        try:
            lines = link.exchange(command, Deadline(seconds))
        except AdapterTimeout:
            log.info("adapter hung on %s; resynchronising", command)
            self.resync(max(3.0, self.command_timeout))
            return None
        except LinkLost:
            self.close()
            raise
        return classify(lines, self._protocol, expect=expect)

    def raw(self, command: str, *, deadline: Deadline | None = None) -> list[str]:
        """Send any command (AT/ST/OBD) and return the raw reply lines (for a terminal view)."""
        link = self._require()
        limit = deadline.within(self.command_timeout) if deadline else Deadline(self.command_timeout)
        try:
            return link.exchange(command, limit)
        except LinkLost:
            self.close()
            raise

    def resync(self, deadline: float = 3.0) -> None:
        """Wait out or interrupt a reply still running (after a hang); raises AdapterTimeout if none comes."""
        link = self._require()
        try:
            link.resync(Deadline(deadline))
        except LinkLost:
            self.close()
            raise

    def _require(self) -> ElmLink:
        if self._owner is not None and threading.get_ident() != self._owner:
            raise RuntimeError("ObdReader is owned by another thread")
        if self._link is None or not self._link.is_open:
            raise LinkLost("Keine Verbindung zum Adapter – bitte zuerst verbinden.")
        return self._link

    def _budget(self, deadline: float | None, round_trips: int) -> Deadline:
        return Deadline(deadline if deadline is not None else self.command_timeout * round_trips)

    def ecu(self, message: Any) -> str:
        """Label of the ECU that sent a message (``7E8`` …)."""
        return ecu_label(self.info.protocol if self.info else "", message.tx_id)

    # -- vehicle information ---------------------------------------------------------------------

    def read_vin(self, *, deadline: float | None = None) -> VinResult:
        """Mode 09 PID 02, decoded by us (python-OBD's decoder corrupts VINs)."""
        reply = self.request("0902", expect=b"\x49\x02", deadline=self._budget(deadline, 1))
        if not reply.ok:
            return VinResult(reply.state, text=reply.text)
        vin = decode.decode_vin(reply.engine_first())
        if vin is None:
            return VinResult(ReplyState.GARBAGE, text=state_text(ReplyState.GARBAGE))
        return VinResult(ReplyState.OK, vin, decode.vin_is_valid(vin), vin)

    def read_status(self, *, deadline: float | None = None) -> VehicleStatus:
        """Mode 01 PID 01: MIL, number of stored codes and the readiness monitors."""
        reply = self.request("0101", expect=b"\x41\x01", deadline=self._budget(deadline, 1))
        if not reply.ok:
            return VehicleStatus(reply.state, text=reply.text)
        return decode_status(bytes(reply.engine_first()[0].data))

    def supported_pids(self, *, deadline: float | None = None) -> frozenset[int]:
        """Mode 01 PIDs the car supports (bitmaps 0100, 0120 … over all ECUs); cached per session."""
        if self._supported is not None:
            return self._supported
        limit = self._budget(deadline, 8)
        pids: set[int] = set()
        base = 0
        while base <= 0xE0:
            reply = self.request(f"01{base:02X}", expect=bytes([0x41, base]), deadline=limit)
            if not reply.ok:
                break
            bits = 0
            for message in reply.messages:
                bits |= int.from_bytes(bytes(message.data[2:6]).ljust(4, b"\0"), "big")
            pids.update(base + i + 1 for i in range(32) if bits >> (31 - i) & 1)
            if base + 0x20 not in pids:
                break
            base += 0x20
        self._supported = frozenset(pids)
        return self._supported

    # -- values ----------------------------------------------------------------------------------

    def read_pids(self, names: Iterable[str], *, deadline: float | None = None) -> dict[str, PidValue]:
        """Mode 01 values by python-OBD name (``RPM``, ``SPEED`` …); PIDs the car lacks are not asked."""
        commands = mode01_commands(names)
        limit = self._budget(deadline, len(commands) + 2)
        supported = self.supported_pids(deadline=limit.remaining())
        values = {}
        for command in commands:
            if command.pid not in supported:
                values[command.name] = not_ok(command.name, command.pid, ReplyState.UNSUPPORTED)
                continue
            values[command.name] = self.value_from(self.pid_request(command.pid, limit), command)
        return values

    def pid_request(self, pid: int, limit: Deadline) -> Reply:
        """One Mode 01 PID; with the response-count digit when one ECU answers (no ATST wait)."""
        command, expect = f"01{pid:02X}", bytes([0x41, pid])
        if self._count_digit:
            reply = self.request(command + "1", expect=expect, deadline=limit)
            if reply.state is not ReplyState.UNKNOWN_COMMAND:
                return reply
            self._count_digit = False  # a clone that claims v1.5 but lacks the digit
        return self.request(command, expect=expect, deadline=limit)

    def value_from(self, reply: Reply, command: Any, *, mode: int = 1) -> PidValue:
        """Decode the first (engine) answer of a PID reply; Mode 02 answers carry a frame number byte."""
        if not reply.ok:
            return not_ok(command.name, command.pid, reply.state, reply.nrc)
        message = reply.engine_first()[0]
        payload = bytes(message.data[2:] if mode == 1 else message.data[3:])
        return decode_pid(command, payload, ecu_flags=message.ecu, ecu=self.ecu(message), mode=mode)

    # -- trouble codes ---------------------------------------------------------------------------

    def read_dtcs(self, *, deadline: float | None = None) -> DtcReport:
        """Stored (03), pending (07) and permanent (0A) codes per ECU, with German and English texts."""
        limit = self._budget(deadline, 3)
        stored, pending, permanent = (self._dtc_group(kind, mode, limit) for kind, mode in DTC_MODES)
        return DtcReport(stored, pending, permanent)

    def _dtc_group(self, kind: str, mode: str, limit: Deadline) -> DtcGroup:
        sid = int(mode, 16) + 0x40
        reply = self.request(mode, expect=bytes([sid]), deadline=limit)
        if not reply.ok:
            return DtcGroup(kind, reply.state, text=reply.text)
        codes: list[Dtc] = []
        if self.info is not None and self.info.protocol in CAN_PROTOCOLS:
            for message in reply.engine_first():
                data = bytes(message.data)
                count = data[1] if len(data) > 1 else 0  # CAN: <sid> <count> then two bytes per code
                codes += self._dtcs(decode.dtc_pairs(data[2 : 2 + 2 * count]), message.tx_id, message.ecu)
        else:
            codes = self._legacy_dtcs(reply, sid)
        return DtcGroup(kind, ReplyState.OK, tuple(codes), state_text(ReplyState.OK))

    def _legacy_dtcs(self, reply: Reply, sid: int) -> list[Dtc]:
        """K-line/J1850: three codes per frame, no count byte; frames are re-parsed one by one."""
        codes: list[Dtc] = []
        for line in reply.lines:
            frame = Frame(line.replace(" ", ""))
            if is_hex_line(line) and self._protocol.parse_frame(frame) and frame.data[:1] == bytes([sid]):
                flags = self._protocol.ecu_map.get(frame.tx_id, ECU.UNKNOWN)
                codes += self._dtcs(decode.dtc_pairs(bytes(frame.data[1:])), frame.tx_id, flags)
        return codes

    def _dtcs(self, codes: list[str], tx_id: int | None, flags: int) -> list[Dtc]:
        label = ecu_label(self.info.protocol if self.info else "", tx_id)
        name = ecu_name(flags, label)
        dtcs = []
        for code in codes:
            german, english = describe(code, "de"), describe(code, "en")
            dtcs.append(Dtc(code, label, name, german.text, english.text, german.severity))
        return dtcs

    def freeze_frame(self, *, deadline: float | None = None) -> FreezeFrame:
        """Mode 02 frame 0: the code that stored it (PID 02) and the common PIDs; 7F → "nicht unterstützt"."""
        limit = self._budget(deadline, len(FREEZE_PIDS) + 1)
        reply = self.request("020200", expect=b"\x42\x02", deadline=limit)
        dtc = None
        if reply.ok:
            message = reply.engine_first()[0]
            data = bytes(message.data)
            code = decode.dtc_code(data[3], data[4]) if len(data) >= 5 else None
            if code is None:
                return FreezeFrame(ReplyState.OK, text=_("Kein Freeze-Frame gespeichert."))
            dtc = self._dtcs([code], message.tx_id, message.ecu)[0]
        values = []
        for name in FREEZE_PIDS:
            command = decode.mode01_command(name)
            answer = self.request(f"02{command.pid:02X}00", expect=bytes([0x42, command.pid]), deadline=limit)
            values.append(self.value_from(answer, command, mode=2))
        if dtc is not None or any(v.ok for v in values):
            return FreezeFrame(ReplyState.OK, dtc, tuple(values), state_text(ReplyState.OK))
        return FreezeFrame(values[0].state, None, tuple(values), values[0].text)

    def clear_dtcs(self, *, deadline: float | None = None) -> ClearResult:
        """Mode 04: clears codes, freeze frame, Mode 06 results and readiness — ask the user first."""
        reply = self.request("04", expect=b"\x44", deadline=self._budget(deadline, 2).within(10.0))
        if not reply.ok:
            return ClearResult(reply.state, text=reply.text)
        ecus = tuple(dict.fromkeys(self.ecu(m) for m in reply.engine_first()))
        return ClearResult(ReplyState.OK, ecus, _("Fehlerspeicher gelöscht."))


def mode01_commands(names: Iterable[str]) -> list[Any]:
    """python-OBD Mode 01 commands for names like ``RPM``; ValidationError names the unknown ones."""
    commands, unknown = [], []
    for raw_name in names:
        name = raw_name.strip().upper()
        command = decode.mode01_command(name)
        if command is None:
            unknown.append(raw_name)
        elif command not in commands:
            commands.append(command)
    if unknown:
        raise ValidationError("Unbekannter Messwert: {names}", field="pids", names=", ".join(unknown))
    return commands
