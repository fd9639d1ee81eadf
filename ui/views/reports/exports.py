"""The exports of the reports tab: the save dialog and file names (GUI thread) and the writing (worker).

The CSV is Excel-friendly (``ReportService.export_csv``: UTF-8 with BOM, ``;``, decimal comma); the PDF
is the management report with its charts (``ReportService.pdf``, ReportLab). Both are written from the
report already on screen, so the file says exactly what the owner saw.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from app.i18n import _
from app.reports.types import KpiReport
from app.services.reports import ReportService

ALL = "all"


def documents_dir() -> Path:
    """Where the save dialog starts: the user's Documents folder if there is one."""
    documents = Path.home() / "Documents"
    return documents if documents.is_dir() else Path.home()


def _slug(text: str) -> str:
    """A title as a file name part (no slashes or other characters Windows refuses)."""
    return re.sub(r"[\\/:*?\"<>|]+", "-", text).strip(" .-") or "Kennzahl"


def suggested_name(report: KpiReport, kind: str, kpi_id: str = ALL) -> str:
    """ "Kennzahlen 2026-11-01 bis 2026-11-30.csv", "Umsatz netto …csv", "Managementbericht ….pdf"."""
    span = _("{start} bis {end}").format(start=report.period.start.isoformat(), end=report.period.end.isoformat())
    if kind == "pdf":
        return f"{_('Managementbericht')} {span}.pdf"
    title = _("Kennzahlen") if kpi_id == ALL else _slug(report.kpi(kpi_id).title)
    return f"{title} {span}.csv"


def ask_save_path(parent: QWidget, title: str, suggested: str, name_filter: str) -> Path | None:
    """The save dialog; None when the user cancels. Tests patch ``QFileDialog.getSaveFileName``."""
    chosen, _selected = QFileDialog.getSaveFileName(parent, title, str(documents_dir() / suggested), name_filter)
    if not chosen:
        return None
    path = Path(chosen)
    suffix = ".pdf" if name_filter.endswith("(*.pdf)") else ".csv"
    return path if path.suffix.lower() == suffix else path.with_name(path.name + suffix)


def write_csv(service: ReportService, report: KpiReport, kpi_id: str, path: Path) -> Path:
    """One widget's data or all of them as CSV (worker thread)."""
    return service.export_csv(kpi_id, path, report=report)


def write_pdf(service: ReportService, report: KpiReport, path: Path) -> Path:
    """The management report as PDF (worker thread); written to a temporary name first so a failed
    render never leaves half a file under the chosen name."""
    data = service.pdf(report=report)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    partial.replace(path)
    return path
