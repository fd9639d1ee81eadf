"""What we learned about an adapter and a car, kept between sessions (a small JSON file).

Connecting with the protocol known takes ~1 s instead of a 4–10 s search, and a clone that hangs on
batched requests should be asked only once. So we remember, per adapter port, the last protocol and
whether batching worked, and per vehicle (VIN) the protocol it talks. The file is per machine (the
CLI keeps it next to the database); with ``path=None`` nothing is written (tests, one-off use).
VINs are personal data, so only a hash of the VIN is stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkFacts:
    """Remembered facts for one connection attempt."""

    protocol: str | None = None
    batching: bool | None = None


def _vin_key(vin: str) -> str:
    return hashlib.sha256(vin.strip().upper().encode()).hexdigest()[:20]


class LinkMemory:
    """Remembered protocol per port and per VIN, and batching support per adapter."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._data: dict[str, dict[str, dict[str, Any]]] = {"ports": {}, "vehicles": {}}
        if path is not None and path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                for section in ("ports", "vehicles"):
                    if isinstance(loaded.get(section), dict):
                        self._data[section] = loaded[section]
            except (OSError, ValueError, AttributeError) as exc:  # a broken file only costs one slow connect
                log.warning("ignoring unreadable OBD memory %s: %s", path, exc)

    def facts(self, url: str, *, vin: str | None = None, adapter_id: str | None = None) -> LinkFacts:
        """The protocol to try first (vehicle before port) and the known batching support."""
        port = self._data["ports"].get(url, {})
        vehicle = self._data["vehicles"].get(_vin_key(vin), {}) if vin else {}
        protocol = vehicle.get("protocol") or port.get("protocol")
        batching = port.get("batching") if adapter_id is None or port.get("adapter") == adapter_id else None
        return LinkFacts(protocol, batching)

    def record(
        self,
        url: str,
        *,
        adapter_id: str | None = None,
        protocol: str | None = None,
        vin: str | None = None,
        batching: bool | None = None,
    ) -> None:
        """Remember what a session learned (unknown values leave the old ones alone) and save."""
        port = self._data["ports"].setdefault(url, {})
        if adapter_id is not None and port.get("adapter") not in (None, adapter_id):
            port.pop("batching", None)  # another adapter on this port: its batching result is not ours
        updates = {"adapter": adapter_id, "protocol": protocol, "batching": batching}
        port.update({key: value for key, value in updates.items() if value is not None})
        if vin and protocol:
            self._data["vehicles"].setdefault(_vin_key(vin), {})["protocol"] = protocol
        self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self._data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError as exc:  # read-only folder: diagnostics still work, only slower next time
            log.warning("cannot save OBD memory %s: %s", self.path, exc)
