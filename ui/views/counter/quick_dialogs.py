"""Small dialogs of the vehicle card: record a mileage reading ("km erfassen") and a passed HU/AU."""

from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QCheckBox, QDateEdit, QLabel, QLineEdit, QWidget

from app import formatting
from app.errors import ValidationError
from app.i18n import _
from app.services.vehicles import VehicleDTO
from ui.context import UiContext
from ui.views.counter.editor_base import EditorDialog
from ui.views.counter.editor_widgets import to_date
from ui.views.counter.style import SECONDARY_TEXT, km


def _date_edit(value: QDate) -> QDateEdit:
    edit = QDateEdit(value)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd.MM.yyyy")
    return edit


def _heading(vehicle: VehicleDTO) -> QLabel:
    label = QLabel(vehicle.title)
    label.setStyleSheet("font-size: 12pt; font-weight: 600;")
    return label


class MileageDialog(EditorDialog):
    """Record an odometer reading; a lower one only with "Tachotausch"."""

    def __init__(self, ctx: UiContext, vehicle: VehicleDTO, parent: QWidget | None = None) -> None:
        super().__init__(ctx, _("Kilometerstand erfassen"), parent)
        self.setMinimumWidth(460)
        self.vehicle = vehicle
        self.km = QLineEdit()
        self.km.setPlaceholderText(_("z. B. 123.456"))
        self.date = _date_edit(QDate(ctx.today()))
        self.date.setMaximumDate(QDate(ctx.today()))
        self.tacho = QCheckBox(_("Tachotausch (niedrigerer Stand zulässig)"))
        self.form.addRow(_heading(vehicle))
        self.form.add("mileage", _("Kilometerstand"), self.km)
        self.form.add("date", _("Abgelesen am"), self.date)
        self.form.add("allow_lower", "", self.tacho)
        if vehicle.last_mileage is not None:
            last = QLabel(_("Zuletzt erfasst: {km}").format(km=km(vehicle.last_mileage)))
            last.setStyleSheet(f"color: {SECONDARY_TEXT};")
            self.form.addRow("", last)
        self.clear_errors_on_edit()
        self.km.setFocus()

    def save(self) -> None:
        """Check the number and the sequence (pure rules), then store."""
        from app import vehicle_rules

        self.clear_problems()
        allow_lower = self.tacho.isChecked()
        try:
            value = vehicle_rules.validate_mileage(self.km.text())
            vehicle_rules.check_mileage_sequence(self.vehicle.last_mileage, value, allow_lower=allow_lower)
        except ValidationError as exc:
            self.show_problems([("mileage", exc.message)])
            return
        vehicles, vehicle_id = self.ctx.services.vehicles, self.vehicle.id
        date = to_date(self.date.date())
        self.store(lambda: vehicles.record_mileage(vehicle_id, value, date=date, allow_lower=allow_lower))


class HuDialog(EditorDialog):
    """Enter a passed HU/AU: the next one is due 24 months after the inspection month."""

    def __init__(self, ctx: UiContext, vehicle: VehicleDTO, parent: QWidget | None = None) -> None:
        super().__init__(ctx, _("HU/AU eintragen"), parent)
        self.setMinimumWidth(460)
        self.vehicle = vehicle
        self.date = _date_edit(QDate(ctx.today()))
        self.date.setMaximumDate(QDate(ctx.today()))
        self.next_due = QLabel("")
        self.next_due.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.form.addRow(_heading(vehicle))
        self.form.add("inspection_date", _("HU/AU bestanden am"), self.date)
        self.form.addRow("", self.next_due)
        self.date.dateChanged.connect(self._update_hint)
        self._update_hint()
        self.date.setFocus()

    def _update_hint(self) -> None:
        from app import vehicle_rules

        due = vehicle_rules.next_hu_due(to_date(self.date.date()))
        self.next_due.setText(_("Nächste HU/AU fällig: {month}").format(month=formatting.month(due)))

    def save(self) -> None:
        """Store the inspection."""
        vehicles, settings, vehicle_id = self.ctx.services.vehicles, self.ctx.services.settings, self.vehicle.id
        when = to_date(self.date.date())

        def record() -> object:
            return vehicles.record_hu(vehicle_id, when, user=settings.get().current_user)

        self.store(record)
