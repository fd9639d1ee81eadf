"""``carbot server [--host --port --workers]``, ``carbot server rotate-keys [--retire-now]``, ``migrate``, ``prune``.

Registered through the ``carbot.commands`` entry point (only installed with the ``server`` extra).
Configuration comes from the ``CARBOT_*`` environment (``sync/server/config.py``). The server
migrates its database before uvicorn starts, so several workers never race on the schema.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli_output import emit
from app.errors import WorkshopError
from app.i18n import _

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate, make sure a signing key exists, then run uvicorn."""
    import uvicorn

    from sync.server.config import Settings
    from sync.server.context import ServerContext
    from sync.server.main import configure_logging, create_app

    settings = Settings()
    if args.workers > 1 and settings.redis_url is None:
        # Without Redis each worker would keep its own rate limits and change notifications.
        raise WorkshopError("Mehrere Worker brauchen Redis: bitte CARBOT_REDIS_URL setzen.")
    configure_logging(settings)
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "access_log": False,
        "log_config": None,
        "server_header": False,
    }
    if args.workers > 1:
        ServerContext.build(settings).close()  # migrate and create the first key once, before the workers
        uvicorn.run("sync.server.main:create_app_from_env", factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
    return 0


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    """Add a new signing key; old keys keep verifying for their overlap unless --retire-now."""
    from sync.server.config import Settings
    from sync.server.context import ServerContext

    ctx = ServerContext.build(Settings())
    try:
        kid = ctx.keyring.rotate(retire_now=args.retire_now)
    finally:
        ctx.close()
    emit(_("Neuer Signaturschlüssel: {kid}").format(kid=kid))
    if args.retire_now:
        emit(_("Alte Schlüssel sind sofort ungültig; angemeldete Geräte holen sich neue Tokens."))
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    """Only bring the server database to the newest schema (for deployments with several hosts)."""
    from sync.server.config import Settings
    from sync.server.db import open_server_database

    open_server_database(Settings().db_url).close()
    emit(_("Server-Datenbank ist auf dem neuesten Stand."))
    return 0


def cmd_prune(_args: argparse.Namespace) -> int:
    """Drop change-log entries and tombstones past the retention, and old applied op ids (run daily)."""
    from sync.server.config import Settings
    from sync.server.context import ServerContext
    from sync.server.sync_service_pull import prune

    ctx = ServerContext.build(Settings())
    try:
        with ctx.db.unit() as session:
            report = prune(session, now=ctx.clock())
    finally:
        ctx.close()
    emit(
        _(
            "Aufgeräumt: {changes} Einträge im Änderungsprotokoll, {tombstones} Löschmarken, "
            "{applied} erledigte Änderungskennungen."
        ).format(changes=report.changes, tombstones=report.tombstones, applied=report.applied_ops)
    )
    return 0


def register(sub: Any) -> None:
    """Add ``carbot server`` and its subcommands to the root parser."""
    server = sub.add_parser(
        "server",
        help=_("Server-API starten (FastAPI/uvicorn)"),
        description=_("Startet die Server-API. Einstellungen über CARBOT_*-Umgebungsvariablen."),
    )
    server.add_argument("--host", default=DEFAULT_HOST, help=_("Adresse (Standard: {host})").format(host=DEFAULT_HOST))
    server.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=_("Port (Standard: {port})").format(port=DEFAULT_PORT)
    )
    server.add_argument("--workers", type=int, default=1, help=_("Anzahl uvicorn-Worker (ab 2 nur mit Redis)"))
    server.set_defaults(handler=cmd_serve)
    actions = server.add_subparsers(dest="server_command", metavar=_("AKTION"))
    rotate = actions.add_parser("rotate-keys", help=_("Signaturschlüssel wechseln, ohne jemanden abzumelden"))
    rotate.add_argument(
        "--retire-now", action="store_true", help=_("Alte Schlüssel sofort verwerfen (bei Verdacht auf ein Leck)")
    )
    rotate.set_defaults(handler=cmd_rotate_keys)
    migrate = actions.add_parser("migrate", help=_("Nur die Server-Datenbank migrieren"))
    migrate.set_defaults(handler=cmd_migrate)
    prune_cmd = actions.add_parser("prune", help=_("Alte Synchronisationsdaten aufräumen (täglich ausführen)"))
    prune_cmd.set_defaults(handler=cmd_prune)
