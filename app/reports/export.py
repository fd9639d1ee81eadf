"""Exports of a :class:`KpiReport`: Excel-friendly CSV and plain JSON data (``carbot report kpis --json``).

CSV as German Excel opens it with a double click: UTF-8 with BOM, ``;`` as separator, decimal comma
without thousands separators (so Excel reads numbers as numbers), dates as 30.11.2026, CRLF line ends.
One widget's file: a head (workshop, period, comparison, as-of day), the summary row, the sparkline
("Verlauf") and the detail table; ``"all"``: the head, the summary of every widget, then each widget's
sparkline and details one after the other, separated by empty lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from app import formatting
from app.errors import NotFound, ValidationError
from app.i18n import _
from app.reports.chat import summary_text
from app.reports.types import Cell, Kpi, KpiReport, Number
from app.services.chat_stats import ChatCounts

ALL = "all"
BOM = "\ufeff"


def value_text(value: Number | None, unit: str) -> str:
    """A widget value for people: "1.234,50 €", "59,0 %", "28 AW", "12"; "–" when there is none."""
    if value is None:
        return "–"
    if unit == "EUR":
        return formatting.money(Decimal(value))
    if unit == "%":
        return f"{formatting.number(value, 1)} %"
    if unit == "AW":
        return f"{formatting.number(value, 2)} AW"
    return formatting.number(value, 0)


def delta_text(item: Kpi) -> str:
    """ "+12,5 %" (relative) or "+3,1 Pkt." for percentages; "" without comparison."""
    if item.delta is None:
        return ""
    if item.unit == "%":
        return f"{'+' if item.delta > 0 else ''}{formatting.number(item.delta, 1)} Pkt."
    if item.delta_percent is None:
        return value_text(item.delta, item.unit)
    return f"{'+' if item.delta_percent > 0 else ''}{formatting.number(item.delta_percent, 1)} %"


def caption_text(item: Kpi) -> str:
    """A short line under the value where a widget has one thing worth naming (the best service, the
    customers at risk)."""
    if not item.available or not item.detail_rows:
        return ""
    if item.id == "top_services":
        first = item.detail_rows[0]
        return _("Nr. 1: {name}").format(name=first[1]) if len(first) > 1 and first[1] else ""
    if item.id == "chat_leads":
        total = item.detail_rows[0]  # the "Gesamt" row: label, chats, leads, leads with an appointment, quote
        return summary_text(ChatCounts(int(str(total[1])), int(str(total[2])), int(str(total[3]))))
    if item.id == "customer_value":
        counts = {str(row[0]): row[1] for row in item.detail_rows if len(row) > 1}
        at_risk, lost = counts.get(_("Gefährdet")), counts.get(_("Verloren"))
        if at_risk is not None and lost is not None:
            return _("Gefährdet: {at_risk} · Verloren: {lost}").format(at_risk=at_risk, lost=lost)
    return ""


def cell_text(value: Cell | Decimal | None) -> str:
    """One cell as German Excel reads it: 1234,50 · 42,9 · 30.11.2026 · empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("ja") if value else _("nein")
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def _summary_header() -> list[str]:
    return [
        _("Kennzahl"),
        _("Wert"),
        _("Einheit"),
        _("Vorperiode"),
        _("Veränderung"),
        _("Veränderung %"),
        _("Verfügbar"),
        _("Hinweis"),
    ]


def _summary_row(item: Kpi) -> list[str]:
    values = (item.value, item.unit, item.previous, item.delta, item.delta_percent, item.available, item.note)
    return [item.title, *(cell_text(v) for v in values)]


def _head(report: KpiReport) -> list[list[str]]:
    rows = [[_("CarBot Werkstatt – Kennzahlen"), report.workshop_name]]
    rows.append([_("Zeitraum"), cell_text(report.period.start), cell_text(report.period.end)])
    if report.previous is not None:
        rows.append([_("Vergleichszeitraum"), cell_text(report.previous.start), cell_text(report.previous.end)])
    rows.append([_("Stand"), cell_text(report.as_of)])
    return rows


def _widget(report: KpiReport, item: Kpi) -> list[list[str]]:
    rows: list[list[str]] = [[item.title]]
    if item.sparkline:
        rows.append([_("Verlauf"), _("Von"), _("Bis"), item.unit])
        rows += [
            [bucket.label, cell_text(bucket.start), cell_text(bucket.end), cell_text(value)]
            for bucket, value in zip(report.buckets, item.sparkline, strict=False)
        ]
    if item.detail_columns:
        rows.append([])
        rows.append(list(item.detail_columns))
        rows += [[cell_text(value) for value in row] for row in item.detail_rows]
    if not item.available:
        rows.append([item.note])
    return rows


def csv_rows(report: KpiReport, kpi_id: str = ALL) -> list[list[str]]:
    """The rows of the CSV for one widget or all (NotFound for an unknown widget id)."""
    if kpi_id == ALL:
        chosen = list(report.kpis)
    else:
        try:
            chosen = [report.kpi(kpi_id)]
        except KeyError:
            raise NotFound(
                "Die Kennzahl „{kpi}“ gibt es nicht – bekannt sind: {known}.", kpi=kpi_id, known=", ".join(report.ids)
            ) from None
    rows = _head(report)
    rows.append([])
    rows.append(_summary_header())
    rows += [_summary_row(item) for item in chosen]
    for item in chosen:
        rows.append([])
        rows += _widget(report, item)
    return rows


def csv_text(report: KpiReport, kpi_id: str = ALL) -> str:
    """The CSV as text (with the BOM in front)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(csv_rows(report, kpi_id))
    return BOM + buffer.getvalue()


def write_csv(report: KpiReport, kpi_id: str, path: Path) -> Path:
    """Write the CSV of ``kpi_id`` (or ``"all"``) to ``path``."""
    content = csv_text(report, kpi_id)
    try:
        path.write_bytes(content.encode("utf-8"))
    except OSError as exc:
        raise ValidationError(
            "Die Datei „{file}“ kann nicht geschrieben werden.", field="path", file=str(path)
        ) from exc
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def report_dict(report: KpiReport) -> dict[str, Any]:
    """The report as JSON-safe data: Decimals as strings ("1234.50"), dates ISO 8601."""
    return {
        "period": {"from": report.period.start.isoformat(), "to": report.period.end.isoformat()},
        "previous_period": (
            {"from": report.previous.start.isoformat(), "to": report.previous.end.isoformat()}
            if report.previous is not None
            else None
        ),
        "as_of": report.as_of.isoformat(),
        "granularity": report.granularity,
        "location": report.location,
        "buckets": [{"label": b.label, "from": b.start.isoformat(), "to": b.end.isoformat()} for b in report.buckets],
        "kpis": [
            {
                "id": item.id,
                "title": item.title,
                "value": _plain(item.value),
                "unit": item.unit,
                "previous": _plain(item.previous),
                "delta": _plain(item.delta),
                "delta_percent": _plain(item.delta_percent),
                "sparkline": _plain(item.sparkline),
                "available": item.available,
                "note": item.note,
                "lower_is_better": item.lower_is_better,
                "detail": {"columns": list(item.detail_columns), "rows": _plain(item.detail_rows)},
            }
            for item in report.kpis
        ],
        "charts": {
            "revenue": [
                {
                    "label": p.label,
                    "from": p.start.isoformat(),
                    "to": p.end.isoformat(),
                    "net": _plain(p.net),
                    "gross": _plain(p.gross),
                    "invoices": p.invoices,
                }
                for p in report.series
            ],
            "categories": [
                {"category": c.category, "net": _plain(c.net), "lines": c.lines, "share": _plain(c.share)}
                for c in report.categories
            ],
            "mechanics": [
                {
                    "mechanic_id": m.mechanic_id,
                    "name": m.name,
                    "aw_available": _plain(m.aw_available),
                    "aw_worked": _plain(m.aw_worked),
                    "utilisation": _plain(m.utilisation),
                }
                for m in report.mechanics
            ],
        },
    }
