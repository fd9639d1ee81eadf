"""The DTC-count patch for ELM327-emulator 4.0.0 (obd.md §5.4/§6.3), applied in-process.

The emulator answers Modes 03/07/0A on CAN without the DTC-count byte (``43 01 43 03 00``); real CAN
ECUs send ``43 <count> <pairs>``. This replaces ``elm.obd_message.dtc_frames`` with a version that
sends the count (and no codes while ``counters['cmd_dtc_cleared']`` is set, i.e. after Mode 04).
"""

from __future__ import annotations

from typing import Any

import elm.obd_message as m


def dtc_frames(emulator: Any, dtc_list: list[str], sid: str, header: str = m.ECU_R_ADDR_E) -> str:
    """``<sid> <count> <code bytes…>`` as ISO-TP frames."""
    codes = [] if emulator.counters.get("cmd_dtc_cleared") else [(c or "").replace(" ", "").upper() for c in dtc_list]
    codes = [c for c in codes if len(c) == 4 and all(ch in "0123456789ABCDEF" for ch in c)]
    data = [sid, f"{len(codes):02X}"] + [part for code in codes for part in (code[:2], code[2:])]
    return str(m.iso_tp_frames(data, header))


def apply() -> None:
    """Install the patch (the scenario lambdas look ``dtc_frames`` up in the module at call time)."""
    m.dtc_frames = dtc_frames
