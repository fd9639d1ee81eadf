"""``carbot chat agent|ask|inbox|widget`` — the web chat from the command line.

- ``carbot chat agent [--once]``: the desktop's answering loop headless (``sync.chat_agent``); Ctrl+C (or
  SIGTERM) ends it cleanly after the current round;
- ``carbot chat ask "TEXT" [--lang de] [--json]``: asks the configured assistant (cloud LLM when set up
  and within budget, else the built-in one) once against this database's public profile, without a
  server. Nothing is booked: an appointment request is only reported (``booking`` in the JSON); cloud
  usage counts against the monthly budget like any answer;
- ``carbot chat inbox [--status S] [--json]``: the conversations the last sync brought;
- ``carbot chat widget [--json]``: the script snippet and public key of this location's widget.

``sync.cli.register`` adds the ``chat`` command (``add_chat_command``).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import signal
import threading
from typing import Any

from app import formatting
from app.cli_output import emit, emit_json, error
from app.db import open_database
from app.i18n import N_, _

DEFAULT_TIMEOUT = 15.0
LANGUAGES = ("de", "en", "tr", "pl")
STATUS_LABELS = {
    "bot": N_("Assistent"),
    "waiting_staff": N_("wartet auf Mitarbeiter"),
    "staff": N_("Mitarbeiter"),
    "closed": N_("geschlossen"),
}


def _session(args: argparse.Namespace) -> Any:
    from sync.cli import keyring_account
    from sync.credentials import CredentialStore, DeviceSession

    return DeviceSession(CredentialStore(keyring_account(args.db)))


def _chat_client(args: argparse.Namespace) -> Any:
    from sync.chat_client import ChatClient

    session = _session(args)
    return ChatClient(session.server_url, session, timeout=args.timeout)


class _RoundPrinter:
    """Prints what a round did; the lead-limit warning only when it changes (rounds come every few seconds)."""

    def __init__(self) -> None:
        self.limit_reached = False

    def __call__(self, report: Any) -> None:
        if report.lead_limit_reached != self.limit_reached:
            self.limit_reached = report.lead_limit_reached
            if report.lead_limit_reached:
                error(
                    _(
                        "Das Lead-Kontingent Ihres Tarifs ist für diesen Monat erreicht; der Assistent antwortet "
                        "nicht mehr, Kontaktdaten werden weiter angenommen."
                    )
                )
        _print_round(report)


def _print_round(report: Any) -> None:
    if report.profile_pushed:
        emit(_("Öffentliche Werkstattdaten (Leistungen, Preise, freie Termine) an den Server übertragen."))
    if report.tasks:
        emit(
            _(
                "{answered} Antworten gesendet, {muted} verworfen (Mitarbeiter hat übernommen), "
                "{bookings} Terminanfragen, {fallbacks} Mal eingebauter Assistent statt KI."
            ).format(
                answered=report.answered,
                muted=report.muted,
                bookings=report.bookings,
                fallbacks=report.fallbacks,
            )
        )
    for message in report.errors:
        error(message)


def cmd_agent(args: argparse.Namespace) -> int:
    """Run the answering loop (one round with --once)."""
    from sync.chat_agent import ChatAgent
    from sync.chat_answer import ConfiguredAssistants

    client = _chat_client(args)
    db = open_database(args.db)
    try:
        agent = ChatAgent(
            db,
            client,
            ConfiguredAssistants(db),
            poll_wait=args.wait,
            on_report=_RoundPrinter(),
            on_error=lambda message: error(_("Chat-Assistent: {message}").format(message=message)),
        )
        if args.once:
            _RoundPrinter()(agent.run_once())
            return 0
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        emit(_("Chat-Assistent läuft und beantwortet die Web-Chats dieses Standorts (Strg+C beendet)."))
        try:
            agent.run_forever(stop)
        except KeyboardInterrupt:
            stop.set()
        emit(_("Chat-Assistent beendet."))
        return 0
    finally:
        client.close()
        db.close()


def cmd_ask(args: argparse.Namespace) -> int:
    """Ask the configured assistant once (no server, nothing booked)."""
    from sync.chat_answer import ask_once

    db = open_database(args.db)
    try:
        answer = ask_once(db, args.text, language=args.visitor_language, now=dt.datetime.now(dt.UTC))
    finally:
        db.close()
    if args.json:
        emit_json(
            {
                "text": answer.reply.text,
                "quick_replies": list(answer.reply.quick_replies),
                "handoff": answer.reply.handoff,
                "provider": answer.provider,
                "usage": dataclasses.asdict(answer.reply.usage) if answer.reply.usage is not None else None,
                "booking": answer.booking,
                "fallback_reason": answer.fallback_reason,
            }
        )
        return 0
    emit(answer.reply.text)
    if answer.reply.quick_replies:
        emit("  ".join(f"[{reply}]" for reply in answer.reply.quick_replies))
    emit(_("(Antwort von: {provider})").format(provider=answer.provider))
    if answer.fallback_reason:
        error(answer.fallback_reason)
    return 0


def cmd_inbox(args: argparse.Namespace) -> int:
    """List the conversations the last sync brought."""
    from app.services.chat_inbox import ChatInboxService

    db = open_database(args.db)
    try:
        conversations = ChatInboxService(db).conversations(status=args.status)
    finally:
        db.close()
    if args.json:
        emit_json(conversations)
        return 0
    if not conversations:
        emit(_("Keine Web-Chats vorhanden (erst „carbot sync“ ausführen)."))
        return 0
    for conv in conversations:
        when = conv.last_message_at or conv.updated_at
        lead_text = _("Lead")  # outside the f-strings, so the texts are extracted for translation
        unread_text = _("{count} ungelesen").format(count=conv.unread)
        flags = "".join((f" · {lead_text}" if conv.is_lead else "", f" · {unread_text}" if conv.unread else ""))
        emit(
            f"{formatting.datetime(when.astimezone())}  {conv.title}  "
            f"({_(STATUS_LABELS.get(conv.status, conv.status))}){flags}"
        )
        if conv.last_message_preview:
            emit(f"    {conv.last_message_preview}")
    return 0


def cmd_widget(args: argparse.Namespace) -> int:
    """Print the widget's script snippet and public key."""
    client = _chat_client(args)
    try:
        config = client.widget_config()
    finally:
        client.close()
    if args.json:
        emit_json(config.model_dump(mode="json"))
        return 0
    emit(_("Öffentlicher Schlüssel: {key}").format(key=config.public_key))
    domains = ", ".join(config.allowed_domains) or _("alle (keine Einschränkung)")
    emit(_("Erlaubte Domains: {domains}").format(domains=domains))
    emit(_("Diesen Code in die Website der Werkstatt einfügen:"))
    emit(config.snippet)
    return 0


def add_chat_command(sub: Any) -> None:
    """Add ``carbot chat`` and its subcommands to the root parser."""
    parser = sub.add_parser("chat", help=_("Web-Chat der Werkstatt-Website: Assistent, Posteingang, Widget"))
    actions = parser.add_subparsers(dest="chat_command", metavar=_("AKTION"))
    agent = actions.add_parser("agent", help=_("Die Web-Chats dieses Standorts beantworten (Strg+C beendet)"))
    agent.add_argument("--once", action="store_true", help=_("Nur eine Runde (Aufgaben abholen und beantworten)"))
    agent.add_argument("--wait", type=float, default=20.0, help=_("Sekunden, die auf neue Nachrichten gewartet wird"))
    agent.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help=argparse.SUPPRESS)
    agent.set_defaults(handler=cmd_agent)
    ask = actions.add_parser("ask", help=_("Den eingerichteten Assistenten einmal fragen (ohne Server)"))
    ask.add_argument("text", help=_("Die Frage, wie sie ein Kunde stellen würde"))
    # Not ``--lang``: that global option switches the language of carbot's own output (de, en).
    ask.add_argument(
        "--language",
        dest="visitor_language",
        choices=LANGUAGES,
        default="de",
        help=_("Sprache des Kunden (de, en, tr, pl)"),
    )
    ask.add_argument("--json", action="store_true", help=_("Ausgabe als JSON"))
    ask.set_defaults(handler=cmd_ask)
    inbox = actions.add_parser("inbox", help=_("Web-Chats aus der letzten Synchronisation anzeigen"))
    inbox.add_argument(
        "--status", choices=tuple(STATUS_LABELS), default=None, help=_("Nur Gespräche mit diesem Status")
    )
    inbox.add_argument("--json", action="store_true", help=_("Ausgabe als JSON"))
    inbox.set_defaults(handler=cmd_inbox)
    widget = actions.add_parser("widget", help=_("Einbettungscode und öffentlichen Schlüssel des Widgets anzeigen"))
    widget.add_argument("--json", action="store_true", help=_("Ausgabe als JSON"))
    widget.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help=argparse.SUPPRESS)
    widget.set_defaults(handler=cmd_widget)
    parser.set_defaults(handler=lambda _args: (parser.print_help(), 2)[1])
