"""What the counter role sees of the reports: its own day – today's appointments, the open orders and
today's payments – with a notice that the workshop's revenue figures are for the owner.

The data is ``ReportService.counter_day`` (a :class:`CounterDay`); there are no period, no comparison
and no exports here, because the counter has no business seeing the workshop's revenue.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app import formatting
from app.i18n import _, ngettext
from app.reports.bookings import APPOINTMENT_LABELS
from app.reports.types import CounterDay
from app.services.work_order_types import STATUS_LABELS as ORDER_LABELS
from ui.views.invoices.payment_dialog import METHOD_LABELS
from ui.views.reports.style import BORDER, CARD_BG, MUTED, TITLE, VALUE, value_text

NOTICE_CSS = "background: #e3f2fd; color: #0d47a1; border-radius: 6px; padding: 10px 14px; font-size: 10.5pt;"


class DayTile(QFrame):
    """A big number with a title and its breakdown lines."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dayTile")
        self.setStyleSheet(
            f"QFrame#dayTile {{ background: {CARD_BG}; border: 1px solid {BORDER}; border-radius: 8px; }}"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        self.title_label = QLabel(title)
        self.title_label.setStyleSheet(f"color: {TITLE}; font-weight: 600; font-size: 10.5pt;")
        self.value_label = QLabel()
        self.value_label.setStyleSheet(f"color: {VALUE}; font-size: 26pt; font-weight: 700;")
        self.detail_label = QLabel()
        self.detail_label.setStyleSheet(f"color: {TITLE}; font-size: 10pt;")
        self.detail_label.setWordWrap(True)
        layout.addWidget(self.title_label)
        layout.addWidget(self.value_label)
        layout.addWidget(self.detail_label)
        layout.addStretch(1)

    def show_figures(self, value: str, lines: Sequence[str]) -> None:
        """The number and its breakdown ("Bestätigt: 12")."""
        self.value_label.setText(value)
        self.detail_label.setText("\n".join(lines) if lines else _("–"))


class CounterDayPanel(QWidget):
    """The counter's day: three tiles under the notice."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(14)
        self.heading = QLabel()
        self.heading.setStyleSheet(f"color: {VALUE}; font-size: 14pt; font-weight: 600;")
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(NOTICE_CSS)
        layout.addWidget(self.heading)
        layout.addWidget(self.notice)
        tiles = QGridLayout()
        tiles.setSpacing(14)
        self.appointments = DayTile(_("Termine heute"))
        self.orders = DayTile(_("Offene Aufträge"))
        self.payments = DayTile(_("Zahlungen heute"))
        for column, tile in enumerate((self.appointments, self.orders, self.payments)):
            tiles.addWidget(tile, 0, column)
            tiles.setColumnStretch(column, 1)
        layout.addLayout(tiles)
        hint = QHBoxLayout()
        self.hint = QLabel(_("Die Termine und Aufträge selbst stehen auf den Tabs „Theke“ und „Termine“."))
        self.hint.setStyleSheet(f"color: {MUTED};")
        hint.addWidget(self.hint, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(hint)
        layout.addStretch(1)

    def show_day(self, day: CounterDay, role_label: str) -> None:
        """Show ``day`` for the role named ``role_label``."""
        self.heading.setText(_("Ihr Tag – {weekday}").format(weekday=formatting.date(day.day, "EEEE, d. MMMM y")))
        self.notice.setText(
            _(
                "Angemeldet als „{role}“: Hier sehen Sie Ihren eigenen Tag. Umsatzzahlen und Auswertungen "
                "der Werkstatt sind dem Inhaber vorbehalten (und dem Prüfer zum Lesen)."
            ).format(role=role_label)
        )
        self.appointments.show_figures(
            formatting.number(day.appointments, 0),
            [f"{_(APPOINTMENT_LABELS.get(status, status))}: {count}" for status, count in day.appointments_by_status],
        )
        self.orders.show_figures(
            formatting.number(day.open_orders, 0),
            [f"{_(ORDER_LABELS.get(status, status))}: {count}" for status, count in day.open_orders_by_status],
        )
        methods = dict(METHOD_LABELS)
        self.payments.show_figures(
            value_text(day.payments_total, "EUR"),
            [
                ngettext("{count} Zahlung", "{count} Zahlungen", day.payments).format(count=day.payments),
                *(f"{_(methods.get(m, m))}: {value_text(total, 'EUR')}" for m, total in day.payments_by_method),
            ],
        )
