"""Colours and small formatting helpers shared by the counter's lists and cards (display only)."""

from __future__ import annotations

import datetime as dt

from app import formatting
from app.i18n import N_, _

# HU/AU badge (background, text) per app.vehicle_rules.HuStatus value: green OK, amber due, red overdue,
# dark red when more than two months overdue (extended inspection, higher fee).
HU_COLOURS: dict[str, tuple[str, str]] = {
    "ok": ("#2e7d32", "#ffffff"),
    "due_soon": ("#ffca28", "#212121"),
    "due": ("#ffa000", "#212121"),
    "overdue": ("#c62828", "#ffffff"),
    "overdue_2m": ("#6d0000", "#ffffff"),
    "unknown": ("#cfd8dc", "#37474f"),
}

# Appointment status → (colour of the marker, German text).
APPOINTMENT_STATUS: dict[str, tuple[str, str]] = {
    "pending": ("#ffa000", N_("Anfrage offen")),
    "confirmed": ("#1e88e5", N_("bestätigt")),
    "done": ("#2e7d32", N_("erledigt")),
    "no_show": ("#c62828", N_("nicht erschienen")),
    "cancelled": ("#90a4ae", N_("abgesagt")),
}

KIND_MARKERS: dict[str, tuple[str, str, str]] = {
    # kind → (letter, colour, German tooltip)
    "vehicle": ("F", "#1565c0", N_("Fahrzeug")),
    "customer": ("K", "#2e7d32", N_("Kunde")),
}

SECONDARY_TEXT = "#607d8b"


def hu_key(status: object) -> str:
    """The HuStatus value ("ok", "overdue", …) without importing the enum (works for strings too)."""
    return str(getattr(status, "value", status) or "unknown")


def hu_badge_css(status: object, *, size_pt: float = 10.5) -> str:
    """Style sheet for a QLabel showing the HU/AU badge."""
    background, foreground = HU_COLOURS.get(hu_key(status), HU_COLOURS["unknown"])
    return (
        f"QLabel {{ background: {background}; color: {foreground}; border-radius: 4px; "
        f"padding: 3px 10px; font-weight: 600; font-size: {size_pt}pt; }}"
    )


def status_text(status: str) -> str:
    """German text of an appointment status."""
    return _(APPOINTMENT_STATUS.get(status, ("", status))[1])


def km(value: int | None) -> str:
    """123456 → "123.456 km"; empty when unknown."""
    return "" if value is None else _("{km} km").format(km=formatting.number(value, 0))


def local_timestamp(iso_utc: str) -> str:
    """A stored naive-UTC ISO timestamp as local workshop time "27.04.2026, 10:12"."""
    try:
        from app.calendar_rules import WORKSHOP_TZ

        moment = dt.datetime.fromisoformat(iso_utc).replace(tzinfo=dt.UTC).astimezone(WORKSHOP_TZ)
    except (ValueError, ImportError):
        return iso_utc
    return f"{moment:%d.%m.%Y, %H:%M}"


def html_escape(text: str) -> str:
    """Escape text for a rich-text QLabel."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
