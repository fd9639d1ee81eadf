"""``carbot report kpis|pdf|csv`` – the owner's reports from the command line (issue 7).

The period is ``--from`` and ``--to`` (2026-11-30 or 30.11.2026) or a ``--preset`` (this_month,
last_month, quarter, year); ``--no-compare`` drops the previous-period comparison. The CLI acts as the
owner. Handlers only parse arguments and call :class:`app.services.reports.ReportService`.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from app import formatting
from app.cli_output import emit, emit_json
from app.errors import ValidationError
from app.i18n import _

PRESET_CHOICES = ("this_month", "last_month", "quarter", "year")


def _period(args: argparse.Namespace) -> Any:
    from app.reports.period import Period, parse_day, preset

    today = dt.date.today()
    if args.preset:
        if args.date_from or args.date_to:
            raise ValidationError("Bitte entweder --preset oder --from/--to angeben.", field="preset")
        return preset(args.preset, today)
    if not (args.date_from and args.date_to):
        raise ValidationError("Bitte den Zeitraum mit --from und --to angeben (oder --preset).", field="from")
    return Period(parse_day(args.date_from, field="from"), parse_day(args.date_to, field="to"))


def _report(args: argparse.Namespace) -> Any:
    from app.db import open_database
    from app.services.reports import ReportService

    period = _period(args)
    db = open_database(args.db)
    try:
        return ReportService(db).kpis(period, compare_to_previous=not args.no_compare)
    finally:
        db.close()


def cmd_kpis(args: argparse.Namespace) -> int:
    """carbot report kpis --from DATE --to DATE [--json]."""
    from app.reports.export import caption_text, report_dict, value_text

    report = _report(args)
    if args.json:
        emit_json(report_dict(report))
        return 0
    emit(_("Kennzahlen {period}").format(period=report.period.label()))
    for item in report.kpis:
        if not item.available:
            emit(f"  {item.title}: {item.note}")
            continue
        previous = f"  ({_('Vorperiode')}: {value_text(item.previous, item.unit)})" if item.previous is not None else ""
        caption = caption_text(item)
        emit(f"  {item.title}: {value_text(item.value, item.unit)}{previous}" + (f" – {caption}" if caption else ""))
    return 0


def cmd_pdf(args: argparse.Namespace) -> int:
    """carbot report pdf --from DATE --to DATE -o FILE."""
    from app.reports.pdf import render_report_pdf

    data = render_report_pdf(_report(args))
    _write(Path(args.output), data)
    emit(
        _("Managementbericht geschrieben: {file} ({size})").format(
            file=args.output, size=f"{formatting.number(len(data) / 1024, 0)} KB"
        )
    )
    return 0


def cmd_csv(args: argparse.Namespace) -> int:
    """carbot report csv --from DATE --to DATE -o FILE [--kpi ID]."""
    from app.reports.export import write_csv

    write_csv(_report(args), args.kpi, Path(args.output))
    emit(_("CSV geschrieben: {file}").format(file=args.output))
    return 0


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ValidationError(
            "Die Datei „{file}“ kann nicht geschrieben werden.", field="output", file=str(path)
        ) from exc


def _period_options(parser: Any) -> None:
    parser.add_argument(
        "--from", dest="date_from", metavar=_("DATUM"), help=_("erster Tag (2026-11-01 oder 01.11.2026)")
    )
    parser.add_argument("--to", dest="date_to", metavar=_("DATUM"), help=_("letzter Tag (einschließlich)"))
    parser.add_argument("--preset", choices=PRESET_CHOICES, help=_("vordefinierter Zeitraum statt --from/--to"))
    parser.add_argument("--no-compare", action="store_true", help=_("ohne Vergleich mit dem Vorzeitraum"))


def register(sub: Any) -> None:
    """Add ``carbot report``."""
    report = sub.add_parser("report", help=_("Berichte und Kennzahlen")).add_subparsers(dest="sub", required=True)
    p = report.add_parser("kpis", help=_("alle Kennzahlen eines Zeitraums"))
    _period_options(p)
    p.add_argument("--json", action="store_true", help=_("als JSON ausgeben"))
    p.set_defaults(handler=cmd_kpis)
    p = report.add_parser("pdf", help=_("Managementbericht als PDF"))
    _period_options(p)
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(handler=cmd_pdf)
    p = report.add_parser("csv", help=_("Kennzahlen als CSV (Excel)"))
    _period_options(p)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--kpi", default="all", help=_("eine Kennzahl (z. B. revenue_net) oder all"))
    p.set_defaults(handler=cmd_csv)
