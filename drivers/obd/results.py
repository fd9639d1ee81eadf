"""Plain result objects of a diagnostic session (frozen dataclasses, no python-OBD types inside).

These are what the Qt worker hands to the window and what the CLI prints: connection facts, VIN,
readiness (Mode 01 PID 01), trouble codes per ECU (Modes 03/07/0A), freeze frame (Mode 02) and the
outcome of clearing (Mode 04). The readiness monitors are decoded here from the four status bytes
(SAE J1979 PID 01) with German names, spark vs compression ignition.
"""

from __future__ import annotations

from dataclasses import dataclass

from obd.protocols import ECU

from app.i18n import N_, _
from drivers.obd.decode import PidValue
from drivers.obd.replies import ReplyState, state_text

CAN_PROTOCOLS = frozenset("6789A")
PROTOCOL_NAMES = {
    "1": "SAE J1850 PWM",
    "2": "SAE J1850 VPW",
    "3": "ISO 9141-2",
    "4": "ISO 14230-4 (KWP 5BAUD)",
    "5": "ISO 14230-4 (KWP FAST)",
    "6": "ISO 15765-4 (CAN 11/500)",
    "7": "ISO 15765-4 (CAN 29/500)",
    "8": "ISO 15765-4 (CAN 11/250)",
    "9": "ISO 15765-4 (CAN 29/250)",
    "A": "SAE J1939 (CAN 29/250)",
}

# Byte B bits 0–2 / 4–6 (always present), then byte C/D bits 0–7 by ignition type; None = reserved.
BASE_MONITORS = (
    ("misfire", N_("Zündaussetzer")),
    ("fuel", N_("Kraftstoffsystem")),
    ("components", N_("Bauteile")),
)
SPARK_MONITORS = (
    ("catalyst", N_("Katalysator")),
    ("heated_catalyst", N_("Katalysatorheizung")),
    ("evap", N_("Tankentlüftung")),
    ("secondary_air", N_("Sekundärluft")),
    ("ac_refrigerant", N_("Klimaanlage (veraltet)")),
    ("o2_sensor", N_("Lambdasonde")),
    ("o2_heater", N_("Lambdasondenheizung")),
    ("egr_vvt", N_("AGR/VVT")),
)
COMPRESSION_MONITORS = (
    ("nmhc_catalyst", N_("NMHC-Kat")),
    ("nox_scr", N_("NOx/SCR")),
    None,
    ("boost_pressure", N_("Ladedruck")),
    None,
    ("exhaust_sensor", N_("Abgassensor")),
    ("pm_filter", N_("Partikelfilter")),
    ("egr_vvt", N_("AGR/VVT")),
)


def ecu_label(protocol: str, tx_id: int | None) -> str:
    """The responding ECU as a mechanic reads it in a trace: ``7E8``, ``18DAF110`` or ``10``."""
    if tx_id is None:
        return "?"
    if protocol in ("6", "8"):
        return f"{0x7E8 + tx_id:03X}"
    if protocol in ("7", "9", "A"):
        return f"18DAF1{tx_id:02X}"
    return f"{tx_id:02X}"


def ecu_name(flags: int, label: str) -> str:
    """German name of an ECU from python-OBD's ECU map."""
    if flags & ECU.ENGINE:
        return _("Motor")
    if flags & ECU.TRANSMISSION:
        return _("Getriebe")
    return _("Steuergerät {label}").format(label=label)


@dataclass(frozen=True)
class ConnectionInfo:
    """What connect() learned about the adapter and the vehicle bus."""

    url: str
    adapter_id: str  # STI (OBDLink/STN) or ATI text
    elm_version: str  # ATI text, e.g. "ELM327 v1.5"
    protocol: str  # ELM protocol number "1"…"A"
    protocol_name: str
    voltage: float | None
    ecus: tuple[str, ...] = ()  # ECUs that answered 0100, e.g. ("7E8",)
    auto_detected: bool = False  # True when the protocol was searched (none known, or the known one failed)
    seconds: float = 0.0

    @property
    def is_can(self) -> bool:
        """CAN protocols allow batched (multi-PID) requests."""
        return self.protocol in CAN_PROTOCOLS


@dataclass(frozen=True)
class VinResult:
    """Mode 09 PID 02."""

    state: ReplyState
    vin: str | None = None
    valid: bool = False
    text: str = ""


@dataclass(frozen=True)
class Monitor:
    """One readiness monitor: supported by this car, and complete since the codes were cleared."""

    key: str
    name: str
    supported: bool
    complete: bool


@dataclass(frozen=True)
class VehicleStatus:
    """Mode 01 PID 01: MIL, number of stored codes, readiness monitors."""

    state: ReplyState
    mil: bool = False
    dtc_count: int = 0
    ignition: str = ""  # "spark" | "compression"
    monitors: tuple[Monitor, ...] = ()
    text: str = ""

    @property
    def ready(self) -> bool:
        """True when every supported monitor is complete (what the AU/HU readiness check needs)."""
        return self.state is ReplyState.OK and all(m.complete for m in self.monitors if m.supported)


def decode_status(data: bytes) -> VehicleStatus:
    """Decode ``41 01 A B C D``."""
    a, b, c, d = (data[2:6] + bytes(4))[:4]
    compression = bool(b & 0x08)
    monitors = [
        Monitor(key, _(name), bool(b >> bit & 1), not b >> (bit + 4) & 1)
        for bit, (key, name) in enumerate(BASE_MONITORS)
    ]
    table = COMPRESSION_MONITORS if compression else SPARK_MONITORS
    for bit, entry in enumerate(table):
        if entry is not None:
            monitors.append(Monitor(entry[0], _(entry[1]), bool(c >> bit & 1), not d >> bit & 1))
    return VehicleStatus(
        ReplyState.OK,
        mil=bool(a & 0x80),
        dtc_count=a & 0x7F,
        ignition="compression" if compression else "spark",
        monitors=tuple(monitors),
        text=state_text(ReplyState.OK),
    )


@dataclass(frozen=True)
class Dtc:
    """One trouble code from one ECU, with the workshop's texts (app.dtc)."""

    code: str
    ecu: str
    ecu_name: str
    text_de: str
    text_en: str
    severity: str = ""  # app.dtc: "info" | "warnung" | "kritisch"


@dataclass(frozen=True)
class DtcGroup:
    """The codes of one kind (stored 03, pending 07, permanent 0A) over all ECUs."""

    kind: str  # "stored" | "pending" | "permanent"
    state: ReplyState
    codes: tuple[Dtc, ...] = ()
    text: str = ""

    def by_ecu(self) -> dict[str, list[Dtc]]:
        """Codes grouped by the answering ECU (label → codes)."""
        grouped: dict[str, list[Dtc]] = {}
        for dtc in self.codes:
            grouped.setdefault(dtc.ecu, []).append(dtc)
        return grouped


@dataclass(frozen=True)
class DtcReport:
    """All three code lists."""

    stored: DtcGroup
    pending: DtcGroup
    permanent: DtcGroup

    @property
    def groups(self) -> tuple[DtcGroup, DtcGroup, DtcGroup]:
        """The three lists in display order."""
        return (self.stored, self.pending, self.permanent)


@dataclass(frozen=True)
class FreezeFrame:
    """Mode 02 frame 0: the code that stored it and the common PIDs at that moment."""

    state: ReplyState
    dtc: Dtc | None = None
    values: tuple[PidValue, ...] = ()
    text: str = ""


@dataclass(frozen=True)
class ClearResult:
    """Mode 04: which ECUs confirmed the clearing."""

    state: ReplyState
    ecus: tuple[str, ...] = ()
    text: str = ""

    @property
    def ok(self) -> bool:
        """True when at least one ECU confirmed."""
        return self.state is ReplyState.OK
