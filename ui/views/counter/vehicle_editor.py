"""The vehicle dialog, in the order of the Zulassungsbescheinigung Teil I (field codes in the labels).

The VIN is decoded while typing ("Volkswagen · Modelljahr 2019"); on save ``validate_vehicle`` reports
every problem under its field, and the service's own errors (e.g. a VIN stored elsewhere) land there too.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from app.changes import Changes
from app.errors import ConflictError, NotFound, ValidationError, WorkshopError
from app.i18n import N_, _
from app.services.vehicles import VehicleDTO, VehicleInput, validate_vehicle
from ui.context import UiContext
from ui.views.counter.editor_base import EditorDialog
from ui.views.counter.editor_widgets import OptionalDateEdit, OwnerPicker
from ui.views.counter.style import SECONDARY_TEXT, km

FUELS = (
    "",
    N_("Benzin"),
    N_("Diesel"),
    N_("Elektro"),
    N_("Hybrid"),
    N_("Plug-in-Hybrid"),
    N_("Autogas (LPG)"),
    N_("Erdgas (CNG)"),
    N_("Wasserstoff"),
)


def vin_hint(text: str) -> tuple[str, bool]:
    """(hint, ok) for a typed VIN: maker and model year when it decodes, else what is missing or wrong."""
    vin = "".join(text.split()).upper()
    if not vin:
        return "", True
    try:
        # Imported here so the dialog still opens if the rules module misbehaves.
        from app.vehicle_rules import VIN_LENGTH, decode_vin
    except ImportError:
        return "", True
    if len(vin) < VIN_LENGTH and all(c.isalnum() and c not in "IOQ" for c in vin):
        return _("noch {n} Zeichen").format(n=VIN_LENGTH - len(vin)), True
    try:
        info = decode_vin(vin)
    except WorkshopError as exc:
        return exc.message, False
    except Exception:  # noqa: BLE001 - a hint must never break typing
        return "", True
    parts = [info.manufacturer or _("Hersteller unbekannt")]
    if info.model_year:
        parts.append(_("Modelljahr {year}").format(year=info.model_year))
    if info.check_digit_ok is False:
        parts.append(_("Prüfziffer passt nicht"))
    return " · ".join(parts), info.check_digit_ok is not False


class VehicleEditor(EditorDialog):
    """Create (``vehicle=None``, optionally for ``owner`` = (id, name, detail)) or edit a vehicle."""

    def __init__(
        self,
        ctx: UiContext,
        vehicle: VehicleDTO | None = None,
        *,
        owner: tuple[int, str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        plate = vehicle.data.plate or vehicle.data.vin if vehicle else ""
        title = _("Fahrzeug {plate} bearbeiten").format(plate=plate) if vehicle else _("Neues Fahrzeug")
        super().__init__(ctx, title, parent)
        self.vehicle = vehicle
        self._build_fields()
        self.clear_errors_on_edit()
        self.vin.textChanged.connect(self._vin_changed)
        self._fill(vehicle, owner)
        self._set_tab_order()
        (self.plate if vehicle or owner else self.owner).setFocus()

    def _build_fields(self) -> None:
        self.owner = OwnerPicker(self.ctx)
        self.plate = QLineEdit()
        self.plate.setPlaceholderText(_("z. B. M-AB 123"))
        self.first_registration = OptionalDateEdit("dd.MM.yyyy")
        self.hsn = QLineEdit()
        self.hsn.setMaxLength(4)
        self.hsn.setPlaceholderText(_("4 Ziffern"))
        self.tsn = QLineEdit()
        self.tsn.setMaxLength(3)
        self.tsn.setPlaceholderText(_("3 Zeichen"))
        self.make = QLineEdit()
        self.model = QLineEdit()
        self.vin = QLineEdit()
        self.vin.setMaxLength(24)  # typed in blocks with spaces; normalised to 17 characters
        self.vin.setStyleSheet("font-family: monospace;")
        self.vin_hint = QLabel("")
        self.vin_hint.setObjectName("vinHint")
        self.fuel = QComboBox()
        for fuel in FUELS:
            self.fuel.addItem(_(fuel) if fuel else "–", _(fuel) if fuel else "")
        self.hu_due = OptionalDateEdit("MM/yyyy")
        self.mileage = QLineEdit()
        self.mileage.setPlaceholderText(_("z. B. 123.456"))
        self.business_use = QCheckBox(_("gewerblich genutzt"))
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(56)

        self.form.add("customer_id", _("Halter (C.1)"), self.owner)
        self.form.add("plate", _("Kennzeichen (A)"), self.plate)
        self.form.add("first_registration", _("Erstzulassung (B)"), self.first_registration)
        self.form.add("hsn", _("HSN (2.1)"), self.hsn)
        self.form.add("tsn", _("TSN (2.2)"), self.tsn)
        self.form.add("make", _("Marke (D.1)"), self.make)
        self.form.add("model", _("Modell (D.2 / D.3)"), self.model)
        self.form.add("vin", _("FIN (E)"), self.vin)
        self.form.addRow("", self.vin_hint)
        self.form.add("fuel", _("Kraftstoff (P.3)"), self.fuel)
        self.form.add("hu_due", _("Nächste HU/AU"), self.hu_due)
        self.form.add("mileage", _("Kilometerstand"), self.mileage)
        self.form.add("business_use", "", self.business_use)
        self.form.add("notes", _("Notizen"), self.notes)

    # --- data ----------------------------------------------------------------------------------------

    def _fill(self, vehicle: VehicleDTO | None, owner: tuple[int, str, str] | None) -> None:
        d = vehicle.data if vehicle else VehicleInput()
        if vehicle is not None and d.customer_id is not None:
            self.owner.set_owner(
                d.customer_id, vehicle.customer_name, _("Halter seit der Anlage bzw. letzten Änderung")
            )
        elif owner is not None:
            self.owner.set_owner(*owner)
        for name in ("plate", "hsn", "tsn", "make", "model", "vin"):
            getattr(self, name).setText(getattr(d, name))
        index = self.fuel.findData(d.fuel)
        if index < 0:
            self.fuel.addItem(d.fuel, d.fuel)
            index = self.fuel.count() - 1
        self.fuel.setCurrentIndex(index)
        self.first_registration.set_date(d.first_registration, fallback=self.ctx.today().replace(month=1, day=1))
        self.hu_due.set_date(d.hu_due, fallback=self.ctx.today())
        self.business_use.setChecked(d.business_use)
        self.notes.setPlainText(d.notes)
        if vehicle is not None and vehicle.last_mileage is not None:
            self.mileage.setPlaceholderText(
                _("zuletzt {km} – leer lassen oder neuen Stand eintragen").format(km=km(vehicle.last_mileage))
            )
        self._vin_changed(self.vin.text())

    def collect(self) -> VehicleInput:
        """What is typed, as the service's input (not yet normalised)."""
        return VehicleInput(
            customer_id=self.owner.customer_id,
            vin=self.vin.text(),
            plate=self.plate.text(),
            make=self.make.text(),
            model=self.model.text(),
            hsn=self.hsn.text(),
            tsn=self.tsn.text(),
            fuel=str(self.fuel.currentData() or ""),
            first_registration=self.first_registration.date(),
            hu_due=self.hu_due.date(),
            business_use=self.business_use.isChecked(),
            notes=self.notes.toPlainText(),
        )

    def _vin_changed(self, text: str) -> None:
        hint, ok = vin_hint(text)
        self.vin_hint.setText(hint)
        self.vin_hint.setStyleSheet(f"color: {SECONDARY_TEXT if ok else '#b26a00'}; font-size: 9pt;")
        self.vin_hint.setVisible(bool(hint))

    def _mileage(self, errors: list[tuple[str, str]]) -> int | None:
        """The typed reading (None when empty); a problem is added to ``errors``."""
        if not self.mileage.text().strip():
            return None
        from app import vehicle_rules

        try:
            value = vehicle_rules.validate_mileage(self.mileage.text())
            last = self.vehicle.last_mileage if self.vehicle else None
            if value != last:
                vehicle_rules.check_mileage_sequence(last, value)
        except ValidationError as exc:
            errors.append(("mileage", exc.message))
            return None
        return value

    # --- saving --------------------------------------------------------------------------------------

    def save(self) -> None:
        """Show every problem inline, or store through the service in the background."""
        self.clear_problems()
        data = self.collect()
        _cleaned, problems = validate_vehicle(data, self.ctx.today())
        errors = [(e.field, e.message) for e in problems]
        if self.owner.pending_text():
            errors.insert(0, ("customer_id", _("Bitte den Halter aus der Liste wählen oder das Feld leeren.")))
        mileage = self._mileage(errors)
        if errors:
            if any(field == "vin" for field, _message in errors):
                self.vin_hint.hide()  # the same text stands under the field now
            self.show_problems(errors)
            return
        services = self.ctx.services
        vehicle = self.vehicle

        def store() -> tuple[VehicleDTO, Changes]:
            user = services.settings.get().current_user
            if vehicle is None:
                return services.vehicles.create(data, mileage=mileage, user=user)
            dto, changes = services.vehicles.update(vehicle.id, data, user=user)
            if mileage is not None and mileage != vehicle.last_mileage:
                dto, more = services.vehicles.record_mileage(vehicle.id, mileage)
                changes = changes | more
            return dto, changes

        self.store(store)

    def field_for(self, exc: WorkshopError) -> str | None:
        """A VIN stored at another vehicle belongs under the VIN, an unknown owner under the owner."""
        if isinstance(exc, ConflictError) and "FIN" in exc.message_id:
            return "vin"
        if isinstance(exc, NotFound) and "Kunde" in exc.message_id:
            return "customer_id"
        return super().field_for(exc)

    def enter_saves(self) -> bool:
        """Enter in the open owner list picks the owner, it does not save."""
        popup = self.owner.completer.popup()
        return super().enter_saves() and not (popup is not None and popup.isVisible())

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [
            self.owner.edit,
            self.plate,
            self.first_registration.edit,
            self.first_registration.unknown,
            self.hsn,
            self.tsn,
            self.make,
            self.model,
            self.vin,
            self.fuel,
            self.hu_due.edit,
            self.hu_due.unknown,
            self.mileage,
            self.business_use,
            self.notes,
            self.save_button,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)
