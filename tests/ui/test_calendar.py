"""The calendar tab ("Termine") against a real migrated database: layout per bay, booking, conflicts,
day/week switching, holidays, status changes and free slots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialog

from app.calendar_rules import DEFAULT_OPENING_HOURS, is_holiday
from app.catalog_csv import ServiceRow
from app.db import Database
from app.services.appointments import AppointmentDTO, AppointmentInput
from app.services.customers import CustomerInput
from app.services.registry import Services
from app.services.vehicles import VehicleInput
from ui import prefs
from ui.bus import Bus
from ui.context import UiContext
from ui.prefs import Prefs
from ui.tasks import TaskRunner
from ui.views.calendar import style
from ui.views.calendar.booking_dialog import BookingDialog
from ui.views.calendar.data import NO_BAY
from ui.views.calendar.header import short_name
from ui.views.calendar.pickers import DurationSpin
from ui.views.calendar.view import CalendarView

MONDAY = dt.date(2026, 11, 23)
WEDNESDAY = MONDAY + dt.timedelta(days=2)
CHRISTMAS = dt.date(2026, 12, 25)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


@dataclass(frozen=True)
class Workshop:
    """Ids of the test workshop's master data."""

    services: Services
    bay1: int
    bay2: int
    jonas: int
    ali: int
    vehicle: int
    customer: int
    oil: int
    inspection: int

    def book(
        self,
        start: dt.datetime,
        end: dt.datetime,
        bay: int | None,
        *,
        title: str = "Ölwechsel",
        status: str = "confirmed",
        mechanic: int | None = None,
    ) -> AppointmentDTO:
        data = AppointmentInput(
            start=start, end=end, bay_id=bay, mechanic_id=mechanic, vehicle_id=self.vehicle, title=title, status=status
        )
        return self.services.appointments.book(data).appointment


@pytest.fixture
def shop(db: Database) -> Workshop:
    """Kfz Meier in Bayern: two bays, two mechanics, Anna Huber's Golf M-AB 123, two catalogue services."""
    services = Services.for_database(db, today=MONDAY)
    services.settings.update(
        name="Kfz Meier",
        bundesland="BY",
        aw_per_hour=10,
        slot_minutes=15,
        opening_hours=DEFAULT_OPENING_HOURS.to_json(),
    )
    bay1, bay2 = services.settings.add_bay("Bühne 1"), services.settings.add_bay("Bühne 2")
    jonas, ali = services.settings.add_mechanic("Jonas"), services.settings.add_mechanic("Ali")
    customer, _changes = services.customers.create(CustomerInput(first_name="Anna", last_name="Huber"))
    vehicle, _changes = services.vehicles.create(
        VehicleInput(customer_id=customer.id, plate="M-AB 123", make="VW", model="Golf")
    )
    oil = services.catalog.create(ServiceRow(code="OEL", category="Wartung", name="Ölwechsel", aw=Decimal("7")))
    insp = services.catalog.create(ServiceRow(code="INSP", category="Wartung", name="Inspektion", aw=Decimal("20")))
    return Workshop(
        services, bay1.id, bay2.id, jonas.id, ali.id, vehicle.id, customer.id, oil.service.id, insp.service.id
    )


@pytest.fixture
def ctx(shop: Workshop, tmp_path: Path) -> UiContext:
    return UiContext(
        services=shop.services,
        runner=TaskRunner(synchronous=True),
        bus=Bus(),
        prefs=Prefs(tmp_path / "ui.ini"),
        today=lambda: MONDAY,
    )


def make_view(qtbot: Any, ctx: UiContext) -> CalendarView:
    view = CalendarView(ctx)
    view.now = lambda: at(MONDAY, 7, 0)
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    view.reload()
    return view


@pytest.fixture
def view(qtbot: Any, ctx: UiContext) -> Iterator[CalendarView]:
    widget = make_view(qtbot, ctx)
    yield widget
    if widget.booking_dialog is not None:
        widget.booking_dialog.reject()


def day_appointments(shop: Workshop, day: dt.date = MONDAY) -> list[AppointmentDTO]:
    return shop.services.appointments.day(day)


def pixel(view: CalendarView, x: float, y: float) -> QColor:
    return view.grid.grab().toImage().pixelColor(int(x), int(y))


# --- day view layout ---------------------------------------------------------------------------------


def test_day_view_places_each_appointment_in_its_bay_column_at_its_time(view: CalendarView, shop: Workshop) -> None:
    first = shop.book(at(MONDAY, 8), at(MONDAY, 9), shop.bay1)
    second = shop.book(at(MONDAY, 10), at(MONDAY, 11, 30), shop.bay2, status="pending")
    cancelled = shop.book(at(MONDAY, 14), at(MONDAY, 15), shop.bay1)
    shop.services.appointments.cancel(cancelled.id)
    view.reload()

    grid = view.grid
    bay1, bay2 = grid.lane_rect(MONDAY, shop.bay1), grid.lane_rect(MONDAY, shop.bay2)
    rect1, rect2 = grid.appointment_rect(first.id), grid.appointment_rect(second.id)
    assert bay1 is not None and bay2 is not None and rect1 is not None and rect2 is not None
    assert bay1.left() <= rect1.left() and rect1.right() <= bay1.right()
    assert bay2.left() <= rect2.left() and rect2.right() <= bay2.right()
    assert rect1.top() == pytest.approx(grid.y_for(dt.time(8)), abs=2)
    assert rect1.bottom() == pytest.approx(grid.y_for(dt.time(9)), abs=3)
    assert rect2.top() == pytest.approx(grid.y_for(dt.time(10)), abs=2)
    assert rect2.height() == pytest.approx(1.5 * (grid.y_for(dt.time(9)) - grid.y_for(dt.time(8))), abs=3)
    assert grid.appointment_rect(cancelled.id) is None  # cancelled appointments are hidden
    # Painted in the status colours: confirmed blue, pending amber (a spot below the text lines).
    assert pixel(view, rect1.right() - 10, rect1.bottom() - 5) == QColor(style.STATUS_STYLE["confirmed"][0])
    assert pixel(view, rect2.right() - 10, rect2.bottom() - 5) == QColor(style.STATUS_STYLE["pending"][0])
    assert "2 Termine" in view.summary.text() and "1 Anfrage offen" in view.summary.text()


def test_day_rows_run_from_opening_to_closing_and_an_appointment_without_bay_gets_its_own_column(
    view: CalendarView, shop: Workshop
) -> None:
    loose = shop.book(at(MONDAY, 9), at(MONDAY, 10), None)
    view.reload()
    geo = view.grid.geometry_model
    assert geo is not None
    assert (geo.first_minute, geo.last_minute) == (7 * 60 + 30, 17 * 60 + 30)
    assert [lane.bay_id for lane in geo.lanes] == [shop.bay1, shop.bay2, NO_BAY]
    rect, lane = view.grid.appointment_rect(loose.id), view.grid.lane_rect(MONDAY, None)
    assert rect is not None and lane is not None and lane.contains(rect.center())


def test_double_click_on_empty_slot_prefills_start_and_bay(view: CalendarView, shop: Workshop) -> None:
    lane = view.grid.lane_rect(MONDAY, shop.bay2)
    assert lane is not None
    view.grid.activate_at(QPointF(lane.center().x(), view.grid.y_for(dt.time(14, 20))))
    dialog = view.booking_dialog
    assert dialog is not None and not dialog.editing
    assert dialog.form.start() == at(MONDAY, 14, 15)  # snapped to the 15-minute raster
    assert dialog.form.bay.currentData() == shop.bay2


def test_double_click_on_appointment_opens_it_for_editing(view: CalendarView, shop: Workshop) -> None:
    appt = shop.book(at(MONDAY, 8), at(MONDAY, 9), shop.bay1, mechanic=shop.jonas)
    view.reload()
    rect = view.grid.appointment_rect(appt.id)
    assert rect is not None
    view.grid.activate_at(rect.center())
    dialog = view.booking_dialog
    assert dialog is not None and dialog.appointment is not None and dialog.appointment.id == appt.id
    assert dialog.form.mechanic.currentData() == shop.jonas
    assert dialog.form.duration.value() == 60


# --- booking dialog ----------------------------------------------------------------------------------


def test_booking_through_the_dialog_creates_the_appointment(qtbot: Any, view: CalendarView, shop: Workshop) -> None:
    dialog = view.new_appointment(start=at(MONDAY, 13), bay_id=shop.bay1)
    form = dialog.form
    qtbot.keyClicks(form.customer, "M AB")
    qtbot.waitUntil(form.customer.popup.isVisible)
    assert [hit.vehicle_id for hit in form.customer.hits] == [shop.vehicle]
    qtbot.keyClick(form.customer.popup, Qt.Key.Key_Return)
    assert (form.customer_id, form.vehicle_id) == (shop.customer, shop.vehicle)
    form.customer.clear()  # the clear button: the choice is gone …
    form.customer.textEdited.emit("")
    assert (form.customer_id, form.vehicle_id) == (None, None)
    qtbot.keyClicks(form.customer, "Huber")  # … and a customer brings their only car along
    qtbot.waitUntil(form.customer.popup.isVisible)
    assert [hit.kind for hit in form.customer.hits] == ["customer"]
    qtbot.keyClick(form.customer.popup, Qt.Key.Key_Return)
    assert (form.customer_id, form.vehicle_id) == (shop.customer, shop.vehicle)
    qtbot.keyClicks(form.services.search, "Insp")
    qtbot.waitUntil(form.services.search.popup.isVisible)
    qtbot.keyClick(form.services.search.popup, Qt.Key.Key_Return)
    assert form.services.service_ids == [shop.inspection]
    assert form.duration.value() == 120  # 20 AW at 10 AW per hour
    form.mechanic.setCurrentIndex(form.mechanic.findData(shop.ali))
    qtbot.keyClicks(form.title_edit, "Inspektion nach Herstellervorgabe")
    with qtbot.waitSignal(view.ctx.bus.operation_did_execute):
        qtbot.keyClick(form.title_edit, Qt.Key.Key_Return)  # Enter saves

    assert dialog.result() == QDialog.DialogCode.Accepted
    [booked] = day_appointments(shop)
    assert (booked.start, booked.end) == (at(MONDAY, 13), at(MONDAY, 15))
    assert (booked.bay_id, booked.mechanic_id, booked.vehicle_id) == (shop.bay1, shop.ali, shop.vehicle)
    assert booked.service_ids == (shop.inspection,)
    assert booked.title == "Inspektion nach Herstellervorgabe"
    assert view.grid.appointment_rect(booked.id) is not None  # the view refreshed from the bus


def test_a_duration_typed_by_hand_is_kept_when_services_are_added(view: CalendarView, shop: Workshop) -> None:
    dialog = view.new_appointment(start=at(MONDAY, 13), bay_id=shop.bay1)
    dialog.form.duration.setValue(30)
    catalog = shop.services.catalog
    dialog.form.services.add(catalog.get(shop.oil))
    assert dialog.form.duration.value() == 30
    dialog.form.recompute_duration()
    assert dialog.form.duration.value() == 45  # 7 AW → 42 minutes → three 15-minute slots


def test_conflicting_booking_shows_the_conflict_inline_and_creates_nothing(view: CalendarView, shop: Workshop) -> None:
    shop.book(at(MONDAY, 8), at(MONDAY, 9), shop.bay1, title="Ölwechsel")
    view.reload()
    dialog = view.new_appointment(start=at(MONDAY, 8, 30), bay_id=shop.bay1)
    dialog.form.title_edit.setText("Bremsen")
    dialog.save()

    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert not dialog.error.isHidden()
    assert "„Bühne 1“ ist bereits belegt: M-AB 123 – Ölwechsel" in dialog.error.text()
    assert [a.title for a in day_appointments(shop)] == ["Ölwechsel"]


def test_closed_time_error_is_shown_at_the_start_field_and_force_books_anyway(
    view: CalendarView, shop: Workshop
) -> None:
    dialog = view.new_appointment(start=at(MONDAY, 12, 15), bay_id=shop.bay2)  # lunch break
    dialog.form.title_edit.setText("Scheibenwischer")
    dialog.save()
    assert "nur 07:30–12:00, 13:00–17:30 geöffnet" in dialog.form.field_error("start")
    assert "außerhalb der Öffnungszeiten buchen" in dialog.form.field_error("start")
    assert day_appointments(shop) == []
    dialog.form.force.setChecked(True)
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert [a.start for a in day_appointments(shop)] == [at(MONDAY, 12, 15)]


def test_an_empty_form_is_not_booked_by_an_early_enter(qtbot: Any, view: CalendarView, shop: Workshop) -> None:
    dialog = view.new_appointment(start=at(MONDAY, 9), bay_id=shop.bay1)
    qtbot.keyClick(dialog.form.customer, Qt.Key.Key_Return)
    assert dialog.isVisible() and day_appointments(shop) == []
    assert "Bitte Kunde oder Fahrzeug suchen" in dialog.form.field_error("customer")


def test_next_free_slot_button_fills_start_and_bay(view: CalendarView, shop: Workshop) -> None:
    shop.book(at(MONDAY, 7, 30), at(MONDAY, 12), shop.bay1)
    shop.book(at(MONDAY, 7, 30), at(MONDAY, 12), shop.bay2)
    dialog = view.new_appointment(start=at(MONDAY, 7, 30), bay_id=None)
    dialog.form.next_free.click()
    assert dialog.form.start() == at(MONDAY, 13)
    assert dialog.form.bay.currentData() == shop.bay1
    assert "13:00" in dialog.hint.text()


# --- editing and status ------------------------------------------------------------------------------


def test_edit_dialog_moves_to_another_bay_and_offers_only_allowed_status_buttons(
    view: CalendarView, shop: Workshop
) -> None:
    appt = shop.book(at(MONDAY, 8), at(MONDAY, 9), shop.bay1, status="pending")
    view.reload()
    dialog = view.edit_appointment(appt.id)
    assert dialog is not None
    assert sorted(dialog.status_buttons) == ["cancelled", "confirmed"]
    dialog.form.bay.setCurrentIndex(dialog.form.bay.findData(shop.bay2))
    dialog.form.time_edit.stepBy(4)  # one hour later, in 15-minute steps
    dialog.save()
    moved = shop.services.appointments.get(appt.id)
    assert (moved.bay_id, moved.start, moved.end) == (shop.bay2, at(MONDAY, 9), at(MONDAY, 10))
    rect, lane = view.grid.appointment_rect(appt.id), view.grid.lane_rect(MONDAY, shop.bay2)
    assert rect is not None and lane is not None and lane.contains(rect.center())


def test_status_buttons_confirm_and_cancel_with_reason(
    view: CalendarView, shop: Workshop, monkeypatch: pytest.MonkeyPatch
) -> None:
    appt = shop.book(at(MONDAY, 8), at(MONDAY, 9), shop.bay1, status="pending")
    view.reload()
    dialog = view.edit_appointment(appt.id)
    assert dialog is not None
    dialog.status_buttons["confirmed"].click()
    assert shop.services.appointments.get(appt.id).status == "confirmed"

    dialog = view.edit_appointment(appt.id)
    assert dialog is not None
    assert sorted(dialog.status_buttons) == ["cancelled", "done", "no_show"]
    monkeypatch.setattr(BookingDialog, "ask_cancel_reason", lambda self: "Kunde krank")
    dialog.status_buttons["cancelled"].click()
    cancelled = shop.services.appointments.get(appt.id)
    assert cancelled.status == "cancelled" and "Kunde krank" in cancelled.notes
    assert view.grid.appointment_rect(appt.id) is None


def test_context_menu_offers_edit_and_the_allowed_status_changes(view: CalendarView, shop: Workshop) -> None:
    appt = shop.book(at(MONDAY, 8), at(MONDAY, 9), shop.bay1)
    view.reload()
    menu = view.context_menu(view.data.appointment(appt.id) if view.data else None, None)
    texts = [action.text() for action in menu.actions() if not action.isSeparator()]
    assert texts == ["Bearbeiten / verschieben …", "Erledigt", "Nicht erschienen", "Absagen"]
    next(a for a in menu.actions() if a.text() == "Erledigt").trigger()
    assert shop.services.appointments.get(appt.id).status == "done"
    slot_menu = view.context_menu(None, (at(MONDAY, 14), shop.bay2))
    [action] = slot_menu.actions()
    assert action.text() == "Neuer Termin um 14:00 …"
    action.trigger()
    assert view.booking_dialog is not None and view.booking_dialog.form.bay.currentData() == shop.bay2


# --- week view, holidays, free slots -----------------------------------------------------------------


def test_switching_to_week_shows_monday_to_saturday_per_bay_and_is_remembered(
    qtbot: Any, view: CalendarView, shop: Workshop, ctx: UiContext
) -> None:
    wednesday = shop.book(at(WEDNESDAY, 10), at(WEDNESDAY, 11), shop.bay2)
    qtbot.mouseClick(view.toolbar.week_button, Qt.MouseButton.LeftButton)
    assert view.mode == "week" and ctx.prefs.get(prefs.CALENDAR_MODE) == "week"
    assert view.data is not None and view.data.days == tuple(MONDAY + dt.timedelta(days=i) for i in range(6))
    geo = view.grid.geometry_model
    assert geo is not None and len(geo.lanes) == 12 and view.title.text().startswith("KW 48")
    rect, lane = view.grid.appointment_rect(wednesday.id), view.grid.lane_rect(WEDNESDAY, shop.bay2)
    assert rect is not None and lane is not None and lane.contains(rect.center())

    view.toolbar.bay_filter.setCurrentIndex(view.toolbar.bay_filter.findData(shop.bay1))
    geo = view.grid.geometry_model
    assert geo is not None and {lane.bay_id for lane in geo.lanes} == {shop.bay1}
    assert view.grid.appointment_rect(wednesday.id) is None

    again = make_view(qtbot, ctx)  # a restart keeps the week view
    assert again.mode == "week" and again.toolbar.week_button.isChecked()
    qtbot.mouseClick(again.toolbar.day_button, Qt.MouseButton.LeftButton)
    assert again.data is not None and again.data.days == (MONDAY,)
    assert ctx.prefs.get(prefs.CALENDAR_MODE) == "day"


def test_previous_and_next_step_by_day_or_week(view: CalendarView) -> None:
    view.step(1)
    assert view.current_date == MONDAY + dt.timedelta(days=1)
    view.set_mode("week")
    view.step(-1)
    assert view.current_date == MONDAY - dt.timedelta(days=6)
    view.go_today()
    assert view.current_date == MONDAY


def test_a_view_left_on_today_follows_the_date_after_midnight(view: CalendarView, ctx: UiContext) -> None:
    ctx.today = lambda: MONDAY + dt.timedelta(days=1)
    view._on_tick()
    assert view.current_date == MONDAY + dt.timedelta(days=1)


def test_a_public_holiday_shows_its_name(view: CalendarView) -> None:
    name = is_holiday(CHRISTMAS, "BY")
    assert name
    view.set_date(CHRISTMAS)
    assert not view.holiday_banner.isHidden()
    assert name in view.holiday_banner.text()
    view.set_mode("week")
    assert name in view.holiday_banner.text()
    view.set_date(MONDAY)
    assert view.holiday_banner.isHidden()


def test_next_free_slots_dialog_lists_the_earliest_per_bay_and_books_one(
    qtbot: Any, view: CalendarView, shop: Workshop
) -> None:
    shop.book(at(MONDAY, 7, 30), at(MONDAY, 12), shop.bay1)
    dialog = view.show_free_slots()
    firsts = dialog.slots[:2]
    assert [(s.bay_id, s.start) for s in firsts] == [(shop.bay2, at(MONDAY, 7, 30)), (shop.bay1, at(MONDAY, 13))]
    dialog.list.setCurrentRow(2)  # row 0 is the heading; row 2 is the Bühne 1 slot
    dialog.choose()
    qtbot.waitUntil(lambda: view.booking_dialog is not None)
    assert view.booking_dialog is not None
    assert view.booking_dialog.form.start() == at(MONDAY, 13)
    assert view.booking_dialog.form.bay.currentData() == shop.bay1
    assert view.booking_dialog.form.duration.value() == 60


def test_both_views_render_to_png(view: CalendarView, shop: Workshop, tmp_path: Path) -> None:
    shop.book(at(MONDAY, 8), at(MONDAY, 9, 30), shop.bay1, mechanic=shop.jonas, title="Inspektion")
    view.reload()
    day_png, week_png = tmp_path / "calendar_day.png", tmp_path / "calendar_week.png"
    assert view.grab().save(str(day_png))
    view.set_mode("week")
    assert view.grab().save(str(week_png))
    assert day_png.stat().st_size > 5_000 and week_png.stat().st_size > 5_000


def test_duration_box_understands_how_the_counter_types_it(qtbot: Any) -> None:
    spin = DurationSpin()
    qtbot.addWidget(spin)
    for typed, minutes in (("1:30", 90), ("1,5", 90), ("45", 45), ("2:45 Std.", 165)):
        spin.lineEdit().setText(typed)
        spin.interpretText()
        assert spin.value() == minutes
    assert spin.text() == "2:45 Std."
    assert [short_name(n) for n in ("Bühne 1", "Platz 4 (Schnellservice)", "Achsmessung")] == ["B1", "P4", "Achs"]
