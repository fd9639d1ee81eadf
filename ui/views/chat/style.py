"""Colours, status chips and time texts of the Chat tab (display only, no data access)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app import formatting
from app.i18n import N_, _

# Conversation status → (chip background, chip text colour, German name). Waiting for staff is the loud one:
# a visitor is waiting for a person at the counter.
STATUS_CHIPS: dict[str, tuple[str, str, str]] = {
    "bot": ("#e3f2fd", "#0d47a1", N_("Bot")),
    "waiting_staff": ("#ffe0b2", "#8a3b00", N_("Wartet auf Mitarbeiter")),
    "staff": ("#dcefdc", "#1b5e20", N_("Mitarbeiter")),
    "closed": ("#eceff1", "#546e7a", N_("Geschlossen")),
}

# Filter key → (German label, statuses shown; None = all).
FILTERS: tuple[tuple[str, str, frozenset[str] | None], ...] = (
    ("open", N_("Offen"), frozenset({"bot", "waiting_staff", "staff"})),
    ("waiting_staff", N_("Wartet auf Mitarbeiter"), frozenset({"waiting_staff"})),
    ("staff", N_("Mitarbeiter"), frozenset({"staff"})),
    ("bot", N_("Bot"), frozenset({"bot"})),
    ("closed", N_("Geschlossen"), frozenset({"closed"})),
    ("all", N_("Alle"), None),
)

# Message author → (bubble background, border colour, German label, aligned right?). Staff answers sit on the
# right like one's own messages in any messenger; the visitor on the left; system notices centred and grey.
AUTHOR_STYLE: dict[str, tuple[str, str, str, bool]] = {
    "visitor": ("#ffffff", "#cfd8dc", N_("Besucher"), False),
    "bot": ("#e3f2fd", "#90caf9", N_("Bot"), True),
    "staff": ("#dcefdc", "#81c784", N_("Mitarbeiter"), True),
    "system": ("#f5f5f5", "#e0e0e0", N_("Hinweis"), False),
}

LANGUAGE_NAMES: dict[str, str] = {
    "de": N_("Deutsch"),
    "en": N_("Englisch"),
    "tr": N_("Türkisch"),
    "pl": N_("Polnisch"),
}

LEAD_COLOUR = "#6a1b9a"
UNREAD_COLOUR = "#d32f2f"
SECONDARY_TEXT = "#607d8b"
WARNING_BANNER_CSS = (
    "QFrame#chatBanner { background: #fff3e0; border: 1px solid #ffcc80; border-radius: 4px; }"
    " QLabel { color: #8a3b00; font-size: 10.5pt; }"
)
INFO_BANNER_CSS = (
    "QFrame#chatBanner { background: #eef4fb; border: 1px solid #bbd3ee; border-radius: 4px; }"
    " QLabel { color: #0d2c4f; font-size: 10.5pt; }"
)
PRIMARY_BUTTON_CSS = (
    "QPushButton { background: #1e74d0; color: white; font-weight: 600; border-radius: 4px; padding: 6px 14px; }"
    " QPushButton:hover { background: #1967ba; } QPushButton:disabled { background: #9dbfe6; }"
)


def status_name(status: str) -> str:
    """The German name of a conversation status ("Wartet auf Mitarbeiter")."""
    chip = STATUS_CHIPS.get(status)
    return _(chip[2]) if chip else status


def status_chip_css(status: str) -> str:
    """Style sheet of a QLabel showing the status as a rounded chip."""
    background, colour, _name = STATUS_CHIPS.get(status, STATUS_CHIPS["closed"])
    return (
        f"QLabel {{ background: {background}; color: {colour}; border-radius: 9px; padding: 2px 9px;"
        " font-weight: 600; font-size: 9.5pt; }"
    )


def display_title(conversation: Any) -> str:
    """Who wrote: the linked customer, the name/phone/e-mail the visitor left, else "Besucher 3f2a91c0"."""
    title = str(conversation.title)
    return _("Besucher {id}").format(id=title) if title == conversation.id[:8] else title


def local_time(moment: dt.datetime) -> dt.datetime:
    """A server moment (aware, or naive UTC) as naive local wall-clock time."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone().replace(tzinfo=None)


def list_time(moment: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """The inbox's time column: "14:32" today, "gestern", the weekday within a week, else "27.11.26"."""
    if moment is None:
        return ""
    local = local_time(moment)
    today = (now or dt.datetime.now()).date()
    days = (today - local.date()).days
    if days <= 0:
        return local.strftime("%H:%M")
    if days == 1:
        return _("gestern")
    if days < 7:
        return formatting.date(local.date(), "EEEE")
    return formatting.date(local.date(), "short")


def message_time(moment: dt.datetime, now: dt.datetime | None = None) -> str:
    """A message's time: "14:32" today, else "26.11.26, 14:32"."""
    local = local_time(moment)
    today = (now or dt.datetime.now()).date()
    return local.strftime("%H:%M") if local.date() == today else formatting.datetime(local, "short")
