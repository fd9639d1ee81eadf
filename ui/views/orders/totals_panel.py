"""Live totals of an order: net and VAT per rate, the Altteilsteuer contained, and the gross amount.

The figures come from the service (``WorkOrderDTO.totals``, computed by the VAT engine exactly as the
invoice will be); this panel only lays them out.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from app.i18n import _
from app.services.order_lines import RateTotal, Totals
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.orders.style import money, percent

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _net_label(group: RateTotal, totals: Totals) -> str:
    if group.category == "E":
        # Outside Kleinunternehmer mode the only exempt amount is the set-off of the Altteil value.
        return _("Altteil-Verrechnung (steuerfrei)") if totals.altteil_tax else _("Netto steuerfrei")
    if group.category == "AE":
        return _("Netto (Reverse Charge)")
    return _("Netto {rate}").format(rate=percent(group.rate))


class TotalsPanel(QGroupBox):
    """The "Summen" box; ``values`` maps each shown label to its text (handy for tests)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Summen"), parent)
        self.setObjectName("orderTotals")
        self.values: dict[str, str] = {}
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(16)
        self._grid.setVerticalSpacing(4)
        self.gross = QLabel("")
        self.gross.setObjectName("orderGross")
        self.gross.setStyleSheet("font-size: 18pt; font-weight: 700; color: #0d47a1;")
        self.gross.setAlignment(_RIGHT)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 9pt;")
        gross_row = QGridLayout()
        gross_title = QLabel(_("Gesamt brutto"))
        gross_title.setStyleSheet("font-size: 12pt; font-weight: 600;")
        gross_row.addWidget(gross_title, 0, 0)
        gross_row.addWidget(self.gross, 0, 1)
        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setStyleSheet("color: #b0bec5;")
        layout = QVBoxLayout(self)
        layout.setSpacing(6)
        layout.addLayout(self._grid)
        layout.addWidget(rule)
        layout.addLayout(gross_row)
        layout.addWidget(self.note)

    def set_totals(self, totals: Totals) -> None:
        """Show ``totals`` (rows per rate appear and disappear with the lines)."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # deleted later; until then it must not show through the new rows
                widget.deleteLater()
        rows: list[tuple[str, str, bool]] = []
        taxed = [group for group in totals.rates if group.category in ("S", "Z")]
        others = [group for group in totals.rates if group.category not in ("S", "Z")]
        for group in taxed:
            rows.append((_net_label(group, totals), money(group.net), False))
            if group.rate:
                rows.append((_("USt {rate}").format(rate=percent(group.rate)), money(group.tax), False))
        if totals.altteil_tax:
            rows.append((_("darin Altteilsteuer"), money(totals.altteil_tax), True))
        for group in others:
            rows.append((_net_label(group, totals), money(group.net), False))
        if len(totals.rates) > 1:
            rows.append((_("Netto gesamt"), money(totals.net), False))
        if len(taxed) > 1:
            rows.append((_("USt gesamt"), money(totals.tax), False))
        if not totals.rates:
            rows.append((_("Netto"), money(totals.net), False))
        self.values = {label: value for label, value, _minor in rows}
        for index, (label, value, minor) in enumerate(rows):
            left, right = QLabel(label), QLabel(value)
            right.setAlignment(_RIGHT)
            if minor:
                for widget in (left, right):
                    widget.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 9.5pt;")
            self._grid.addWidget(left, index, 0)
            self._grid.addWidget(right, index, 1)
        self.gross.setText(money(totals.gross))
        self.values[_("Gesamt brutto")] = self.gross.text()
        notes = []
        if totals.reverse_charge:
            notes.append(_("Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)."))
        if totals.kleinunternehmer:
            notes.append(_("Kleinunternehmer: keine Umsatzsteuer ausgewiesen (§ 19 UStG)."))
        self.note.setText(" ".join(notes))
        self.note.setVisible(bool(notes))
