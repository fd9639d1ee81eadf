"""Qt-free ``carbot`` subcommands: demo, customers, catalog, appointments, settings, db, privacy.

Each handler only parses arguments and calls the same services the GUI uses.
"""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.cli_output import emit, emit_json
from app.errors import ValidationError
from app.i18n import _


def _services(args: argparse.Namespace) -> Any:
    # Imported on use: `carbot gui` must not pay for SQLAlchemy before its window is on screen.
    from app.services.registry import Services

    return Services.open(args.db)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(_("Ungültiges Datum „{text}“ – bitte JJJJ-MM-TT.").format(text=text)) from exc


def cmd_demo(args: argparse.Namespace) -> int:
    """carbot demo: seed the demo workshop into an empty database."""
    from app.demo import create_demo, is_empty

    services = _services(args)
    try:
        if not is_empty(services) and not args.force:
            raise ValidationError(
                "Die Datenbank enthält schon eine Werkstatt – Demo-Daten nur in eine leere Datenbank "
                "(oder eine neue Datei mit --db)."
            )
        summary = create_demo(services, today=args.today, customers=args.customers, vehicles=args.vehicles)
    finally:
        services.close()
    if args.json:
        emit_json(summary)
    else:
        emit(
            _("Demo-Werkstatt angelegt: {c} Kunden, {v} Fahrzeuge, {a} Termine, {s} Leistungen.").format(
                c=summary.customers, v=summary.vehicles, a=summary.appointments, s=summary.services
            )
        )
    return 0


def cmd_customers_search(args: argparse.Namespace) -> int:
    """carbot customers search TEXT."""
    services = _services(args)
    try:
        hits = services.search.search(args.text, limit=args.limit)
    finally:
        services.close()
    if args.json:
        emit_json([hit.__dict__ for hit in hits])
    else:
        for hit in hits:
            emit(f"{'Fahrzeug' if hit.kind == 'vehicle' else 'Kunde':8}  {hit.title}  –  {hit.subtitle}")
        if not hits:
            emit(_("Nichts gefunden."))
    return 0


def cmd_catalog_import(args: argparse.Namespace) -> int:
    """carbot catalog import FILE."""
    services = _services(args)
    try:
        summary = services.catalog.import_csv(args.file)
    finally:
        services.close()
    emit(
        _("Katalog importiert: {created} neu, {updated} aktualisiert.").format(
            created=summary.created, updated=summary.updated
        )
    )
    return 0


def cmd_catalog_export(args: argparse.Namespace) -> int:
    """carbot catalog export FILE."""
    services = _services(args)
    try:
        count = services.catalog.export_csv(args.file)
    finally:
        services.close()
    emit(_("{count} Leistungen exportiert nach {file}.").format(count=count, file=args.file))
    return 0


def cmd_appointments_export(args: argparse.Namespace) -> int:
    """carbot appointments export --ics FILE [--from D --to D]."""
    start = args.date_from or dt.date.today() - dt.timedelta(days=30)
    end = args.date_to or dt.date.today() + dt.timedelta(days=90)
    services = _services(args)
    try:
        data = services.appointments.export_ics(
            None, start=dt.datetime.combine(start, dt.time()), end=dt.datetime.combine(end, dt.time(23, 59))
        )
    finally:
        services.close()
    Path(args.ics).write_bytes(data)
    emit(_("Kalender exportiert nach {file}.").format(file=args.ics))
    return 0


def cmd_settings_show(args: argparse.Namespace) -> int:
    """carbot settings show [--json]."""
    services = _services(args)
    try:
        settings = services.settings.get()
        bays = services.settings.bays()
        mechanics = services.settings.mechanics()
    finally:
        services.close()
    data: dict[str, Any] = settings.as_dict() | {
        # AW prices keep 4 decimals: 0.01 € per AW is too coarse at 12 or 100 AW per hour.
        "aw_price": str(settings.aw_price.quantize(Decimal("0.0001"))),
        "bays": [b.name for b in bays],
        "mechanics": [m.name for m in mechanics],
    }
    if args.json:
        emit_json(data)
    else:
        for key, value in data.items():
            emit(f"{key:18} {value}")
    return 0


def cmd_settings_set(args: argparse.Namespace) -> int:
    """carbot settings set KEY VALUE."""
    services = _services(args)
    try:
        settings, _changes = services.settings.update(**{args.key: args.value})
    finally:
        services.close()
    emit(_("{key} = {value}").format(key=args.key, value=settings.as_dict()[args.key]))
    return 0


def cmd_db_backup(args: argparse.Namespace) -> int:
    """carbot db backup [-o FILE]."""
    from app.db import backup, backup_path

    services = _services(args)
    try:
        dest = backup(services.db, Path(args.output) if args.output else backup_path(Path(args.db)))
    finally:
        services.close()
    emit(_("Sicherung geschrieben: {file}").format(file=dest))
    return 0


def cmd_db_check(args: argparse.Namespace) -> int:
    """carbot db check: SQLite integrity check."""
    from app.db import integrity_check

    services = _services(args)
    try:
        problems = integrity_check(services.db)
    finally:
        services.close()
    if problems:
        for line in problems:
            emit(line)
        return 1
    emit(_("Datenbank in Ordnung."))
    return 0


def cmd_privacy_export(args: argparse.Namespace) -> int:
    """carbot privacy export CUSTOMER_NUMBER -o FILE.zip."""
    services = _services(args)
    try:
        customer = services.customers.get_by_number(args.customer)
        path = services.privacy.export_customer(customer.id, Path(args.output), user=args.user)
    finally:
        services.close()
    emit(_("Datenauskunft geschrieben: {file}").format(file=path))
    return 0


def cmd_privacy_erase(args: argparse.Namespace) -> int:
    """carbot privacy erase CUSTOMER_NUMBER --yes."""
    if not args.yes:
        raise ValidationError("Löschen nur mit --yes (es gibt kein Zurück).")
    services = _services(args)
    try:
        customer = services.customers.get_by_number(args.customer)
        outcome = services.privacy.erase_customer(customer.id, user=args.user, today=dt.date.today())
    finally:
        services.close()
    if args.json:
        emit_json(outcome)
    elif outcome.deleted:
        emit(_("Kunde {number} vollständig gelöscht.").format(number=args.customer))
    else:
        emit(
            _("Kunde {number} gesperrt; aufbewahrungspflichtige Daten bleiben bis zum Fristende.").format(
                number=args.customer
            )
        )
    return 0


def register_core(sub: Any) -> None:
    """Add the Qt-free subcommands to the root parser."""
    p = sub.add_parser("demo", help=_("Demo-Werkstatt in eine leere Datenbank schreiben"))
    p.add_argument("--customers", type=int, default=200)
    p.add_argument("--vehicles", type=int, default=260)
    p.add_argument("--today", type=_date, default=None, help=_("Stichtag (JJJJ-MM-TT), für reproduzierbare Daten"))
    p.add_argument("--force", action="store_true", help=_("auch in eine nicht leere Datenbank"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_demo)

    customers = sub.add_parser("customers", help=_("Kunden")).add_subparsers(dest="sub", required=True)
    p = customers.add_parser("search", help=_("Kunden, Fahrzeuge, Kennzeichen und FIN suchen"))
    p.add_argument("text")
    p.add_argument("--limit", type=int, default=30)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_customers_search)

    catalog = sub.add_parser("catalog", help=_("Leistungskatalog")).add_subparsers(dest="sub", required=True)
    p = catalog.add_parser("import", help=_("CSV importieren (Excel: ; und Dezimalkomma)"))
    p.add_argument("file", type=Path)
    p.set_defaults(handler=cmd_catalog_import)
    p = catalog.add_parser("export", help=_("CSV exportieren"))
    p.add_argument("file", type=Path)
    p.set_defaults(handler=cmd_catalog_export)

    appointments = sub.add_parser("appointments", help=_("Termine")).add_subparsers(dest="sub", required=True)
    p = appointments.add_parser("export", help=_("Termine als iCalendar-Datei exportieren"))
    p.add_argument("--ics", required=True)
    p.add_argument("--from", dest="date_from", type=_date, default=None)
    p.add_argument("--to", dest="date_to", type=_date, default=None)
    p.set_defaults(handler=cmd_appointments_export)

    settings = sub.add_parser("settings", help=_("Werkstatt-Stammdaten")).add_subparsers(dest="sub", required=True)
    p = settings.add_parser("show", help=_("Einstellungen anzeigen"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_settings_show)
    p = settings.add_parser("set", help=_("eine Einstellung ändern"))
    p.add_argument("key")
    p.add_argument("value")
    p.set_defaults(handler=cmd_settings_set)

    db = sub.add_parser("db", help=_("Datenbank")).add_subparsers(dest="sub", required=True)
    p = db.add_parser("backup", help=_("Sicherungskopie schreiben"))
    p.add_argument("-o", "--output", default=None)
    p.set_defaults(handler=cmd_db_backup)
    p = db.add_parser("check", help=_("Integrität prüfen"))
    p.set_defaults(handler=cmd_db_check)

    privacy = sub.add_parser("privacy", help=_("Datenschutz (DSGVO)")).add_subparsers(dest="sub", required=True)
    p = privacy.add_parser("export", help=_("Datenauskunft eines Kunden als ZIP (Art. 15/20)"))
    p.add_argument("customer", help=_("Kundennummer, z. B. K10001"))
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--user", default="Theke")
    p.set_defaults(handler=cmd_privacy_export)
    p = privacy.add_parser("erase", help=_("Löschantrag ausführen (Art. 17)"))
    p.add_argument("customer")
    p.add_argument("--yes", action="store_true")
    p.add_argument("--user", default="Theke")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_privacy_erase)
