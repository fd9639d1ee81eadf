"""``carbot sync rollups --from D --to D [--group location|day] [--location ID] --email E [--json]``.

Prints the organisation's figures as the server computed them. The person logs in with e-mail and
password (owner or auditor; asked for when ``--password`` is missing), the session is ended again
afterwards and nothing is stored. The server is the one this installation is registered with, or
``--server``. ``sync.cli.register`` adds the subcommand (``add_rollups_command``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
from dataclasses import asdict
from typing import Any

from app import formatting
from app.cli_output import emit, emit_json
from app.i18n import _

DEFAULT_TIMEOUT = 15.0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("Datum im Format JJJJ-MM-TT erwartet: {text}").format(text=text)) from None


def _client(args: argparse.Namespace) -> Any:
    from sync.cli import keyring_account
    from sync.client import SyncClient
    from sync.credentials import CredentialStore, StaticCredentials
    from sync.errors import SyncError

    server = args.server
    if not server:
        stored = CredentialStore(keyring_account(args.db)).load()
        if stored is None:
            raise SyncError("Dieser Arbeitsplatz ist nicht registriert: bitte --server angeben.")
        server = stored.server_url
    # The device's identity is not used: roll-ups are read with the person's own login.
    return SyncClient(server, StaticCredentials("", "", ""), timeout=args.timeout)


def _line(label: str, figures: Any) -> str:
    return _(
        "{label}: netto {net}, brutto {gross}, {invoices} Rechnungen, {aw} AW, Lohn {labour}, Teile {parts}, "
        "{customers} Neukunden, {appointments} Termine, {chats} Chats, {leads} Leads"
    ).format(
        label=label,
        net=formatting.money(figures.net_total),
        gross=formatting.money(figures.gross_total),
        invoices=figures.invoice_count,
        aw=formatting.number(figures.aw_sold),
        labour=formatting.money(figures.labour_net),
        parts=formatting.money(figures.parts_net),
        customers=figures.new_customers,
        appointments=figures.appointments,
        chats=figures.chats,
        leads=figures.leads,
    )


def cmd_rollups(args: argparse.Namespace) -> int:
    """Fetch and print the roll-ups."""
    from sync.rollups_client import OwnerLogin, RollupsClient

    password = args.password or getpass.getpass(_("Passwort: "))
    client = _client(args)
    rollups = RollupsClient(client, OwnerLogin(args.email, password))
    try:
        result = rollups.rollups(args.date_from, args.date_to, group=args.group, location_id=args.location)
    finally:
        rollups.close()
        client.close()
    if args.json:
        emit_json(asdict(result))
        return 0
    emit(_("Kennzahlen {start} bis {end}").format(start=formatting.date(result.date_from),
                                                   end=formatting.date(result.date_to)))  # fmt: skip
    for group in result.groups:
        label = group.location_name or group.location_id or formatting.date(group.date)
        emit(_line(str(label), group.figures))
    emit(_line(_("Gesamt"), result.total))
    for rate in result.total.revenue:
        emit(_("  USt. {rate} %: netto {net}, Steuer {tax}, brutto {gross}").format(
            rate=formatting.number(rate.vat_rate), net=formatting.money(rate.net), tax=formatting.money(rate.tax),
            gross=formatting.money(rate.gross)))  # fmt: skip
    return 0


def add_rollups_command(actions: Any) -> None:
    """Add ``rollups`` to the subcommands of ``carbot sync``."""
    parser = actions.add_parser("rollups", help=_("Kennzahlen aller Standorte vom Server abrufen (Inhaber, Prüfer)"))
    parser.add_argument("--from", dest="date_from", type=_date, required=True, help=_("Erster Tag (JJJJ-MM-TT)"))
    parser.add_argument("--to", dest="date_to", type=_date, required=True, help=_("Letzter Tag (JJJJ-MM-TT)"))
    parser.add_argument("--group", choices=("location", "day"), default="location",
                        help=_("Gruppierung: je Standort oder je Tag"))  # fmt: skip
    parser.add_argument("--location", default=None, help=_("Nur dieser Standort (Kennung)"))
    parser.add_argument("--email", required=True, help=_("E-Mail-Adresse des Inhabers oder Prüfers"))
    parser.add_argument("--password", default=None, help=_("Passwort (ohne Angabe wird es abgefragt)"))
    parser.add_argument("--server", default=None, help=_("Adresse des Servers (Standard: der registrierte)"))
    parser.add_argument("--json", action="store_true", help=_("Ausgabe als JSON"))
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help=argparse.SUPPRESS)
    parser.set_defaults(handler=cmd_rollups)
