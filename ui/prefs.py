"""Per-machine UI preferences in an INI file (QSettings), each key declared once with its default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from app.paths import data_dir


@dataclass(frozen=True)
class Pref:
    """A declared preference key."""

    key: str
    default: Any


LANGUAGE = Pref("ui/language", "de")
GEOMETRY = Pref("ui/geometry", QByteArray())
LAST_TAB = Pref("ui/last_tab", 0)
CALENDAR_MODE = Pref("calendar/mode", "day")
ROLE = Pref("user/role", "owner")
"""The role of the person at this PC: owner, auditor, counter or mechanic (what the Berichte tab shows)."""


class Prefs:
    """Typed access to the INI file."""

    def __init__(self, path: Path | None = None) -> None:
        self._settings = QSettings(str(path or data_dir() / "ui.ini"), QSettings.Format.IniFormat)

    def get(self, pref: Pref) -> Any:
        """The stored value or the default, converted to the default's type."""
        value = self._settings.value(pref.key, pref.default)
        if isinstance(pref.default, bool):
            return str(value).lower() in ("1", "true")
        if isinstance(pref.default, int):
            try:
                return int(value)
            except (TypeError, ValueError):
                return pref.default
        return value

    def set(self, pref: Pref, value: Any) -> None:
        """Store a value."""
        self._settings.setValue(pref.key, value)
        self._settings.sync()
