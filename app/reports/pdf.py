"""The management report as PDF (ReportLab): KPI overview, charts and the detail tables.

A4 portrait on the shipped DejaVu fonts (``app.pdf.fonts``) with the workshop's accent colour
(``app.pdf.layout.PdfStyle``); reproducible bytes (``invariant``), like the invoices. Page 1: title,
period and comparison, the table of every widget (value, previous period, change) and the revenue chart;
then the charts by category, per mechanic and of the receivables; then the detail tables (VAT per rate,
top services, RFM segments, utilisation, receivables). Widgets without data show their note, never
numbers.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any, Final

from babel.numbers import format_decimal
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, CondPageBreak, Frame, PageTemplate, Paragraph, Spacer, Table

from app import formatting
from app.i18n import _, locale_name
from app.pdf import text
from app.pdf.fonts import BOLD, REGULAR, register_fonts
from app.pdf.layout import PdfStyle, paragraph_style, table_style
from app.reports import charts
from app.reports.export import delta_text, value_text
from app.reports.types import Cell, Kpi, KpiReport

MARGIN: Final = 18 * mm
WIDTH: Final = A4[0] - 2 * MARGIN
DETAIL_WIDGETS: Final = (
    "revenue_net",
    "top_services",
    "customer_value",
    "utilisation",
    "receivables_open",
    "new_customers",
    "estimate_acceptance",
    "appointments",
    "chat_leads",
)
DETAIL_ROWS: Final = 15
_RULE: Final = HexColor("#D0D0D0")
_FILL: Final = HexColor("#F2F2F2")


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, Decimal):
        # As many decimals as the figure has (cents, one for percentages), always shown: 1.234,50 · 42,0
        places = max(0, -int(value.as_tuple().exponent))
        return format_decimal(value, format="#,##0." + "0" * places if places else "#,##0", locale=locale_name())
    if isinstance(value, int):
        return formatting.number(value, 0)
    return str(value)


def _table(rows: list[list[Any]], widths: list[float], *, right_from: int = 1) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        table_style(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("LEADING", (0, 0), (-1, -1), 10),
                ("FONTNAME", (0, 0), (-1, 0), BOLD),
                ("BACKGROUND", (0, 0), (-1, 0), _FILL),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, _RULE),
                ("ALIGN", (right_from, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _overview(report: KpiReport) -> Table:
    cell = paragraph_style("kpi-cell", size=8)
    rows: list[list[Any]] = [[_("Kennzahl"), _("Wert"), _("Vorperiode"), _("Veränderung")]]
    for item in report.kpis:
        if not item.available:
            rows.append([Paragraph(text.xml(item.title), cell), Paragraph(text.xml(item.note), cell), "", ""])
            continue
        previous = value_text(item.previous, item.unit) if item.previous is not None else ""
        rows.append(
            [Paragraph(text.xml(item.title), cell), value_text(item.value, item.unit), previous, delta_text(item)]
        )
    return _table(rows, [WIDTH * 0.4, WIDTH * 0.22, WIDTH * 0.22, WIDTH * 0.16])


def _details(item: Kpi) -> list[Any]:
    """The widget's detail table: text wraps on the left, numbers align right; columns as wide as their
    longest entry needs (within limits)."""
    if not item.detail_columns or not item.detail_rows:
        return []
    cell = paragraph_style("detail-cell", size=7.5)
    shown = item.detail_rows[:DETAIL_ROWS]
    numeric = [
        all(isinstance(row[c], int | Decimal) or row[c] is None for row in shown)
        for c in range(len(item.detail_columns))
    ]
    header = [
        Paragraph(f"<b>{text.xml(c)}</b>", paragraph_style("detail-head", size=7.5, alignment=2 if n else 0))
        for c, n in zip(item.detail_columns, numeric, strict=True)
    ]
    rows: list[list[Any]] = [header]
    rows += [
        [_cell(v) if numeric[i] else Paragraph(text.xml(_cell(v)), cell) for i, v in enumerate(row)] for row in shown
    ]
    # A column is as wide as its longest entry (capped), at least as wide as its header's longest word.
    weights = [
        max(
            max(len(word) for word in str(title).split()) + 4,
            min(max(len(_cell(row[i])) for row in shown), 14 if numeric[i] else 34),
        )
        for i, title in enumerate(item.detail_columns)
    ]
    widths = [WIDTH * w / sum(weights) for w in weights]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        table_style(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                ("LEADING", (0, 0), (-1, -1), 9.5),
                ("BACKGROUND", (0, 0), (-1, 0), _FILL),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, _RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                *[("ALIGN", (i, 1), (i, -1), "RIGHT") for i, n in enumerate(numeric) if n],
            ]
        )
    )
    heading = paragraph_style("detail-title", size=10, bold=True, spaceBefore=8, spaceAfter=4)
    more = len(item.detail_rows) - DETAIL_ROWS
    tail = [Paragraph(text.xml(_("… und {count} weitere (vollständig im CSV-Export).").format(count=more)), cell)]
    return [CondPageBreak(40 * mm), Paragraph(text.xml(item.title), heading), table, *(tail if more > 0 else [])]


def _charts(report: KpiReport, style: PdfStyle) -> list[Any]:
    accent = style.accent_colour()
    labels = [b.label for b in report.buckets]
    story: list[Any] = [
        charts.bar_chart(
            _("Umsatz netto je {unit}").format(unit=_unit(report.granularity)),
            labels,
            [p.net for p in report.series],
            accent,
            width=WIDTH,
        ),
        Spacer(1, 6 * mm),
    ]
    categories = list(report.categories[:12])
    if categories:
        story += [
            CondPageBreak(60 * mm),
            charts.horizontal_bars(
                _("Umsatz netto nach Kategorie (€)"),
                [c.category for c in categories],
                [c.net for c in categories],
                accent,
                width=WIDTH,
            ),
            Spacer(1, 6 * mm),
        ]
    mechanics = [m for m in report.mechanics if m.mechanic_id is not None]
    if mechanics:
        story += [
            CondPageBreak(50 * mm),
            charts.horizontal_bars(
                _("Auslastung je Monteur"),
                [m.name for m in mechanics],
                [m.utilisation for m in mechanics],
                accent,
                width=WIDTH,
                suffix=" %",
            ),
            Spacer(1, 6 * mm),
        ]
    open_items, overdue = report.kpi("receivables_open"), report.kpi("receivables_overdue")
    story += [
        CondPageBreak(65 * mm),
        charts.line_chart(
            _("Offene Forderungen am Ende jedes Abschnitts (€)"),
            labels,
            [(_("offen"), open_items.sparkline), (_("überfällig"), overdue.sparkline)],
            accent,
            width=WIDTH,
        ),
    ]
    return story


def _unit(granularity: str) -> str:
    return {"day": _("Tag"), "week": _("Woche"), "month": _("Monat")}.get(granularity, granularity)


def render_report_pdf(report: KpiReport, *, style: PdfStyle | None = None) -> bytes:
    """The management report of ``report`` as PDF bytes (same report → same bytes)."""
    register_fonts()
    style = style or PdfStyle()
    accent = style.accent_colour()
    title = _("Managementbericht {period}").format(period=report.period.label())
    head = paragraph_style("title", size=16, bold=True, textColor=accent, spaceAfter=2)
    sub = paragraph_style("sub", size=9, spaceAfter=8)
    compare = (
        _("Vergleich: {period}").format(period=report.previous.label()) + " · " if report.previous is not None else ""
    )
    story: list[Any] = [
        Paragraph(text.xml(report.workshop_name or "CarBot Werkstatt"), paragraph_style("shop", size=9)),
        Paragraph(text.xml(title), head),
        Paragraph(text.xml(compare + _("Stand: {day}").format(day=report.as_of.strftime("%d.%m.%Y"))), sub),
        _overview(report),
        Spacer(1, 6 * mm),
        *_charts(report, style),
    ]
    for key in DETAIL_WIDGETS:
        if key in report.ids:
            story += _details(report.kpi(key))

    def decorate(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(HexColor("#5A5A5A"))
        canvas.drawString(MARGIN, 10 * mm, f"{report.workshop_name} · {title}")
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, _("Seite {page}").format(page=doc.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=18 * mm,
        title=title,
        author=report.workshop_name,
        creator="CarBot Werkstatt",
        invariant=1,
        initialFontName=REGULAR,
        enforceColorSpace="rgb",
        lang="de-DE",
    )
    frame = Frame(MARGIN, 16 * mm, WIDTH, A4[1] - MARGIN - 16 * mm, leftPadding=0, rightPadding=0, id="body")
    doc.addPageTemplates([PageTemplate("report", [frame], onPage=decorate)])
    doc.build(story)
    return buffer.getvalue()
