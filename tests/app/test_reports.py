"""Owner's reports, part 1: revenue, what was sold, receivables and customers – against the hand-computed
February 2028 workshop of tests/app/reports_story.py (expected figures written out there and below)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import Database
from app.models import Invoice, Payment
from app.reports.period import Period, preset
from app.reports.receivables import receivables
from app.reports.types import KpiReport
from app.services.daily_facts import DailyFactsService
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


# --- revenue --------------------------------------------------------------------------------------------


def test_revenue_nets_stornos_and_splits_vat_per_rate(feb: KpiReport) -> None:
    # Feb documents: INV2 124.40, Storno INV5 −300.00, INV4 200.00, Storno INV4 −200.00, INV6 50.00, INV3 736.00.
    assert values(feb, "revenue_net") == (D("610.40"), D("518.00"), D("92.40"), D("17.8"))  # 92.40 / 518
    # gross 146.84 − 357 + 238 − 238 + 59.50 + 885.34; January 259.42 + 357.00
    assert values(feb, "revenue_gross") == (D("734.68"), D("616.42"), D("118.26"), D("19.2"))
    assert feb.kpi("revenue_net").detail_rows == (
        # 19 %: 114.40 − 300 + 200 − 200 + 50 + 786 (with the Altteil value 50);
        # its tax 21.74 − 57 + 38 − 38 + 9.50 + 149.34
        ("19 %", D("650.40"), D("123.58"), D("773.98")),
        ("7 %", D("10.00"), D("0.70"), D("10.70")),
        ("0 %", D("-50.00"), D("0.00"), D("-50.00")),  # the Altteil set-off
        ("Summe", D("610.40"), D("124.28"), D("734.68")),
        ("darin Stornorechnungen (2)", D("-500.00"), D("-95.00"), D("-595.00")),
    )


def test_a_storno_in_a_later_period_reduces_that_period_and_cancelled_invoices_drop_out_overall(shop: Shop) -> None:
    january = shop.reports.kpis(JAN, compare_to_previous=False)
    assert january.kpi("revenue_net").value == D("518.00")  # INV5 still counts in January: its Storno is in February
    both = shop.reports.kpis(Period(JAN.start, FEB.end), compare_to_previous=False)
    # Over both months only the four invoices that were not cancelled remain: 218 + 124.40 + 50 + 736.
    assert both.kpi("revenue_net").value == D("1128.40")
    assert both.kpi("invoice_count").value == 4
    # The draft of 1,000.00 never counts, in no period.
    assert shop.reports.kpis(Period(dt.date(2028, 2, 25), dt.date(2028, 2, 25))).kpi("revenue_net").value == 0


def test_period_edges_include_the_first_and_the_last_day_leap_day_included(shop: Shop, feb: KpiReport) -> None:
    assert shop.reports.kpis(Period(FEB.start, FEB.start)).kpi("revenue_net").value == D("124.40")
    leap_day = shop.reports.kpis(Period(FEB.end, FEB.end))
    assert leap_day.kpi("revenue_net").value == D("736.00")
    assert leap_day.previous == Period(dt.date(2028, 2, 28), dt.date(2028, 2, 28))
    march = shop.reports.kpis(preset("this_month", TODAY))
    assert march.period == Period(dt.date(2028, 3, 1), dt.date(2028, 3, 31))
    assert march.previous == FEB
    assert march.kpi("revenue_net").value == D("0.00")
    assert march.kpi("revenue_net").previous == D("610.40")
    spark = dict(zip((b.start for b in feb.buckets), feb.kpi("revenue_net").sparkline, strict=True))
    assert (spark[dt.date(2028, 2, 1)], spark[dt.date(2028, 2, 5)], spark[dt.date(2028, 2, 29)]) == (
        D("124.40"),
        D("-300.00"),
        D("736.00"),
    )
    assert sum(spark.values()) == D("610.40")


def test_invoice_count_and_average_invoice(feb: KpiReport) -> None:
    # 4 invoices − 2 Stornos in February; January 2 invoices.
    assert values(feb, "invoice_count") == (2, 2, 0, D("0.0"))
    assert feb.kpi("invoice_count").detail_rows == (
        ("Rechnungen ausgestellt", 4),
        ("Stornorechnungen", 2),
        ("Rechnungen netto (ohne stornierte)", 2),
    )
    assert values(feb, "average_invoice") == (D("305.20"), D("259.00"), D("46.20"), D("17.8"))  # 610.40 / 2, 518 / 2


def test_labour_share_and_aw_sold(feb: KpiReport) -> None:
    # Labour 94.40 + 236.00 = 330.40; parts 30 − 300 + 200 − 200 + 500 = 230.00; 330.40 / 560.40 = 58.96 %.
    # January: 118 / (118 + 400) = 22.78 %.
    assert values(feb, "labour_share") == (D("59.0"), D("22.8"), D("36.2"), D("158.8"))
    assert feb.kpi("labour_share").detail_rows[:3] == (
        ("Lohn", D("330.40"), D("54.1")),
        ("Teile und Austauschteile", D("230.00"), D("37.7")),
        ("Sonstiges (Gebühren, Rabatte, Altteil)", D("50.00"), D("8.2")),
    )
    # AW 8 + 20 (January 10); capacity 3,680 AW (see the utilisation test): 28 / 3680 = 0.76 %.
    assert values(feb, "aw_sold") == (D("28.00"), D("10.00"), D("18.00"), D("180.0"))
    assert dict(feb.kpi("aw_sold").detail_rows)["Verkaufsquote"] == D("0.8")
    assert dict(feb.kpi("aw_sold").detail_rows)["Erlös je AW (netto)"] == D("11.80")


def test_revenue_agrees_with_the_daily_facts_of_the_sync(shop: Shop, feb: KpiReport) -> None:
    days = DailyFactsService(shop.db).between(FEB.start, FEB.end)
    assert sum((d.net_total for d in days), D(0)) == feb.kpi("revenue_net").value
    assert sum((d.gross_total for d in days), D(0)) == feb.kpi("revenue_gross").value
    assert sum((d.aw_sold for d in days), D(0)) == feb.kpi("aw_sold").value
    assert sum((d.labour_net for d in days), D(0)) == D("330.40")


def test_revenue_series_by_week_and_month(shop: Shop) -> None:
    weeks = shop.reports.revenue_series(FEB, "week")
    assert [(p.label, p.net) for p in weeks] == [
        ("KW 5", D("-175.60")),  # 1–6 Feb: 124.40 − 300
        ("KW 6", D("0.00")),  # 7–13 Feb: 200 − 200
        ("KW 7", D("50.00")),  # 14–20 Feb (Sunday the 20th: INV6)
        ("KW 8", D("0.00")),
        ("KW 9", D("736.00")),  # 28–29 Feb
    ]
    months = shop.reports.revenue_series(Period(JAN.start, FEB.end), "month")
    assert [(p.label, p.net, p.gross, p.invoices) for p in months] == [
        ("Jan 2028", D("518.00"), D("616.42"), 2),
        ("Feb 2028", D("610.40"), D("734.68"), 2),
    ]


# --- what was sold --------------------------------------------------------------------------------------


def test_top_services_by_catalogue_code_or_text_and_revenue_by_category(shop: Shop, feb: KpiReport) -> None:
    assert values(feb, "top_services") == (3, 1, 2, D("200.0"))
    assert [row[:5] for row in feb.kpi("top_services").detail_rows] == [
        (1, "Lichtmaschine aus- und einbauen", "Arbeit ohne Katalogbezug", 1, D("236.00")),
        (2, "Inspektion klein (Zwischeninspektion) – Kleinwagen", "Inspektion", 1, D("94.40")),
        (3, "Altöl-Entsorgung", "Gebühren ohne Katalogbezug", 1, D("50.00")),
    ]
    categories = shop.reports.revenue_by_category(FEB)
    assert [(c.category, c.net) for c in categories] == [
        ("Arbeit ohne Katalogbezug", D("236.00")),
        ("Teile und Austauschteile", D("230.00")),
        ("Inspektion", D("94.40")),
        ("Gebühren ohne Katalogbezug", D("50.00")),
    ]
    assert sum((c.net for c in categories), D(0)) == D("610.40")
    assert feb.categories == tuple(categories)
    assert [s.name for s in shop.reports.top_services(FEB, by="count", limit=2)] == [
        "Lichtmaschine aus- und einbauen",
        "Inspektion klein (Zwischeninspektion) – Kleinwagen",
    ]


# --- receivables ----------------------------------------------------------------------------------------


def test_receivables_with_partial_payments_and_stornos(feb: KpiReport) -> None:
    # 29 Feb: INV1 259.42 − 100 (the 159.42 of 5 March comes later) + INV2 146.84 − 50 + INV3 885.34 (its
    # payment of 10 March comes later); INV4 was paid and cancelled, INV5 cancelled: neither is open.
    # Overdue: INV1 (due 29 Jan) and INV2 (due 15 Feb); INV3 is due 14 March.
    # 31 Jan: INV1 159.42 (overdue) + INV5 357.00 – its Storno of 5 Feb does not count yet.
    assert values(feb, "receivables_open") == (D("1141.60"), D("516.42"), D("625.18"), D("121.1"))
    assert values(feb, "receivables_overdue") == (D("256.26"), D("159.42"), D("96.84"), D("60.7"))
    spark_open = dict(zip((b.start for b in feb.buckets), feb.kpi("receivables_open").sparkline, strict=True))
    spark_due = dict(zip((b.start for b in feb.buckets), feb.kpi("receivables_overdue").sparkline, strict=True))
    day = dt.date
    assert spark_open[day(2028, 2, 1)] == D("663.26")  # 159.42 + 357.00 + 146.84
    assert spark_open[day(2028, 2, 5)] == D("306.26")  # INV5 cancelled
    assert spark_open[day(2028, 2, 10)] == D("494.26")  # INV4 issued (238.00), 50.00 paid on INV2
    assert spark_open[day(2028, 2, 11)] == D("256.26")  # INV4 paid
    assert (spark_due[day(2028, 2, 15)], spark_due[day(2028, 2, 16)]) == (D("159.42"), D("256.26"))  # INV2 due 15th
    assert feb.kpi("receivables_open").lower_is_better


def test_receivables_equal_a_naive_computation_on_random_data(db: Database) -> None:
    rng = random.Random(7)
    start = dt.date(2027, 1, 1)
    invoices, payments = [], []
    for number in range(1, 401):
        issued = start + dt.timedelta(days=rng.randint(0, 420))
        gross = D(rng.randint(1000, 90000)) / 100
        invoices.append(
            {
                "id": number,
                "kind": "invoice",
                "status": "draft",
                "number": f"R{number}",
                "cancels_id": None,
                "issue_date": issued,
                "due_date": issued + dt.timedelta(days=rng.choice((0, 14, 30))),
                "gross_total": gross,
            }
        )
        paid = D(0)
        for _n in range(rng.choice((0, 1, 1, 2))):
            amount = min(gross - paid, (gross * D(rng.choice(("0.3", "0.5", "1")))).quantize(D("0.01")))
            if amount > 0:  # some payments before the invoice's date: a typing slip the report must survive
                payments.append(
                    {
                        "invoice_id": number,
                        "date": issued + dt.timedelta(days=rng.randint(-3, 60)),
                        "amount": amount,
                        "method": "transfer",
                    }
                )
                paid += amount
        if rng.random() < 0.1:
            cancelled = issued + dt.timedelta(days=rng.randint(0, 40))
            invoices.append(
                {
                    "id": 1000 + number,
                    "kind": "storno",
                    "status": "draft",
                    "number": f"S{number}",
                    "cancels_id": number,
                    "issue_date": cancelled,
                    "due_date": cancelled,
                    "gross_total": -gross,
                }
            )
    with db.unit() as s:
        s.execute(Invoice.__table__.insert(), invoices)
        s.execute(text("UPDATE invoice SET status = 'final'"))
        s.execute(Payment.__table__.insert(), payments)
    ends = [start + dt.timedelta(days=d) for d in range(-5, 520, 7)]
    with db.unit() as s:
        computed = receivables(s, ends)
    storno_of = {i["cancels_id"]: i["issue_date"] for i in invoices if i["kind"] == "storno"}
    for result in computed:
        when = result.day
        expected_open = expected_overdue = D(0)
        for inv in (i for i in invoices if i["kind"] == "invoice" and i["issue_date"] <= when):
            if inv["id"] in storno_of and storno_of[inv["id"]] <= when:
                continue
            paid = sum((p["amount"] for p in payments if p["invoice_id"] == inv["id"] and p["date"] <= when), D(0))
            expected_open += inv["gross_total"] - paid
            if inv["due_date"] < when:
                expected_overdue += inv["gross_total"] - paid
        assert (result.open, result.overdue) == (int(expected_open * 100), int(expected_overdue * 100)), when


# --- customers ------------------------------------------------------------------------------------------


def test_new_and_returning_customers(feb: KpiReport) -> None:
    # February: Anna (first visit 1 Feb) and Bernd (29 Feb) are new, Carl returns. January: only Carl, returning.
    assert values(feb, "new_customers") == (2, 0, 2, None)
    assert feb.kpi("new_customers").detail_rows == (
        ("Neukunden (erster Besuch im Zeitraum)", 2),
        ("Wiederkehrende Kunden", 1),
        ("Kunden mit Besuch im Zeitraum", 3),
        ("Anteil Neukunden %", D("66.7")),
    )
    spark = dict(zip((b.start for b in feb.buckets), feb.kpi("new_customers").sparkline, strict=True))
    assert (spark[dt.date(2028, 2, 1)], spark[dt.date(2028, 2, 29)], sum(spark.values())) == (1, 1, 2)


def test_customer_retention(feb: KpiReport) -> None:
    # Active at 1 Feb (visit 1 Feb 2026 … 31 Jan 2028): Carl, Emil (Dora's 10 Jan 2026 is too old) → Carl back.
    # Active at 1 Jan (visit 1 Jan 2026 … 31 Dec 2027): Carl, Dora, Emil → Carl back in January.
    assert values(feb, "customer_retention") == (D("50.0"), D("33.3"), D("16.7"), D("50.2"))
    spark = dict(zip((b.start for b in feb.buckets), feb.kpi("customer_retention").sparkline, strict=True))
    assert (spark[dt.date(2028, 2, 19)], spark[dt.date(2028, 2, 20)]) == (D("0.0"), D("50.0"))  # Carl on 20 Feb


def test_customer_lifetime_value_and_rfm_segments(feb: KpiReport) -> None:
    # Lifetime net on 29 Feb: Anna 124.40 (+200 −200), Bernd 736, Carl 80+40+218+300−300+50 = 388, Dora 150,
    # Emil 60 → 1,458.40 / 5 = 291.68. On 31 Jan: Carl 638, Dora 150, Emil 60 → 848 / 3 = 282.67.
    assert values(feb, "customer_value") == (D("291.68"), D("282.67"), D("9.01"), D("3.2"))
    # R: Anna 19 days (INV4 of 10 Feb, 1 visit net), Bernd 0 (1), Carl 9 (4 visits net in 3 years: 5 − 1 Storno),
    # Dora 780 days, Emil 532 days.
    assert [row[:4] for row in feb.kpi("customer_value").detail_rows] == [
        ("Champions", 1, D("388.00"), D("388.00")),
        ("Stammkunden", 0, D("0.00"), None),
        ("Neu/gelegentlich", 2, D("860.40"), D("430.20")),
        ("Gefährdet", 1, D("60.00"), D("60.00")),
        ("Verloren", 1, D("150.00"), D("150.00")),
    ]
    assert feb.kpi("customer_value").sparkline[-1] == D("291.68")
    # At the end of 1 Feb Anna is a customer too: (848 + 124.40) / 4; on 5 Feb INV5's Storno: (972.40 − 300) / 4.
    assert feb.kpi("customer_value").sparkline[:5] == (D("243.10"), D("243.10"), D("243.10"), D("243.10"), D("168.10"))
