"""The Berichte tab against a real database with invoices made through the services: the KPI cards show
the service's values, presets re-query (debounced), the charts draw the service's series, the counter
role sees only its day, CSV and PDF are written, the location filter works from roll-ups, and the GUI
stays responsive while the figures load in the background."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtWidgets import QFileDialog

from app import formatting
from app.changes import Changes
from app.db import Database
from app.demo import setup_workshop
from app.errors import ValidationError
from app.reports.period import Period, preset
from app.reports.types import Kpi, KpiReport
from app.services.appointments import AppointmentInput
from app.services.chat_inbox import ChatInboxService
from app.services.customers import CustomerInput
from app.services.order_lines import LineInput
from app.services.registry import Services
from app.services.reports import ReportService
from sync.rollups_client import parse_rollup
from tests.app.test_reports_chat import Pulls, conversation
from tests.ui.test_counter import TODAY, add_customer_with_vehicle, make_ctx
from tests.ui.test_invoices_view import second_customer
from ui import prefs as prefs_mod
from ui.tasks import TaskRunner
from ui.views.reports.style import value_text
from ui.views.reports.view import ReportsView

APRIL = Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30))
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.fixture
def services(db: Database) -> Services:
    """Services with a fixed today (15 April 2026) and the demo workshop's master data and mechanics."""
    services = Services.for_database(db, today=TODAY)
    setup_workshop(services)
    return services


def issue(
    services: Services, customer: tuple[int, int | None], issued: dt.date, *, part: str, aw: str | None = None
) -> tuple[int, str]:
    """A final invoice via a completed order: one part at ``part`` net, optionally labour of ``aw`` AW
    done by the first mechanic (118 €/h at 10 AW/h = 11,80 € per AW). Returns (id, number)."""
    orders = services.work_orders
    order_id = orders.create(*customer).order.id
    orders.add_line(order_id, LineInput(kind="part", text="Bremsscheibe", unit_price_net=part))
    if aw is not None:
        mechanic = services.settings.mechanics()[0].id
        orders.add_line(order_id, LineInput(kind="labour", text="Bremsen vorne", aw=aw, mechanic_id=mechanic))
    for step in (orders.open, orders.start, orders.complete):
        step(order_id)
    invoice_id, _changes = services.invoices.create_draft_from_order(order_id, user="Theke")
    return invoice_id, services.invoices.finalize(invoice_id, user="Theke", issue_date=issued).number


@pytest.fixture
def invoices(services: Services) -> dict[str, tuple[int, str]]:
    """April: 100 € + 10 AW (= 218 € net), 50 € paid in full, 80 € cancelled by Storno; March: 200 €."""
    anna, berger = add_customer_with_vehicle(services), second_customer(services)
    made = {
        "march": issue(services, anna, dt.date(2026, 3, 20), part="200"),
        "labour": issue(services, anna, dt.date(2026, 4, 2), part="100", aw="10"),
        "paid": issue(services, berger, dt.date(2026, 4, 10), part="50"),
        "cancelled": issue(services, berger, dt.date(2026, 4, 14), part="80"),
    }
    services.payments.record(made["paid"][0], amount="59.50", method="card", user="Theke")
    services.invoices.cancel(made["cancelled"][1], reason="falscher Empfänger", user="Theke")
    return made


def make_view(qtbot: Any, services: Services, tmp_path: Path, *, role: str = "owner", **kwargs: Any) -> ReportsView:
    """The tab with the given role preference, shown (a synchronous runner loads at once)."""
    ctx = make_ctx(services, tmp_path, kwargs.pop("runner", None))
    ctx.prefs.set(prefs_mod.ROLE, role)
    view = ReportsView(ctx, **kwargs)
    qtbot.addWidget(view)
    view.resize(1366, 760)
    view.show()
    return view


@pytest.fixture
def view(qtbot: Any, services: Services, invoices: dict[str, tuple[int, str]], tmp_path: Path) -> Iterator[ReportsView]:
    """The owner's tab over the invoices above."""
    yield make_view(qtbot, services, tmp_path)


def expected_text(item: Kpi) -> str:
    """The card's value as written out by hand per unit (German separators)."""
    assert item.value is not None
    if item.unit == "EUR":
        return formatting.money(Decimal(item.value))
    if item.unit == "%":
        return f"{Decimal(item.value):.1f}".replace(".", ",") + "\u00a0%"
    if item.unit == "AW":
        return f"{formatting.number(item.value, 2)}\u00a0AW"
    return formatting.number(item.value, 0)


def shown_period(view: ReportsView) -> Period:
    assert view.report is not None
    return view.report.period


# --- the dashboard ----------------------------------------------------------------------------------------


def test_the_tab_shows_every_kpi_card_with_the_services_values(view: ReportsView, services: Services) -> None:
    expected = ReportService(services.db, today=TODAY).kpis(preset("this_month", TODAY))
    assert shown_period(view) == APRIL and view.header.preset_name == "this_month"
    assert view.pages.currentIndex() == view.PAGE_DASHBOARD
    cards = view.grid.cards
    assert len(cards) >= 12 and list(cards) == list(expected.ids)
    for item in expected.kpis:
        card = cards[item.id]
        if not item.available:
            # no number, only the German note, greyed
            assert card.value_label.text() == item.note and card.value_label.property("available") is False
            assert not card.sparkline.isVisibleTo(card) and not card.delta_label.isVisibleTo(card)
            continue
        if item.value is not None:
            assert card.value_label.text() == expected_text(item), item.id
    # hand-computed: 218,00 + 50,00 + 80,00 − 80,00 (Storno) net in April, 200,00 in March
    net = cards["revenue_net"]
    assert net.value_label.text() == "268,00\u00a0€"
    assert net.delta_label.text() == "▲ 34,0\u00a0%" and net.compare_label.text() == "ggü. Vormonat"
    assert net.delta_label.styleSheet().startswith("color: #2e7d32")  # more revenue: green
    assert cards["aw_sold"].value_label.text() == "10\u00a0AW"
    assert cards["invoice_count"].value_label.text() == "2"  # 3 invoices − 1 Storno
    chat = expected.kpi("chat_leads")
    assert chat.available and cards["chat_leads"].value_label.text() == "–"
    assert cards["chat_leads"].caption_label.text() == "0 Chats · 0 Leads · 0 mit Termin"
    # the tooltip explains the KPI and names the comparison
    assert "Stornorechnungen" in net.toolTip() and "200,00" in net.toolTip()
    # days after today (16–30 April) are not drawn as a drop to zero
    assert len(net.sparkline.values) == 15


def test_the_chat_card_shows_the_terminquote_and_the_three_counts(
    qtbot: Any, services: Services, tmp_path: Path
) -> None:
    """April 2026: two chats, both leads, one booked (staff linked an appointment) → 50,0 %."""
    pulls = Pulls(services.db)
    day = [dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC), dt.datetime(2026, 4, 8, 9, tzinfo=dt.UTC)]
    minutes = dt.timedelta(minutes=5)
    pulls.store(
        ("chat_conversation", conversation("a1", day[0], 3, day[0] + minutes)),
        ("chat_conversation", conversation("a2", day[1], 2, day[1] + minutes)),
    )
    start = dt.datetime(2026, 4, 20, 9)
    appointment = services.appointments.book(
        AppointmentInput(start=start, end=start + dt.timedelta(hours=1), title="Inspektion"), force=True
    ).appointment
    ChatInboxService(services.db).link("a1", appointment_id=appointment.id)
    view = make_view(qtbot, services, tmp_path)
    card = view.grid.cards["chat_leads"]
    assert card.title_label.text() == "Terminquote Chat-Leads"
    assert card.value_label.text() == "50,0\u00a0%"
    assert card.caption_label.text() == "2 Chats · 2 Leads · 1 mit Termin"
    assert "Anteil der Leads aus dem Website-Chat" in card.toolTip()
    view.grab().save(str(tmp_path / "reports_chat.png"))


def test_chart_axes_are_wide_enough_for_their_names_and_amounts_from_the_first_picture(view: ReportsView) -> None:
    """pyqtgraph widens an axis only after painting: without a width set up front the mechanics' and
    categories' names and the three-digit amounts were missing from the first picture."""
    from PySide6.QtGui import QFont, QFontMetrics

    from ui.views.reports.charts import CategoryChart, RevenueChart, UtilisationChart

    def fits(chart: Any, text: str) -> bool:
        axis = chart.plot.getPlotItem().getAxis("left")
        font = axis.style.get("tickFont") or QFont()
        return bool(axis.width() >= QFontMetrics(font).horizontalAdvance(text))

    [utilisation] = view.findChildren(UtilisationChart)
    [categories] = view.findChildren(CategoryChart)
    [revenue] = view.findChildren(RevenueChart)
    assert fits(utilisation, "Max Oberhuber (Azubi)")
    assert fits(categories, "Arbeit ohne Katalogbezug")
    assert fits(revenue, "200\u00a0€")


def test_overdue_amounts_going_up_are_red(view: ReportsView) -> None:
    overdue = view.grid.cards["receivables_open"]
    assert overdue.kpi is not None and overdue.kpi.lower_is_better
    assert overdue.delta_label.text().startswith("▲")
    assert overdue.delta_label.styleSheet().startswith("color: #c62828")


def test_the_charts_draw_the_services_series_categories_and_mechanics(
    qtbot: Any, view: ReportsView, services: Services
) -> None:
    service = ReportService(services.db, today=TODAY)
    days = service.revenue_series(APRIL, "day")
    assert view.revenue_chart.granularity == "day"
    assert view.revenue_chart.rows == [(p.label, p.net) for p in days]
    assert ("02.04.", Decimal("218.00")) in view.revenue_chart.rows
    assert view.revenue_chart.note_label.text() == "Summe 268,00\u00a0€ · 2 Rechnungen"
    assert dict(view.category_chart.rows) == {c.category: c.net for c in service.revenue_by_category(APRIL) if c.net}
    mechanics = service.mechanic_utilisation(APRIL)
    assert view.utilisation_chart.rows == [(m.name, m.utilisation) for m in mechanics if m.mechanic_id is not None]
    assert any(share and share > 0 for _name, share in view.utilisation_chart.rows)

    view.revenue_chart.buttons["week"].click()
    weeks = service.revenue_series(APRIL, "week")
    assert view.revenue_chart.rows == [(p.label, p.net) for p in weeks] and weeks[0].label == "KW 14"
    view.revenue_chart.buttons["month"].click()
    assert view.revenue_chart.rows == [("Apr 2026", Decimal("268.00"))]


def test_switching_presets_requeries_once_after_a_pause(qtbot: Any, view: ReportsView) -> None:
    loads = view.loads
    view.header.choose_preset("last_month")
    view.header.choose_preset("quarter")
    view.header.choose_preset("year")
    assert view.loads == loads  # nothing yet: the user may still be clicking
    qtbot.waitUntil(lambda: view.loads == loads + 1, timeout=2000)
    qtbot.wait(400)
    assert view.loads == loads + 1
    assert shown_period(view) == Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert view.revenue_chart.granularity == "month"  # a year is drawn by month
    assert view.grid.cards["revenue_net"].value_label.text() == "468,00\u00a0€"  # March now counts too

    view.header.choose_preset("last_month")
    view.header.flush()
    assert shown_period(view) == MARCH
    assert view.grid.cards["revenue_net"].value_label.text() == "200,00\u00a0€"


def test_a_custom_range_is_typed_in_the_date_fields(qtbot: Any, view: ReportsView) -> None:
    view.header.set_custom(dt.date(2026, 4, 1), dt.date(2026, 4, 10))
    assert view.header.preset_name == "custom"
    view.header.flush()
    assert shown_period(view) == Period(dt.date(2026, 4, 1), dt.date(2026, 4, 10))
    assert view.grid.cards["revenue_net"].value_label.text() == "268,00\u00a0€"
    loads = view.loads
    view.header.set_custom(dt.date(2026, 4, 10), dt.date(2026, 4, 1))  # the end before the start
    view.header.flush()
    assert view.loads == loads and view.header.error_label.isVisibleTo(view)
    assert view.header.error_label.text() == "Das Ende liegt vor dem Beginn."


def test_a_new_invoice_elsewhere_reloads_the_visible_tab(qtbot: Any, view: ReportsView, services: Services) -> None:
    customer, _changes = services.customers.create(
        CustomerInput(kind="business", company="Taxi Meier", street="Weg 3", postcode="80331", city="München")
    )
    issue(services, (customer.id, None), TODAY, part="32")
    loads = view.loads
    view.ctx.bus.operation_did_execute.emit(Changes(invoices=True), None)
    assert view.loads == loads  # after a short pause: a burst of changes reloads once
    qtbot.waitUntil(lambda: view.grid.cards["revenue_net"].value_label.text() == "300,00\u00a0€", timeout=2000)
    assert view.loads == loads + 1


def test_this_month_follows_the_calendar_when_the_app_runs_into_a_new_month(qtbot: Any, view: ReportsView) -> None:
    view.ctx.today = lambda: dt.date(2026, 5, 1)
    view.ctx.bus.operation_did_execute.emit(Changes(appointments=True), None)
    qtbot.waitUntil(lambda: shown_period(view) == Period(dt.date(2026, 5, 1), dt.date(2026, 5, 31)), timeout=2000)
    assert view.grid.cards["revenue_net"].value_label.text() == "0,00\u00a0€"
    assert view.grid.cards["revenue_net"].compare_label.text() == "ggü. Vormonat"


def test_a_failed_load_says_so_in_the_tab_without_a_blocking_dialog(
    qtbot: Any, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: ReportService, period: Period, **kwargs: Any) -> KpiReport:
        raise ValidationError("Die Datenbank ist gerade gesperrt.")

    monkeypatch.setattr(ReportService, "kpis", broken)
    view = make_view(qtbot, services, tmp_path)
    assert not view.loading and view.report is None and view.info_label.isVisibleTo(view)
    assert view.info_label.text() == (
        "Die Kennzahlen konnten nicht berechnet werden: Die Datenbank ist gerade gesperrt."
    )


# --- roles ------------------------------------------------------------------------------------------------


def test_the_counter_sees_only_its_own_day(
    qtbot: Any, services: Services, invoices: dict[str, tuple[int, str]], tmp_path: Path
) -> None:
    view = make_view(qtbot, services, tmp_path, role="counter")
    day = ReportService(services.db, today=TODAY, role="counter").counter_day()
    assert view.pages.currentIndex() == view.PAGE_DAY and view.report is None
    assert not view.grid.cards  # no revenue widget was ever built
    panel = view.day_panel
    assert "Inhaber" in panel.notice.text() and "Umsatzzahlen" in panel.notice.text()
    assert panel.heading.text() == "Ihr Tag – Mittwoch, 15. April 2026"
    assert panel.appointments.value_label.text() == str(day.appointments)
    assert panel.orders.value_label.text() == str(day.open_orders)
    assert panel.payments.value_label.text() == value_text(day.payments_total, "EUR")
    assert not view.header.csv_button.isVisibleTo(view) and not view.header.pdf_button.isVisibleTo(view)
    assert not view.header.preset_box.isVisibleTo(view)
    assert view.header.role_label.text() == "Rolle: Theke"


def test_the_counter_day_lists_todays_payment(qtbot: Any, services: Services, tmp_path: Path) -> None:
    invoice_id, _number = issue(services, add_customer_with_vehicle(services), TODAY, part="100")
    services.payments.record(invoice_id, amount="50.00", method="cash", user="Theke")
    view = make_view(qtbot, services, tmp_path, role="counter")
    assert view.day_panel.payments.value_label.text() == "50,00\u00a0€"
    assert "Bar: 50,00\u00a0€" in view.day_panel.payments.detail_label.text()
    assert "1 Zahlung" in view.day_panel.payments.detail_label.text()


def test_a_mechanic_sees_no_reports_and_the_auditor_reads_them(
    qtbot: Any, services: Services, invoices: dict[str, tuple[int, str]], tmp_path: Path
) -> None:
    mechanic = make_view(qtbot, services, tmp_path, role="mechanic")
    assert mechanic.pages.currentIndex() == mechanic.PAGE_DENIED and mechanic.report is None
    assert "Monteur" in mechanic.denied_label.text() and "keinen Zugriff" in mechanic.denied_label.text()
    auditor = make_view(qtbot, services, tmp_path / "auditor", role="auditor")
    assert auditor.pages.currentIndex() == auditor.PAGE_DASHBOARD and len(auditor.grid.cards) >= 12
    assert auditor.header.role_label.text() == "Rolle: Prüfer (nur lesen)"


# --- exports ----------------------------------------------------------------------------------------------


@pytest.fixture
def save_as(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, str]]:
    """The save dialog answers with a file in tmp_path named like the suggestion; records (title, filter)."""
    asked: list[tuple[str, str]] = []

    def answer(_parent: Any, title: str, suggested: str, name_filter: str) -> tuple[str, str]:
        asked.append((title, name_filter))
        return str(tmp_path / "out" / Path(suggested).name), name_filter

    (tmp_path / "out").mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer)
    return asked


def test_csv_of_all_widgets_and_of_the_selected_one(
    qtbot: Any, view: ReportsView, save_as: list[tuple[str, str]], tmp_path: Path
) -> None:
    assert not view.header.csv_selected_action.isEnabled()
    view.header.csv_all_action.trigger()
    written = tmp_path / "out" / "Kennzahlen 2026-04-01 bis 2026-04-30.csv"
    assert view.last_export == written and written.read_bytes().startswith(b"\xef\xbb\xbf")
    text = written.read_text(encoding="utf-8-sig")
    assert all(card.kpi is not None and card.kpi.title in text for card in view.grid.cards.values())
    assert "268,00" in text and save_as[0][1] == "CSV-Dateien (*.csv)"

    qtbot.mouseClick(view.grid.cards["aw_sold"], Qt.MouseButton.LeftButton)
    assert view.grid.selected == "aw_sold" and view.grid.cards["aw_sold"].selected
    assert view.header.csv_selected_action.isEnabled()
    assert view.header.csv_selected_action.text() == "Nur „AW verkauft“…"
    view.header.csv_selected_action.trigger()
    single = tmp_path / "out" / "AW verkauft 2026-04-01 bis 2026-04-30.csv"
    content = single.read_text(encoding="utf-8-sig")
    assert "AW verkauft" in content and "Offene Forderungen" not in content
    qtbot.mouseClick(view.grid.cards["aw_sold"], Qt.MouseButton.LeftButton)  # a second click deselects
    assert view.grid.selected is None and not view.header.csv_selected_action.isEnabled()


def test_pdf_report_is_written(qtbot: Any, view: ReportsView, save_as: list[tuple[str, str]], tmp_path: Path) -> None:
    messages: list[str] = []
    view.ctx.bus.status_message_posted.connect(messages.append)
    view.header.pdf_button.click()
    written = tmp_path / "out" / "Managementbericht 2026-04-01 bis 2026-04-30.pdf"
    assert view.last_export == written
    assert written.read_bytes().startswith(b"%PDF") and written.stat().st_size > 2000
    assert not list((tmp_path / "out").glob("*.part"))
    assert messages == [f"Gespeichert: {written}"] and save_as[0][1] == "PDF-Dokumente (*.pdf)"


def test_a_cancelled_save_dialog_writes_nothing(
    qtbot: Any, view: ReportsView, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_args: ("", ""))
    view.header.csv_all_action.trigger()
    view.header.pdf_button.click()
    assert view.last_export is None


# --- locations from the hosted API's roll-ups -------------------------------------------------------------


def figures(net: str, *, count: int, new: int = 0) -> dict[str, Any]:
    """Roll-up figures as the server sends them (19 % only)."""
    gross = (Decimal(net) * Decimal("1.19")).quantize(Decimal("0.01"))
    money = {"net_total": net, "tax_total": str(gross - Decimal(net)), "gross_total": str(gross),
             "altteil_tax": "0", "aw_sold": "12.5", "labour_net": str(Decimal(net) / 2),
             "parts_net": str(Decimal(net) / 2), "other_net": "0"}  # fmt: skip
    counts = {"invoice_count": count, "storno_count": 0, "new_customers": new, "appointments": 3, "chats": 0,
              "leads": 0, "days_reported": 1}  # fmt: skip
    return (
        {"revenue": [{"vat_rate": "19.00", "net": net, "tax": money["tax_total"], "gross": str(gross)}]}
        | money
        | counts
    )


class FakeRollups:
    """Two locations, München (this one) and Dachau; Dachau made 1.000 € in April (on the 2nd), 500 € in
    March."""

    def __init__(self) -> None:
        self.calls: list[tuple[dt.date, str, str | None]] = []

    def rollups(
        self, date_from: dt.date, date_to: dt.date, *, group: str = "location", location_id: str | None = None
    ) -> Any:
        self.calls.append((date_from, group, location_id))
        net = "1000.00" if date_from.month == 4 else "500.00"
        if group == "location":
            groups = [
                {"location_id": "loc-muc", "location_name": "München", "figures": figures("10.00", count=1)},
                {"location_id": "loc-dah", "location_name": "Dachau", "figures": figures(net, count=4)},
            ]
        else:
            groups = [{"date": date_from.replace(day=2).isoformat(), "figures": figures(net, count=4, new=2)}]
        answer = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "group": group}
        answer |= {
            "location_ids": ["loc-muc", "loc-dah"],
            "total": figures(net, count=4, new=2),
            "groups": groups,
        }
        return parse_rollup(answer)


def test_without_roll_ups_there_is_no_location_filter(view: ReportsView) -> None:
    assert not view.header.location_box.isVisibleTo(view)


def test_the_location_filter_shows_another_locations_figures_from_the_roll_ups(
    qtbot: Any, services: Services, invoices: dict[str, tuple[int, str]], tmp_path: Path
) -> None:
    from sync import local

    local.register(services.db, server_url="https://carbot.example", device_id="dev-1", location_id="loc-muc")
    source = FakeRollups()
    view = make_view(qtbot, services, tmp_path, rollups=source)
    box = view.header.location_box
    assert box.isVisibleTo(view)
    assert [box.itemText(i) for i in range(box.count())] == ["Dieser Standort", "Dachau", "Alle Standorte"]
    box.setCurrentIndex(1)
    assert view.report is not None and view.report.location == "loc-dah"
    cards = view.grid.cards
    assert cards["revenue_net"].value_label.text() == "1.000,00\u00a0€"
    assert cards["revenue_net"].delta_label.text() == "▲ 100,0\u00a0%"  # March: 500 €
    assert cards["invoice_count"].value_label.text() == "4"
    assert cards["average_invoice"].value_label.text() == "250,00\u00a0€"
    hu = cards["hu_due"]
    assert hu.kpi is not None and not hu.kpi.available and "CarBot-Server" in hu.value_label.text()
    assert "loc-dah" in {call[2] for call in source.calls}
    assert not view.revenue_chart.buttons["week"].isEnabled()
    box.setCurrentIndex(0)
    assert view.report is not None and view.report.location is None
    assert cards["revenue_net"].value_label.text() == "268,00\u00a0€"


# --- responsiveness ---------------------------------------------------------------------------------------


def test_the_gui_stays_responsive_while_the_figures_load(
    qtbot: Any,
    services: Services,
    invoices: dict[str, tuple[int, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = ReportService.kpis

    def slow(self: ReportService, period: Period, **kwargs: Any) -> KpiReport:
        time.sleep(0.8)  # years of data on a slow disk
        return real(self, period, **kwargs)

    monkeypatch.setattr(ReportService, "kpis", slow)
    runner = TaskRunner()
    try:
        ctx = make_ctx(services, tmp_path, runner)
        view = ReportsView(ctx)  # built at start-up in the app; what counts is the time after
        qtbot.addWidget(view)
        view.resize(1366, 760)
        ticks: list[int] = []
        clock = QElapsedTimer()
        clock.start()
        probe = QTimer()
        probe.setInterval(10)
        probe.timeout.connect(lambda: ticks.append(clock.elapsed()))
        probe.start()
        view.show()  # the first show starts the load
        assert view.loading and view.progress.isVisibleTo(view) and view.header.loading_label.isVisibleTo(view)
        assert view.info_label.text() == "Kennzahlen werden berechnet …"
        view.header.choose_preset("last_month")  # picked while the first answer is still being computed
        view.header.flush()
        qtbot.waitUntil(lambda: not view.loading and view.report is not None, timeout=8000)
        qtbot.wait(100)  # the new figures' first paint belongs to the measurement too
        probe.stop()
        gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)]
        assert len(ticks) > 60 and max(gaps) < 150, f"GUI event loop blocked for {max(gaps)} ms"
        assert shown_period(view) == MARCH  # the stale April answer was dropped, not shown
        assert view.grid.cards["revenue_net"].value_label.text() == "200,00\u00a0€"
        assert not view.progress.isVisibleTo(view)
    finally:
        runner.shutdown()
