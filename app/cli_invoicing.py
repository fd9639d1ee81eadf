"""``carbot orders|invoice|payments|audit|numbers`` – invoicing from the command line (issue 3).

Handlers only parse arguments and call the same services the counter uses.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import Any

from app import formatting
from app.cli_output import emit, emit_json
from app.errors import ValidationError
from app.i18n import _
from app.money import parse_decimal


def _db(args: argparse.Namespace) -> Any:
    from app.db import open_database  # on use: keeps `carbot gui` start-up light

    return open_database(args.db)


def _finalize_json(result: Any) -> dict[str, Any]:
    return {
        "id": result.id,
        "number": result.number,
        "kind": result.kind,
        "issue_date": result.issue_date.isoformat(),
        "net": str(result.net),
        "vat": str(result.tax),
        "gross": str(result.gross),
        "altteil_tax": str(result.altteil_tax),
        "small_invoice": result.small_invoice,
        "reverse_charge": result.reverse_charge,
        "rates": [
            {"category": t.category, "rate": str(t.rate), "net": str(t.net), "vat": str(t.tax)} for t in result.taxes
        ],
    }


def cmd_orders_import(args: argparse.Namespace) -> int:
    """carbot orders import FILE.json → the new order ids as JSON."""
    from app.services.order_import_service import OrderImportService

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise ValidationError("Die Datei „{file}“ kann nicht gelesen werden.", field="file", file=args.file) from exc
    db = _db(args)
    try:
        ids = OrderImportService(db).import_file(data, user=args.user)
    finally:
        db.close()
    emit_json({"order_ids": ids})
    return 0


def cmd_invoice_finalize(args: argparse.Namespace) -> int:
    """carbot invoice finalize ORDER_ID [--json]."""
    from app.services.invoicing import InvoiceService

    db = _db(args)
    try:
        service = InvoiceService(db)
        invoice_id, _changes = service.create_draft_from_order(args.order_id, user=args.user)
        result = service.finalize(invoice_id, user=args.user)
    finally:
        db.close()
    if args.json:
        emit_json(_finalize_json(result))
    else:
        emit(
            _("Rechnung {number} festgeschrieben: brutto {gross}.").format(
                number=result.number, gross=formatting.money(result.gross)
            )
        )
    return 0


def cmd_invoice_pdf(args: argparse.Namespace) -> int:
    """carbot invoice pdf NUMBER -o FILE (the archived bytes)."""
    from app.services.invoicing import InvoiceService

    db = _db(args)
    try:
        data = InvoiceService(db).pdf(args.number)
    finally:
        db.close()
    Path(args.output).write_bytes(data)
    emit(_("PDF geschrieben: {file}").format(file=args.output))
    return 0


def cmd_invoice_xrechnung(args: argparse.Namespace) -> int:
    """carbot invoice xrechnung NUMBER -o FILE."""
    from app.services.invoicing import InvoiceService

    db = _db(args)
    try:
        data = InvoiceService(db).xrechnung(args.number)
    finally:
        db.close()
    Path(args.output).write_bytes(data)
    emit(_("XRechnung geschrieben: {file}").format(file=args.output))
    return 0


def cmd_invoice_cancel(args: argparse.Namespace) -> int:
    """carbot invoice cancel NUMBER --reason TEXT [--json]."""
    from app.services.invoicing import InvoiceService

    db = _db(args)
    try:
        result = InvoiceService(db).cancel(args.number, reason=args.reason, user=args.user)
    finally:
        db.close()
    if args.json:
        emit_json(_finalize_json(result) | {"cancels": args.number})
    else:
        emit(
            _("Stornorechnung {number} zur Rechnung {original} erstellt.").format(
                number=result.number, original=args.number
            )
        )
    return 0


def cmd_payment(args: argparse.Namespace) -> int:
    """carbot payments record NUMBER AMOUNT --method cash|card|transfer|sepa_dd."""
    from app.services.invoicing import InvoiceService
    from app.services.payments import PaymentService

    try:
        amount = parse_decimal(args.amount)
    except ValueError as exc:
        raise ValidationError("Der Betrag „{value}“ ist keine Zahl.", field="amount", value=args.amount) from exc
    db = _db(args)
    try:
        invoice_id = InvoiceService(db).document_id(args.number)
        payments = PaymentService(db)
        payments.record(invoice_id, amount=amount, method=args.method, user=args.user)
        open_amount: Decimal = payments.open_amount(invoice_id)
    finally:
        db.close()
    emit_json({"invoice": args.number, "paid": str(amount), "open": str(open_amount)})
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """carbot audit verify: check the GoBD hash chain; exit 1 when anything was changed."""
    from app.services.audit import AuditService

    db = _db(args)
    try:
        report = AuditService(db).verify()
    finally:
        db.close()
    if args.json:
        emit_json({"ok": report.ok, "checked": report.checked, "problems": list(report.problems)})
    elif report.ok:
        emit(_("Prüfkette in Ordnung: {count} Einträge geprüft.").format(count=report.checked))
    else:
        for problem in report.problems:
            emit(problem)
    return 0 if report.ok else 1


def cmd_numbers(args: argparse.Namespace) -> int:
    """carbot numbers show | set-start PREFIX VALUE | add PREFIX [START]."""
    from app.services.numbering import NumberingService

    db = _db(args)
    try:
        service = NumberingService(db)
        if args.action == "add":
            service.create_range(args.prefix, int(args.value or 1))
        elif args.action == "set-start":
            service.set_start_value(args.prefix, int(args.value))
        ranges = service.ranges()
    finally:
        db.close()
    emit_json([r.__dict__ for r in ranges])
    return 0


def register(sub: Any) -> None:
    """Add the invoicing subcommands."""
    orders = sub.add_parser("orders", help=_("Aufträge")).add_subparsers(dest="sub", required=True)
    p = orders.add_parser("import", help=_("Aufträge aus JSON importieren (Format: docs/json-import.md)"))
    p.add_argument("file")
    p.add_argument("--user", default="Import")
    p.set_defaults(handler=cmd_orders_import)

    invoice = sub.add_parser("invoice", help=_("Rechnungen")).add_subparsers(dest="sub", required=True)
    p = invoice.add_parser("finalize", help=_("Rechnung zum Auftrag erstellen und festschreiben"))
    p.add_argument("order_id", type=int)
    p.add_argument("--user", default="Theke")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_invoice_finalize)
    p = invoice.add_parser("pdf", help=_("archiviertes PDF/A-3 (ZUGFeRD) ausgeben"))
    p.add_argument("number")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(handler=cmd_invoice_pdf)
    p = invoice.add_parser("xrechnung", help=_("XRechnung (CII) ausgeben"))
    p.add_argument("number")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(handler=cmd_invoice_xrechnung)
    p = invoice.add_parser("cancel", help=_("Stornorechnung erstellen"))
    p.add_argument("number")
    p.add_argument("--reason", required=True)
    p.add_argument("--user", default="Theke")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_invoice_cancel)

    payments = sub.add_parser("payments", help=_("Zahlungen")).add_subparsers(dest="sub", required=True)
    p = payments.add_parser("record", help=_("Zahlung zu einer Rechnung erfassen"))
    p.add_argument("number")
    p.add_argument("amount")
    p.add_argument("--method", choices=("cash", "card", "transfer", "sepa_dd"), required=True)
    p.add_argument("--user", default="Theke")
    p.set_defaults(handler=cmd_payment)

    audit = sub.add_parser("audit", help=_("GoBD-Prüfkette")).add_subparsers(dest="sub", required=True)
    p = audit.add_parser("verify", help=_("Hash-Kette und Belege prüfen"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_audit_verify)

    numbers = sub.add_parser("numbers", help=_("Rechnungsnummernkreise"))
    numbers.add_argument("action", choices=("show", "add", "set-start"))
    numbers.add_argument("prefix", nargs="?", default="W1")
    numbers.add_argument("value", nargs="?", default=None)
    numbers.set_defaults(handler=cmd_numbers)
