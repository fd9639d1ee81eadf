"""Colours, fonts and small text helpers of the calendar (display only, no data access)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QLocale
from PySide6.QtGui import QColor, QFont

from app.i18n import N_, _, language

# status → (fill, border, text, German name). Calm, light fills with a strong left border so the status
# reads at a glance from the counter; the text stays dark on every fill for contrast.
STATUS_STYLE: dict[str, tuple[str, str, str, str]] = {
    "pending": ("#fff3cd", "#f0a500", "#4a3b00", N_("Anfrage offen")),
    "confirmed": ("#dcebfb", "#1e74d0", "#0d2c4f", N_("bestätigt")),
    "done": ("#dcefdc", "#2e7d32", "#173d19", N_("erledigt")),
    "no_show": ("#e6e8ea", "#7b8a95", "#3b464e", N_("nicht erschienen")),
    "cancelled": ("#f1f1f1", "#b0bec5", "#607d8b", N_("abgesagt")),
}

# Which status buttons the dialog and the context menu offer, in this order: (target status, German label).
STATUS_ACTIONS: tuple[tuple[str, str], ...] = (
    ("confirmed", N_("Bestätigen")),
    ("done", N_("Erledigt")),
    ("no_show", N_("Nicht erschienen")),
    ("cancelled", N_("Absagen")),
)

BACKGROUND = QColor("#ffffff")
GRID_LINE = QColor("#e3e7ea")
GRID_LINE_HOUR = QColor("#c5ccd1")
CLOSED_FILL = QColor("#eef0f2")
CLOSED_HATCH = QColor("#dde1e4")
HOLIDAY_FILL = QColor("#fbeaea")
HEADER_FILL = QColor("#f6f7f8")
HEADER_TODAY = QColor("#e3f0fc")
HEADER_TEXT = QColor("#263238")
SECONDARY_TEXT = QColor("#607d8b")
NOW_LINE = QColor("#d32f2f")
HOVER_FILL = QColor(30, 116, 208, 28)
HOLIDAY_TEXT = "#8e2424"

BANNER_CSS = (
    "QLabel { background: #fbeaea; color: #8e2424; border: 1px solid #ecc4c4; border-radius: 4px;"
    " padding: 6px 10px; font-size: 11pt; font-weight: 600; }"
)
ERROR_CSS = (
    "QLabel { color: #b71c1c; background: #fdecea; border: 1px solid #f5c2c0; border-radius: 4px;"
    " padding: 6px 8px; font-size: 10.5pt; }"
)
PRIMARY_BUTTON_CSS = (
    "QPushButton { background: #1e74d0; color: white; font-weight: 600; border-radius: 4px; padding: 6px 14px; }"
    " QPushButton:hover { background: #1967ba; } QPushButton:disabled { background: #9dbfe6; }"
)


def status_colours(status: str) -> tuple[QColor, QColor, QColor]:
    """(fill, border, text) colours of an appointment with ``status``."""
    fill, border, text, _name = STATUS_STYLE.get(status, STATUS_STYLE["confirmed"])
    return QColor(fill), QColor(border), QColor(text)


def status_name(status: str) -> str:
    """The German name of a status ("bestätigt")."""
    return _(STATUS_STYLE.get(status, ("", "", "", status))[3])


def action_label(status: str) -> str:
    """The button text that moves an appointment to ``status`` ("Bestätigen")."""
    return _(dict(STATUS_ACTIONS).get(status, status))


def font(point_size: float, *, bold: bool = False) -> QFont:
    """The application font at ``point_size``, optionally bold."""
    f = QFont()
    f.setPointSizeF(point_size)
    f.setBold(bold)
    return f


def hhmm(value: dt.datetime | dt.time) -> str:
    """ "08:30"."""
    return f"{value:%H:%M}"


def duration_text(minutes: int) -> str:
    """90 → "1:30 Std."; 45 → "45 Min." (how the counter says it on the phone)."""
    if minutes < 60:
        return _("{minutes} Min.").format(minutes=minutes)
    return _("{hours}:{minutes:02d} Std.").format(hours=minutes // 60, minutes=minutes % 60)


def qt_locale() -> QLocale:
    """The Qt locale of the app language, for weekday names in date fields ("Di 24.11.2026")."""
    if language() == "de":
        return QLocale(QLocale.Language.German, QLocale.Country.Germany)
    return QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom)
