"""Stornieren: a final invoice is never edited – the Stornorechnung (own number, cites the original,
negated lines) cancels it (GoBD, INV-06). The reason is required and printed on the Storno."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from app.changes import Changes
from app.i18n import _
from app.services.invoice_queries import InvoiceRow
from ui.context import UiContext
from ui.views.counter.editor_base import EditorDialog
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.orders.style import money


class CancelInvoiceDialog(EditorDialog):
    """Ask for the reason and issue the Stornorechnung; ``saved`` carries the service's result."""

    def __init__(self, ctx: UiContext, row: InvoiceRow, parent: QWidget | None = None) -> None:
        super().__init__(ctx, _("Rechnung {number} stornieren").format(number=row.number), parent)
        self.setMinimumWidth(560)
        self.row = row
        heading = QLabel(
            _("Rechnung {number} · {customer} · {gross}").format(
                number=row.number, customer=row.customer_name, gross=money(row.gross)
            )
        )
        heading.setStyleSheet("font-size: 12pt; font-weight: 600;")
        explain = QLabel(
            _(
                "Es wird eine Stornorechnung mit eigener Nummer erstellt, die diese Rechnung aufhebt. Die "
                "Rechnung selbst bleibt unverändert archiviert (GoBD). Danach kann eine neue, richtige Rechnung "
                "geschrieben werden."
            )
        )
        explain.setWordWrap(True)
        explain.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(_("z. B. falscher Rechnungsempfänger"))
        self.form.addRow(heading)
        self.form.addRow(explain)
        if row.paid > 0:
            paid = QLabel(_("Bereits bezahlt: {paid} – bitte anschließend erstatten.").format(paid=money(row.paid)))
            paid.setStyleSheet("color: #c62828;")
            self.form.addRow(paid)
        self.form.add("reason", _("Grund"), self.reason)
        self.save_button.setText(_("Stornorechnung erstellen"))
        self.save_button.setStyleSheet("QPushButton { color: #c62828; font-weight: 600; }")
        self.clear_errors_on_edit()
        self.reason.setFocus()

    def save(self) -> None:
        """Issue the Storno (number, PDF, archive) in the background."""
        self.clear_problems()
        invoices, settings = self.ctx.services.invoices, self.ctx.services.settings
        number, reason = self.row.number, self.reason.text()

        def cancel() -> tuple[object, Changes]:
            result = invoices.cancel(number, reason=reason, user=settings.get().current_user)
            return result, Changes(invoices=True)

        self.store(cancel)
