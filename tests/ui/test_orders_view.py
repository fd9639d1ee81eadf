"""The order screens of the Theke tab against a real database: intake (F2), the order editor with the
catalogue search, line dialog, status buttons, live totals and the KVA banner, and invoicing through the
preview up to the invoice list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QPushButton, QStyleOptionViewItem

from app import formatting
from app.catalog_csv import ServiceRow
from app.db import Database
from app.demo import setup_workshop
from app.services.order_lines import LineInput
from app.services.registry import Services
from app.services.work_orders import Intake
from tests.ui.test_counter import TODAY, add_customer_with_vehicle, make_ctx, visible_error
from ui.views.counter.view import CounterView
from ui.views.invoices import files
from ui.views.invoices.preview import InvoicePreviewDialog
from ui.views.orders.approval_dialog import ApprovalDialog
from ui.views.orders.editor import OrderEditor
from ui.views.orders.header import allowed_actions
from ui.views.orders.intake_dialog import NewOrderDialog
from ui.views.orders.line_dialog import LineDialog
from ui.views.orders.lines_table import COL


@pytest.fixture
def services(db: Database) -> Services:
    """Services with a fixed today and a workshop that may issue invoices (address, tax number, IBAN)."""
    services = Services.for_database(db, today=TODAY)
    setup_workshop(services)
    services.catalog.create(
        ServiceRow(code="BR-0001", category="Bremsen", name="Bremsbeläge vorne erneuern", aw=Decimal("8"))
    )
    return services


@pytest.fixture
def view(qtbot: Any, services: Services, tmp_path: Path) -> Iterator[CounterView]:
    """The Theke tab, shown."""
    widget = CounterView(make_ctx(services, tmp_path))
    qtbot.addWidget(widget)
    widget.resize(1366, 780)
    widget.show()
    yield widget
    for owner in (widget, widget.orders.editor):
        if owner.dialog is not None:
            owner.dialog.done(0)


def new_order(services: Services, **intake: Any) -> tuple[int, int]:
    """(order id, vehicle id) of a fresh draft for Anna Schneider's Golf."""
    customer_id, vehicle_id = add_customer_with_vehicle(services)
    order = services.work_orders.create(customer_id, vehicle_id, intake=Intake(**intake)).order
    return order.id, vehicle_id


def open_editor(view: CounterView, order_id: int) -> OrderEditor:
    """Show the order in the editor."""
    view.open_order(order_id)
    editor = view.orders.editor
    assert editor.order is not None and editor.order.id == order_id
    return editor


def money(value: str) -> str:
    """How the screens print an amount ("112,34 €" with the locale's spacing)."""
    return formatting.money(Decimal(value))


def visible_buttons(editor: OrderEditor) -> set[str]:
    """The status buttons the header shows."""
    return {action for action, button in editor.header.buttons.items() if button.isVisibleTo(editor)}


# --- intake -----------------------------------------------------------------------------------------------


def test_f2_on_the_vehicle_card_takes_the_intake_and_opens_the_new_order(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    _customer_id, vehicle_id = add_customer_with_vehicle(services)
    view.open_vehicle(vehicle_id)
    dialog = view.new_order()
    assert isinstance(dialog, NewOrderDialog)
    assert "M-AB 123" in dialog.heading.text() and "Schneider, Anna" in dialog.heading.text()
    assert dialog.phone.text() == "089 123456"  # the customer's number, for approvals
    assert dialog.mileage.placeholderText() == "zuletzt 84.000 km"
    dialog.mileage.setText("83000")  # lower than the last reading: refused at its field
    dialog.save()
    assert "ist niedriger als der letzte erfasste" in visible_error(dialog, "mileage_in")
    assert services.work_orders.list() == []
    dialog.mileage.setText("85.100")
    dialog.wishes.setPlainText("Bremsen quietschen")
    dialog.limit.setText("300")
    dialog.save()
    assert view.modes.currentWidget() is view.orders
    editor = view.orders.editor
    assert editor.order is not None and editor.order.status == "draft"
    assert editor.order.mileage_in == 85_100
    assert editor.header.chip.text() == "Entwurf"
    assert editor.intake.mileage.text() == "85.100"
    assert editor.intake.wishes.toPlainText() == "Bremsen quietschen"
    assert editor.intake.limit.text() == "300"
    view.open_vehicle(vehicle_id)
    assert view.vehicle_card.orders_table.rowCount() == 1
    assert view.vehicle_card.orders_table.item(0, 0).text() == editor.order.number


def test_f2_on_the_customer_card_takes_the_only_vehicle(qtbot: Any, view: CounterView, services: Services) -> None:
    customer_id, vehicle_id = add_customer_with_vehicle(services)
    view.open_customer(customer_id)
    view.customer_card.new_order_button.click()
    dialog = view.dialog
    assert isinstance(dialog, NewOrderDialog) and dialog.vehicle_id == vehicle_id
    dialog.save()
    order = view.orders.editor.order
    assert order is not None and (order.customer_id, order.vehicle_id) == (customer_id, vehicle_id)


def test_an_appointment_today_brings_its_services_into_the_new_order(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    from app.services.appointment_types import AppointmentInput

    customer_id, vehicle_id = add_customer_with_vehicle(services)
    service = services.catalog.get_by_code("BR-0001")
    mechanic = services.settings.mechanics()[0]
    services.appointments.book(
        AppointmentInput(
            start=dt.datetime.combine(TODAY, dt.time(9, 0)),
            bay_id=services.settings.bays()[0].id,
            mechanic_id=mechanic.id,
            customer_id=customer_id,
            vehicle_id=vehicle_id,
            service_ids=(service.id,),
        ),
        force=True,
    )
    view.open_vehicle(vehicle_id)
    dialog = view.new_order()
    assert dialog is not None and dialog.take_appointment.isVisibleTo(dialog)
    assert "09:00" in dialog.take_appointment.text() and "Bremsbeläge" in dialog.take_appointment.text()
    dialog.save()
    order = view.orders.editor.order
    assert order is not None and order.appointment_id is not None
    assert [(line.text, line.mechanic_name) for line in order.lines] == [("Bremsbeläge vorne erneuern", mechanic.name)]


def test_f2_without_a_vehicle_or_customer_on_screen_asks_to_search_first(view: CounterView) -> None:
    messages: list[str] = []
    view.ctx.bus.status_message_posted.connect(messages.append)
    assert view.new_order() is None
    assert view.dialog is None
    assert messages and "zuerst Fahrzeug oder Kunde suchen" in messages[0]
    assert view.modes.currentIndex() == view.MODE_PEOPLE


def test_the_vehicle_card_lists_open_orders_and_double_click_opens_one(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    order_id, vehicle_id = new_order(services)
    view.open_vehicle(vehicle_id)
    table = view.vehicle_card.orders_table
    assert table.isVisibleTo(view) and table.rowCount() == 1
    assert table.item(0, 2).text() == "Entwurf"
    view.vehicle_card.order_activated.emit(view.vehicle_card.open_orders[0].id)
    assert view.modes.currentWidget() is view.orders
    assert view.orders.editor.order is not None and view.orders.editor.order.id == order_id


# --- lines and totals ----------------------------------------------------------------------------------


def test_typing_a_catalogue_service_and_enter_adds_it_with_aw_and_updates_totals(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    order_id, _vehicle_id = new_order(services)
    editor = open_editor(view, order_id)
    qtbot.keyClicks(editor.search.edit, "Bremsbel")
    qtbot.keyClick(editor.search.edit, Qt.Key.Key_Return)  # faster than the debounce: added when found
    order = editor.order
    assert order is not None and len(order.lines) == 1
    line = order.lines[0]
    assert line.kind == "labour" and line.aw == Decimal("8.00") and line.part_no == "BR-0001"
    assert editor.table.cell_text(0, "quantity") == "8"
    assert editor.table.cell_text(0, "unit") == "AW"
    assert editor.table.cell_text(0, "price") == money("11.80")  # 118 € per hour ÷ 10 AW
    assert editor.table.cell_text(0, "net") == money("94.40")
    assert editor.totals.values["Netto 19 %"] == money("94.40")
    assert editor.totals.values["USt 19 %"] == money("17.94")
    assert editor.totals.gross.text() == money("112.34")
    assert editor.search.edit.text() == "" and not editor.search.results.isVisible()
    # Second time: wait for the drop-down, then Enter takes the highlighted hit.
    qtbot.keyClicks(editor.search.edit, "Bremsbel")
    qtbot.waitUntil(lambda: editor.search.results.isVisible() and editor.search.results.count() > 0)
    assert "8 AW" in editor.search.results.item(0).text()
    qtbot.keyClick(editor.search.edit, Qt.Key.Key_Return)
    assert editor.totals.gross.text() == money("224.67")
    assert services.work_orders.get(order_id).totals.gross == Decimal("224.67")


def test_a_part_with_a_bad_price_shows_the_error_at_the_price_and_adds_nothing(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    order_id, _vehicle_id = new_order(services)
    editor = open_editor(view, order_id)
    dialog = editor.open_line_dialog("part")
    assert isinstance(dialog, LineDialog) and editor.dialog is dialog
    dialog.text.setText("Ölfilter")
    dialog.part_no.setText("OC 90")
    dialog.price.setText("abc")
    dialog.save()
    assert "„abc“ ist keine Zahl" in visible_error(dialog, "unit_price_net")
    assert services.work_orders.get(order_id).lines == ()
    dialog.price.setText("12,50")
    dialog.quantity.setText("2")
    dialog.save()
    assert editor.dialog is None
    assert editor.table.rowCount() == 1
    assert editor.table.cell_text(0, "kind") == "Teil"
    assert editor.table.cell_text(0, "net") == money("25.00")
    assert editor.totals.gross.text() == money("29.75")


def test_a_discount_in_percent_and_removing_a_line_recompute_the_totals(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    order_id, _vehicle_id = new_order(services)
    services.work_orders.add_line(order_id, LineInput(kind="part", text="Bremsscheibe", unit_price_net="100"))
    editor = open_editor(view, order_id)
    dialog = editor.open_line_dialog("discount")
    assert dialog is not None
    dialog.discount_value.setText("10")
    dialog.save()
    assert editor.table.cell_text(1, "quantity") == "10 %"
    assert editor.table.cell_text(1, "net") == money("-10.00")
    assert editor.totals.gross.text() == money("107.10")
    editor.table.selectRow(1)
    editor.remove_button.click()
    assert editor.table.rowCount() == 1 and editor.totals.gross.text() == money("119.00")


def test_monteur_and_actual_aw_are_entered_in_the_table(qtbot: Any, view: CounterView, services: Services) -> None:
    order_id, _vehicle_id = new_order(services)
    service = services.catalog.get_by_code("BR-0001")
    services.work_orders.add_service(order_id, service.id)
    editor = open_editor(view, order_id)
    table = editor.table
    index = table.model().index(0, COL["mechanic"])
    delegate = table.itemDelegateForColumn(COL["mechanic"])
    combo = delegate.createEditor(table.viewport(), QStyleOptionViewItem(), index)
    combo.setCurrentIndex(combo.findText("Emre Yılmaz"))
    delegate.setModelData(combo, table.model(), index)
    qtbot.waitUntil(lambda: editor.order is not None and editor.order.lines[0].mechanic_name == "Emre Yılmaz")
    table.item(0, COL["aw_actual"]).setText("9,5")
    qtbot.waitUntil(lambda: editor.order is not None and editor.order.lines[0].aw_actual == Decimal("9.5"))
    assert table.cell_text(0, "aw_actual") == "9,5"
    assert table.cell_text(0, "mechanic") == "Emre Yılmaz"
    table.item(0, COL["aw_actual"]).setText("viel")
    qtbot.waitUntil(lambda: editor.error.isVisibleTo(editor))
    assert "keine Zahl" in editor.error.text()


# --- status ---------------------------------------------------------------------------------------------


def test_status_buttons_show_only_the_allowed_transitions(qtbot: Any, view: CounterView, services: Services) -> None:
    order_id, _vehicle_id = new_order(services)
    services.work_orders.add_line(order_id, LineInput(kind="fee", text="Entsorgung", unit_price_net="5"))
    editor = open_editor(view, order_id)
    steps = [
        ({"open", "cancel"}, "open", "Offen"),
        ({"start", "cancel"}, "start", "In Arbeit"),
        ({"complete", "cancel"}, "complete", "Abgeschlossen"),
        ({"reopen"}, "reopen", "In Arbeit"),
    ]
    for expected, action, label in steps:
        assert visible_buttons(editor) == expected
        editor.header.buttons[action].click()
        assert editor.header.chip.text() == label
    assert editor.order is not None and editor.order.status == "in_progress"
    assert not editor.invoice_button.isEnabled()
    assert allowed_actions("invoiced") == [] and allowed_actions("cancelled") == []


def test_completing_with_a_proposed_line_shows_the_error_until_it_is_confirmed(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    order_id, _vehicle_id = new_order(services)
    orders = services.work_orders
    orders.add_line(order_id, LineInput(kind="labour", text="Zündkerzen prüfen", aw="2", proposed=True))
    orders.open(order_id)
    orders.start(order_id)
    editor = open_editor(view, order_id)
    assert editor.table.cell_text(0, "kind") == "Vorschlag: Arbeit"
    editor.header.buttons["complete"].click()
    assert editor.error.isVisibleTo(editor) and "nur vorgeschlagen" in editor.error.text()
    assert editor.order is not None and editor.order.status == "in_progress"
    editor.table.selectRow(0)
    assert editor.confirm_button.isVisibleTo(editor)
    editor.confirm_button.click()
    editor.header.buttons["complete"].click()
    assert editor.order.status == "completed" and not editor.error.isVisibleTo(editor)
    assert editor.invoice_button.isEnabled()


def test_cancelling_an_order_asks_first(qtbot: Any, view: CounterView, services: Services) -> None:
    order_id, _vehicle_id = new_order(services)
    editor = open_editor(view, order_id)
    editor.header.buttons["cancel"].click()
    box = editor.dialog
    assert box is not None and services.work_orders.get(order_id).status == "draft"
    box.findChild(QPushButton, "confirmYes").click()
    assert editor.order is not None and editor.order.status == "cancelled"
    assert visible_buttons(editor) == set()
    assert not editor.line_buttons["part"].isEnabled() and not editor.search.isEnabled()
    assert not editor.invoice_button.isVisibleTo(editor)


# --- KVA overrun ------------------------------------------------------------------------------------------


def test_the_overrun_banner_blocks_invoicing_until_the_approval_is_recorded(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    customer_id, vehicle_id = add_customer_with_vehicle(services)
    estimates = services.estimates
    estimate = estimates.create(
        customer_id, vehicle_id, lines=[LineInput(kind="labour", text="Zahnriemen wechseln", aw="20")]
    ).estimate
    estimates.accept(estimate.id)
    order = estimates.convert_to_order(estimate.id, Intake(approval_phone="0171 2345678")).order
    orders = services.work_orders
    orders.add_line(order.id, LineInput(kind="part", text="Wasserpumpe", unit_price_net="189"))
    for step in (orders.open, orders.start, orders.complete):
        step(order.id)
    editor = open_editor(view, order.id)
    banner = editor.banner
    assert banner.isVisibleTo(editor) and banner.button.isVisibleTo(editor)
    assert "Kostenvoranschlag überschritten" in banner.text.text() and "0171 2345678" in banner.text.text()
    assert not editor.invoice_button.isEnabled()
    editor.create_invoice()
    assert editor.dialog is None  # nothing happens while the approval is missing
    banner.button.click()
    dialog = editor.dialog
    assert isinstance(dialog, ApprovalDialog)
    dialog.note.setText("Herr Schneider am Telefon einverstanden")
    dialog.save()
    assert editor.dialog is None
    assert "freigegeben" in banner.text.text() and "Theke" in banner.text.text()
    assert not banner.button.isVisibleTo(editor)
    assert editor.invoice_button.isEnabled()
    approval = services.work_orders.get(order.id).approvals[0]
    assert approval.channel == "phone" and approval.user == "Theke" and approval.approved_net == Decimal("425.00")


# --- invoicing --------------------------------------------------------------------------------------------


def completed_order(services: Services) -> int:
    """A completed order with a catalogue service and a part (gross 112,34 + 59,50 = 171,84 €)."""
    order_id, _vehicle_id = new_order(services, mileage_in="85000")
    orders = services.work_orders
    orders.add_service(order_id, services.catalog.get_by_code("BR-0001").id)
    orders.add_line(order_id, LineInput(kind="part", text="Bremsbelagsatz", part_no="BB-1", unit_price_net="50"))
    for step in (orders.open, orders.start, orders.complete):
        step(order_id)
    return order_id


def test_finalising_through_the_preview_lists_the_invoice_as_open(
    qtbot: Any, view: CounterView, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = completed_order(services)
    editor = open_editor(view, order_id)
    editor.invoice_button.click()
    preview = editor.dialog
    assert isinstance(preview, InvoicePreviewDialog) and preview.number is None
    draft_text = preview.browser.toPlainText()
    assert "ENTWURF" in draft_text and "Bremsbelagsatz" in draft_text and "171,84" in draft_text
    assert not preview.print_button.isVisibleTo(preview)  # nothing to print before the number exists
    preview.finalize_button.click()
    number = preview.number
    assert number is not None and number.endswith("-000001")
    assert preview.pdf.startswith(b"%PDF") and preview.pdf == services.invoices.pdf(number)
    shown = preview.browser.toPlainText() if preview.stack.currentIndex() == 0 else ""
    assert preview.pages or f"Rechnung Nr. {number}" in shown
    assert "festgeschrieben" in preview.message.text()
    assert preview.pay_button.isVisibleTo(preview)

    saved = tmp_path / "rechnung.pdf"
    monkeypatch.setattr(files, "ask_save_path", lambda _p, _t, _n, on_chosen: on_chosen(str(saved)))
    preview.save_button.click()
    assert saved.read_bytes() == services.invoices.pdf(number)
    printed = tmp_path / "druck.pdf"

    def to_file(_parent: Any, on_chosen: Any) -> None:
        printer = QPrinter()
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(printed))
        on_chosen(printer)

    monkeypatch.setattr(files, "ask_printer", to_file)
    preview.print_button.click()
    assert printed.read_bytes().startswith(b"%PDF")
    assert "Drucker" in preview.message.text()

    preview.close_button.click()
    assert services.work_orders.get(order_id).status == "invoiced"
    assert editor.order is not None and editor.order.status == "invoiced"
    assert "Abgerechnet" in editor.invoice_hint.text() and not editor.invoice_button.isVisibleTo(editor)
    view.set_mode(view.MODE_INVOICES)
    page = view.invoices
    assert page.proxy.rowCount() == 1
    row = page.proxy.row_dto(0)
    assert row is not None and row.number == number and row.status == "open"
    assert row.gross == Decimal("171.84") and row.open == Decimal("171.84")
    assert row.due_date == TODAY + dt.timedelta(days=14)
    assert page.proxy.index(0, 8).data() == "offen"


def test_discarding_the_draft_deletes_it(qtbot: Any, view: CounterView, services: Services) -> None:
    order_id = completed_order(services)
    editor = open_editor(view, order_id)
    editor.create_invoice()
    preview = editor.dialog
    assert isinstance(preview, InvoicePreviewDialog)
    preview.close_button.click()  # "Verwerfen"
    assert editor.dialog is None
    from app.services.invoice_queries import invoice_rows

    assert invoice_rows(services.db, today=TODAY) == []
    assert services.work_orders.get(order_id).status == "completed"
    editor.create_invoice()  # a new draft can be made again
    assert isinstance(editor.dialog, InvoicePreviewDialog)


def test_render_order_editor_and_preview_to_png(
    qtbot: Any, view: CounterView, services: Services, tmp_path: Path
) -> None:
    order_id = completed_order(services)
    editor = open_editor(view, order_id)
    editor_png = tmp_path / "auftrag.png"
    assert view.grab().save(str(editor_png))
    editor.create_invoice()
    preview = editor.dialog
    assert preview is not None
    preview_png = tmp_path / "vorschau.png"
    assert preview.grab().save(str(preview_png))
    assert editor_png.stat().st_size > 10_000 and preview_png.stat().st_size > 10_000
