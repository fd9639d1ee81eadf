"""Colours, labels and small display helpers of the order screens (display only, no business rules)."""

from __future__ import annotations

from decimal import Decimal

from app import formatting
from app.i18n import N_, _

# Work order status → (chip background, chip text colour); texts come from the service's STATUS_LABELS.
ORDER_STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "draft": ("#cfd8dc", "#263238"),
    "open": ("#1e88e5", "#ffffff"),
    "in_progress": ("#ffa000", "#212121"),
    "completed": ("#2e7d32", "#ffffff"),
    "invoiced": ("#455a64", "#ffffff"),
    "cancelled": ("#eceff1", "#78909c"),
}

LINE_KINDS: dict[str, str] = {
    "labour": N_("Arbeit"),
    "part": N_("Teil"),
    "exchange_part": N_("Austauschteil"),
    "fee": N_("Gebühr"),
    "discount": N_("Rabatt"),
}

# The status buttons as the counter names them: (action, text, tooltip, the status the button is for,
# target). A button shows only where the service's TRANSITIONS allow status → target; other transitions
# (completed → invoiced, and back after a Storno) happen through invoicing, not by a button.
ORDER_ACTIONS: tuple[tuple[str, str, str, frozenset[str], str], ...] = (
    ("open", N_("Annehmen"), N_("Auftragsannahme abgeschlossen, das Fahrzeug ist da"), frozenset({"draft"}), "open"),
    ("start", N_("Starten"), N_("Die Arbeit am Fahrzeug beginnt"), frozenset({"open"}), "in_progress"),
    (
        "complete",
        N_("Fertigmelden"),
        N_("Alle Arbeiten erledigt – danach kann abgerechnet werden"),
        frozenset({"in_progress"}),
        "completed",
    ),
    (
        "reopen",
        N_("Wieder öffnen"),
        N_("Noch etwas ändern oder ergänzen, bevor abgerechnet wird"),
        frozenset({"completed"}),
        "in_progress",
    ),
    (
        "cancel",
        N_("Stornieren"),
        N_("Auftrag absagen – er bleibt zur Nachvollziehbarkeit erhalten"),
        frozenset({"draft", "open", "in_progress"}),
        "cancelled",
    ),
)

BANNER_RED = (
    "QFrame#overrunBanner { background: #ffebee; border: 1px solid #c62828; border-left: 6px solid #c62828; "
    "border-radius: 4px; } QFrame#overrunBanner QLabel { color: #7f0000; }"
)
BANNER_OK = (
    "QFrame#overrunBanner { background: #e8f5e9; border: 1px solid #2e7d32; border-left: 6px solid #2e7d32; "
    "border-radius: 4px; } QFrame#overrunBanner QLabel { color: #1b5e20; }"
)
HINT_AMBER = (
    "QLabel { background: #fff8e1; border: 1px solid #ffa000; border-radius: 4px; padding: 6px 10px; color: #5d4037; }"
)
PRIMARY_BUTTON = (
    "QPushButton { background: #1565c0; color: white; font-weight: 600; border-radius: 4px; padding: 7px 16px; }"
    "QPushButton:disabled { background: #b0bec5; color: #eceff1; }"
    "QPushButton:focus { border: 2px solid #0d47a1; }"
)
DANGER_BUTTON = "QPushButton:enabled { color: #c62828; }"
SECTION_TITLE = "font-size: 12pt; font-weight: 600; color: #263238;"


def chip_css(colours: tuple[str, str], *, size_pt: float = 10.5) -> str:
    """Style sheet of a rounded status chip (QLabel)."""
    background, foreground = colours
    return (
        f"QLabel {{ background: {background}; color: {foreground}; border-radius: 10px; padding: 3px 12px; "
        f"font-weight: 600; font-size: {size_pt}pt; }}"
    )


def order_chip_css(status: str) -> str:
    """The chip of a work order status."""
    return chip_css(ORDER_STATUS_COLOURS.get(status, ORDER_STATUS_COLOURS["draft"]))


def kind_label(kind: str) -> str:
    """German name of a line kind ("Teil", "Austauschteil" …)."""
    return _(LINE_KINDS.get(kind, kind))


def money(value: Decimal | None) -> str:
    """ "1.234,50 €"; empty for None."""
    return "" if value is None else formatting.money(value)


def amount(value: Decimal | None, digits: int = 2) -> str:
    """A number without currency ("1,5"); empty for None."""
    return "" if value is None else formatting.number(value, digits)


def percent(value: Decimal) -> str:
    """ "19 %", "7 %", "0 %"."""
    return _("{rate} %").format(rate=formatting.number(value, 2))


# A compact segmented switch (checkable QPushButtons side by side): the counter's modes, the list filters.
SEGMENT_CSS = (
    "QPushButton { border: 1px solid #90a4ae; border-radius: 0; padding: 5px 14px; background: #ffffff; "
    "color: #37474f; } QPushButton:checked { background: #1565c0; color: #ffffff; border-color: #1565c0; } "
    "QPushButton:hover:!checked { background: #e3f2fd; }"
)
