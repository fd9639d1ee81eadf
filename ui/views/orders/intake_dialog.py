"""Auftragsannahme (F2): mileage, fuel, damage, the customer's wishes and how to reach them for approvals.

Opens for a vehicle (its owner becomes the customer) or for a customer. When the vehicle has an
appointment today, its services are taken over into the new order (one checkbox). Saving creates the
draft order; the order editor opens next.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QPlainTextEdit, QWidget

from app.errors import ValidationError, WorkshopError
from app.i18n import N_, _
from app.services.appointments import AppointmentDTO
from app.services.work_orders import Intake
from ui.context import UiContext
from ui.views.counter.editor_base import EditorDialog
from ui.views.counter.style import SECONDARY_TEXT, km

FUEL_LEVELS = ("", N_("leer"), "1/4", "1/2", "3/4", N_("voll"))
_INTAKE_FIELDS = (
    "mileage_in",
    "fuel_level",
    "damage_notes",
    "customer_wishes",
    "approval_phone",
    "approval_limit_gross",
)


@dataclass(frozen=True)
class IntakeContext:
    """Who the order is for, loaded in the background when the dialog opens."""

    customer_id: int | None
    customer_name: str
    vehicle_title: str
    last_mileage: int | None
    phone: str
    appointment: AppointmentDTO | None


def _text_box(placeholder: str) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)  # Tab follows the paper form instead of typing a tab character
    box.setFixedHeight(58)
    return box


class NewOrderDialog(EditorDialog):
    """Intake for a new work order; ``saved`` carries the created WorkOrderDTO."""

    def __init__(
        self,
        ctx: UiContext,
        *,
        customer_id: int | None = None,
        vehicle_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, _("Neuer Auftrag – Annahme"), parent)
        self.vehicle_id = vehicle_id
        self.context: IntakeContext | None = None
        self.heading = QLabel(_("Wird geladen …"))
        self.heading.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.heading.setWordWrap(True)
        self.mileage = QLineEdit()
        self.fuel = QComboBox()
        for level in FUEL_LEVELS:
            self.fuel.addItem(_(level) if level else "–", level)  # stored in German, shown translated
        self.damage = _text_box(_("z. B. Kratzer Stoßfänger hinten links"))
        self.wishes = _text_box(_("z. B. Inspektion, Geräusch beim Bremsen prüfen"))
        self.phone = QLineEdit()
        self.phone.setPlaceholderText(_("für Rückfragen und Freigaben"))
        self.limit = QLineEdit()
        self.limit.setPlaceholderText(_("z. B. 500 – vorher anrufen; leer: keine Grenze"))
        self.take_appointment = QCheckBox()
        self.take_appointment.hide()
        self.form.addRow(self.heading)
        self.form.add("mileage_in", _("km-Stand bei Annahme"), self.mileage)
        self.form.add("fuel_level", _("Tank"), self.fuel)
        self.form.add("damage_notes", _("Sichtbare Schäden"), self.damage)
        self.form.add("customer_wishes", _("Kundenwunsch"), self.wishes)
        self.form.add("approval_phone", _("Rückruf-Telefon"), self.phone)
        self.form.add("approval_limit_gross", _("Anrufen ab (€ brutto)"), self.limit)
        self.form.add("appointment_id", "", self.take_appointment)
        hint = QLabel(_("Die Annahmedaten werden mit dem Auftrag gespeichert; Positionen folgen im nächsten Schritt."))
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 9pt;")
        self.form.addRow("", hint)
        self.save_button.setText(_("Auftrag anlegen"))
        self.save_button.setToolTip(_("Auftrag anlegen (Enter)"))
        self.save_button.setEnabled(False)
        self.clear_errors_on_edit()
        self.mileage.setFocus()
        self._load(customer_id, vehicle_id)

    # --- loading -----------------------------------------------------------------------------------------

    def _load(self, customer_id: int | None, vehicle_id: int | None) -> None:
        services, today = self.ctx.services, self.ctx.today()

        def fetch() -> IntakeContext:
            vehicle = services.vehicles.get(vehicle_id) if vehicle_id is not None else None
            owner = customer_id if customer_id is not None else (vehicle.data.customer_id if vehicle else None)
            customer = services.customers.get(owner) if owner is not None else None
            appointment = None
            if vehicle_id is not None:
                appointment = next(
                    (
                        a
                        for a in services.appointments.day(today)
                        if a.vehicle_id == vehicle_id and a.status in ("pending", "confirmed")
                    ),
                    None,
                )
            return IntakeContext(
                customer_id=owner,
                customer_name=customer.display_name if customer else "",
                vehicle_title=vehicle.title if vehicle else "",
                last_mileage=vehicle.last_mileage if vehicle else None,
                phone=(customer.data.mobile or customer.data.phone) if customer else "",
                appointment=appointment,
            )

        self.ctx.query(fetch, self.show_context, parent=self)

    def show_context(self, context: IntakeContext) -> None:
        """Fill heading, defaults and the appointment offer."""
        self.context = context
        parts = [context.vehicle_title or _("ohne Fahrzeug"), context.customer_name]
        self.heading.setText(" · ".join(p for p in parts if p))
        if context.last_mileage is not None:
            self.mileage.setPlaceholderText(_("zuletzt {km}").format(km=km(context.last_mileage)))
        if not self.vehicle_id:
            self.form.setRowVisible(self.form.fields["mileage_in"], False)
        if not self.phone.text():
            self.phone.setText(context.phone)
        appt = context.appointment
        if appt is not None:
            services = ", ".join(appt.service_names) or appt.title
            self.take_appointment.setText(
                _("Termin heute {time} übernehmen: {services}").format(time=f"{appt.start:%H:%M}", services=services)
            )
            self.take_appointment.setChecked(True)
            self.take_appointment.show()
        if context.customer_id is None:
            self.show_problems(
                [("", _("Das Fahrzeug hat keinen Halter – bitte zuerst einen Kunden zuordnen (Fahrzeug bearbeiten)."))]
            )
            return
        self.save_button.setEnabled(True)

    # --- saving ------------------------------------------------------------------------------------------

    def intake(self) -> Intake:
        """What the form says, as the service's input (the service validates)."""
        return Intake(
            mileage_in=self.mileage.text().strip() or None,
            fuel_level=str(self.fuel.currentData() or ""),
            damage_notes=self.damage.toPlainText(),
            customer_wishes=self.wishes.toPlainText(),
            approval_phone=self.phone.text(),
            approval_limit_gross=self.limit.text().strip() or None,
        )

    def save(self) -> None:
        """Create the order (from today's appointment when ticked)."""
        context = self.context
        if context is None or context.customer_id is None or not self.save_button.isEnabled():
            return
        self.clear_problems()
        orders, intake, vehicle_id = self.ctx.services.work_orders, self.intake(), self.vehicle_id
        customer_id = context.customer_id
        appt = context.appointment
        if appt is not None and self.take_appointment.isChecked():
            self.store(lambda: orders.create_from_appointment(appt.id, intake))
        else:
            self.store(lambda: orders.create(customer_id, vehicle_id, intake=intake))

    def field_for(self, exc: WorkshopError) -> str | None:
        """Intake errors under their field; everything else above the buttons."""
        if isinstance(exc, ValidationError) and exc.field in _INTAKE_FIELDS:
            return exc.field
        return None
