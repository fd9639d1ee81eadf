"""``carbot gui`` and ``carbot self-test`` (registered through the carbot.commands entry point)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from app.cli_output import emit
from app.i18n import _


def cmd_gui(args: argparse.Namespace) -> int:
    """Start the desktop app."""
    from ui.main import run_gui  # Qt is imported only when the GUI is really wanted

    return run_gui(args.db, demo_if_empty=args.demo_if_empty, lang=args.lang)


def cmd_self_test(args: argparse.Namespace) -> int:
    """Open and migrate the database, build the main window offscreen, exit 0."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.db import integrity_check
    from app.services.registry import Services
    from ui.main import build_window

    app = QApplication.instance() or QApplication([])
    services = Services.open(args.db)
    try:
        problems = integrity_check(services.db)
        window = build_window(services, synchronous=True)
        window.show()
        app.processEvents()
        tabs = window.tabs.count()
        window.close()
    finally:
        services.close()
    if problems:
        emit(_("Selbsttest fehlgeschlagen: {problems}").format(problems="; ".join(problems)))
        return 1
    emit(
        _("Selbsttest bestanden: Datenbank {path} geöffnet, Hauptfenster mit {tabs} Reitern gebaut.").format(
            path=args.db, tabs=tabs
        )
    )
    return 0


def register(sub: Any) -> None:
    """Add gui and self-test."""
    p = sub.add_parser("gui", help=_("die Desktop-Anwendung starten"))
    p.add_argument("--demo-if-empty", action="store_true", help=_("beim ersten Start die Demo-Werkstatt anlegen"))
    p.set_defaults(handler=cmd_gui)
    p = sub.add_parser("self-test", help=_("Datenbank öffnen und Hauptfenster offscreen bauen"))
    p.set_defaults(handler=cmd_self_test)
