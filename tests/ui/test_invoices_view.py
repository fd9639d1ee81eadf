"""The invoice list of the Theke tab against a real database: paid/open/overdue from one query, the filters
Alle / Offen / Überfällig / Storniert, search, and the actions PDF, Zahlung (also split), Storno, Mahnung."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from sqlalchemy import event

from app import formatting
from app.db import Database
from app.demo import setup_workshop
from app.services.customers import CustomerInput
from app.services.invoice_queries import InvoiceRow, invoice_rows
from app.services.order_lines import LineInput
from app.services.registry import Services
from app.services.vehicles import VehicleInput
from tests.ui.test_counter import TODAY, add_customer_with_vehicle, make_ctx, visible_error
from ui.views.invoices import files
from ui.views.invoices.cancel_dialog import CancelInvoiceDialog
from ui.views.invoices.model import COL, InvoiceFilterProxy, InvoiceTableModel, search_text
from ui.views.invoices.payment_dialog import PaymentDialog
from ui.views.invoices.preview import InvoicePreviewDialog, PdfPreviewDialog
from ui.views.invoices.view import InvoicesPage


@pytest.fixture
def services(db: Database) -> Services:
    """Services with a fixed today and a workshop that may issue invoices."""
    services = Services.for_database(db, today=TODAY)
    setup_workshop(services)
    return services


@pytest.fixture
def page(qtbot: Any, services: Services, tmp_path: Path) -> Iterator[InvoicesPage]:
    """The invoice list as a page of its own (it loads when shown)."""
    widget = InvoicesPage(make_ctx(services, tmp_path))
    qtbot.addWidget(widget)
    widget.resize(1366, 700)
    yield widget
    if widget.dialog is not None:
        widget.dialog.done(0)


def issue(services: Services, customer_id: int, vehicle_id: int | None, price: str, issued: dt.date) -> tuple[int, str]:
    """A finalised invoice (via a completed order) for one part at ``price`` net; (id, number)."""
    orders = services.work_orders
    order_id = orders.create(customer_id, vehicle_id).order.id
    orders.add_line(order_id, LineInput(kind="part", text="Bremsscheibe", unit_price_net=price))
    for step in (orders.open, orders.start, orders.complete):
        step(order_id)
    invoice_id, _changes = services.invoices.create_draft_from_order(order_id, user="Theke")
    return invoice_id, services.invoices.finalize(invoice_id, user="Theke", issue_date=issued).number


def second_customer(services: Services) -> tuple[int, int]:
    """Autohaus Berger GmbH with the Passat B-XY 77."""
    customer, _ = services.customers.create(
        CustomerInput(kind="business", company="Autohaus Berger GmbH", street="Ring 2", postcode="10115", city="Berlin")
    )
    vehicle, _ = services.vehicles.create(VehicleInput(customer_id=customer.id, plate="B-XY 77", make="VW"))
    return customer.id, vehicle.id


@pytest.fixture
def invoices(services: Services) -> dict[str, tuple[int, str]]:
    """open (today), overdue (issued 30 days ago), paid, cancelled (+ its Storno)."""
    anna, golf = add_customer_with_vehicle(services)
    berger, passat = second_customer(services)
    made = {
        "overdue": issue(services, anna, golf, "100", TODAY - dt.timedelta(days=30)),
        "paid": issue(services, berger, passat, "50", TODAY - dt.timedelta(days=20)),
        "cancelled": issue(services, berger, passat, "80", TODAY - dt.timedelta(days=10)),
        "open": issue(services, anna, golf, "200", TODAY),
    }
    services.payments.record(made["paid"][0], amount="59.50", method="card", user="Theke")
    services.invoices.cancel(made["cancelled"][1], reason="falscher Empfänger", user="Theke")
    return made


def shown(page: InvoicesPage) -> list[InvoiceRow]:
    """The rows the table shows, top to bottom."""
    rows = [page.proxy.row_dto(row) for row in range(page.proxy.rowCount())]
    return [row for row in rows if row is not None]


def text(page: InvoicesPage, row: int, key: str) -> str:
    """The displayed text of a cell."""
    return str(page.proxy.index(row, COL[key]).data(Qt.ItemDataRole.DisplayRole))


def select(page: InvoicesPage, number: str) -> InvoiceRow:
    """Select an invoice by number."""
    row = next(r for r in shown(page) if r.number == number)
    assert page.select_invoice(row.id)
    return row


# --- the query --------------------------------------------------------------------------------------------


def test_invoice_rows_compute_paid_open_and_status_in_one_query(
    services: Services, invoices: dict[str, tuple[int, str]]
) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", count)
    try:
        rows = invoice_rows(services.db, today=TODAY)
    finally:
        event.remove(services.db.engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    by_number = {row.number: row for row in rows}
    overdue = by_number[invoices["overdue"][1]]
    assert overdue.status == "overdue" and overdue.days_overdue == 16 and overdue.open == Decimal("119.00")
    assert overdue.customer_name == "Schneider, Anna" and overdue.plate == "M-AB 123"
    paid = by_number[invoices["paid"][1]]
    assert (paid.status, paid.paid, paid.open) == ("paid", Decimal("59.50"), Decimal("0.00"))
    cancelled = by_number[invoices["cancelled"][1]]
    storno = next(row for row in rows if row.kind == "storno")
    assert cancelled.status == "cancelled" and cancelled.open == Decimal("0.00")
    assert cancelled.related_number == storno.number and storno.related_number == cancelled.number
    assert storno.status == "storno" and storno.gross == Decimal("-95.20")
    assert by_number[invoices["open"][1]].status == "open"
    assert [row.issue_date for row in rows] == sorted((row.issue_date for row in rows), reverse=True)


# --- list and filters -------------------------------------------------------------------------------------


def test_the_list_shows_every_invoice_with_its_status(
    qtbot: Any, page: InvoicesPage, invoices: dict[str, tuple[int, str]]
) -> None:
    page.show()
    assert page.loaded and page.proxy.rowCount() == 5
    overdue = next(i for i, row in enumerate(shown(page)) if row.number == invoices["overdue"][1])
    assert text(page, overdue, "status") == "überfällig (16 Tage)"
    assert text(page, overdue, "open") == formatting.money(Decimal("119.00"))
    assert page.proxy.index(overdue, COL["status"]).data(Qt.ItemDataRole.ForegroundRole).name() == "#b71c1c"
    assert page.filters.buttons["overdue"].text() == "Überfällig (1)"
    assert page.filters.buttons["open"].text() == "Offen (2)"
    assert page.filters.buttons["cancelled"].text() == "Storniert (2)"
    assert "5 von 5 Rechnungen" in page.summary.text()
    assert formatting.money(Decimal("357.00")) in page.summary.text()  # 119 + 238 open


def test_filter_buttons_and_search_narrow_the_list(
    qtbot: Any, page: InvoicesPage, invoices: dict[str, tuple[int, str]]
) -> None:
    page.show()
    page.filters.buttons["open"].click()
    assert {row.status for row in shown(page)} == {"open", "overdue"}
    page.filters.buttons["overdue"].click()
    assert [row.number for row in shown(page)] == [invoices["overdue"][1]]
    page.filters.buttons["cancelled"].click()
    assert {row.status for row in shown(page)} == {"cancelled", "storno"}
    page.filters.buttons["all"].click()
    qtbot.keyClicks(page.search, "Berger")
    assert {row.customer_name for row in shown(page)} == {"Autohaus Berger GmbH"} and len(shown(page)) == 3
    page.search.setText("mab123")  # the plate without separators
    assert {row.plate for row in shown(page)} == {"M-AB 123"}
    page.search.setText(invoices["paid"][1])
    assert [row.number for row in shown(page)] == [invoices["paid"][1]]
    assert "1 von 5 Rechnungen" in page.summary.text()
    qtbot.keyClick(page.table, Qt.Key.Key_Escape)
    assert page.search.text() == "" and page.proxy.rowCount() == 5


def test_sorting_by_a_column_sorts_the_rows(
    qtbot: Any, page: InvoicesPage, invoices: dict[str, tuple[int, str]]
) -> None:
    page.show()
    page.table.sortByColumn(COL["gross"], Qt.SortOrder.AscendingOrder)
    grosses = [row.gross for row in shown(page)]
    assert grosses == sorted(grosses) and grosses[0] < 0  # the Storno first
    page.filters.buttons["open"].click()
    assert [row.gross for row in shown(page)] == [Decimal("119.00"), Decimal("238.00")]


def test_actions_follow_the_selected_invoice(
    qtbot: Any, page: InvoicesPage, invoices: dict[str, tuple[int, str]]
) -> None:
    page.show()
    select(page, invoices["overdue"][1])
    enabled = {key for key, button in page.actions.items() if button.isEnabled()}
    assert enabled == {"open_pdf", "save_pdf", "pay", "remind", "cancel"}
    select(page, invoices["paid"][1])
    enabled = {key for key, button in page.actions.items() if button.isEnabled()}
    assert enabled == {"open_pdf", "save_pdf", "cancel"}
    storno = next(row for row in shown(page) if row.kind == "storno")
    page.select_invoice(storno.id)
    enabled = {key for key, button in page.actions.items() if button.isEnabled()}
    assert enabled == {"open_pdf", "save_pdf"}


# --- payments ---------------------------------------------------------------------------------------------


def test_payment_entry_makes_the_invoice_paid(
    qtbot: Any, page: InvoicesPage, services: Services, invoices: dict[str, tuple[int, str]]
) -> None:
    page.show()
    invoice_id, number = invoices["open"]
    select(page, number)
    dialog = page.record_payment()
    assert isinstance(dialog, PaymentDialog) and page.dialog is dialog
    assert dialog.amount.text() == "238"
    dialog.amount.setText("300")
    dialog.save()
    assert "Überzahlung ist nicht möglich" in visible_error(dialog, "amount")
    assert services.payments.payments(invoice_id) == []
    dialog.amount.setText("238,00")
    dialog.method.setCurrentIndex(dialog.method.findData("card"))
    dialog.save()
    assert page.dialog is None
    row = select(page, number)
    assert row.status == "paid" and row.open == Decimal("0.00")
    assert text(page, page.table.currentIndex().row(), "status") == "bezahlt"
    assert [(p.amount, p.method) for p in services.payments.payments(invoice_id)] == [(Decimal("238.00"), "card")]
    assert "gebucht" in page.message.text()


def test_split_payment_books_cash_and_girocard_together(
    qtbot: Any, page: InvoicesPage, services: Services, invoices: dict[str, tuple[int, str]]
) -> None:
    page.show()
    invoice_id, number = invoices["overdue"]
    select(page, number)
    dialog = page.record_payment()
    assert dialog is not None
    dialog.split.setChecked(True)
    assert dialog.cash.isVisibleTo(dialog) and not dialog.amount.isVisibleTo(dialog)
    qtbot.keyClicks(dialog.cash, "50")
    assert dialog.card.text() == "69"
    dialog.save()
    payments = services.payments.payments(invoice_id)
    assert sorted((p.method, p.amount) for p in payments) == [("card", Decimal("69.00")), ("cash", Decimal("50.00"))]
    assert select(page, number).status == "paid"


# --- Storno, reminders, PDF --------------------------------------------------------------------------------


def test_cancel_makes_it_storniert_and_a_storno_row_appears(
    qtbot: Any, page: InvoicesPage, services: Services, invoices: dict[str, tuple[int, str]]
) -> None:
    page.show()
    _invoice_id, number = invoices["open"]
    select(page, number)
    dialog = page.cancel_invoice()
    assert isinstance(dialog, CancelInvoiceDialog)
    dialog.save()
    assert "Grund" in visible_error(dialog, "reason")
    dialog.reason.setText("Rechnung an falsche Adresse")
    dialog.save()
    assert page.dialog is None
    assert select(page, number).status == "cancelled"
    stornos = [row for row in shown(page) if row.kind == "storno" and row.related_number == number]
    assert len(stornos) == 1 and stornos[0].gross == Decimal("-238.00")
    assert "Stornorechnung" in page.message.text()
    page.filters.buttons["cancelled"].click()
    assert len(shown(page)) == 4


def test_a_reminder_for_an_overdue_invoice_opens_its_letter(
    qtbot: Any, page: InvoicesPage, services: Services, invoices: dict[str, tuple[int, str]]
) -> None:
    page.show()
    invoice_id, number = invoices["overdue"]
    select(page, number)
    page.actions["remind"].click()
    box = page.dialog
    assert box is not None and services.payments.reminders(invoice_id) == []
    box.findChild(QPushButton, "confirmYes").click()
    reminders = services.payments.reminders(invoice_id)
    assert [r.level_name for r in reminders] == ["Zahlungserinnerung"]
    letter = page.dialog
    assert isinstance(letter, PdfPreviewDialog) and letter.pdf == services.payments.reminder_pdf(reminders[0].id)
    assert "Zahlungserinnerung" in page.message.text()
    letter.done(0)
    assert "Zahlungserinnerung" in text(page, page.table.currentIndex().row(), "status")


def test_open_and_save_the_archived_pdf(
    qtbot: Any,
    page: InvoicesPage,
    services: Services,
    invoices: dict[str, tuple[int, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page.show()
    invoice_id, number = invoices["paid"]
    select(page, number)
    preview = page.open_pdf()
    assert isinstance(preview, InvoicePreviewDialog) and preview.number == number
    assert preview.pdf == services.invoices.pdf(number)
    assert not preview.finalize_button.isVisibleTo(preview) and not preview.pay_button.isVisibleTo(preview)
    preview.done(0)
    target = tmp_path / "kopie.pdf"
    monkeypatch.setattr(files, "ask_save_path", lambda _p, _t, name, on_chosen: on_chosen(str(target)))
    page.actions["save_pdf"].click()
    assert target.read_bytes() == services.invoices.pdf(number)
    assert str(target) in page.message.text()


def test_paying_from_the_preview_after_finalising(qtbot: Any, page: InvoicesPage, services: Services) -> None:
    anna, golf = add_customer_with_vehicle(services)
    invoice_id, number = issue(services, anna, golf, "10", TODAY)
    page.show()
    select(page, number)
    preview = page.open_pdf()
    assert preview is not None and preview.pay_button.isVisibleTo(preview)
    dialog = preview.record_payment()
    assert isinstance(dialog, PaymentDialog) and dialog.amount.text() == "11,9"
    dialog.save()
    assert services.payments.open_amount(invoice_id) == Decimal("0.00")
    assert not preview.pay_button.isVisibleTo(preview)
    assert select(page, number).status == "paid"  # the list reloaded from the bus


def test_render_invoice_list_to_png(
    qtbot: Any, page: InvoicesPage, invoices: dict[str, tuple[int, str]], tmp_path: Path
) -> None:
    page.show()
    target = tmp_path / "rechnungen.png"
    assert page.grab().save(str(target)) and target.stat().st_size > 10_000


# --- the model on its own -----------------------------------------------------------------------------------


def test_the_filter_proxy_agrees_with_a_plain_filter_on_many_rows(qtbot: Any) -> None:
    statuses = ("open", "overdue", "paid", "cancelled", "storno")
    rows = [
        InvoiceRow(
            id=i,
            number=f"W1-2026-{i:06d}",
            kind="storno" if i % 5 == 4 else "invoice",
            issue_date=dt.date(2026, 1, 1) + dt.timedelta(days=i % 300),
            due_date=dt.date(2026, 1, 15) + dt.timedelta(days=i % 300),
            customer_id=i % 97,
            customer_name=f"Müller, Kunde {i % 97}",
            plate=f"M-AB {i % 1000}",
            order_number=f"A-2026-{i:05d}",
            gross=Decimal(i % 500),
            paid=Decimal(0),
            open=Decimal(i % 500),
            status=statuses[i % 5],
        )
        for i in range(20_000)
    ]
    model = InvoiceTableModel()
    proxy = InvoiceFilterProxy(model)
    model.set_rows(rows)
    proxy.set_filter(status_filter="overdue")
    assert proxy.rowCount() == len([r for r in rows if r.status == "overdue"])
    proxy.set_filter(status_filter="open", search="mueller kunde 7")  # umlauts fold like the catalogue search
    assert proxy.rowCount() == 0
    proxy.set_filter(search="Müller, Kunde 7")  # every word somewhere in number, name, plate or order
    words = ("muller", "kunde", "7")
    expected = [r for r in rows if r.status in ("open", "overdue") and all(w in search_text(r) for w in words)]
    assert proxy.rowCount() == len(expected) > 0
    assert {proxy.row_dto(i).id for i in range(proxy.rowCount())} == {r.id for r in expected}  # type: ignore[union-attr]
    proxy.sort(COL["gross"], Qt.SortOrder.DescendingOrder)
    top = proxy.row_dto(0)
    assert top is not None and top.gross == max(r.gross for r in expected)
