"""Colours, labels and number formats of the Diagnose tab (display only), and the live-data PID list.

Nothing here imports the OBD driver: the tab must open without loading python-OBD (the worker thread
loads it). The protocol names are the ELM327 numbers as mechanics read them on an adapter's display.
"""

from __future__ import annotations

import math

from app import formatting
from app.i18n import N_, _
from ui.workers.obd_messages import LinkState

# Status chip per link state: (background, text colour).
STATE_COLOURS: dict[LinkState, tuple[str, str]] = {
    LinkState.DISCONNECTED: ("#cfd8dc", "#37474f"),
    LinkState.CONNECTING: ("#1e88e5", "#ffffff"),
    LinkState.CONNECTED: ("#2e7d32", "#ffffff"),
    LinkState.IGNITION_OFF: ("#ffa000", "#212121"),
    LinkState.LOST: ("#c62828", "#ffffff"),
}

# app.dtc severities: (background, text colour).
SEVERITY_COLOURS: dict[str, tuple[str, str]] = {
    "kritisch": ("#c62828", "#ffffff"),
    "warnung": ("#ffa000", "#212121"),
    "info": ("#1e88e5", "#ffffff"),
}

# Readiness monitor states: (German text, colour).
READINESS_STATES: dict[str, tuple[str, str]] = {
    "complete": (N_("abgeschlossen"), "#2e7d32"),
    "incomplete": (N_("nicht abgeschlossen"), "#e65100"),
    "unsupported": (N_("nicht unterstützt"), "#90a4ae"),
}

DTC_KIND_TITLES: dict[str, str] = {
    "stored": N_("Gespeichert"),
    "pending": N_("Ausstehend"),
    "permanent": N_("Permanent"),
}
DTC_KIND_HINTS: dict[str, str] = {
    "stored": N_("Bestätigte Fehler (Mode 03) – sie schalten die Motorkontrollleuchte ein."),
    "pending": N_("Im aktuellen oder letzten Fahrzyklus erkannt, noch nicht bestätigt (Mode 07)."),
    "permanent": N_(
        "Nur das Steuergerät selbst löscht sie, nach bestandenem Test (Mode 0A) – Löschen hilft hier nicht."
    ),
}

PROTOCOLS: tuple[tuple[str, str], ...] = (
    ("1", "SAE J1850 PWM"),
    ("2", "SAE J1850 VPW"),
    ("3", "ISO 9141-2 (K-Leitung)"),
    ("4", "KWP2000 (5 Baud)"),
    ("5", "KWP2000 (schnell)"),
    ("6", "CAN 11 Bit, 500 kBaud"),
    ("7", "CAN 29 Bit, 500 kBaud"),
    ("8", "CAN 11 Bit, 250 kBaud"),
    ("9", "CAN 29 Bit, 250 kBaud"),
    ("A", "SAE J1939 CAN (Nfz)"),
)

# The live values a mechanic picks most (python-OBD command names), with German names; the first six are
# preselected and fit into one batched CAN request.
LIVE_PIDS: tuple[tuple[str, str], ...] = (
    ("RPM", N_("Drehzahl")),
    ("SPEED", N_("Geschwindigkeit")),
    ("COOLANT_TEMP", N_("Kühlmitteltemperatur")),
    ("ENGINE_LOAD", N_("Motorlast")),
    ("THROTTLE_POS", N_("Drosselklappe")),
    ("INTAKE_TEMP", N_("Ansauglufttemperatur")),
    ("MAF", N_("Luftmasse")),
    ("TIMING_ADVANCE", N_("Zündzeitpunkt")),
    ("FUEL_PRESSURE", N_("Kraftstoffdruck")),
    ("COMMANDED_EQUIV_RATIO", N_("Lambda (Sollwert)")),
    ("INTAKE_PRESSURE", N_("Saugrohrdruck")),
    ("SHORT_FUEL_TRIM_1", N_("Gemischkorrektur kurz, Bank 1")),
    ("LONG_FUEL_TRIM_1", N_("Gemischkorrektur lang, Bank 1")),
    ("CONTROL_MODULE_VOLTAGE", N_("Bordspannung (Steuergerät)")),
    ("FUEL_LEVEL", N_("Tankfüllstand")),
    ("RUN_TIME", N_("Laufzeit seit Motorstart")),
)
DEFAULT_LIVE = ("RPM", "SPEED", "COOLANT_TEMP", "ENGINE_LOAD", "THROTTLE_POS", "INTAKE_TEMP")
MAX_BATCH = 6  # SAE J1979: at most six PIDs per CAN request

# One colour per graph (distinct on white, colour-blind friendly order).
PLOT_COLOURS = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037", "#ad1457")

# Decimal places per unit: whole revolutions and degrees, one place for percent, more for small units.
UNIT_DIGITS = {"1/min": 0, "km/h": 0, "°C": 0, "kPa": 0, "%": 1, "°": 1, "g/s": 2, "V": 2, "": 3, "s": 0}

_BANNER = (
    "QLabel {{ background: {bg}; border: 1px solid {border}; border-radius: 4px; padding: 6px 10px; color: {fg}; }}"
)
BANNER_CSS = {
    "info": _BANNER.format(bg="#e3f2fd", border="#1e88e5", fg="#0d47a1"),
    "ok": _BANNER.format(bg="#e8f5e9", border="#2e7d32", fg="#1b5e20"),
    "warn": _BANNER.format(bg="#fff8e1", border="#ffa000", fg="#5d4037"),
    "error": _BANNER.format(bg="#ffebee", border="#c62828", fg="#b71c1c"),
}
DANGER_BUTTON = (
    "QPushButton { color: #b71c1c; border: 1px solid #c62828; border-radius: 4px; padding: 6px 14px; "
    "background: #ffffff; } QPushButton:disabled { color: #b0bec5; border-color: #cfd8dc; }"
)


def chip_css(background: str, foreground: str, *, size_pt: float = 11.0) -> str:
    """A rounded status chip."""
    return (
        f"QLabel {{ background: {background}; color: {foreground}; border-radius: 4px; padding: 3px 10px; "
        f"font-weight: 600; font-size: {size_pt}pt; }}"
    )


def protocol_text(number: str) -> str:
    """ "6 – ISO 15765-4 CAN (11 Bit, 500 kBaud)"."""
    names = dict(PROTOCOLS)
    return f"{number} – {names[number]}" if number in names else number


def live_label(name: str) -> str:
    """German name of a live PID of the picker (the name itself if unknown)."""
    labels = dict(LIVE_PIDS)
    return _(labels[name]) if name in labels else name


def value_text(value: float | None, unit: str) -> str:
    """A live value the German way ("1.304 1/min", "0,982"); "–" when there is none."""
    if value is None or not math.isfinite(value):
        return "–"
    digits = UNIT_DIGITS.get(unit, 1)
    text = formatting.number(round(value, digits), digits)
    return f"{text} {unit}".strip()


def voltage_text(volts: float | None) -> str:
    """ "13,1 V" or "unbekannt"."""
    return _("unbekannt") if volts is None else f"{formatting.number(volts, 1)} V"
