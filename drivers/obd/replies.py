"""Reply states: what an adapter line list means, before any value is decoded.

The ELM327 answers every request with either hex frames or one of its text messages (``NO DATA``,
``CAN ERROR``, ``?`` …); an ECU may answer with a negative response ``7F <mode> <code>``. All of these
become a ``ReplyState`` on a ``Reply``: never an exception and never a value. Only a reply whose first
bytes match the request (mode + 0x40, and the PID) is ``OK`` — so a late answer to an earlier
request, clone junk or a negative response can never be decoded as data (python-OBD decoded
``7F 02 12`` as 1152 rpm). Frames are parsed by python-OBD's protocol classes (ISO-TP reassembly,
ECU mapping).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from obd.protocols import ECU

from app.i18n import N_, _


class ReplyState(StrEnum):
    """What came back for one request."""

    OK = "ok"
    NO_DATA = "no_data"
    NEGATIVE = "negative"  # 7F <mode> <code>: the ECU refused
    UNSUPPORTED = "unsupported"  # not in the vehicle's support bitmap, so not asked
    CAN_ERROR = "can_error"
    BUS_ERROR = "bus_error"
    BUS_INIT_ERROR = "bus_init_error"
    UNABLE_TO_CONNECT = "unable_to_connect"
    STOPPED = "stopped"
    UNKNOWN_COMMAND = "unknown_command"  # "?"
    BUFFER_FULL = "buffer_full"
    GARBAGE = "garbage"


STATE_TEXTS = {
    ReplyState.OK: N_("OK"),
    ReplyState.NO_DATA: N_("Keine Daten"),
    ReplyState.NEGATIVE: N_("Vom Steuergerät abgelehnt"),
    ReplyState.UNSUPPORTED: N_("Vom Fahrzeug nicht unterstützt"),
    ReplyState.CAN_ERROR: N_("CAN-Fehler – Fahrzeug antwortet nicht (Zündung aus?)"),
    ReplyState.BUS_ERROR: N_("Busfehler – Verbindung zum Fahrzeug gestört"),
    ReplyState.BUS_INIT_ERROR: N_("Businitialisierung fehlgeschlagen – Zündung einschalten"),
    ReplyState.UNABLE_TO_CONNECT: N_("Keine Verbindung zum Fahrzeug – Zündung einschalten"),
    ReplyState.STOPPED: N_("Abgebrochen"),
    ReplyState.UNKNOWN_COMMAND: N_("Befehl vom Adapter nicht verstanden"),
    ReplyState.BUFFER_FULL: N_("Adapterpuffer voll"),
    ReplyState.GARBAGE: N_("Unverständliche Antwort"),
}

# Negative response codes (ISO 14229 / SAE J1979) a mechanic may meet on generic OBD.
NRC_TEXTS = {
    0x10: N_("allgemein abgelehnt"),
    0x11: N_("nicht unterstützt"),
    0x12: N_("nicht unterstützt"),
    0x13: N_("falsche Nachrichtenlänge"),
    0x21: N_("Steuergerät beschäftigt – später wiederholen"),
    0x22: N_("Bedingungen nicht erfüllt (Motor aus, Zündung an?)"),
    0x31: N_("nicht unterstützt"),
    0x78: N_("Antwort verzögert"),
}

# ELM327 text messages (datasheet "Messages and their meaning") → state.
_ELM_MESSAGES = (
    ("NO DATA", ReplyState.NO_DATA),
    ("CAN ERROR", ReplyState.CAN_ERROR),
    ("UNABLE TO CONNECT", ReplyState.UNABLE_TO_CONNECT),
    ("BUS INIT", ReplyState.BUS_INIT_ERROR),  # "BUS INIT: ...ERROR" (progress lines are dropped earlier)
    ("STOPPED", ReplyState.STOPPED),
    ("BUFFER FULL", ReplyState.BUFFER_FULL),
    ("BUS BUSY", ReplyState.BUS_ERROR),
    ("BUS ERROR", ReplyState.BUS_ERROR),
    ("FB ERROR", ReplyState.BUS_ERROR),
    ("DATA ERROR", ReplyState.BUS_ERROR),  # also "<DATA ERROR" appended to a frame
    ("RX ERROR", ReplyState.BUS_ERROR),
    ("LV RESET", ReplyState.BUS_ERROR),
    ("ACT ALERT", ReplyState.BUS_ERROR),
)
_ERR_CODE = re.compile(r"^ERR\d+")  # ERR94 (CAN bus error recovery) and friends
_HEX = frozenset("0123456789ABCDEFabcdef")


def state_text(state: ReplyState, nrc: int | None = None) -> str:
    """German (translated) text for a state; a negative response names its code."""
    if state is ReplyState.NEGATIVE and nrc is not None:
        reason = NRC_TEXTS.get(nrc)
        return _(reason) if reason else _("abgelehnt (Code {code})").format(code=f"{nrc:02X}")
    return _(STATE_TEXTS[state])


@dataclass(frozen=True)
class Reply:
    """One request's outcome: a state, the matching python-OBD messages and the raw lines."""

    state: ReplyState
    messages: tuple[Any, ...] = ()  # obd.protocols.protocol.Message, positive answers only
    lines: tuple[str, ...] = ()
    nrc: int | None = None
    refused: tuple[Any, ...] = field(default=(), repr=False)  # messages carrying 7F

    @property
    def ok(self) -> bool:
        """True when at least one ECU answered positively."""
        return self.state is ReplyState.OK

    @property
    def text(self) -> str:
        """German description of the state."""
        return state_text(self.state, self.nrc)

    def engine_first(self) -> list[Any]:
        """Positive messages with the engine ECU first (the usual source of Mode 01 values)."""
        return sorted(self.messages, key=lambda m: 0 if m.ecu & ECU.ENGINE else 1)


def is_hex_line(line: str) -> bool:
    """True for a frame line (hex digits, spaces allowed)."""
    compact = line.replace(" ", "")
    return bool(compact) and all(ch in _HEX for ch in compact)


def elm_state(line: str) -> ReplyState | None:
    """The state an ELM327 text line stands for, or None for unknown text."""
    upper = line.strip().upper()
    if upper == "?":
        return ReplyState.UNKNOWN_COMMAND
    for text, state in _ELM_MESSAGES:
        if text in upper:
            return state
    return ReplyState.BUS_ERROR if _ERR_CODE.match(upper) else None


def classify(lines: Sequence[str], protocol: Any, *, expect: bytes) -> Reply:
    """Turn an adapter's reply lines into a ``Reply``.

    ``expect`` is the start of a positive answer: ``b"\\x41\\x0c"`` for ``010C``, ``b"\\x41"`` for a
    batched Mode 01 request, ``b"\\x43"`` for Mode 03.
    """
    frames = [line for line in lines if is_hex_line(line)]
    texts = [line for line in lines if not is_hex_line(line)]
    parsed = [m for m in protocol(frames) if m.parsed()] if frames else []
    positive = tuple(m for m in parsed if bytes(m.data[: len(expect)]) == expect)
    mode = expect[0] - 0x40
    refused = tuple(m for m in parsed if len(m.data) >= 3 and m.data[0] == 0x7F and m.data[1] == mode)
    if positive:
        return Reply(ReplyState.OK, positive, tuple(lines), refused=refused)
    if refused:
        final = [m for m in refused if m.data[2] != 0x78] or list(refused)  # 78 = "wait, answer follows"
        return Reply(ReplyState.NEGATIVE, (), tuple(lines), nrc=final[0].data[2], refused=refused)
    for line in texts:
        state = elm_state(line)
        if state is not None:
            return Reply(state, (), tuple(lines))
    if not lines:
        return Reply(ReplyState.NO_DATA)
    return Reply(ReplyState.GARBAGE, (), tuple(lines))
