"""Kostenvoranschläge at the counter against a real database: Ctrl+K from the vehicle and customer card, the
KVA editor with the shared catalogue search and line dialog, terms with inline errors, the printed preview,
Senden/Annehmen/Ablehnen, "In Auftrag übernehmen" into the order editor, the KVA list – and the order
editor's intake data edited in place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from app import formatting
from app.catalog_csv import ServiceRow
from app.db import Database
from app.demo import setup_workshop
from app.services.estimate_document import estimate_pdf
from app.services.estimates import EstimateService
from app.services.order_lines import LineInput
from app.services.registry import Services
from app.services.vehicles import VehicleInput
from app.services.work_orders import Intake
from tests.ui.test_counter import TODAY, add_customer_with_vehicle, make_ctx, visible_error
from ui.views.counter.view import CounterView
from ui.views.estimates.editor import EstimateEditor
from ui.views.estimates.header import allowed_actions
from ui.views.estimates.preview import EstimatePreviewDialog
from ui.views.invoices import files
from ui.views.orders.line_dialog import LineDialog
from ui.views.orders.view import OrdersPage


@pytest.fixture
def services(db: Database) -> Services:
    """A workshop (118 €/h, 10 AW per hour) with a brake service in the catalogue."""
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
    widget.resize(1366, 860)
    widget.show()
    yield widget
    for owner in (widget, widget.orders.editor, widget.orders.estimate_editor):
        if owner.dialog is not None:
            owner.dialog.done(0)


def money(value: str) -> str:
    """How the screens print an amount."""
    return formatting.money(Decimal(value))


def new_kva(view: CounterView, services: Services) -> EstimateEditor:
    """Ctrl+K on Anna Schneider's vehicle card: a draft KVA in its editor."""
    _customer_id, vehicle_id = add_customer_with_vehicle(services)
    view.open_vehicle(vehicle_id)
    view.vehicle_card.new_estimate_button.click()
    editor = view.orders.estimate_editor
    assert editor.estimate is not None
    return editor


def visible_buttons(editor: EstimateEditor) -> set[str]:
    shown = {action for action, button in editor.header.buttons.items() if button.isVisibleTo(editor)}
    return shown | ({"convert"} if editor.header.convert_button.isVisibleTo(editor) else set())


# --- creating -------------------------------------------------------------------------------------------


def test_ctrl_k_on_the_vehicle_card_opens_a_new_draft(qtbot: Any, view: CounterView, services: Services) -> None:
    editor = new_kva(view, services)
    assert view.modes.currentWidget() is view.orders
    assert view.orders.stack.currentIndex() == OrdersPage.PAGE_ESTIMATE
    estimate = editor.estimate
    assert estimate is not None and estimate.number == "KVA-2026-0001" and estimate.status == "draft"
    assert estimate.plate == "M-AB 123" and estimate.customer_name == "Schneider, Anna"
    assert editor.header.title.text() == "Kostenvoranschlag KVA-2026-0001"
    assert editor.header.chip.text() == "Entwurf"
    assert "gültig bis 13.05.2026" in editor.header.details.text()  # four weeks
    assert visible_buttons(editor) == {"send", "accept", "reject"}
    assert editor.lines.empty.isVisibleTo(editor)
    assert editor.table.isColumnHidden(9) and editor.table.isColumnHidden(10)  # no Monteur, no AW ist


def test_ctrl_k_on_the_customer_card_takes_the_only_vehicle(qtbot: Any, view: CounterView, services: Services) -> None:
    customer_id, vehicle_id = add_customer_with_vehicle(services)
    view.open_customer(customer_id)
    qtbot.keyClick(view.customer_card, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    estimate = view.orders.estimate_editor.estimate
    assert estimate is not None and (estimate.customer_id, estimate.vehicle_id) == (customer_id, vehicle_id)


def test_ctrl_k_without_a_card_on_screen_asks_to_search_first(view: CounterView, services: Services) -> None:
    messages: list[str] = []
    view.ctx.bus.status_message_posted.connect(messages.append)
    view.new_estimate()
    assert messages and "zuerst Fahrzeug oder Kunde suchen" in messages[0]
    assert services.estimates.list() == []


def test_ctrl_k_in_the_order_editor_and_for_a_vehicle_without_owner(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    customer_id, vehicle_id = add_customer_with_vehicle(services)
    order = services.work_orders.create(customer_id, vehicle_id).order
    view.open_order(order.id)
    view.new_estimate()
    estimate = view.orders.estimate_editor.estimate
    assert estimate is not None and (estimate.customer_id, estimate.vehicle_id) == (customer_id, vehicle_id)
    orphan, _changes = services.vehicles.create(VehicleInput(plate="M-XY 9"))
    messages: list[str] = []
    view.ctx.bus.status_message_posted.connect(messages.append)
    view.open_vehicle(orphan.id)
    view.new_estimate()
    assert messages and "keinen Halter" in messages[0]
    assert len(services.estimates.list()) == 1


# --- the KVA from lines to order ---------------------------------------------------------------------------


def test_a_kva_from_catalogue_and_part_to_preview_acceptance_and_order(
    qtbot: Any, view: CounterView, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = new_kva(view, services)
    qtbot.keyClicks(editor.search.edit, "Bremsbel")
    qtbot.keyClick(editor.search.edit, Qt.Key.Key_Return)
    assert editor.table.rowCount() == 1
    assert editor.table.cell_text(0, "quantity") == "8" and editor.table.cell_text(0, "price") == money("11.80")
    assert editor.totals.gross.text() == money("112.34")
    labour = editor.open_line_dialog("labour")
    assert isinstance(labour, LineDialog) and "mechanic_id" not in labour.form.fields  # a KVA plans no mechanic
    labour.done(0)
    dialog = editor.open_line_dialog("part")
    assert isinstance(dialog, LineDialog) and editor.dialog is dialog
    dialog.text.setText("Bremsbelagsatz vorne")
    dialog.price.setText("abc")
    dialog.save()
    assert "„abc“ ist keine Zahl" in visible_error(dialog, "unit_price_net")
    dialog.price.setText("50")
    dialog.save()
    assert editor.dialog is None and editor.table.rowCount() == 2
    assert editor.totals.gross.text() == money("171.84")
    estimate_id = editor.estimate.id if editor.estimate else 0
    assert services.estimates.totals(estimate_id).gross == Decimal("171.84")

    # Terms: a charged KVA needs its fee – the message appears under the fee.
    terms = editor.terms
    terms.binding.setCurrentIndex(1)
    terms.charged.setCurrentIndex(1)
    terms.save_button.click()
    assert "vereinbarte Gebühr" in terms.error_text("fee_net")
    terms.fee.setText("30")
    terms.save_button.click()
    stored = services.estimates.get(estimate_id)
    assert (stored.binding, stored.charged, stored.fee_net) == (True, True, Decimal("30.00"))
    assert terms.state.text() == "Gespeichert." and "verbindlich" in editor.header.details.text()

    # The printed KVA: heading, lines, terms; saved byte for byte.
    editor.preview_button.click()
    preview = editor.dialog
    assert isinstance(preview, EstimatePreviewDialog) and preview.rendered is not None
    assert preview.pdf.startswith(b"%PDF")
    shown = preview.browser.toPlainText() if preview.stack.currentIndex() == 0 else ""
    assert preview.pages or "Kostenvoranschlag Nr. KVA-2026-0001" in shown
    if not preview.pages:
        assert "Bremsbelagsatz vorne" in shown and "verbindlich und gültig bis 13.05.2026" in shown
        assert "35,70 €" in shown and "Auftrag erteilt" in shown
    saved = tmp_path / "kva.pdf"
    monkeypatch.setattr(files, "ask_save_path", lambda _p, _t, _n, on_chosen: on_chosen(str(saved)))
    preview.save_button.click()
    assert saved.read_bytes() == estimate_pdf(services.db, estimate_id).pdf
    assert preview.file_name == "Kostenvoranschlag_KVA-2026-0001.pdf"
    preview.close_button.click()
    assert editor.dialog is None

    # Senden: lines and terms are fixed from now on.
    editor.header.buttons["send"].click()
    assert editor.header.chip.text() == "Versendet" and visible_buttons(editor) == {"accept", "reject"}
    assert not editor.search.isEnabled() and not editor.lines.line_buttons["part"].isEnabled()
    assert not terms.save_button.isVisibleTo(editor) and terms.fee.isReadOnly()
    assert editor.open_line_dialog("part") is None
    editor.header.buttons["accept"].click()
    assert editor.header.chip.text() == "Angenommen" and visible_buttons(editor) == {"convert"}

    # In Auftrag übernehmen: the order editor shows the same lines.
    editor.header.convert_button.click()
    assert view.orders.stack.currentIndex() == OrdersPage.PAGE_EDITOR
    order = view.orders.editor.order
    assert order is not None and order.estimate_number == "KVA-2026-0001"
    assert [(line.text, line.net) for line in order.lines] == [
        (line.text, line.net) for line in services.estimates.get(estimate_id).lines
    ]
    assert view.orders.editor.table.rowCount() == 2
    assert view.orders.editor.table.cell_text(1, "text") == "Bremsbelagsatz vorne"
    assert "KVA-2026-0001" in view.orders.editor.header.details.text()
    view.orders.open_estimate(estimate_id)
    assert editor.estimate is not None and editor.estimate.work_order_number == order.number
    assert visible_buttons(editor) == set() and order.number in editor.hint.text()


def test_a_validity_in_the_past_is_refused_under_its_field(qtbot: Any, view: CounterView, services: Services) -> None:
    editor = new_kva(view, services)
    editor.terms.valid_until.setDate(TODAY - dt.timedelta(days=1))
    editor.terms.save_button.click()
    assert "Vergangenheit" in editor.terms.error_text("valid_until")
    editor.terms.valid_until.setDate(TODAY + dt.timedelta(days=60))
    editor.terms.save_button.click()
    assert editor.estimate is not None and editor.estimate.valid_until == TODAY + dt.timedelta(days=60)


def test_send_without_lines_is_refused_and_rejecting_asks_first(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    editor = new_kva(view, services)
    editor.header.buttons["send"].click()
    assert editor.error.isVisibleTo(editor) and "noch keine Positionen" in editor.error.text()
    editor.header.buttons["reject"].click()
    box = editor.dialog
    assert box is not None and editor.estimate is not None
    assert services.estimates.get(editor.estimate.id).status == "draft"
    box.findChild(QPushButton, "confirmYes").click()
    assert editor.header.chip.text() == "Abgelehnt" and visible_buttons(editor) == set()
    assert allowed_actions("accepted") == [] and allowed_actions("sent") == ["accept", "reject"]


# --- the KVA list -------------------------------------------------------------------------------------------


def test_the_kva_list_filters_marks_expired_and_opens(qtbot: Any, view: CounterView, services: Services) -> None:
    customer_id, vehicle_id = add_customer_with_vehicle(services)
    line = LineInput(kind="fee", text="Prüfung", unit_price_net="10")
    old = EstimateService(services.db, today=TODAY - dt.timedelta(days=60)).create(
        customer_id, vehicle_id, lines=[line]
    )
    fresh = services.estimates.create(customer_id, vehicle_id, lines=[line]).estimate
    done = services.estimates.create(customer_id, None, lines=[line]).estimate
    services.estimates.accept(done.id)
    view.set_mode(view.MODE_ORDERS)
    orders = view.orders
    orders.list.kinds.buttons["estimates"].click()
    assert orders.stack.currentIndex() == OrdersPage.PAGE_ESTIMATES
    listing = orders.estimates
    assert [e.id for e in listing.shown] == [fresh.id, old.estimate.id]  # "Offen": draft and sent
    assert "abgelaufen" in listing.table.item(1, 5).text() and "abgelaufen" not in listing.table.item(0, 5).text()
    assert listing.table.item(0, 6).text() == money("11.90")
    listing.filters.buttons["all"].click()
    assert len(listing.shown) == 3
    listing.search.setText(old.estimate.number)
    assert [e.id for e in listing.shown] == [old.estimate.id]
    listing.search.setText("mab123")
    assert {e.id for e in listing.shown} == {fresh.id, old.estimate.id}
    listing.estimate_activated.emit(listing.shown[0].id)
    assert orders.stack.currentIndex() == OrdersPage.PAGE_ESTIMATE
    assert orders.estimate_editor.header.chip.text() == "Entwurf"
    qtbot.keyClick(orders.estimate_editor, Qt.Key.Key_Escape)
    assert orders.stack.currentIndex() == OrdersPage.PAGE_ESTIMATES
    listing.kinds.buttons["orders"].click()
    assert orders.stack.currentIndex() == OrdersPage.PAGE_LIST


def test_the_order_list_uses_the_read_model(qtbot: Any, view: CounterView, services: Services) -> None:
    customer_id, vehicle_id = add_customer_with_vehicle(services)
    order = services.work_orders.create(customer_id, vehicle_id, intake=Intake(customer_wishes="Bremsen")).order
    services.work_orders.add_line(order.id, LineInput(kind="fee", text="Entsorgung", unit_price_net="5"))
    view.set_mode(view.MODE_ORDERS)
    listing = view.orders.list
    assert [row.id for row in listing.shown] == [order.id]
    cells = [listing.table.item(0, column).text() for column in range(listing.table.columnCount())]
    assert cells == [order.number, "15.04.2026", "M-AB 123", "Schneider, Anna", "Entwurf", "1", "", "Bremsen"]
    listing.search.setText("schneider")
    assert len(listing.shown) == 1
    listing.search.setText("meier")
    assert listing.shown == [] and listing.empty.isVisibleTo(listing)


# --- intake in the order editor ------------------------------------------------------------------------------


def type_into(qtbot: Any, edit: Any, text: str) -> None:
    """Replace the field's text the way a user does (so the panel notices the edit)."""
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def test_the_intake_is_edited_in_the_order_editor_and_a_lower_km_is_refused_inline(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    customer_id, vehicle_id = add_customer_with_vehicle(services)
    orders = services.work_orders
    order = orders.create(customer_id, vehicle_id, intake=Intake(mileage_in=85_000)).order
    view.open_order(order.id)
    editor = view.orders.editor
    intake = editor.intake
    assert intake.mileage.text() == "85.000" and not intake.save_button.isEnabled()
    type_into(qtbot, intake.mileage, "84500")
    type_into(qtbot, intake.phone, "0171 2345678")
    assert intake.save_button.isEnabled() and "bitte speichern" in intake.state.text()
    # A line added meanwhile reloads the order; the typed values stay.
    editor.add_service(services.catalog.get_by_code("BR-0001"))
    assert intake.mileage.text() == "84500" and intake.dirty
    intake.save_button.click()
    assert "niedriger als der letzte erfasste (85.000 km)" in intake.error_text("mileage_in")
    assert orders.get(order.id).approval_phone == ""  # nothing saved
    type_into(qtbot, intake.mileage, "86.200")
    intake.wishes.setPlainText("Geräusch vorne links")
    qtbot.keyClick(intake.mileage, Qt.Key.Key_Return)  # Enter saves
    stored = orders.get(order.id)
    assert (stored.mileage_in, stored.approval_phone, stored.customer_wishes) == (
        86_200,
        "0171 2345678",
        "Geräusch vorne links",
    )
    assert intake.error_text("mileage_in") == "" and intake.state.text() == "Gespeichert."
    assert services.vehicles.get(vehicle_id).last_mileage == 86_200
    for step in (orders.open, orders.start, orders.complete):
        step(order.id)
    editor.reload()
    assert intake.mileage.isReadOnly() and intake.wishes.isReadOnly() and not intake.fuel.isEnabled()
    assert not intake.save_button.isVisibleTo(editor) and "abgeschlossen" in intake.state.text()


def test_render_kva_editor_and_preview_to_png(
    qtbot: Any, view: CounterView, services: Services, tmp_path: Path
) -> None:
    editor = new_kva(view, services)
    editor.add_service(services.catalog.get_by_code("BR-0001"))
    assert editor.estimate is not None
    services.estimates.add_line(editor.estimate.id, LineInput(kind="part", text="Bremsbelagsatz", unit_price_net="50"))
    editor.reload()
    editor_png = tmp_path / "kva.png"
    assert view.grab().save(str(editor_png))
    preview = editor.preview()
    assert preview is not None
    preview_png = tmp_path / "kva_vorschau.png"
    assert preview.grab().save(str(preview_png))
    assert editor_png.stat().st_size > 10_000 and preview_png.stat().st_size > 10_000
