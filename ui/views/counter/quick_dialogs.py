"""Small dialogs of the vehicle card: record a mileage reading ("km erfassen") and a passed HU/AU."""

from __future__ import annotations

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import QCheckBox, QDateEdit, QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from app import formatting
from app.errors import ValidationError
from app.i18n import _
from app.services.vehicles import VehicleDTO
from ui.context import UiContext
from ui.errors import show_error
from ui.views.counter.style import SECONDARY_TEXT, km
from ui.widgets.form import ValidatedForm


def _date_edit(value: QDate) -> QDateEdit:
    edit = QDateEdit(value)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd.MM.yyyy")
    return edit


class _QuickDialog(QDialog):
    """A short form with Speichern/Abbrechen; Enter saves, Esc cancels, errors appear inline."""

    saved = Signal(object)  # VehicleDTO

    def __init__(self, ctx: UiContext, vehicle: VehicleDTO, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.vehicle = vehicle
        self.setWindowTitle(title)
        self.setMinimumWidth(420)
        self.form = ValidatedForm()
        self.intro = QLabel(vehicle.title)
        self.intro.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(_("Speichern"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Abbrechen"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)

    def save(self) -> None:
        """Check and store; overridden."""
        raise NotImplementedError

    def _store(self, fn: object) -> None:
        def done(result: object) -> None:
            self.saved.emit(result[0] if isinstance(result, tuple) else result)
            self.accept()

        def failed(exc: BaseException) -> None:
            if not (isinstance(exc, ValidationError) and self.form.show_error(exc.field, exc.message)):
                show_error(parent=self, exc=exc)

        self.ctx.mutate(fn, done, parent=self, initiator=self, on_error=failed)  # type: ignore[arg-type]


class MileageDialog(_QuickDialog):
    """Record an odometer reading; a lower one only with "Tachotausch"."""

    def __init__(self, ctx: UiContext, vehicle: VehicleDTO, parent: QWidget | None = None) -> None:
        super().__init__(ctx, vehicle, _("Kilometerstand erfassen"), parent)
        self.km = QLineEdit()
        self.km.setPlaceholderText(_("z. B. 123.456"))
        self.date = _date_edit(QDate(ctx.today()))
        self.tacho = QCheckBox(_("Tachotausch (niedrigerer Stand zulässig)"))
        self.form.add("mileage", _("Kilometerstand"), self.km)
        self.form.add("date", _("Abgelesen am"), self.date)
        self.form.add("allow_lower", "", self.tacho)
        if vehicle.last_mileage is not None:
            last = QLabel(_("Zuletzt erfasst: {km}").format(km=km(vehicle.last_mileage)))
            last.setStyleSheet(f"color: {SECONDARY_TEXT};")
            self.form.addRow("", last)
        self.km.setFocus()

    def save(self) -> None:
        """Validate the number here, the sequence in the service."""
        from app import vehicle_rules

        self.form.clear_errors()
        try:
            value = vehicle_rules.validate_mileage(self.km.text())
            vehicle_rules.check_mileage_sequence(self.vehicle.last_mileage, value, allow_lower=self.tacho.isChecked())
        except ValidationError as exc:
            self.form.show_error("mileage", exc.message)
            return
        vehicles, vehicle_id = self.ctx.services.vehicles, self.vehicle.id
        date, allow_lower = self.date.date().toPython(), self.tacho.isChecked()
        self._store(lambda: vehicles.record_mileage(vehicle_id, value, date=date, allow_lower=allow_lower))


class HuDialog(_QuickDialog):
    """Enter a passed HU/AU: the next one is due 24 months after the inspection month."""

    def __init__(self, ctx: UiContext, vehicle: VehicleDTO, parent: QWidget | None = None) -> None:
        super().__init__(ctx, vehicle, _("HU/AU eintragen"), parent)
        self.date = _date_edit(QDate(ctx.today()))
        self.date.setMaximumDate(QDate(ctx.today()))
        self.next_due = QLabel("")
        self.next_due.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.form.add("inspection_date", _("HU/AU bestanden am"), self.date)
        self.form.addRow("", self.next_due)
        self.date.dateChanged.connect(self._update_hint)
        self._update_hint()
        self.date.setFocus()

    def _update_hint(self) -> None:
        from app import vehicle_rules

        due = vehicle_rules.next_hu_due(self.date.date().toPython())
        self.next_due.setText(_("Nächste HU/AU fällig: {month}").format(month=formatting.month(due)))

    def save(self) -> None:
        """Store the inspection."""
        vehicles, settings, vehicle_id = self.ctx.services.vehicles, self.ctx.services.settings, self.vehicle.id
        when = self.date.date().toPython()

        def record() -> object:
            user = settings.get().current_user
            return vehicles.record_hu(vehicle_id, when, user=user)

        self._store(record)
