"""The ``carbot`` command: root parser, global options and the Qt-free subcommands.

Layers above app/ (ui, drivers, sync) add their subcommands through the entry-point group
``carbot.commands`` (see pyproject.toml), so this module never imports them. Exit codes:
0 success, 1 domain error (German message), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app import __version__, cli_invoicing, cli_reports, i18n
from app.cli_commands import register_core
from app.cli_output import error
from app.errors import WorkshopError
from app.i18n import _
from app.paths import default_db_path

log = logging.getLogger(__name__)
# Used when package metadata is missing (e.g. a bundle built without it): same modules, same order.
FALLBACK_COMMAND_MODULES = ("ui.cli",)
# Commands whose module is known: `carbot gui` skips scanning the installed packages' metadata
# (about 45 ms of a cold start) and imports its module directly.
KNOWN_COMMAND_MODULES = {"gui": "ui.cli", "self-test": "ui.cli"}


def _command_word(args: list[str]) -> str | None:
    """The subcommand the user asked for (skipping global options and their values)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--db", "--lang"):
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _plugin_registrars(command: str | None = None) -> list[Callable[[Any], None]]:
    known = KNOWN_COMMAND_MODULES.get(command or "")
    if known is not None:
        try:
            return [importlib.import_module(known).register]
        except ImportError:
            pass
    from importlib.metadata import entry_points

    found = [ep.load for ep in entry_points(group="carbot.commands")]
    registrars: list[Callable[[Any], None]] = []
    if found:
        for load in found:
            try:
                registrars.append(load())
            except ImportError as exc:  # an extra that is not installed (e.g. no desktop in a server image)
                log.debug("command plugin not available: %s", exc)
        return registrars
    for name in FALLBACK_COMMAND_MODULES:
        try:
            registrars.append(importlib.import_module(name).register)
        except ImportError:
            continue
    return registrars


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full ``carbot`` parser with every installed subcommand."""
    parser = argparse.ArgumentParser(
        prog="carbot", description=_("CarBot Werkstatt – Werkstatt-Software für die Theke.")
    )
    parser.add_argument("--version", action="version", version=f"carbot {__version__}")
    parser.add_argument(
        "--db", type=Path, default=None, help=_("Datenbankdatei (Standard: {path})").format(path=default_db_path())
    )
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default=None, help=_("Sprache der Ausgabe (de, en)"))
    sub = parser.add_subparsers(dest="command", metavar=_("BEFEHL"))
    register_core(sub)
    cli_invoicing.register(sub)
    cli_reports.register(sub)
    for register in _plugin_registrars(command):
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``carbot``; returns the exit code (tests call this in-process)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if "--lang" in args_list:
        position = args_list.index("--lang")
        if position + 1 < len(args_list):
            i18n.set_language(args_list[position + 1])
    if not args_list:
        args_list = ["gui"]
    parser = build_parser(_command_word(args_list))
    args = parser.parse_args(args_list)
    if args.lang:
        i18n.set_language(args.lang)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    if args.db is None:
        args.db = default_db_path()
    try:
        result: int = args.handler(args)
    except WorkshopError as exc:
        error(_("Fehler: {message}").format(message=exc.message))
        return 1
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
