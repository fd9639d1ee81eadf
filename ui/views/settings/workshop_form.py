"""The input widgets of the "Werkstatt" page: master data, bank, AW rates and opening hours.

Display only: values go in via ``show_settings`` and out via ``values()``; the page saves them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app import formatting
from app.calendar_rules import DEFAULT_OPENING_HOURS, parse_opening_hours
from app.errors import ValidationError
from app.i18n import _, locale_name
from app.money import parse_decimal
from app.services.catalog import labour_price
from app.services.settings import AW_PER_HOUR_CHOICES, WorkshopSettings
from app.validation import BUNDESLAENDER
from ui.views.settings.hours_editor import OpeningHoursEditor
from ui.widgets.form import FieldWithError, ValidatedForm

HINT_STYLE = "color: #607d8b;"
SLOT_CHOICES = (5, 10, 15, 20, 30, 60)
# Field name → column length in app/models/workshop.py (the IBAN may be typed in groups of four).
TEXT_FIELDS: dict[str, int] = {
    "name": 120,
    "owner_name": 120,
    "street": 120,
    "postcode": 10,
    "city": 80,
    "phone": 40,
    "email": 120,
    "website": 120,
    "tax_number": 20,
    "vat_id": 20,
    "iban": 34,
    "bic": 11,
    "bank_name": 80,
}


def _group(title: str) -> tuple[QGroupBox, ValidatedForm]:
    box = QGroupBox(title)
    form = ValidatedForm()
    form.setHorizontalSpacing(14)
    form.setVerticalSpacing(8)
    form.setFieldGrowthPolicy(ValidatedForm.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    box.setLayout(form)
    return box, form


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(HINT_STYLE)
    return label


def rate_text(value: Decimal) -> str:
    """The hourly rate as typed in the field: "118,50" (de) – no thousands separator, parse_decimal reads it."""
    return format_decimal(value, format="0.00", locale=locale_name())


class WorkshopForm(QWidget):
    """All fields of the workshop settings in four groups; ``edited`` fires on any change by the user."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, FieldWithError] = {}
        self.edits: dict[str, QLineEdit] = {}
        for name, length in TEXT_FIELDS.items():
            edit = QLineEdit()
            edit.setMaxLength(length)
            edit.textEdited.connect(lambda _text, key=name: self._on_edit(key))
            self.edits[name] = edit
        self._loading = False
        self._left_forms: list[ValidatedForm] = []
        left = QVBoxLayout()
        left.addWidget(self._workshop_group())
        left.addWidget(self._bank_group())
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self._labour_group())
        right.addWidget(self._hours_group())
        right.addStretch(1)
        columns = QHBoxLayout(self)
        columns.setContentsMargins(0, 0, 0, 0)
        columns.setSpacing(16)
        # The opening-hours grid needs the wider column.
        columns.addLayout(left, 5)
        columns.addLayout(right, 6)

    # --- building --------------------------------------------------------------------------------------

    def _add(self, form: ValidatedForm, name: str, label: str, editor: QWidget) -> None:
        form.add(name, label, editor)
        self.fields[name] = form.fields[name]

    def _workshop_group(self) -> QGroupBox:
        box, form = _group(_("Werkstatt"))
        self._left_forms.append(form)
        e = self.edits
        e["name"].setPlaceholderText(_("z. B. Kfz-Meisterbetrieb Huber"))
        e["postcode"].setPlaceholderText(_("PLZ"))
        e["city"].setPlaceholderText(_("Ort"))
        e["phone"].setPlaceholderText(_("z. B. 089 123456-0"))
        e["email"].setPlaceholderText(_("z. B. info@werkstatt-huber.de"))
        e["website"].setPlaceholderText(_("z. B. www.werkstatt-huber.de"))
        e["tax_number"].setPlaceholderText(_("z. B. 181/815/08155"))
        e["vat_id"].setPlaceholderText(_("z. B. DE136695976"))
        self._add(form, "name", _("Name der Werkstatt"), e["name"])
        self._add(form, "owner_name", _("Inhaber"), e["owner_name"])
        self._add(form, "street", _("Straße und Hausnummer"), e["street"])
        # PLZ and Ort share a row but keep their own error lines.
        place = QWidget()
        row = QHBoxLayout(place)
        row.setContentsMargins(0, 0, 0, 0)
        for name, stretch in (("postcode", 0), ("city", 1)):
            wrapper = FieldWithError(e[name])
            form.fields[name] = self.fields[name] = wrapper
            row.addWidget(wrapper, stretch, Qt.AlignmentFlag.AlignTop)
        e["postcode"].setFixedWidth(90)
        form.addRow(_("PLZ und Ort"), place)
        self._add(form, "phone", _("Telefon"), e["phone"])
        self._add(form, "email", _("E-Mail"), e["email"])
        self._add(form, "website", _("Website"), e["website"])
        self.bundesland = QComboBox()
        for code, name in sorted(BUNDESLAENDER.items(), key=lambda item: item[1]):
            self.bundesland.addItem(name, code)
        self.bundesland.activated.connect(lambda _i: self._on_edit("bundesland"))
        self._add(form, "bundesland", _("Bundesland"), self.bundesland)
        self._add(form, "tax_number", _("Steuernummer"), e["tax_number"])
        self._add(form, "vat_id", _("USt-IdNr."), e["vat_id"])
        form.addRow(
            "", _hint(_("Das Bundesland bestimmt die Feiertage im Terminkalender und das Format der Steuernummer."))
        )
        return box

    def _bank_group(self) -> QGroupBox:
        box, form = _group(_("Bank"))
        self._left_forms.append(form)
        self.edits["iban"].setPlaceholderText(_("z. B. DE89 3704 0044 0532 0130 00"))
        self.edits["bic"].setPlaceholderText(_("z. B. COBADEFFXXX"))
        self._add(form, "iban", _("IBAN"), self.edits["iban"])
        self._add(form, "bic", _("BIC"), self.edits["bic"])
        self._add(form, "bank_name", _("Bank"), self.edits["bank_name"])
        form.addRow("", _hint(_("Erscheint auf Rechnungen und Kostenvoranschlägen.")))
        return box

    def _labour_group(self) -> QGroupBox:
        box, form = _group(_("Arbeitswerte"))
        self.labour_rate = QLineEdit()
        self.labour_rate.setMaxLength(12)
        self.labour_rate.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.labour_rate.setFixedWidth(110)
        self.labour_rate.setPlaceholderText("0,00")
        self.labour_rate.textEdited.connect(lambda _t: self._on_edit("labour_rate_net"))
        self.labour_rate.textChanged.connect(self.update_aw_price)
        rate_row = QWidget()
        rate_layout = QHBoxLayout(rate_row)
        rate_layout.setContentsMargins(0, 0, 0, 0)
        rate_layout.addWidget(self.labour_rate)
        rate_layout.addWidget(QLabel(_("€ pro Stunde")))
        rate_layout.addStretch(1)
        self._add(form, "labour_rate_net", _("Stundenverrechnungssatz netto"), rate_row)
        self.fields["labour_rate_net"].editor = self.labour_rate  # the red frame belongs on the input, not the row
        self.aw_per_hour = QComboBox()
        for choice in AW_PER_HOUR_CHOICES:
            self.aw_per_hour.addItem(_("{count} AW").format(count=choice), choice)
        self.aw_per_hour.setFixedWidth(110)
        self.aw_per_hour.currentIndexChanged.connect(self.update_aw_price)
        self.aw_per_hour.activated.connect(lambda _i: self._on_edit("aw_per_hour"))
        self._add(form, "aw_per_hour", _("AW pro Stunde"), self.aw_per_hour)
        form.addRow(
            "", _hint(_("10 AW = 6 Min. (die meisten Marken)\n12 AW = 5 Min. (BMW, Mercedes)\n100 = VW-Zeiteinheiten"))
        )
        self.aw_price = QLabel("–")
        self.aw_price.setObjectName("awPrice")
        self.aw_price.setStyleSheet("font-weight: 600; font-size: 12pt;")
        self.aw_price.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(_("AW-Preis"), self.aw_price)
        return box

    def _hours_group(self) -> QGroupBox:
        box = QGroupBox(_("Öffnungszeiten"))
        layout = QVBoxLayout(box)
        layout.setSpacing(8)
        self.hours = OpeningHoursEditor()
        self.hours.changed.connect(lambda: self._on_edit("opening_hours"))
        self.hours.changed.connect(self.update_hours_summary)
        layout.addWidget(self.hours)
        self.hours_summary = QLabel("")
        self.hours_summary.setObjectName("hoursSummary")
        self.hours_summary.setWordWrap(True)
        self.fields["opening_hours"] = FieldWithError(self.hours_summary)
        layout.addWidget(self.fields["opening_hours"])
        form = ValidatedForm()
        form.setHorizontalSpacing(14)
        self.slot_minutes = QComboBox()
        for minutes in SLOT_CHOICES:
            self.slot_minutes.addItem(_("{minutes} Minuten").format(minutes=minutes), minutes)
        self.slot_minutes.setFixedWidth(130)
        self.slot_minutes.activated.connect(lambda _i: self._on_edit("slot_minutes"))
        self._add(form, "slot_minutes", _("Terminraster"), self.slot_minutes)
        form.addRow(
            "", _hint(_("Termine beginnen und enden auf diesem Raster; die Dauer aus den AW wird darauf aufgerundet."))
        )
        layout.addLayout(form)
        return box

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Line up the label columns once the style sheet's font is known (it is applied on showing)."""
        _align_labels(self._left_forms)
        super().showEvent(event)

    # --- values ----------------------------------------------------------------------------------------

    def _on_edit(self, name: str) -> None:
        if self._loading:
            return
        # Once the user touches a field, its old message no longer applies.
        wrapper = self.fields.get(name)
        if wrapper is not None and name != "opening_hours":
            wrapper.set_error("")
        self.edited.emit()

    def show_settings(self, settings: WorkshopSettings) -> None:
        """Fill every field from ``settings`` (no ``edited`` signal)."""
        self._loading = True
        try:
            for name, edit in self.edits.items():
                edit.setText(str(getattr(settings, name)))
                edit.setCursorPosition(0)
            self.edits["iban"].setText(_iban_groups(settings.iban))
            self.labour_rate.setText(rate_text(settings.labour_rate_net))
            _select(self.bundesland, settings.bundesland)
            _select(self.aw_per_hour, settings.aw_per_hour)
            _select(self.slot_minutes, settings.slot_minutes)
            try:
                hours = parse_opening_hours(settings.opening_hours)
            except ValidationError:
                hours = DEFAULT_OPENING_HOURS  # an unreadable stored value: offer the usual hours instead
            self.hours.set_hours(hours)
        finally:
            self._loading = False
        self.update_aw_price()
        self.update_hours_summary()

    def values(self) -> dict[str, Any]:
        """Every editable setting as the service's update() takes it (text as typed, codes, numbers)."""
        values: dict[str, Any] = {name: edit.text().strip() for name, edit in self.edits.items()}
        values["labour_rate_net"] = self.labour_rate.text().strip()
        values["bundesland"] = self.bundesland.currentData()
        values["aw_per_hour"] = self.aw_per_hour.currentData()
        values["slot_minutes"] = self.slot_minutes.currentData()
        values["opening_hours"] = self.hours.to_json()
        return values

    # --- live feedback ---------------------------------------------------------------------------------

    def update_aw_price(self) -> None:
        """AW-Preis = Stundenverrechnungssatz ÷ AW pro Stunde, as typed right now."""
        try:
            rate = parse_decimal(self.labour_rate.text())
        except ValueError:
            self.aw_price.setText("–")
            return
        price = labour_price(Decimal(1), rate, int(self.aw_per_hour.currentData()))
        self.aw_price.setText(_("{price} netto je AW").format(price=formatting.money(price)))

    def update_hours_summary(self) -> None:
        """The opening hours in one line, or the reason they cannot be saved."""
        wrapper = self.fields["opening_hours"]
        try:
            hours = parse_opening_hours(self.hours.to_json())
        except ValidationError as exc:
            self.hours_summary.setText(_("So können die Öffnungszeiten nicht gespeichert werden:"))
            wrapper.set_error(exc.message)
            return
        wrapper.set_error("")
        self.hours_summary.setText(_("Zusammenfassung: {summary}").format(summary=hours.summary()))


def _select(combo: QComboBox, data: object) -> None:
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)


def _iban_groups(iban: str) -> str:
    """The stored compact IBAN in groups of four, as printed on bank cards and invoices."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _align_labels(forms: list[ValidatedForm]) -> None:
    """Give stacked forms one label width, so their fields line up."""
    labels: list[QWidget] = []
    for form in forms:
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            widget = item.widget() if item is not None else None
            if widget is not None:
                labels.append(widget)
    for label in labels:
        label.setMinimumWidth(0)
        label.ensurePolished()
    width = max((label.sizeHint().width() for label in labels), default=0)
    for label in labels:
        label.setMinimumWidth(width)
