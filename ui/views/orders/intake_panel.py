"""The intake data in the order editor ("Annahme"): mileage, fuel, call-back phone, "call before exceeding",
the customer's wishes and visible damage – editable while the order runs, read-only once it is completed.

"Speichern" (or Enter in a one-line field) hands the typed values to the editor as an ``Intake``; the work
order service checks them as at creation and the editor shows its messages under the fields here. Typed
but unsaved values survive a reload of the order (after a line was added, say) until they are saved or
another order is shown.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import formatting
from app.i18n import _
from app.services.work_orders import EDITABLE, Intake, WorkOrderDTO
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.orders.intake_dialog import FUEL_LEVELS
from ui.widgets.form import ValidatedForm

FIELDS = ("mileage_in", "fuel_level", "approval_phone", "approval_limit_gross", "customer_wishes", "damage_notes")


def _text_box(placeholder: str) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)
    box.setFixedHeight(50)
    return box


class IntakePanel(QGroupBox):
    """``save_requested`` carries the typed Intake; the editor calls :meth:`saved` or :meth:`show_error`."""

    save_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Annahme"), parent)
        self.setObjectName("intakePanel")
        self.order_id: int | None = None
        self.dirty = False
        self.editable = False
        self._filling = False
        self.mileage = QLineEdit()
        self.mileage.setPlaceholderText(_("z. B. 85.100"))
        self.fuel = QComboBox()
        for level in FUEL_LEVELS:
            self.fuel.addItem(_(level) if level else "–", level)
        self.phone = QLineEdit()
        self.phone.setPlaceholderText(_("für Rückfragen und Freigaben"))
        self.limit = QLineEdit()
        self.limit.setPlaceholderText(_("leer: keine Grenze"))
        self.wishes = _text_box(_("z. B. Inspektion, Geräusch beim Bremsen prüfen"))
        self.damage = _text_box(_("z. B. Kratzer Stoßfänger hinten links"))
        left, right = ValidatedForm(), ValidatedForm()
        for form in (left, right):
            form.setHorizontalSpacing(10)
            form.setVerticalSpacing(3)
        left.add("mileage_in", _("km-Stand"), self.mileage)
        left.add("fuel_level", _("Tank"), self.fuel)
        left.add("approval_phone", _("Rückruf"), self.phone)
        left.add("approval_limit_gross", _("Anrufen ab (€)"), self.limit)
        right.add("customer_wishes", _("Kundenwunsch"), self.wishes)
        right.add("damage_notes", _("Schäden"), self.damage)
        self.forms = (left, right)
        self.save_button = QPushButton(_("Speichern"))
        self.save_button.setObjectName("intakeSave")
        self.save_button.setToolTip(_("Geänderte Annahmedaten speichern (Enter in einem Feld)"))
        self.save_button.clicked.connect(self.request_save)
        self.state = QLabel("")
        self.state.setObjectName("intakeState")
        self.state.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 9pt;")
        columns = QHBoxLayout()
        columns.setSpacing(16)
        columns.addLayout(left, 2)
        columns.addLayout(right, 3)
        buttons = QHBoxLayout()
        buttons.addWidget(self.state, 1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setSpacing(4)
        layout.addLayout(columns)
        layout.addStretch(1)  # spare height below the rows, not inside them
        layout.addLayout(buttons)
        for edit in (self.mileage, self.phone, self.limit):
            edit.textEdited.connect(self._edited)
            edit.returnPressed.connect(self.request_save)
        for box in (self.wishes, self.damage):
            box.textChanged.connect(self._edited)
        self.fuel.currentIndexChanged.connect(self._edited)
        self._update_state()

    # --- showing -----------------------------------------------------------------------------------------

    def set_order(self, order: WorkOrderDTO) -> None:
        """Show the order's intake; values typed but not saved yet stay while it is the same order."""
        same = order.id == self.order_id
        self.order_id = order.id
        self.editable = order.status in EDITABLE
        if not (same and self.dirty and self.editable):
            self._fill(order)
        for edit in (self.mileage, self.phone, self.limit):
            edit.setReadOnly(not self.editable)
        for box in (self.wishes, self.damage):
            box.setReadOnly(not self.editable)
        self.fuel.setEnabled(self.editable)
        self.save_button.setVisible(self.editable)
        self._update_state()

    def _fill(self, order: WorkOrderDTO) -> None:
        self._filling = True
        try:
            self.mileage.setText(formatting.number(order.mileage_in, 0) if order.mileage_in is not None else "")
            index = self.fuel.findData(order.fuel_level)
            if index < 0:  # a free text from elsewhere (import, older data) is shown as it is
                self.fuel.addItem(order.fuel_level, order.fuel_level)
                index = self.fuel.count() - 1
            self.fuel.setCurrentIndex(index)
            self.phone.setText(order.approval_phone)
            self.limit.setText(self._amount(order.approval_limit_gross))
            self.wishes.setPlainText(order.customer_wishes)
            self.damage.setPlainText(order.damage_notes)
        finally:
            self._filling = False
        self.dirty = False
        self.clear_errors()

    @staticmethod
    def _amount(value: Decimal | None) -> str:
        return "" if value is None else formatting.number(value, 2)

    def _edited(self) -> None:
        if self._filling or not self.editable:
            return
        self.dirty = True
        self._update_state()

    def _update_state(self) -> None:
        self.save_button.setEnabled(self.editable and self.dirty)
        if not self.editable and self.order_id is not None:
            self.state.setText(_("Nur lesbar – der Auftrag ist abgeschlossen."))
        elif self.dirty:
            self.state.setText(_("Geändert – bitte speichern."))
        else:
            self.state.setText("")

    # --- saving ------------------------------------------------------------------------------------------

    def intake(self) -> Intake:
        """The typed values as the service's input (the service parses and checks them)."""
        return Intake(
            mileage_in=self.mileage.text().strip() or None,
            fuel_level=str(self.fuel.currentData() or ""),
            damage_notes=self.damage.toPlainText(),
            customer_wishes=self.wishes.toPlainText(),
            approval_phone=self.phone.text(),
            approval_limit_gross=self.limit.text().strip() or None,
        )

    def request_save(self) -> None:
        """Hand the typed intake to the editor (only when something changed)."""
        if self.editable and self.dirty:
            self.clear_errors()
            self.save_requested.emit(self.intake())

    def saved(self, order: WorkOrderDTO) -> None:
        """The service stored the intake: show what it stored."""
        self.dirty = False
        self.set_order(order)
        self.state.setText(_("Gespeichert."))

    def show_error(self, field: str, message: str) -> bool:
        """The service's message under its field; False when the field is not on this panel."""
        return any(form.show_error(field, message) for form in self.forms)

    def clear_errors(self) -> None:
        """Hide every message."""
        for form in self.forms:
            form.clear_errors()

    def error_text(self, field: str) -> str:
        """The message shown under ``field`` ("" when none)."""
        for form in self.forms:
            wrapper = form.fields.get(field)
            if wrapper is not None and wrapper.error.isVisibleTo(self):
                return wrapper.error.text()
        return ""
