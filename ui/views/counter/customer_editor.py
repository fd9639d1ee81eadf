"""The customer dialog: private or business customer, address, contact data and reminder consents.

Every problem is shown under its field at once (``validate_customer`` returns all of them); the service
checks again on save and its ValidationError lands at its field too. Enter saves, Esc cancels.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.i18n import N_, _
from app.services.customers import ConsentChange, CustomerDTO, CustomerInput, validate_customer
from ui.context import UiContext
from ui.views.counter.editor_base import EditorDialog
from ui.views.counter.style import SECONDARY_TEXT, local_timestamp

SALUTATIONS = ("", N_("Herr"), N_("Frau"), N_("Firma"))
COUNTRIES = (
    ("DE", N_("Deutschland")),
    ("AT", N_("Österreich")),
    ("CH", N_("Schweiz")),
    ("NL", N_("Niederlande")),
    ("BE", N_("Belgien")),
    ("LU", N_("Luxemburg")),
    ("FR", N_("Frankreich")),
    ("DK", N_("Dänemark")),
    ("PL", N_("Polen")),
    ("CZ", N_("Tschechien")),
    ("IT", N_("Italien")),
)
CONSENT_CHANNELS = (("email", N_("per E-Mail")), ("sms", N_("per SMS")), ("phone", N_("per Telefon")))


class CustomerEditor(EditorDialog):
    """Create (``customer=None``) or edit a customer."""

    def __init__(self, ctx: UiContext, customer: CustomerDTO | None = None, parent: QWidget | None = None) -> None:
        title = _("Kunde {number} bearbeiten").format(number=customer.number) if customer else _("Neuer Kunde")
        super().__init__(ctx, title, parent)
        self.customer = customer
        self._build_fields()
        self.clear_errors_on_edit()
        self.private.toggled.connect(self._kind_changed)
        self._fill(customer.data if customer else CustomerInput())
        if customer is not None:
            self._show_consent_times(customer)
        self._set_tab_order()
        (self.company if self.business.isChecked() else self.last_name if customer else self.first_name).setFocus()

    def _build_fields(self) -> None:
        self.private = QRadioButton(_("Privatkunde"))
        self.business = QRadioButton(_("Geschäftskunde"))
        self._kind_group = QButtonGroup(self)
        self._kind_group.addButton(self.private)
        self._kind_group.addButton(self.business)
        kind = QWidget()
        kind_layout = QHBoxLayout(kind)
        kind_layout.setContentsMargins(0, 0, 0, 0)
        kind_layout.addWidget(self.private)
        kind_layout.addWidget(self.business)
        kind_layout.addStretch(1)
        self.company = QLineEdit()
        self.vat_id = QLineEdit()
        self.vat_id.setPlaceholderText(_("z. B. DE123456789"))
        self.salutation = QComboBox()
        for text in SALUTATIONS:
            self.salutation.addItem(_(text) if text else "–", text)
        self.first_name = QLineEdit()
        self.last_name = QLineEdit()
        self.street = QLineEdit()
        self.street.setPlaceholderText(_("Straße und Hausnummer"))
        self.postcode = QLineEdit()
        self.city = QLineEdit()
        self.country = QComboBox()
        for code, name in COUNTRIES:
            self.country.addItem(f"{_(name)} ({code})", code)
        self.phone = QLineEdit()
        self.mobile = QLineEdit()
        self.email = QLineEdit()
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(64)

        # Rows in the order of the paper customer card.
        self.form.add("kind", _("Kundenart"), kind)
        self.form.add("company", _("Firma"), self.company)
        self.form.add("vat_id", _("USt-IdNr."), self.vat_id)
        self.form.add("salutation", _("Anrede"), self.salutation)
        self.form.add("first_name", _("Vorname"), self.first_name)
        self.form.add("last_name", _("Nachname"), self.last_name)
        self.form.add("street", _("Straße"), self.street)
        self.form.add("postcode", _("PLZ"), self.postcode)
        self.form.add("city", _("Ort"), self.city)
        self.form.add("country", _("Land"), self.country)
        self.form.add("phone", _("Telefon"), self.phone)
        self.form.add("mobile", _("Mobil"), self.mobile)
        self.form.add("email", _("E-Mail"), self.email)
        self.form.add("consent", _("Erinnerungen"), self._build_consent())
        self.form.add("notes", _("Notizen"), self.notes)

    def _build_consent(self) -> QWidget:
        self.consent_boxes: dict[str, QCheckBox] = {}
        consent = QWidget()
        consent_layout = QVBoxLayout(consent)
        consent_layout.setContentsMargins(0, 0, 0, 0)
        consent_layout.setSpacing(2)
        row = QHBoxLayout()
        for channel, text in CONSENT_CHANNELS:
            box = QCheckBox(_(text))
            self.consent_boxes[channel] = box
            row.addWidget(box)
        row.addStretch(1)
        consent_layout.addLayout(row)
        self.consent_hint = QLabel(_("Nur ankreuzen, wenn der Kunde Erinnerungen (HU, Service) zugestimmt hat."))
        self.consent_hint.setWordWrap(True)
        self.consent_hint.setStyleSheet(f"color: {SECONDARY_TEXT}; font-size: 9pt;")
        consent_layout.addWidget(self.consent_hint)
        return consent

    # --- data ----------------------------------------------------------------------------------------

    def _fill(self, d: CustomerInput) -> None:
        (self.business if d.kind == "business" else self.private).setChecked(True)
        for name in (
            "company",
            "vat_id",
            "first_name",
            "last_name",
            "street",
            "postcode",
            "city",
            "phone",
            "mobile",
            "email",
        ):
            getattr(self, name).setText(getattr(d, name))
        index = self.salutation.findData(d.salutation)
        if index < 0:
            self.salutation.addItem(d.salutation, d.salutation)
            index = self.salutation.count() - 1
        self.salutation.setCurrentIndex(index)
        index = self.country.findData(d.country or "DE")
        if index < 0:
            self.country.addItem(d.country, d.country)
            index = self.country.count() - 1
        self.country.setCurrentIndex(index)
        self.notes.setPlainText(d.notes)
        for channel, box in self.consent_boxes.items():
            box.setChecked(bool(self.customer and self.customer.consent(channel)))
        self._kind_changed()

    def _show_consent_times(self, customer: CustomerDTO) -> None:
        for state in customer.consents:
            box = self.consent_boxes.get(state.channel)
            if box is not None:
                verb = _("erteilt") if state.granted else _("widerrufen")
                box.setToolTip(
                    _("{verb} am {when} ({source})").format(
                        verb=verb, when=local_timestamp(state.recorded_at), source=state.source
                    )
                )

    def collect(self) -> CustomerInput:
        """What is typed, as the service's input (not yet normalised)."""
        business = self.business.isChecked()
        return CustomerInput(
            kind="business" if business else "private",
            salutation=str(self.salutation.currentData() or ""),
            first_name=self.first_name.text(),
            last_name=self.last_name.text(),
            company=self.company.text() if business else "",
            street=self.street.text(),
            postcode=self.postcode.text(),
            city=self.city.text(),
            country=str(self.country.currentData() or "DE"),
            vat_id=self.vat_id.text() if business else "",
            email=self.email.text(),
            phone=self.phone.text(),
            mobile=self.mobile.text(),
            notes=self.notes.toPlainText(),
        )

    def consent_changes(self) -> tuple[ConsentChange, ...]:
        """Consents to record: for a new customer the ticked ones, otherwise every change."""
        changes = []
        for channel, box in self.consent_boxes.items():
            before = bool(self.customer and self.customer.consent(channel))
            if box.isChecked() != before:
                changes.append(ConsentChange(channel=channel, granted=box.isChecked()))
        return tuple(changes)

    # --- saving --------------------------------------------------------------------------------------

    def save(self) -> None:
        """Show every problem inline, or store through the service in the background."""
        self.clear_problems()
        data = self.collect()
        _cleaned, errors = validate_customer(data)
        if errors:
            self.show_problems((e.field, e.message) for e in errors)
            return
        consents = self.consent_changes()
        services = self.ctx.services
        customer_id = self.customer.id if self.customer else None

        def store() -> tuple[CustomerDTO, Changes]:
            user = services.settings.get().current_user
            if customer_id is None:
                return services.customers.create(data, consents=consents, user=user)
            dto, changes = services.customers.update(customer_id, data)
            for change in consents:
                dto, more = services.customers.set_consent(customer_id, change, user=user)
                changes = changes | more
            return dto, changes

        self.store(store)

    # --- layout helpers ------------------------------------------------------------------------------

    def _kind_changed(self) -> None:
        business = self.business.isChecked()
        for name in ("company", "vat_id"):
            self.form.setRowVisible(self.form.fields[name], business)
        label = self.form.labelForField(self.form.fields["last_name"])
        if isinstance(label, QLabel):
            label.setText(_("Nachname (Ansprechpartner)") if business else _("Nachname"))
        if self.isVisible():
            self._grow()

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [
            self.private,
            self.business,
            self.company,
            self.vat_id,
            self.salutation,
            self.first_name,
            self.last_name,
            self.street,
            self.postcode,
            self.city,
            self.country,
            self.phone,
            self.mobile,
            self.email,
            *self.consent_boxes.values(),
            self.notes,
            self.save_button,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)
