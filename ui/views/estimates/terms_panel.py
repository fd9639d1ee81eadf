"""The terms of a KVA ("Bedingungen"): binding or not, valid until, free or charged with the agreed fee, and
remarks for the customer. Editable while the KVA is a draft; the estimate service checks the values
(a fee only when charged, §632 Abs. 3 BGB; no validity in the past) and its messages appear under the
fields here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
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
from app.services.estimates import EstimateDTO
from ui.views.counter.editor_widgets import to_date
from ui.views.counter.style import SECONDARY_TEXT
from ui.widgets.form import ValidatedForm

FIELDS = ("binding", "valid_until", "charged", "fee_net", "notes")


def _row(*widgets: QWidget | None) -> QWidget:
    """Widgets side by side in one form row; None is a stretch that takes the rest of the width."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        if widget is None:
            layout.addStretch(1)
        else:
            layout.addWidget(widget, 1 if isinstance(widget, QLabel) and widget.wordWrap() else 0)
    return row


class TermsPanel(QGroupBox):
    """``save_requested`` carries the keyword arguments for ``EstimateService.set_terms``."""

    save_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Bedingungen"), parent)
        self.setObjectName("termsPanel")
        self.estimate: EstimateDTO | None = None
        self.editable = False
        self.dirty = False
        self._filling = False
        self.threshold = Decimal("15")
        self.binding = QComboBox()
        self.binding.addItem(_("unverbindlich"), False)
        self.binding.addItem(_("verbindlich (Festpreis)"), True)
        self.binding_hint = QLabel("")
        self.binding_hint.setWordWrap(True)
        self.binding_hint.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 9pt;")
        self.valid_until = QDateEdit()
        self.valid_until.setDisplayFormat("dd.MM.yyyy")
        self.valid_until.setCalendarPopup(True)
        self.valid_until.setFixedWidth(140)
        self.charged = QComboBox()
        self.charged.addItem(_("kostenlos"), False)
        self.charged.addItem(_("berechnet (mit dem Kunden vereinbart)"), True)
        self.fee = QLineEdit()
        self.fee.setPlaceholderText(_("z. B. 30"))
        self.fee.setMaximumWidth(120)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText(_("z. B. Bremsscheiben bei Verschleiß mit tauschen"))
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(46)
        self.form = ValidatedForm()
        self.form.setHorizontalSpacing(10)
        self.form.setVerticalSpacing(3)
        self.form.add("binding", _("Art"), _row(self.binding, self.binding_hint))
        self.form.add("valid_until", _("Gültig bis"), _row(self.valid_until, None))
        fee_label = QLabel(_("Gebühr netto (€)"))
        self.form.add("charged", _("Kosten des KVA"), _row(self.charged, fee_label, self.fee, None))
        self.form.fields["fee_net"] = self.form.fields["charged"]  # the fee's messages appear in its row
        self.form.add("notes", _("Hinweise"), self.notes)
        self.save_button = QPushButton(_("Bedingungen speichern"))
        self.save_button.setObjectName("termsSave")
        self.save_button.setToolTip(_("Geänderte Bedingungen speichern"))
        self.save_button.clicked.connect(self.request_save)
        self.state = QLabel("")
        self.state.setObjectName("termsState")
        self.state.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 9pt;")
        buttons = QHBoxLayout()
        buttons.addWidget(self.state, 1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setSpacing(4)
        layout.addLayout(self.form)
        layout.addStretch(1)  # spare height below the rows, not inside them
        layout.addLayout(buttons)
        self.binding.currentIndexChanged.connect(self._edited)
        self.charged.currentIndexChanged.connect(self._edited)
        self.valid_until.dateChanged.connect(self._edited)
        self.fee.textEdited.connect(self._edited)
        self.fee.returnPressed.connect(self.request_save)
        self.notes.textChanged.connect(self._edited)
        self._update()

    # --- showing -----------------------------------------------------------------------------------------

    def set_threshold(self, percent: Decimal) -> None:
        """The workshop's allowed overrun of a non-binding KVA (Einstellungen → Werkstatt)."""
        self.threshold = percent
        self._update()

    def set_estimate(self, estimate: EstimateDTO) -> None:
        """Show the KVA's terms; typed but unsaved values stay while it is the same draft."""
        same = self.estimate is not None and self.estimate.id == estimate.id
        self.estimate = estimate
        self.editable = estimate.status == "draft"
        if not (same and self.dirty and self.editable):
            self._fill(estimate)
        for widget in (self.binding, self.charged, self.valid_until):
            widget.setEnabled(self.editable)
        self.fee.setReadOnly(not self.editable)
        self.notes.setReadOnly(not self.editable)
        self.save_button.setVisible(self.editable)
        self._update()

    def _fill(self, estimate: EstimateDTO) -> None:
        self._filling = True
        try:
            self.binding.setCurrentIndex(1 if estimate.binding else 0)
            self.charged.setCurrentIndex(1 if estimate.charged else 0)
            self.fee.setText(formatting.number(estimate.fee_net, 2) if estimate.charged else "")
            valid = estimate.valid_until or dt.date.today()
            self.valid_until.setDate(QDate(valid.year, valid.month, valid.day))
            self.notes.setPlainText(estimate.notes)
        finally:
            self._filling = False
        self.dirty = False
        self.form.clear_errors()

    def _edited(self) -> None:
        if self._filling or not self.editable:
            return
        self.dirty = True
        self._update()

    def _update(self) -> None:
        charged = bool(self.charged.currentData())
        self.fee.setEnabled(charged)
        self.binding_hint.setText(
            _("Der Auftrag darf den Betrag nicht überschreiten.")
            if self.binding.currentData()
            else _("Abweichung bis {percent} % möglich, darüber vorher fragen.").format(
                percent=formatting.number(self.threshold, 1)
            )
        )
        self.save_button.setEnabled(self.editable and self.dirty)
        if self.estimate is not None and not self.editable:
            self.state.setText(_("Fest – der Kostenvoranschlag ist nicht mehr im Entwurf."))
        else:
            self.state.setText(_("Geändert – bitte speichern.") if self.dirty else "")

    # --- saving ------------------------------------------------------------------------------------------

    def terms(self) -> dict[str, Any]:
        """The typed terms as ``set_terms`` arguments; an untouched validity is not sent again (an expired
        draft may still get new remarks)."""
        assert self.estimate is not None
        charged = bool(self.charged.currentData())
        valid = to_date(self.valid_until.date())
        return {
            "binding": bool(self.binding.currentData()),
            "charged": charged,
            "fee_net": (self.fee.text().strip() or "0") if charged else "0",
            "valid_until": None if valid == self.estimate.valid_until else valid,
            "notes": self.notes.toPlainText(),
        }

    def request_save(self) -> None:
        """Hand the terms to the editor (only when something changed)."""
        if self.editable and self.dirty and self.estimate is not None:
            self.form.clear_errors()
            self.save_requested.emit(self.terms())

    def saved(self, estimate: EstimateDTO) -> None:
        """The service stored the terms."""
        self.dirty = False
        self.set_estimate(estimate)
        self.state.setText(_("Gespeichert."))

    def show_error(self, field: str, message: str) -> bool:
        """The service's message under its field; False when the field is not on this panel."""
        return self.form.show_error(field, message)

    def error_text(self, field: str) -> str:
        """The message shown under ``field`` ("" when none)."""
        wrapper = self.form.fields.get(field)
        return wrapper.error.text() if wrapper is not None and wrapper.error.isVisibleTo(self) else ""
