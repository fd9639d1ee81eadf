"""The "Theke" tab in three modes (Alt+1/2/3): "Kunden & Fahrzeuge" – search and today's appointments on the
left, the open customer or vehicle on the right –, "Aufträge" (orders and Kostenvoranschläge, lists and
editors) and "Rechnungen". F2 starts an order, Ctrl+K a KVA for the vehicle or customer on screen."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from app.changes import Changes
from app.i18n import N_, _
from app.services.appointments import AppointmentDTO
from app.services.customers import CustomerDTO
from app.services.search import SearchHit
from app.services.vehicles import VehicleDTO
from ui.context import UiContext
from ui.views.counter.customer_card import CustomerCard
from ui.views.counter.customer_editor import CustomerEditor
from ui.views.counter.overview import OverviewData, OverviewPage
from ui.views.counter.quick_dialogs import HuDialog, MileageDialog
from ui.views.counter.search_panel import SearchPanel
from ui.views.counter.today_panel import TodayPanel
from ui.views.counter.vehicle_card import VehicleCard
from ui.views.counter.vehicle_editor import VehicleEditor
from ui.views.invoices.view import InvoicesPage
from ui.views.orders.intake_dialog import NewOrderDialog
from ui.views.orders.segments import SegmentedSwitch
from ui.views.orders.view import OrdersPage

MODES = (
    ("people", N_("Kunden && Fahrzeuge"), "Alt+1"),
    ("orders", N_("Aufträge"), "Alt+2"),
    ("invoices", N_("Rechnungen"), "Alt+3"),
)


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    return first, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


class CounterView(QWidget):
    """The counter staff's screen for the whole day; everything reachable from the keyboard."""

    PAGE_OVERVIEW, PAGE_CUSTOMER, PAGE_VEHICLE = range(3)
    MODE_PEOPLE, MODE_ORDERS, MODE_INVOICES = range(3)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.dialog: QDialog | None = None  # the editor or quick dialog currently open
        self.search = SearchPanel(ctx)
        self.today_panel = TodayPanel()
        self.overview = OverviewPage()
        self.customer_card = CustomerCard(ctx)
        self.vehicle_card = VehicleCard(ctx)
        self.pages = QStackedWidget()
        self.pages.setObjectName("counterPages")
        for page in (self.overview, self.customer_card, self.vehicle_card):
            self.pages.addWidget(page)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(12, 12, 6, 12)
        left_layout.setSpacing(14)
        left_layout.addWidget(self.search, 0)
        left_layout.addWidget(self.today_panel, 1)
        self.today_panel.setMinimumHeight(200)  # always a few of today's appointments in view
        left.setMinimumWidth(400)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([440, 920])
        self.orders = OrdersPage(ctx)
        self.invoices = InvoicesPage(ctx)
        self.modes = QStackedWidget()
        for page in (splitter, self.orders, self.invoices):
            self.modes.addWidget(page)
        self.mode_switch = SegmentedSwitch()
        for index, (key, text, keys) in enumerate(MODES):
            self.mode_switch.add(key, _(text), _("{mode} ({keys})").format(mode=_(text).replace("&&", "&"), keys=keys))
            QShortcut(QKeySequence(keys), self, lambda i=index: self.set_mode(i))
        self.mode_switch.changed.connect(lambda key: self.set_mode([m[0] for m in MODES].index(key)))
        bar = QHBoxLayout()
        bar.setContentsMargins(12, 8, 12, 0)
        bar.addWidget(self.mode_switch)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.modes)

        self.search.hit_activated.connect(self._open_hit)
        self.search.cleared.connect(self.show_overview)
        self.today_panel.appointment_activated.connect(self._open_appointment)
        self.customer_card.edit_requested.connect(self.edit_customer)
        self.customer_card.add_vehicle_requested.connect(lambda _c: self.new_vehicle())
        self.customer_card.vehicle_activated.connect(self.open_vehicle)
        self.customer_card.load_failed.connect(self.show_overview)
        self.vehicle_card.edit_requested.connect(self.edit_vehicle)
        self.vehicle_card.owner_activated.connect(self.open_customer)
        self.vehicle_card.mileage_requested.connect(lambda v: self._open_dialog(MileageDialog(ctx, v, self)))
        self.vehicle_card.hu_requested.connect(lambda v: self._open_dialog(HuDialog(ctx, v, self)))
        self.vehicle_card.load_failed.connect(self.show_overview)
        self.vehicle_card.order_activated.connect(self.open_order)
        self.vehicle_card.new_order_requested.connect(self.new_order)
        self.customer_card.new_order_requested.connect(self.new_order)
        self.vehicle_card.new_estimate_requested.connect(self.new_estimate)
        self.customer_card.new_estimate_requested.connect(self.new_estimate)
        self.orders.customer_requested.connect(self.open_customer)
        self.orders.vehicle_requested.connect(self.open_vehicle)
        self.orders.new_requested.connect(self.new_order)
        self.orders.new_estimate_requested.connect(self.new_estimate)
        for keys, slot in (("F4", self.edit_current), ("Ctrl+K", self.new_estimate)):
            QShortcut(QKeySequence(keys), self, slot).setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        ctx.bus.operation_did_execute.connect(self._on_changes)
        self.setFocusProxy(self.search)
        self.reload_today()

    # --- API used by the main window -------------------------------------------------------------------

    def focus_search(self) -> None:
        """Ctrl+F / F3 / Esc: the cursor into the search box, text selected."""
        self.set_mode(self.MODE_PEOPLE)
        self.search.focus()

    def set_mode(self, mode: int) -> None:
        """Kunden & Fahrzeuge (0), Aufträge (1) or Rechnungen (2)."""
        self.modes.setCurrentIndex(mode)
        self.mode_switch.set_current(MODES[mode][0])
        if mode == self.MODE_ORDERS:
            self.orders.focus()
        elif mode == self.MODE_INVOICES:
            self.invoices.ensure_loaded()
            self.invoices.focus()

    def open_order(self, order_id: int) -> None:
        """Show a work order in the order editor."""
        self.set_mode(self.MODE_ORDERS)
        self.orders.open_order(order_id)

    def new_order(self) -> NewOrderDialog | None:
        """F2: the intake for the vehicle (or customer) on screen; then the new order opens."""
        customer_id = vehicle_id = None
        mode, page = self.modes.currentIndex(), self.pages.currentIndex()
        order = self.orders.editor.order
        if mode == self.MODE_PEOPLE and page == self.PAGE_VEHICLE and self.vehicle_card.vehicle is not None:
            vehicle_id = self.vehicle_card.vehicle.id
        elif mode == self.MODE_PEOPLE and page == self.PAGE_CUSTOMER and self.customer_card.customer is not None:
            customer_id, vehicle_id = self.customer_card.customer.id, self.customer_card.order_vehicle_id()
        elif mode == self.MODE_ORDERS and self.orders.stack.currentIndex() == OrdersPage.PAGE_EDITOR and order:
            customer_id, vehicle_id = order.customer_id, order.vehicle_id
        if customer_id is None and vehicle_id is None:
            self.focus_search()
            self.ctx.bus.status_message_posted.emit(
                _("Für einen neuen Auftrag zuerst Fahrzeug oder Kunde suchen (Strg+F), dann F2.")
            )
            return None
        dialog = NewOrderDialog(self.ctx, customer_id=customer_id, vehicle_id=vehicle_id, parent=self)
        dialog.saved.connect(lambda created: self.open_order(created.id))
        self._open_dialog(dialog)
        return dialog

    def open_estimate(self, estimate_id: int) -> None:
        """Show a Kostenvoranschlag in the KVA editor."""
        self.set_mode(self.MODE_ORDERS)
        self.orders.open_estimate(estimate_id)

    def _party_on_screen(self) -> tuple[int | None, int | None]:
        """(customer id, vehicle id) of the card, order or KVA on screen; a vehicle's owner is its customer."""
        if self.modes.currentIndex() == self.MODE_ORDERS:
            shown = self.orders.stack.currentIndex()
            document = (
                self.orders.editor.order
                if shown == OrdersPage.PAGE_EDITOR
                else self.orders.estimate_editor.estimate
                if shown == OrdersPage.PAGE_ESTIMATE
                else None
            )
            return (document.customer_id, document.vehicle_id) if document is not None else (None, None)
        if self.modes.currentIndex() != self.MODE_PEOPLE:
            return None, None
        page = self.pages.currentIndex()
        vehicle, customer = self.vehicle_card.vehicle, self.customer_card.customer
        if page == self.PAGE_VEHICLE and vehicle is not None:
            return vehicle.data.customer_id, vehicle.id
        if page == self.PAGE_CUSTOMER and customer is not None:
            return customer.id, self.customer_card.order_vehicle_id()
        return None, None

    def new_estimate(self) -> None:
        """Ctrl+K: a new draft KVA for the vehicle (its owner), customer, order or KVA on screen; its editor opens."""
        customer_id, vehicle_id = self._party_on_screen()
        if customer_id is None:
            self.ctx.bus.status_message_posted.emit(
                _("Das Fahrzeug hat keinen Halter – bitte zuerst einen Kunden zuordnen (Fahrzeug bearbeiten).")
                if vehicle_id is not None
                else _("Für einen Kostenvoranschlag zuerst Fahrzeug oder Kunde suchen (Strg+F), dann Strg+K.")
            )
            if vehicle_id is None:
                self.focus_search()
            return
        estimates = self.ctx.services.estimates
        self.ctx.mutate(
            lambda: estimates.create(customer_id, vehicle_id),
            lambda result: self.open_estimate(result[0].id),
            parent=self,
            initiator=self,
        )

    def new_customer(self) -> CustomerEditor:
        """Open the dialog for a new customer; on save the customer card opens."""
        dialog = CustomerEditor(self.ctx, None, self)
        dialog.saved.connect(lambda c: self.open_customer(c.id))
        self._open_dialog(dialog)
        return dialog

    def new_vehicle(self) -> VehicleEditor:
        """Open the dialog for a new vehicle, for the customer on screen if one is open."""
        owner = None
        customer = self.customer_card.customer
        if self.pages.currentIndex() == self.PAGE_CUSTOMER and customer is not None:
            owner = (customer.id, customer.display_name, _("Kundennummer {number}").format(number=customer.number))
        dialog = VehicleEditor(self.ctx, None, owner=owner, parent=self)
        dialog.saved.connect(lambda v: self.open_vehicle(v.id))
        self._open_dialog(dialog)
        return dialog

    # --- navigation ------------------------------------------------------------------------------------

    def show_overview(self) -> None:
        """The start page with today's numbers."""
        self.pages.setCurrentIndex(self.PAGE_OVERVIEW)

    def open_customer(self, customer_id: int) -> None:
        """Show the customer card."""
        self.set_mode(self.MODE_PEOPLE)
        self.customer_card.load(customer_id)
        self.pages.setCurrentIndex(self.PAGE_CUSTOMER)

    def open_vehicle(self, vehicle_id: int) -> None:
        """Show the vehicle card."""
        self.set_mode(self.MODE_PEOPLE)
        self.vehicle_card.load(vehicle_id)
        self.pages.setCurrentIndex(self.PAGE_VEHICLE)

    def edit_customer(self, customer: CustomerDTO) -> CustomerEditor:
        """Edit the customer's master data and consents."""
        dialog = CustomerEditor(self.ctx, customer, self)
        self._open_dialog(dialog)
        return dialog

    def edit_vehicle(self, vehicle: VehicleDTO) -> VehicleEditor:
        """Edit the vehicle's master data."""
        dialog = VehicleEditor(self.ctx, vehicle, parent=self)
        self._open_dialog(dialog)
        return dialog

    def edit_current(self) -> None:
        """F4: edit what the right side shows."""
        page = self.pages.currentIndex()
        if page == self.PAGE_CUSTOMER and self.customer_card.customer is not None:
            self.edit_customer(self.customer_card.customer)
        elif page == self.PAGE_VEHICLE and self.vehicle_card.vehicle is not None:
            self.edit_vehicle(self.vehicle_card.vehicle)

    def _open_hit(self, hit: SearchHit) -> None:
        if hit.kind == "vehicle" and hit.vehicle_id is not None:
            self.open_vehicle(hit.vehicle_id)
        elif hit.customer_id is not None:
            self.open_customer(hit.customer_id)

    def _open_appointment(self, appt: AppointmentDTO) -> None:
        if appt.vehicle_id is not None:
            self.open_vehicle(appt.vehicle_id)
        elif appt.customer_id is not None:
            self.open_customer(appt.customer_id)

    def _open_dialog(self, dialog: QDialog) -> None:
        # open(), not exec(): window-modal without a nested event loop, so background results keep arriving.
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        self.dialog = dialog
        dialog.open()

    def _dialog_closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
            self.search.setFocus()

    # --- data ------------------------------------------------------------------------------------------

    def reload_today(self) -> None:
        """Load today's appointments and the overview's numbers in the background."""
        day = self.ctx.today()
        services = self.ctx.services
        first, last = _month_bounds(day)

        def fetch() -> OverviewData:
            appointments = services.appointments.day(day)
            return OverviewData(
                workshop_name=services.settings.get().name,
                day=day,
                appointments=tuple(appointments),
                hu_due_this_month=len(services.vehicles.hu_due_between(first, last)),
                customer_count=services.customers.count(),
            )

        self.ctx.query(fetch, self._today_loaded, parent=self)

    def _today_loaded(self, data: OverviewData) -> None:
        self.today_panel.set_day(data.day, data.appointments)
        self.overview.set_data(data)

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        page = self.pages.currentIndex()
        if changes.customers or changes.vehicles:
            self.search.refresh()
            if page == self.PAGE_CUSTOMER:
                self.customer_card.reload()
        if (changes.customers or changes.vehicles or changes.orders) and page == self.PAGE_VEHICLE:
            self.vehicle_card.reload()
        if changes.appointments or changes.settings or changes.customers or changes.vehicles:
            self.reload_today()
