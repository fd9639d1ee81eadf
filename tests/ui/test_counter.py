"""The counter tab ("Theke") against a real migrated database: search, cards, editors, inline errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.changes import Changes
from app.db import Database
from app.services.customers import ConsentChange, CustomerInput
from app.services.registry import Services
from app.services.vehicles import VehicleInput
from ui.bus import Bus
from ui.context import UiContext
from ui.prefs import Prefs
from ui.tasks import TaskRunner
from ui.views.counter.customer_editor import CustomerEditor
from ui.views.counter.style import HU_COLOURS
from ui.views.counter.vehicle_editor import VehicleEditor, vin_hint
from ui.views.counter.view import CounterView

TODAY = dt.date(2026, 4, 15)
VIN = "WVWZZZ1KZAW000123"


@pytest.fixture
def services(db: Database) -> Services:
    """Services on the test database with a fixed today."""
    return Services.for_database(db, today=TODAY)


def make_ctx(services: Services, tmp_path: Path, runner: Any = None) -> UiContext:
    """The context a view gets, with a synchronous runner and preferences in a temp file."""
    return UiContext(
        services=services,
        runner=runner or TaskRunner(synchronous=True),
        bus=Bus(),
        prefs=Prefs(tmp_path / "ui.ini"),
        today=lambda: TODAY,
    )


@pytest.fixture
def view(qtbot: Any, services: Services, tmp_path: Path) -> Iterator[CounterView]:
    """The counter tab, shown, over the test database."""
    widget = CounterView(make_ctx(services, tmp_path))
    qtbot.addWidget(widget)
    widget.resize(1366, 780)
    widget.show()
    yield widget
    if widget.dialog is not None:
        widget.dialog.reject()


def add_customer_with_vehicle(services: Services, *, hu_due: dt.date | None = dt.date(2026, 1, 1)) -> tuple[int, int]:
    """Anna Schneider with her Golf M-AB 123 (HU due January 2026 → more than 2 months overdue in April)."""
    customer, _ = services.customers.create(
        CustomerInput(
            first_name="Anna",
            last_name="Schneider",
            street="Hauptstr. 1",
            postcode="80331",
            city="München",
            phone="089 123456",
            email="anna@example.de",
        ),
        consents=(ConsentChange("email", True),),
    )
    vehicle, _ = services.vehicles.create(
        VehicleInput(
            customer_id=customer.id,
            plate="M-AB 123",
            vin=VIN,
            make="VW",
            model="Golf",
            first_registration=dt.date(2019, 3, 1),
            hu_due=hu_due,
        ),
        mileage=84_000,
    )
    return customer.id, vehicle.id


def search(qtbot: Any, view: CounterView, text: str) -> None:
    """Type into the search box and wait for the debounced background search."""
    view.focus_search()
    qtbot.keyClicks(view.search.edit, text)
    qtbot.waitUntil(lambda: view.search.model.rowCount() > 0, timeout=2000)


def cell(table: Any, row: int, column: int) -> str:
    """The text of a table cell."""
    item = table.item(row, column)
    assert item is not None
    return str(item.text())


def visible_error(editor: Any, field: str) -> str:
    """The inline message under ``field`` ("" when hidden)."""
    wrapper = editor.form.fields[field]
    return wrapper.error.text() if wrapper.error.isVisibleTo(editor) else ""


# --- search ---------------------------------------------------------------------------------------------


def test_typing_a_plate_fragment_shows_the_vehicle_hit(qtbot: Any, view: CounterView, services: Services) -> None:
    add_customer_with_vehicle(services)
    search(qtbot, view, "M AB 1")
    hit = view.search.model.hit(0)
    assert hit is not None and hit.kind == "vehicle"
    assert hit.title.startswith("M-AB 123")
    assert "Schneider, Anna" in hit.subtitle
    assert view.search.list.isVisible()
    assert view.search.list.currentIndex().row() == 0


def test_enter_opens_the_vehicle_card_with_the_hu_badge(qtbot: Any, view: CounterView, services: Services) -> None:
    add_customer_with_vehicle(services)
    search(qtbot, view, "M AB")
    qtbot.keyClick(view.search.edit, Qt.Key.Key_Return)
    assert view.pages.currentWidget() is view.vehicle_card
    card = view.vehicle_card
    assert card.plate.text() == "M-AB 123"
    assert card.hu_badge.text() == "HU > 2 Monate überfällig (fällig war 01/2026)"
    assert HU_COLOURS["overdue_2m"][0] in card.hu_badge.styleSheet()
    assert card.mileage.text() == "84.000 km"
    assert card.fields["vin"].text() == VIN
    assert "Schneider, Anna" in card.owner.text()
    kinds = [cell(card.history, row, 1) for row in range(card.history.rowCount())]
    assert "km-Stand" in kinds and "Notiz" in kinds


def test_arrow_keys_move_in_the_results_and_enter_opens_the_chosen_hit(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    customer_id, _vehicle_id = add_customer_with_vehicle(services)
    services.vehicles.create(VehicleInput(customer_id=customer_id, plate="M-AB 456", make="Opel"))
    search(qtbot, view, "M AB")
    hits = [view.search.model.hit(row) for row in range(view.search.model.rowCount())]
    assert [h.kind for h in hits if h] == ["vehicle", "vehicle"]
    qtbot.keyClick(view.search.edit, Qt.Key.Key_Down)
    assert view.search.list.currentIndex().row() == 1
    qtbot.keyClick(view.search.edit, Qt.Key.Key_Down)  # stays on the last hit
    assert view.search.list.currentIndex().row() == 1
    qtbot.keyClick(view.search.edit, Qt.Key.Key_Return)
    assert view.pages.currentWidget() is view.vehicle_card
    second = hits[1]
    assert second is not None and view.vehicle_card.vehicle_id == second.vehicle_id
    qtbot.keyClick(view.search.edit, Qt.Key.Key_Up)
    assert view.search.list.currentIndex().row() == 0


def test_a_customer_hit_opens_the_customer_card(qtbot: Any, view: CounterView, services: Services) -> None:
    customer_id, _vehicle_id = add_customer_with_vehicle(services)
    search(qtbot, view, "Schneider")
    hit = view.search.model.hit(0)
    assert hit is not None and hit.kind == "customer"
    qtbot.keyClick(view.search.edit, Qt.Key.Key_Enter)
    assert view.pages.currentWidget() is view.customer_card
    card = view.customer_card
    assert card.customer is not None and card.customer.id == customer_id
    assert cell(card.table, 0, 0) == "M-AB 123"
    assert cell(card.table, 0, 2).startswith("HU > 2 Monate")
    qtbot.keyClick(view.search.edit, Qt.Key.Key_Escape)  # clears the box …
    assert view.search.edit.text() == ""
    qtbot.keyClick(view.search.edit, Qt.Key.Key_Escape)  # … and then returns to the overview
    assert view.pages.currentWidget() is view.overview


class ManualRunner(TaskRunner):
    """Keeps tasks until the test runs them, in any order (a slow search finishing after a fast one)."""

    def __init__(self) -> None:
        super().__init__(synchronous=True)
        self.held: list[tuple[Callable[[], Any], Any, Any]] = []

    def run(self, fn: Callable[[], Any], on_done: Any = None, on_error: Any = None, *, uses_db: bool = True) -> Any:
        self.held.append((fn, on_done, on_error))

    def finish(self, index: int) -> None:
        fn, on_done, _on_error = self.held.pop(index)
        on_done(fn())


def test_results_of_an_older_search_are_dropped(qtbot: Any, services: Services, tmp_path: Path) -> None:
    add_customer_with_vehicle(services)
    services.customers.create(CustomerInput(first_name="Max", last_name="Maier", phone="0171 999"))
    runner = ManualRunner()
    widget = CounterView(make_ctx(services, tmp_path, runner))
    qtbot.addWidget(widget)
    runner.held.clear()  # today's appointments
    widget.search.edit.setText("Maier")
    widget.search.search_now()
    widget.search.edit.setText("Schneider")
    widget.search.search_now()
    runner.finish(1)  # "Schneider" comes back first …
    runner.finish(0)  # … then the stale "Maier"
    titles = [widget.search.model.hit(r).title for r in range(widget.search.model.rowCount())]  # type: ignore[union-attr]
    assert "Schneider, Anna" in titles
    assert "Maier, Max" not in titles


# --- customer editor ------------------------------------------------------------------------------------


def test_new_customer_with_bad_postcode_and_vat_id_shows_both_errors_and_saves_nothing(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    dialog = view.new_customer()
    assert isinstance(dialog, CustomerEditor) and dialog.isVisible()
    dialog.business.setChecked(True)
    qtbot.keyClicks(dialog.company, "Autohaus Berg GmbH")
    qtbot.keyClicks(dialog.vat_id, "DE12345")
    qtbot.keyClicks(dialog.postcode, "8033")
    qtbot.keyClick(dialog.postcode, Qt.Key.Key_Return)  # Enter saves
    assert "Postleitzahl „8033“ ist ungültig" in visible_error(dialog, "postcode")
    assert "USt-IdNr. „DE12345“ ist ungültig" in visible_error(dialog, "vat_id")
    assert visible_error(dialog, "company") == ""
    assert dialog.isVisible()
    assert services.customers.count() == 0
    qtbot.keyClicks(dialog.postcode, "1")  # correcting a field removes its message
    assert visible_error(dialog, "postcode") == ""
    assert "USt-IdNr." in visible_error(dialog, "vat_id")


def test_valid_new_customer_is_saved_and_its_card_opens(qtbot: Any, view: CounterView, services: Services) -> None:
    dialog = view.new_customer()
    dialog.first_name.setText("Jörg")  # QTest types ASCII only
    dialog.last_name.setText("Müller")
    qtbot.keyClicks(dialog.postcode, "80331")
    dialog.city.setText("München")
    qtbot.keyClicks(dialog.mobile, "0171 2345678")
    dialog.consent_boxes["sms"].setChecked(True)
    qtbot.keyClick(dialog.city, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert services.customers.count() == 1
    assert view.pages.currentWidget() is view.customer_card
    card = view.customer_card
    assert card.name.text() == "Müller, Jörg"
    assert card.number.text().startswith("Kundennummer K1")
    assert card.fields["address"].text() == "80331 München"
    assert card.consents["sms"].text().startswith("✓ erteilt am")
    assert card.consents["email"].text() == "keine Einwilligung"
    assert card.customer is not None and card.customer.consent("sms")


def test_editing_a_customer_records_a_withdrawn_consent(qtbot: Any, view: CounterView, services: Services) -> None:
    customer_id, _vehicle_id = add_customer_with_vehicle(services)
    view.open_customer(customer_id)
    qtbot.keyClick(view, Qt.Key.Key_F4)
    dialog = view.dialog
    assert isinstance(dialog, CustomerEditor)
    assert dialog.consent_boxes["email"].isChecked()
    dialog.consent_boxes["email"].setChecked(False)
    dialog.save()
    assert not services.customers.get(customer_id).consent("email")
    assert view.customer_card.consents["email"].text().startswith("widerrufen am")


# --- vehicles -------------------------------------------------------------------------------------------


def test_vehicle_editor_rejects_a_vin_with_the_letter_o(qtbot: Any, view: CounterView, services: Services) -> None:
    dialog = view.new_vehicle()
    assert isinstance(dialog, VehicleEditor)
    qtbot.keyClicks(dialog.plate, "M-XY 77")
    qtbot.keyClicks(dialog.vin, "WVWZZZ1KZAW00O123")
    assert "Stelle 14" in dialog.vin_hint.text()  # the live hint warns while typing
    dialog.save()
    assert "Stelle 14 den Buchstaben „O“" in visible_error(dialog, "vin")
    assert visible_error(dialog, "plate") == ""
    assert dialog.isVisible()
    assert services.vehicles.hu_due_between(dt.date(2000, 1, 1), dt.date(2100, 1, 1)) == []
    assert services.search.search("XY") == []


def test_vin_hint_decodes_the_maker() -> None:
    hint, ok = vin_hint("WVW ZZZ 1KZ AW000123")
    assert ok and hint.startswith("Volkswagen")
    assert vin_hint("WVWZZ") == ("noch 12 Zeichen", True)


def test_new_vehicle_for_the_open_customer_preselects_the_owner_and_opens_the_card(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    customer_id, _vehicle_id = add_customer_with_vehicle(services)
    view.open_customer(customer_id)
    assert view.customer_card.table.rowCount() == 1
    dialog = view.new_vehicle()
    assert dialog.owner.customer_id == customer_id
    assert dialog.owner.edit.text() == "Schneider, Anna"
    qtbot.keyClicks(dialog.plate, "M-CD 45")
    qtbot.keyClicks(dialog.make, "Opel")
    qtbot.keyClicks(dialog.mileage, "12.500")
    qtbot.keyClick(dialog.plate, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert view.pages.currentWidget() is view.vehicle_card
    vehicle = view.vehicle_card.vehicle
    assert vehicle is not None and vehicle.data.customer_id == customer_id and vehicle.last_mileage == 12_500
    assert [v.data.plate for v in services.vehicles.for_customer(customer_id)] == ["M-AB 123", "M-CD 45"]


def test_lower_mileage_is_refused_inline_until_tacho_exchange(
    qtbot: Any, view: CounterView, services: Services
) -> None:
    _customer_id, vehicle_id = add_customer_with_vehicle(services)
    view.open_vehicle(vehicle_id)
    qtbot.mouseClick(view.vehicle_card.mileage_button, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.km, "80000")  # type: ignore[attr-defined]
    dialog.save()  # type: ignore[attr-defined]
    assert "niedriger als der letzte" in visible_error(dialog, "mileage")
    dialog.tacho.setChecked(True)  # type: ignore[attr-defined]
    dialog.save()  # type: ignore[attr-defined]
    assert services.vehicles.get(vehicle_id).last_mileage == 80_000
    assert view.vehicle_card.mileage.text() == "80.000 km"


def test_hu_entered_turns_the_badge_green(qtbot: Any, view: CounterView, services: Services) -> None:
    _customer_id, vehicle_id = add_customer_with_vehicle(services)
    view.open_vehicle(vehicle_id)
    qtbot.mouseClick(view.vehicle_card.hu_button, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    assert dialog is not None
    assert dialog.next_due.text() == "Nächste HU/AU fällig: 04/2028"  # type: ignore[attr-defined]
    qtbot.keyClick(dialog.date, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    assert view.vehicle_card.hu_badge.text() == "HU gültig bis 04/2028"
    assert HU_COLOURS["ok"][0] in view.vehicle_card.hu_badge.styleSheet()


def test_changes_elsewhere_refresh_the_open_customer_card(qtbot: Any, view: CounterView, services: Services) -> None:
    customer_id, _vehicle_id = add_customer_with_vehicle(services)
    view.open_customer(customer_id)
    services.vehicles.create(VehicleInput(customer_id=customer_id, plate="M-ZZ 9"))
    view.ctx.bus.operation_did_execute.emit(Changes(vehicles=True), None)
    assert view.customer_card.table.rowCount() == 2
    assert view.customer_card.vehicles_title.text() == "Fahrzeuge (2)"


def test_render_counter_tab_to_png(qtbot: Any, view: CounterView, services: Services) -> None:
    customer_id, vehicle_id = add_customer_with_vehicle(services)
    out = Path("/tmp/carbot_counter")
    out.mkdir(exist_ok=True)
    assert view.grab().save(str(out / "overview.png"))
    view.open_vehicle(vehicle_id)
    assert view.grab().save(str(out / "vehicle.png"))
    view.open_customer(customer_id)
    assert view.grab().save(str(out / "customer.png"))
    assert view.overview.heading.text()  # a greeting, with or without a workshop name


def test_owner_is_picked_from_the_list_by_typing(qtbot: Any, view: CounterView, services: Services) -> None:
    customer_id, _vehicle_id = add_customer_with_vehicle(services)
    dialog = view.new_vehicle()
    assert dialog.owner.customer_id is None  # nothing open: no owner pre-selected
    dialog.activateWindow()
    dialog.owner.edit.setFocus()
    qtbot.keyClicks(dialog.owner.edit, "Schnei")
    qtbot.waitUntil(lambda: dialog.owner.completer.model().rowCount() == 1, timeout=2000)
    dialog.plate.setText("M-EF 1")
    dialog.save()  # typed but not chosen: refused at the owner field
    assert "aus der Liste wählen" in visible_error(dialog, "customer_id")
    choice = dialog.owner.completer.model().index(0, 0).data()
    assert choice.startswith("Schneider, Anna · K1")
    dialog.owner.completer.activated.emit(choice)  # what Enter or a click in the popup does
    assert dialog.owner.customer_id == customer_id
    qtbot.waitUntil(lambda: dialog.owner.edit.text() == "Schneider, Anna", timeout=1000)
    dialog.save()
    assert [v.data.plate for v in services.vehicles.for_customer(customer_id)] == ["M-AB 123", "M-EF 1"]
