"""Input widgets of the counter's editors: a date with an "unbekannt" option and an owner (customer) picker."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QCheckBox, QCompleter, QDateEdit, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.i18n import _
from app.services.search import SearchHit
from ui.context import UiContext
from ui.views.counter.style import SECONDARY_TEXT


def to_date(value: QDate) -> dt.date:
    """A QDate as a Python date."""
    return dt.date(value.year(), value.month(), value.day())


class OptionalDateEdit(QWidget):
    """A QDateEdit plus an "unbekannt" checkbox; typing a date unticks "unbekannt" by itself."""

    changed = Signal()

    def __init__(self, display_format: str = "dd.MM.yyyy", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QDateEdit()
        self.edit.setDisplayFormat(display_format)
        self.edit.setCalendarPopup(True)
        self.edit.setMinimumDate(QDate(1886, 1, 1))
        self.edit.setMaximumDate(QDate(2100, 12, 31))
        self.unknown = QCheckBox(_("unbekannt"))
        self.unknown.setToolTip(_("Ankreuzen, wenn das Datum nicht bekannt ist"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.unknown)
        self.setFocusProxy(self.edit)
        self._programmatic = False
        self.edit.dateChanged.connect(self._date_edited)
        self.unknown.toggled.connect(self._unknown_toggled)
        self.set_date(None)

    def set_date(self, value: dt.date | None, *, fallback: dt.date | None = None) -> None:
        """Show ``value``; None ticks "unbekannt" (the editor then shows ``fallback`` greyed out)."""
        self._programmatic = True
        try:
            shown = value or fallback or dt.date.today()
            self.edit.setDate(QDate(shown.year, shown.month, shown.day))
            self.unknown.setChecked(value is None)
        finally:
            self._programmatic = False
        self._unknown_toggled(value is None)

    def date(self) -> dt.date | None:
        """The date, or None when "unbekannt" is ticked."""
        return None if self.unknown.isChecked() else to_date(self.edit.date())

    def _date_edited(self) -> None:
        if not self._programmatic and self.unknown.isChecked():
            self.unknown.setChecked(False)
        self.changed.emit()

    def _unknown_toggled(self, checked: bool) -> None:
        # Greyed, not disabled: the date stays reachable by Tab and typing into it unticks "unbekannt".
        self.edit.setStyleSheet("QDateEdit { color: #9e9e9e; }" if checked else "")
        if not self._programmatic:
            self.changed.emit()


class OwnerPicker(QWidget):
    """Choose a customer by typing part of the name, number or phone; results come from the search service."""

    owner_changed = Signal()

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.customer_id: int | None = None
        self._selected_text = ""
        self._generation = 0
        self._choices: dict[str, SearchHit] = {}
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(_("Name, Kundennummer oder Telefon tippen …"))
        self.edit.setClearButtonEnabled(True)
        self.state = QLabel("")
        self.state.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 9pt;")
        self._model = QStandardItemModel(self)
        self.completer = QCompleter(self._model, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setWidget(self.edit)
        self.completer.activated.connect(self._chosen)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self._search)
        self.edit.textEdited.connect(self._edited)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.edit)
        layout.addWidget(self.state)
        self.setFocusProxy(self.edit)
        self._update_state()

    def set_owner(self, customer_id: int | None, name: str = "", detail: str = "") -> None:
        """Pre-select an owner (or none); ``detail`` is shown below, e.g. the customer number."""
        self.customer_id = customer_id
        self._selected_text = name if customer_id is not None else ""
        self.edit.setText(self._selected_text)
        self._update_state(detail)

    def pending_text(self) -> bool:
        """True when text was typed but no customer chosen from the list."""
        return bool(self.edit.text().strip()) and self.customer_id is None

    def _edited(self, text: str) -> None:
        if text != self._selected_text and self.customer_id is not None:
            self.customer_id = None
            self.owner_changed.emit()
        self._update_state()
        if text.strip():
            self._timer.start()
        else:
            self._timer.stop()
            popup = self.completer.popup()
            if popup is not None:
                popup.hide()

    def _search(self) -> None:
        text = self.edit.text().strip()
        if not text or text == self._selected_text:
            return
        self._generation += 1
        generation = self._generation
        search = self.ctx.services.search
        self.ctx.query(
            lambda: [h for h in search.search(text, limit=20) if h.kind == "customer"],
            lambda hits: self._show(generation, hits),
            parent=self,
        )

    def _show(self, generation: int, hits: list[SearchHit]) -> None:
        if generation != self._generation:
            return
        self._model.clear()
        self._choices = {}
        for hit in hits:
            text = " · ".join(p for p in (hit.title, hit.subtitle) if p)
            self._choices[text] = hit
            self._model.appendRow(QStandardItem(text))
        if hits and self.edit.hasFocus():
            self.completer.complete()

    def choose(self, text: str) -> bool:
        """Select the listed customer shown as ``text`` (what a click or Enter in the popup does)."""
        hit = self._choices.get(text)
        if hit is None:
            return False
        self.customer_id = hit.customer_id
        self._selected_text = hit.title
        self.edit.setText(hit.title)
        self._update_state(hit.subtitle)
        self.owner_changed.emit()
        return True

    def _chosen(self, text: str) -> None:
        if self.choose(text):
            # The completer writes the whole popup line into the box after this signal; show the name only.
            QTimer.singleShot(0, lambda: self.edit.setText(self._selected_text) if self.customer_id else None)

    def _update_state(self, detail: str = "") -> None:
        if self.customer_id is not None:
            self.state.setText(detail or _("Halter gewählt"))
        elif self.edit.text().strip():
            self.state.setText(_("Bitte einen Kunden aus der Liste wählen (Pfeiltasten, Enter)."))
        else:
            self.state.setText(_("Leer lassen für ein Fahrzeug ohne Halter."))
