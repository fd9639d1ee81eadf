"""Record the customer's approval of an order that exceeds its Kostenvoranschlag (INV-14).

The time is set by the app, the person is the workshop's current user (Einstellungen → Werkstatt);
the counter picks the channel and may add a note ("Herr Maier am Telefon, max. 900 €").
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QWidget

from app.i18n import _
from app.services.work_orders import APPROVAL_CHANNELS, WorkOrderDTO
from ui.context import UiContext
from ui.views.counter.editor_base import EditorDialog
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.orders.style import money


class ApprovalDialog(EditorDialog):
    """Channel, note and (optionally) a different approved net; ``saved`` carries the order."""

    def __init__(self, ctx: UiContext, order: WorkOrderDTO, parent: QWidget | None = None) -> None:
        super().__init__(ctx, _("Zustimmung des Kunden erfassen"), parent)
        self.setMinimumWidth(520)
        self.order = order
        overrun = order.overrun
        summary = QLabel(
            _("Auftrag {number}: jetzt {projected} netto, Kostenvoranschlag {estimate} netto.").format(
                number=order.number,
                projected=money(overrun.projected_net),
                estimate=money(overrun.estimate_net) if overrun.estimate_net is not None else "–",
            )
        )
        summary.setWordWrap(True)
        summary.setStyleSheet("font-weight: 600;")
        self.channel = QComboBox()
        for key, label in APPROVAL_CHANNELS.items():
            self.channel.addItem(_(label), key)
        self.note = QLineEdit()
        self.note.setPlaceholderText(_("z. B. Herr Maier am Telefon, einverstanden"))
        self.approved_net = QLineEdit()
        self.approved_net.setPlaceholderText(
            _("leer: {amount} (aktueller Stand)").format(amount=money(overrun.projected_net))
        )
        phone = QLabel(_("Rückruf-Telefon: {phone}").format(phone=order.approval_phone) if order.approval_phone else "")
        phone.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.form.addRow(summary)
        if order.approval_phone:
            self.form.addRow(phone)
        self.form.add("channel", _("Weg"), self.channel)
        self.form.add("note", _("Notiz"), self.note)
        self.form.add("approved_net", _("Freigegeben bis (netto €)"), self.approved_net)
        self.save_button.setText(_("Zustimmung speichern"))
        self.clear_errors_on_edit()
        self.channel.setFocus()

    def save(self) -> None:
        """Store the approval, taken by the workshop's current user, now."""
        self.clear_problems()
        orders, settings = self.ctx.services.work_orders, self.ctx.services.settings
        order_id, channel, note = self.order.id, str(self.channel.currentData()), self.note.text()
        approved = self.approved_net.text().strip() or None

        def record() -> object:
            user = settings.get().current_user or _("Theke")
            return orders.record_approval(order_id, channel, user, approved_net=approved, note=note)

        self.store(record)
