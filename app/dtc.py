"""OBD-II trouble codes (DTC): descriptions in German and English, SAE J2012 structure, service suggestions.

``describe("P0420")`` looks the code up in our own table ``resources/data/dtc_texts.csv`` (texts written
for CarBot, never copied from python-OBD, which is GPL). Codes not in the table get a rule-based text from
the J2012 structure: system (first letter), generic or manufacturer-specific (second character) and the
subsystem group (third character), so the mechanic always sees at least *where* to look.

``suggest_services("P0420")`` maps codes to catalogue services (``resources/catalog/services.csv``) via
``resources/data/dtc_services.csv``: exact codes and ``*`` prefixes, the most specific match first, and the
catch-all ``*`` (diagnosis) last.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Literal

from app.errors import ValidationError
from app.i18n import language

DTC_TABLE_VERSION = "2025.1"
"""Version of the text table; stored with scan results so old reports can say which texts they used."""

Severity = Literal["info", "warnung", "kritisch"]
Source = Literal["katalog", "regel"]
SEVERITIES: tuple[Severity, ...] = ("info", "warnung", "kritisch")

CODE_PATTERN = re.compile(r"^[PCBU][0-3][0-9A-F]{3}$")
_RAW_PATTERN = re.compile(r"^[0-9A-F]{4}$")

_Pair = tuple[str, str]  # (German, English)

_SYSTEMS: dict[str, _Pair] = {
    "P": ("Antrieb", "Powertrain"),
    "C": ("Fahrwerk", "Chassis"),
    "B": ("Karosserie", "Body"),
    "U": ("Netzwerk", "Network"),
}
_SEVERITY_LABELS: dict[str, _Pair] = {
    "info": ("Info", "Info"),
    "warnung": ("Warnung", "Warning"),
    "kritisch": ("Kritisch", "Critical"),
}

# J2012 subsystem groups (third character of the code).
_FUEL_AIR: _Pair = ("Kraftstoff- und Luftzumessung", "Fuel and air metering")
_FUEL_AIR_EMISSION: _Pair = (
    "Kraftstoff- und Luftzumessung/Abgasreinigung",
    "Fuel and air metering/emission controls",
)
_IGNITION: _Pair = ("Zündsystem/Zündaussetzer", "Ignition system/misfire")
_EMISSION: _Pair = ("Zusätzliche Abgasreinigung", "Auxiliary emission controls")
_SPEED_IDLE: _Pair = ("Geschwindigkeit/Leerlauf/Hilfseingänge", "Vehicle speed/idle control/auxiliary inputs")
_AUX_INPUTS: _Pair = ("Hilfseingänge", "Auxiliary inputs")
_COMPUTER: _Pair = ("Steuergerät/Ausgänge", "Control module/outputs")
_TRANSMISSION: _Pair = ("Getriebe", "Transmission")
_HYBRID: _Pair = ("Hybrid-/Elektroantrieb", "Hybrid/electric propulsion")
_CYLINDER_DEACTIVATION: _Pair = ("Zylinderabschaltung", "Cylinder deactivation")
_RESERVED: _Pair = ("Von SAE reserviert", "Reserved by SAE")
_RESTRAINTS: _Pair = ("Rückhaltesysteme (Airbag/Gurtstraffer)", "Restraint systems (airbags/belt tensioners)")
_BODY: _Pair = ("Karosserie allgemein", "Body, general")
_CHASSIS: _Pair = ("Fahrwerk allgemein (Bremsen, Lenkung, Federung)", "Chassis, general (brakes, steering, suspension)")
_NETWORK: _Pair = ("Netzwerk/Kommunikation", "Network/communication")
_NETWORK_BUS: _Pair = ("Netzwerk – Busleitung/elektrisch", "Network – bus wiring/electrical")
_NETWORK_SOFTWARE: _Pair = ("Netzwerk – Software/Konfiguration", "Network – software/configuration")
_NETWORK_DATA: _Pair = ("Netzwerk – unplausible Daten empfangen", "Network – implausible data received")
_LOST_POWERTRAIN: _Pair = (
    "Netzwerk – Kommunikation mit Antriebs-Steuergerät",
    "Network – communication with a powertrain module",
)
_LOST_CHASSIS: _Pair = (
    "Netzwerk – Kommunikation mit Fahrwerks-Steuergerät",
    "Network – communication with a chassis module",
)
_LOST_BODY: _Pair = (
    "Netzwerk – Kommunikation mit Karosserie-Steuergerät",
    "Network – communication with a body module",
)

_P0_GROUPS: dict[str, _Pair] = {
    **dict.fromkeys("012", _FUEL_AIR),
    "3": _IGNITION,
    "4": _EMISSION,
    "5": _SPEED_IDLE,
    "6": _COMPUTER,
    **dict.fromkeys("789", _TRANSMISSION),
    **dict.fromkeys("ABCDEF", _HYBRID),
}
_P2_GROUPS: dict[str, _Pair] = {
    **dict.fromkeys("012", _FUEL_AIR_EMISSION),
    "3": _IGNITION,
    "4": _EMISSION,
    "5": _AUX_INPUTS,
    "6": _COMPUTER,
    **dict.fromkeys("78", _TRANSMISSION),
    **dict.fromkeys("9ABCDEF", _FUEL_AIR_EMISSION),
}
_P3_GROUPS: dict[str, _Pair] = {
    **dict.fromkeys("012", _FUEL_AIR_EMISSION),
    "3": _IGNITION,
    "4": _CYLINDER_DEACTIVATION,
    **dict.fromkeys("56789ABCDEF", _RESERVED),
}


@dataclass(frozen=True)
class DtcEntry:
    """One row of the text table: code, German and English text, severity."""

    code: str
    de: str
    en: str
    severity: Severity


@dataclass(frozen=True)
class DtcInfo:
    """What a trouble code means, in one language; ``source`` says table ("katalog") or rule ("regel")."""

    code: str
    text: str
    system: str
    group: str
    manufacturer_specific: bool
    severity: Severity
    source: Source


def _index(lang: str | None) -> int:
    """0 = German, 1 = English; None means the current UI language, anything unknown falls back to German."""
    return 1 if (lang if lang is not None else language()) == "en" else 0


def normalize_code(code: str) -> str:
    """``"p0420"``/``"P0420"`` → ``"P0420"``; a raw two-byte hex value (``"0420"``, ``"C1 23"``) is decoded
    per J2012: the first nibble's two high bits give the letter (0–3 P, 4–7 C, 8–B B, C–F U), its two low
    bits the second character. Raises ``ValidationError`` for anything else."""
    text = "".join(str(code).split()).upper()
    if not text:
        raise ValidationError("Bitte einen Fehlercode angeben (z. B. P0420).", field="code")
    if _RAW_PATTERN.match(text):
        nibble = int(text[0], 16)
        return f"{'PCBU'[nibble >> 2]}{nibble & 3}{text[1:]}"
    if not CODE_PATTERN.match(text):
        raise ValidationError(
            "„{code}“ ist kein gültiger OBD-Fehlercode (erwartet z. B. P0420 oder den Rohwert 0420).",
            field="code",
            code=str(code).strip(),
        )
    return text


def is_manufacturer_specific(code: str) -> bool:
    """J2012: P1, P30–P33, B1/B2, C1/C2 and U1/U2 belong to the manufacturer; everything else is SAE-defined."""
    norm = normalize_code(code)
    if norm[0] == "P" and norm[1] == "3":
        return norm[2] in "0123"
    return norm[1] in ("12" if norm[0] in "BCU" else "1")


_U0_RANGES: tuple[tuple[int, _Pair], ...] = (  # (last number of the range, group), ascending
    (0x0FF, _NETWORK_BUS),
    (0x120, _LOST_POWERTRAIN),
    (0x13F, _LOST_CHASSIS),
    (0x2FF, _LOST_BODY),
    (0x3FF, _NETWORK_SOFTWARE),
    (0x4FF, _NETWORK_DATA),
    (0xFFF, _NETWORK),
)


def _u0_group(number: int) -> _Pair:
    """U0 ranges: bus, lost communication (powertrain/chassis/body modules), software, invalid data."""
    return next(group for last, group in _U0_RANGES if number <= last)


def _group(code: str) -> _Pair:
    """The J2012 subsystem group of a normalised code."""
    letter, second, third = code[0], code[1], code[2]
    if letter == "P":
        return {"2": _P2_GROUPS, "3": _P3_GROUPS}.get(second, _P0_GROUPS)[third]
    if second == "3":  # B3/C3 are reserved by SAE; U3 is SAE-defined network
        group = _RESERVED if letter in "BC" else _NETWORK
    elif letter == "B":
        group = _RESTRAINTS if second == "0" and third == "0" else _BODY
    elif letter == "C":
        group = _CHASSIS
    else:
        group = _u0_group(int(code[2:], 16)) if second == "0" else _NETWORK
    return group


def _read_rows(name: str) -> list[dict[str, str]]:
    """A ``;``-separated UTF-8 file from resources/data, ``#`` lines being comments."""
    text = resources.files("resources").joinpath("data", name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter=";"))


@functools.cache
def _table() -> Mapping[str, DtcEntry]:
    entries: dict[str, DtcEntry] = {}
    for row in _read_rows("dtc_texts.csv"):
        code, severity = row["code"], row["severity"]
        # A broken row is a packaging bug, not user input: fail loudly instead of showing wrong texts.
        if not CODE_PATTERN.match(code) or code in entries or severity not in SEVERITIES:
            raise ValueError(f"dtc_texts.csv: invalid or duplicate row {row!r}")
        if not row["de"].strip() or not row["en"].strip():
            raise ValueError(f"dtc_texts.csv: empty text for {code}")
        entries[code] = DtcEntry(code, row["de"], row["en"], severity)
    return MappingProxyType(entries)


def table() -> Mapping[str, DtcEntry]:
    """All codes with our own texts (read-only)."""
    return _table()


def describe(code: str, lang: str | None = "de") -> DtcInfo:
    """The meaning of ``code`` ("P0420", "p0420" or raw "0420") in ``lang`` ("de"/"en"; None = UI language)."""
    norm = normalize_code(code)
    i = _index(lang)
    group = _group(norm)
    manufacturer = is_manufacturer_specific(norm)
    entry = _table().get(norm)
    if entry is not None:
        text = entry.en if i else entry.de
        return DtcInfo(norm, text, _SYSTEMS[norm[0]][i], group[i], manufacturer, entry.severity, "katalog")
    if manufacturer:
        text = (
            f"Manufacturer-specific code – meaning per the manufacturer's documentation (group: {group[1]})"
            if i
            else f"Herstellerspezifischer Code – Bedeutung laut Herstellerunterlagen (Gruppe: {group[0]})"
        )
    else:
        text = (
            f"{group[1]} – see the manufacturer's documentation for the exact meaning (generic code, group {norm[:3]})"
            if i
            else f"{group[0]} – genaue Bedeutung siehe Herstellerunterlagen (generischer Code, Gruppe {norm[:3]})"
        )
    return DtcInfo(norm, text, _SYSTEMS[norm[0]][i], group[i], manufacturer, "warnung", "regel")


def severity_label(severity: str, lang: str | None = "de") -> str:
    """Display name of a severity: "Warnung" / "Warning"."""
    labels = _SEVERITY_LABELS.get(severity)
    if labels is None:
        raise ValidationError("Unbekannter Schweregrad „{severity}“.", field="severity", severity=severity)
    return labels[_index(lang)]


# --------------------------------------------------------------------------------------- suggestions


@dataclass(frozen=True)
class _Rule:
    pattern: str
    services: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return self.pattern[:-1] if self.pattern.endswith("*") else self.pattern

    @property
    def specificity(self) -> int:
        """Exact code 5 (beats any prefix, which is at most 4 characters), else the prefix length."""
        return 5 if not self.pattern.endswith("*") else len(self.prefix)

    def matches(self, code: str) -> bool:
        return code.startswith(self.prefix) if self.pattern.endswith("*") else code == self.pattern


def _valid_pattern(pattern: str) -> bool:
    if not pattern.endswith("*"):
        return bool(CODE_PATTERN.match(pattern))
    prefix = pattern[:-1]
    # A prefix is valid if some valid code starts with it; "0" padding is the smallest such completion.
    return prefix == "" or (len(prefix) < 5 and bool(CODE_PATTERN.match(prefix + "0" * (5 - len(prefix)))))


@functools.cache
def _rules() -> tuple[_Rule, ...]:
    rules: list[_Rule] = []
    seen: set[str] = set()
    for row in _read_rows("dtc_services.csv"):
        pattern = row["pattern"].strip()
        services = tuple(s.strip() for s in row["services"].split("|") if s.strip())
        if not _valid_pattern(pattern) or pattern in seen or not services:
            raise ValueError(f"dtc_services.csv: invalid or duplicate row {row!r}")
        seen.add(pattern)
        rules.append(_Rule(pattern, services))
    # Stable sort: most specific first, file order among equals.
    return tuple(sorted(rules, key=lambda r: -r.specificity))


def suggestion_rules() -> Mapping[str, tuple[str, ...]]:
    """Pattern → catalogue service codes, most specific pattern first."""
    return MappingProxyType({rule.pattern: rule.services for rule in _rules()})


def _ranked(code: str) -> list[tuple[int, str]]:
    """(specificity, service) for every matching rule, most specific first."""
    norm = normalize_code(code)
    return [(rule.specificity, svc) for rule in _rules() if rule.matches(norm) for svc in rule.services]


def suggest_services(code: str) -> list[str]:
    """Catalogue service codes for one trouble code, deduplicated, most specific first (diagnosis last)."""
    return list(dict.fromkeys(svc for _, svc in _ranked(code)))


def suggest_for(codes: Iterable[str]) -> list[str]:
    """Catalogue service codes for several trouble codes: all specific suggestions (by specificity, then
    code order) before the generic ones, each service once."""
    ranked = [(-spec, n, pos, svc) for n, code in enumerate(codes) for pos, (spec, svc) in enumerate(_ranked(code))]
    return list(dict.fromkeys(svc for *_, svc in sorted(ranked)))
