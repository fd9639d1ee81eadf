"""Owner's reports, part 2: workshop and front office KPIs, permissions, plans, periods, time zones and
exports – against the hand-computed February 2028 workshop of tests/app/reports_story.py."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.db import Database
from app.errors import NotFound, PermissionDenied, ValidationError
from app.plans import features_for
from app.reports.export import csv_text, report_dict
from app.reports.period import Period, Scope, buckets, granularity_for, local_date, preset, utc_bounds
from app.reports.types import KpiReport
from app.services.reports import ReportService
from tests.app.reports_story import (
    FEB,
    JAN,
    TODAY,
    D,
    Shop,
    open_story,
    values,
)


@pytest.fixture(scope="module")
def shop(_template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    yield from open_story(_template_db, tmp_path_factory)


@pytest.fixture(scope="module")
def feb(shop: Shop) -> KpiReport:
    return shop.reports.kpis(FEB)


# --- workshop and front office --------------------------------------------------------------------------


def test_utilisation_per_mechanic_from_working_days_and_holidays(shop: Shop, feb: KpiReport) -> None:
    # February 2028 in Bavaria: 21 weekdays (8 h of 9 h open) and 4 Saturdays (4 h open), no holiday:
    # 21 × 8 + 4 × 4 = 184 h × 10 AW = 1,840 AW per mechanic. Tobias: actual 9 AW (target 8); Sandra: 10 AW
    # target of an order in progress; 20 AW of INV3 unassigned; the cancelled order's 50 AW do not count.
    rows = {r.name: r for r in shop.reports.mechanic_utilisation(FEB)}
    assert set(rows) == {"Tobias Brandl", "Sandra Kögl", "nicht zugeordnet"}
    tobias, sandra = rows["Tobias Brandl"], rows["Sandra Kögl"]
    assert (tobias.working_days, tobias.aw_available, tobias.aw_worked, tobias.utilisation) == (
        25,
        D("1840.00"),
        D("9.00"),
        D("0.5"),
    )
    assert (sandra.aw_worked, sandra.utilisation) == (D("10.00"), D("0.5"))
    assert rows["nicht zugeordnet"].aw_worked == D("20.00")
    # Workshop: 39 / 3,680 = 1.06 %. January: 1 Jan (Sat) and 6 Jan (Thu) are holidays in Bavaria →
    # 20 × 8 + 4 × 4 = 176 h = 1,760 AW each; 10 AW unassigned (INV1) / 3,520 = 0.28 %.
    assert values(feb, "utilisation")[:2] == (D("1.1"), D("0.3"))
    assert feb.mechanics == tuple(shop.reports.mechanic_utilisation(FEB))


def test_estimate_acceptance_uses_the_local_date_of_creation(feb: KpiReport) -> None:
    # February (local): accepted 3 Feb and 29 Feb 23:30, rejected 15 Feb, sent 10 Feb; the one rejected at
    # 00:30 on 1 March (still 29 Feb in UTC) is March's. 2 / (2 + 1); January: 0 / 1.
    assert values(feb, "estimate_acceptance") == (D("66.7"), D("0.0"), D("66.7"), None)
    assert feb.kpi("estimate_acceptance").detail_rows == (
        ("Angenommen", 2),
        ("Abgelehnt", 1),
        ("Versendet", 1),
        ("Entwurf", 0),
        ("Erstellt im Zeitraum", 4),
    )


def test_appointments_and_no_show_rate(feb: KpiReport) -> None:
    # February: 3 done (incl. 29 Feb 17:00), 1 no-show, 1 confirmed, 1 cancelled (not counted); 1 March is March's.
    assert values(feb, "appointments") == (5, 2, 3, D("150.0"))
    assert values(feb, "no_show_rate") == (D("25.0"), D("0.0"), D("25.0"), None)  # 1 / (3 + 1)
    assert feb.kpi("no_show_rate").lower_is_better


def test_hu_due_in_the_next_60_days_as_of_today(feb: KpiReport) -> None:
    # Today 10 March: HU months March … 9 May: Anna (03/2028) and Bernd (05/2028); Carl's June is too late,
    # Dora's February is past, Emil is restricted (GDPR).
    item = feb.kpi("hu_due")
    assert (item.value, item.previous, item.sparkline) == (2, None, (1, 0, 1))
    assert [row[:4] for row in item.detail_rows] == [
        (dt.date(2028, 3, 1), "M-AB 1", "VW Golf", "Müller, Anna"),
        (dt.date(2028, 5, 1), "M-AB 2", "VW Golf", "Berger, Bernd"),
    ]


def test_chat_widget_without_chats_has_no_quote_and_says_so(feb: KpiReport) -> None:
    item = feb.kpi("chat_leads")  # the story has no web chat (figures with chats: test_reports_chat.py)
    assert (item.available, item.value, item.previous, item.detail_rows) == (
        True,
        None,
        None,
        (("Gesamt", 0, 0, 0, None),),
    )
    assert set(item.sparkline) == {None}
    assert item.note.startswith("0 Chats · 0 Leads · 0 mit Termin.")


def test_at_least_twelve_widgets_each_with_a_sparkline_over_the_buckets(feb: KpiReport) -> None:
    assert len(feb.kpis) >= 12
    assert feb.granularity == "day" and len(feb.buckets) == 29
    for item in feb.kpis:
        assert item.title and item.unit in ("EUR", "%", "AW", "Anzahl")
        if item.available and item.id != "hu_due":
            assert len(item.sparkline) == 29, item.id
    assert report_dict(feb)["kpis"][0]["value"] == "610.40"


# --- permissions, plans, locations ----------------------------------------------------------------------


def test_owner_and_auditor_see_revenue_the_counter_only_its_day(shop: Shop) -> None:
    assert shop.reports.for_role("auditor").kpis(FEB).kpi("revenue_net").value == D("610.40")
    counter = shop.reports.for_role("counter")
    for call in (
        lambda: counter.kpis(FEB),
        lambda: counter.revenue_series(FEB),
        lambda: counter.pdf(period=FEB),
        lambda: counter.mechanic_utilisation(FEB),
        lambda: counter.revenue_by_category(FEB),
    ):
        with pytest.raises(PermissionDenied) as caught:
            call()
        assert str(caught.value) == (
            "Umsatzzahlen und Auswertungen sehen nur Inhaber und Prüfer – die Rolle „Theke“ sieht nur ihren "
            "eigenen Tag."
        )
    day = counter.counter_day()
    # 10 March: one appointment; open orders: INV4's and INV5's (back to completed after the Storno), the
    # draft invoice's (completed) and Sandra's (in progress); one card payment of 85.34 on INV3.
    assert (day.day, day.appointments, day.open_orders, day.payments, day.payments_total) == (
        TODAY,
        1,
        4,
        1,
        D("85.34"),
    )
    assert day.open_orders_by_status == (("completed", 3), ("in_progress", 1))
    assert day.payments_by_method == (("card", D("85.34")),)
    with pytest.raises(PermissionDenied, match="nur den heutigen Tag"):
        counter.counter_day(dt.date(2028, 3, 9))
    with pytest.raises(PermissionDenied, match="„Monteur“ hat keinen Zugriff"):
        shop.reports.for_role("mechanic").counter_day()
    with pytest.raises(ValidationError, match="Unbekannte Rolle"):
        shop.reports.for_role("chef")


def test_advanced_widgets_need_the_professional_plan(shop: Shop) -> None:
    starter = ReportService(shop.db, today=TODAY, features=features_for("starter")).kpis(FEB)
    assert starter.kpi("revenue_net").value == D("610.40")
    for kpi_id in ("customer_retention", "customer_value"):
        item = starter.kpi(kpi_id)
        assert (item.available, item.value, item.detail_rows) == (False, None, ())
        assert "Professional" in item.note
    professional = ReportService(shop.db, today=TODAY, features=features_for("professional")).kpis(FEB)
    assert professional.kpi("customer_value").value == D("291.68")


def test_other_locations_come_from_the_server(shop: Shop) -> None:
    with pytest.raises(ValidationError, match="standortübergreifende Auswertungen kommen vom CarBot-Server"):
        shop.reports.kpis(FEB, location="filiale-2")


# --- periods and time zones -----------------------------------------------------------------------------


def test_presets_previous_periods_and_buckets() -> None:
    assert preset("last_month", TODAY) == FEB
    assert preset("quarter", TODAY) == Period(dt.date(2028, 1, 1), dt.date(2028, 3, 31))
    assert preset("year", TODAY) == Period(dt.date(2028, 1, 1), dt.date(2028, 12, 31))
    assert FEB.previous() == JAN and FEB.days == 29
    assert Period(dt.date(2028, 3, 1), dt.date(2028, 3, 31)).previous() == FEB
    assert preset("year", TODAY).previous() == Period(dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    assert preset("quarter", TODAY).previous() == Period(dt.date(2027, 10, 1), dt.date(2027, 12, 31))
    assert Period(dt.date(2028, 2, 20), dt.date(2028, 3, 1)).previous() == Period(
        dt.date(2028, 2, 9), dt.date(2028, 2, 19)
    )
    assert [
        granularity_for(Period(dt.date(2028, 1, 1), dt.date(2028, 1, 1) + dt.timedelta(days=n)))
        for n in (30, 31, 182, 183)
    ] == ["day", "week", "week", "month"]
    assert [(b.label, b.start, b.end) for b in buckets(Period(dt.date(2028, 2, 27), dt.date(2028, 3, 6)), "week")] == [
        ("KW 8", dt.date(2028, 2, 27), dt.date(2028, 2, 27)),
        ("KW 9", dt.date(2028, 2, 28), dt.date(2028, 3, 5)),
        ("KW 10", dt.date(2028, 3, 6), dt.date(2028, 3, 6)),
    ]
    with pytest.raises(ValidationError, match="endet .* vor seinem Beginn"):
        Period(dt.date(2028, 3, 1), dt.date(2028, 2, 1))
    with pytest.raises(ValidationError, match="Unbekannter Zeitraum"):
        preset("week", TODAY)


def test_local_dates_follow_berlin_time_across_daylight_saving() -> None:
    # Summer time starts on 26 March 2028: that day has 23 hours.
    assert utc_bounds(Period(dt.date(2028, 3, 26), dt.date(2028, 3, 26))) == (
        dt.datetime(2028, 3, 25, 23, 0),
        dt.datetime(2028, 3, 26, 22, 0),
    )
    assert local_date(dt.datetime(2028, 2, 29, 22, 59)) == dt.date(2028, 2, 29)
    assert local_date(dt.datetime(2028, 2, 29, 23, 0)) == dt.date(2028, 3, 1)
    assert local_date(dt.datetime(2028, 7, 31, 22, 0)) == dt.date(2028, 8, 1)  # CEST: UTC + 2
    assert Scope.of(FEB, today=dt.date(2028, 2, 10)).as_of == dt.date(2028, 2, 10)


# --- exports --------------------------------------------------------------------------------------------


def test_csv_is_excel_friendly_per_widget_and_for_all(shop: Shop, feb: KpiReport, tmp_path: Path) -> None:
    path = shop.reports.export_csv("revenue_net", tmp_path / "umsatz.csv", report=feb)
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())
    lines = raw.decode("utf-8-sig").split("\r\n")
    assert lines[1] == "Zeitraum;01.02.2028;29.02.2028"
    assert "Umsatz netto;610,40;EUR;518,00;92,40;17,8;ja;" in lines
    assert "01.02.;01.02.2028;01.02.2028;124,40" in lines
    assert "19 %;650,40;123,58;773,98" in lines
    everything = csv_text(feb)
    assert everything.count("\r\n\r\n") >= len(feb.kpis)
    assert "Chats, Leads und Terminquote;;%;;;;ja;0 Chats · 0 Leads · 0 mit Termin." in everything
    with pytest.raises(NotFound, match="Kennzahl „umsatz“ gibt es nicht"):
        shop.reports.export_csv("umsatz", tmp_path / "x.csv", report=feb)
    assert (
        shop.reports.export_csv("all", tmp_path / "alle.csv", period=FEB)
        .read_text("utf-8-sig")
        .startswith("CarBot Werkstatt – Kennzahlen;Kfz-Meisterbetrieb Huber GmbH")
    )


def test_pdf_management_report_with_charts(shop: Shop, feb: KpiReport) -> None:
    pdf = shop.reports.pdf(report=feb)
    reader = PdfReader(io.BytesIO(pdf))
    content = "\n".join(page.extract_text() for page in reader.pages).replace("\u00a0", " ")
    assert "Managementbericht 01.02.2028 – 29.02.2028" in content
    assert "Umsatz netto" in content and "610,40 €" in content and "518,00 €" in content
    assert "Umsatz netto je Tag" in content and "Auslastung je Monteur" in content
    assert "Leads mit Termin" in content and "Champions" in content
    fonts = {f.get_object()["/BaseFont"] for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert fonts and all("DejaVuSans" in str(font) for font in fonts)  # embedded only, no Helvetica
    assert shop.reports.pdf(report=feb) == pdf  # reproducible


def test_empty_database_and_future_periods_show_no_figures_but_never_fail(db: Database, shop: Shop) -> None:
    empty = ReportService(db, today=TODAY).kpis(FEB)
    assert empty.kpi("revenue_net").value == D("0.00") and empty.kpi("average_invoice").value is None
    assert empty.kpi("utilisation").value is None and empty.kpi("customer_value").value is None
    future = shop.reports.kpis(Period(dt.date(2028, 4, 1), dt.date(2028, 4, 30)))
    assert future.as_of == TODAY and future.kpi("revenue_net").value == D("0.00")
    assert set(future.kpi("receivables_open").sparkline) == {None}  # April has not begun
    # As of today: INV3 885.34 − 85.34 + INV2 146.84 − 50.00 (INV1 was paid in full on 5 March).
    assert future.kpi("receivables_open").value == D("896.84")
    assert future.kpi("utilisation").sparkline[0] is None
