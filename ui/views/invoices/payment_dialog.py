"""Zahlung erfassen: the open amount is prefilled, the method is Bar, Girocard, Überweisung or SEPA;
"Aufteilen" splits one payment into cash + girocard (both are stored together or not at all).

The payment service checks amounts, overpayment and dates; its messages appear under the field.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QWidget

from app import formatting
from app.changes import Changes
from app.errors import ValidationError, WorkshopError
from app.i18n import N_, _
from app.money import parse_decimal
from ui.context import UiContext
from ui.views.counter.editor_base import EditorDialog
from ui.views.counter.style import SECONDARY_TEXT

METHOD_LABELS = (
    ("cash", N_("Bar")),
    ("card", N_("Girocard")),
    ("transfer", N_("Überweisung")),
    ("sepa_dd", N_("SEPA-Lastschrift")),
)


def _plain(value: Decimal) -> str:
    """396.26 → "396,26" (no currency sign, ready to edit)."""
    return formatting.number(value, 2) if value % 1 else formatting.number(value, 0)


class PaymentDialog(EditorDialog):
    """Record a payment on invoice ``invoice_id``; ``saved`` carries the stored payment(s)."""

    def __init__(
        self,
        ctx: UiContext,
        invoice_id: int,
        number: str,
        open_amount: Decimal,
        customer_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, _("Zahlung erfassen – {number}").format(number=number), parent)
        self.setMinimumWidth(500)
        self.invoice_id, self.number, self.open_amount = invoice_id, number, open_amount
        heading = QLabel(
            _("Rechnung {number} · {customer}").format(number=number, customer=customer_name)
            if customer_name
            else _("Rechnung {number}").format(number=number)
        )
        heading.setStyleSheet("font-size: 12pt; font-weight: 600;")
        open_label = QLabel(_("Offen: {amount}").format(amount=formatting.money(open_amount)))
        open_label.setObjectName("openAmount")
        open_label.setStyleSheet("font-size: 15pt; font-weight: 700; color: #0d47a1;")
        self.amount = QLineEdit(_plain(open_amount))
        self.method = QComboBox()
        for key, label in METHOD_LABELS:
            self.method.addItem(_(label), key)
        self.split = QCheckBox(_("Aufteilen: bar + Girocard"))
        self.split.setToolTip(_("Ein Teil bar, der Rest mit Girocard – beides wird zusammen gebucht"))
        self.cash = QLineEdit()
        self.cash.setPlaceholderText(_("z. B. 50"))
        self.card = QLineEdit()
        self.card_hint = QLabel(_("Girocard = offen − bar (wird beim Tippen ausgefüllt)"))
        self.card_hint.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 9pt;")
        self.reference = QLineEdit()
        self.reference.setPlaceholderText(_("optional, z. B. Kontoauszug vom 12.05."))
        self.form.addRow(heading)
        self.form.addRow(open_label)
        self.form.add("amount", _("Betrag (€)"), self.amount)
        self.form.add("method", _("Zahlungsart"), self.method)
        self.form.addRow("", self.split)
        self.form.add("cash", _("davon bar (€)"), self.cash)
        self.form.add("card", _("Girocard (€)"), self.card)
        self.form.addRow("", self.card_hint)
        self.form.add("reference", _("Vermerk"), self.reference)
        self.save_button.setText(_("Zahlung buchen"))
        self.split.toggled.connect(self._split_toggled)
        self.cash.textEdited.connect(self._fill_card)
        self.clear_errors_on_edit()
        self._split_toggled(False)
        self.amount.setFocus()
        self.amount.selectAll()

    def _split_toggled(self, split: bool) -> None:
        for name in ("amount", "method"):
            self.form.setRowVisible(self.form.fields[name], not split)
        for name in ("cash", "card"):
            self.form.setRowVisible(self.form.fields[name], split)
        self.form.setRowVisible(self.card_hint, split)
        if split:
            self.cash.setFocus()

    def _fill_card(self, text: str) -> None:
        # Only a typing aid: the service checks that both parts together do not exceed the open amount.
        try:
            rest = self.open_amount - parse_decimal(text or "0")
        except ValueError:
            return
        self.card.setText(_plain(rest) if rest > 0 else "")

    def save(self) -> None:
        """Book the payment (or both parts of a split) in the background."""
        self.clear_problems()
        payments, settings, invoice_id = self.ctx.services.payments, self.ctx.services.settings, self.invoice_id
        reference = self.reference.text()
        if self.split.isChecked():
            parts = [(self.cash.text().strip(), "cash"), (self.card.text().strip(), "card")]
            parts = [(value, method) for value, method in parts if value]

            def book_split() -> tuple[object, Changes]:
                user = settings.get().current_user
                return payments.record_split(invoice_id, parts, user=user, reference=reference), Changes(invoices=True)

            self.store(book_split)
            return
        amount, method = self.amount.text().strip(), str(self.method.currentData())

        def book() -> tuple[object, Changes]:
            user = settings.get().current_user
            paid = payments.record(invoice_id, amount=amount, method=method, reference=reference, user=user)
            return paid, Changes(invoices=True)

        self.store(book)

    def field_for(self, exc: WorkshopError) -> str | None:
        """Amount problems under the amount (in split mode under "davon bar")."""
        if not isinstance(exc, ValidationError):
            return None
        if exc.field in ("amount", "parts"):
            return "cash" if self.split.isChecked() else "amount"
        return exc.field if exc.field in self.form.fields else None
