"""``carbot sync`` (one round), ``carbot sync --watch``, ``carbot sync register …``, ``carbot sync status``.

Registered through the ``carbot.commands`` entry point. The device credentials live in the OS keyring
under an account named after the database file, so two installations on one PC never share them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import platform
import signal
import threading
from pathlib import Path
from typing import Any

from app.cli_output import emit, emit_json, error
from app.db import open_database
from app.formatting import datetime as format_datetime
from app.i18n import _
from sync.chat_cli import add_chat_command
from sync.rollups_cli import add_rollups_command

DEFAULT_TIMEOUT = 15.0


def keyring_account(db_path: Path) -> str:
    """The keyring account of the installation using ``db_path``."""
    return f"device:{Path(db_path).resolve()}"


def _store(args: argparse.Namespace) -> Any:
    from sync.credentials import CredentialStore

    return CredentialStore(keyring_account(args.db))


def cmd_register(args: argparse.Namespace) -> int:
    """Register this installation as a device of a location and queue all existing data."""
    import httpx

    from sync import local
    from sync.credentials import register_device

    password = args.password or getpass.getpass(_("Passwort: "))
    db = open_database(args.db)
    try:
        with httpx.Client(base_url=args.server, timeout=args.timeout) as http:
            reg = register_device(
                http, _store(args), email=args.email, password=password, location=args.location, name=args.name
            )
        queued = local.register(db, server_url=reg.server_url, device_id=reg.device_id, location_id=reg.location_id)
    finally:
        db.close()
    emit(
        _("Arbeitsplatz für den Standort „{location}“ registriert ({queued} Datensätze zur Übertragung).").format(
            location=reg.location_name, queued=queued
        )
    )
    return 0


def _client(args: argparse.Namespace) -> Any:
    from sync.client import SyncClient
    from sync.credentials import DeviceSession

    session = DeviceSession(_store(args))
    return SyncClient(session.server_url, session, timeout=args.timeout)


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        emit_json(report)
        return
    emit(
        _(
            "Synchronisiert: {pushed} Änderungen gesendet ({rejected} abgelehnt, {conflicts} Konflikte), "
            "{pulled} empfangen."
        ).format(pushed=report.pushed, rejected=report.rejected, conflicts=report.conflicts, pulled=report.pulled)
    )
    for warning in report.warnings:
        error(warning)


def cmd_sync(args: argparse.Namespace) -> int:
    """One sync round, or rounds until Ctrl+C with --watch."""
    db = open_database(args.db)
    client = _client(args)
    try:
        if not args.watch:
            _print_report(client.run_once(db), args.json)
            return 0
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            client.watch(
                db,
                stop,
                on_report=lambda report: _print_report(report, args.json) if report.pushed or report.pulled else None,
                on_error=lambda exc: error(exc.message),
            )
        except KeyboardInterrupt:
            stop.set()
        return 0
    finally:
        client.close()
        db.close()


def status(args: argparse.Namespace) -> dict[str, Any]:
    """The status as a dict: registered, online, last sync, pending changes, last error."""
    import httpx

    from sync import local

    db = open_database(args.db)
    try:
        state = local.state(db)
    finally:
        db.close()
    online = False
    if state.server_url:
        try:
            online = httpx.get(state.server_url.rstrip("/") + "/healthz", timeout=3.0).status_code == 200
        except httpx.HTTPError:
            online = False
    return {
        "registered": state.registered,
        "online": online,
        "server_url": state.server_url or None,
        "device_id": state.device_id,
        "location_id": state.location_id,
        "last_sync_at": state.last_sync_at,
        "last_attempt_at": state.last_attempt_at,
        "last_error": state.last_error or None,
        "pending_changes": state.pending,
        "cursor": state.cursor,
    }


def cmd_status(args: argparse.Namespace) -> int:
    """Print the sync status."""
    info = status(args)
    if args.json:
        emit_json(info)
        return 0
    if not info["registered"]:
        emit(_("Nicht registriert – „carbot sync register“ verbindet diesen Arbeitsplatz mit dem Server."))
        return 0
    emit(
        _("Server: {url} ({state})").format(
            url=info["server_url"], state=_("online") if info["online"] else _("offline")
        )
    )
    last = info["last_sync_at"]
    when = format_datetime(last.replace(tzinfo=dt.UTC).astimezone()) if last else _("noch nie")
    emit(_("Letzte Synchronisation: {when}").format(when=when))
    emit(_("Ausstehende Änderungen: {count}").format(count=info["pending_changes"]))
    if info["last_error"]:
        emit(_("Letzter Fehler: {message}").format(message=info["last_error"]))
    return 0


def register(sub: Any) -> None:
    """Add ``carbot sync`` and its subcommands to the root parser."""
    parser = sub.add_parser(
        "sync",
        help=_("Mit dem CarBot-Server synchronisieren"),
        description=_("Ohne Unterbefehl: eine Synchronisationsrunde (Senden, dann Empfangen)."),
    )
    parser.add_argument("--watch", action="store_true", help=_("Laufend synchronisieren (Strg+C beendet)"))
    parser.add_argument("--json", action="store_true", help=_("Ausgabe als JSON"))
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help=argparse.SUPPRESS)
    parser.set_defaults(handler=cmd_sync)
    actions = parser.add_subparsers(dest="sync_command", metavar=_("AKTION"))
    reg = actions.add_parser("register", help=_("Diesen Arbeitsplatz beim Server anmelden"))
    reg.add_argument("--server", required=True, help=_("Adresse des Servers, z. B. https://api.example.de"))
    reg.add_argument("--email", required=True, help=_("E-Mail-Adresse des Inhabers oder der Theke"))
    reg.add_argument("--password", default=None, help=_("Passwort (ohne Angabe wird es abgefragt)"))
    reg.add_argument("--location", default=None, help=_("Standort (Name oder Kennung)"))
    reg.add_argument("--name", default=platform.node() or "Arbeitsplatz", help=_("Name dieses Arbeitsplatzes"))
    reg.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help=argparse.SUPPRESS)
    reg.set_defaults(handler=cmd_register)
    stat = actions.add_parser("status", help=_("Stand der Synchronisation anzeigen"))
    stat.add_argument("--json", action="store_true", help=_("Ausgabe als JSON"))
    stat.set_defaults(handler=cmd_status)
    add_rollups_command(actions)
    add_chat_command(sub)  # ``carbot chat …`` (sync.chat_cli) is a top-level command of its own
