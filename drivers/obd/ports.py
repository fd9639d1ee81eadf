"""Where an adapter may be: serial/USB/Bluetooth ports of this machine plus the usual Wi-Fi address.

Nothing is opened or probed here (a probe would block on a Bluetooth port for seconds); the user
picks a port and ``ObdReader.connect`` finds out. Wi-Fi ELM327 clones almost all listen on
192.168.0.10:35000 once the PC joined their access point, so that URL is offered as a suggestion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from serial.tools import list_ports as serial_ports

from app.i18n import _

PortKind = Literal["usb", "bluetooth", "serial", "tcp"]
WIFI_DEFAULTS = ("socket://192.168.0.10:35000",)
_KIND_ORDER = {"usb": 0, "bluetooth": 1, "serial": 2, "tcp": 3}
_USB_DEVICE = re.compile(r"ttyUSB|ttyACM|usbserial|usbmodem|wchusbserial|SLAB_USB", re.IGNORECASE)


@dataclass(frozen=True)
class PortInfo:
    """One place to connect to: a pyserial URL, a text for the user and the kind of link."""

    url: str
    description: str
    kind: PortKind
    suggested: bool = False  # a default address, not found on this machine

    @property
    def kind_text(self) -> str:
        """German name of the kind."""
        return {
            "usb": _("USB"),
            "bluetooth": _("Bluetooth"),
            "serial": _("Seriell"),
            "tcp": _("WLAN"),
        }[self.kind]


def port_kind(device: str, description: str, hwid: str, has_usb_id: bool) -> PortKind:
    """Classify a serial port: Bluetooth SPP (rfcomm, "Bluetooth" in the names), USB, or plain serial."""
    text = f"{device} {description} {hwid}".lower()
    if "rfcomm" in text or "bluetooth" in text or "bthenum" in text:
        return "bluetooth"
    if has_usb_id or "usb" in hwid.lower() or _USB_DEVICE.search(device):
        return "usb"
    return "serial"


def list_ports() -> list[PortInfo]:
    """Serial ports of this machine (USB first, then Bluetooth, serial) and the Wi-Fi suggestion."""
    found = []
    for port in serial_ports.comports():
        description = port.description if port.description and port.description != "n/a" else port.device
        kind = port_kind(port.device, description, port.hwid or "", port.vid is not None)
        found.append(PortInfo(port.device, description, kind))
    found.sort(key=lambda p: (_KIND_ORDER[p.kind], p.url))
    for url in WIFI_DEFAULTS:
        found.append(PortInfo(url, _("WLAN-Adapter (Standardadresse)"), "tcp", suggested=True))
    return found
