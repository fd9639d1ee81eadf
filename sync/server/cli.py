"""``carbot server [--host --port --workers]``, ``carbot server rotate-keys [--retire-now]``, ``migrate``, ``prune``,
``stripe-catalog [--dry-run]`` and ``subscription ORG_ID [--plan P --status S --period-end DATE]``.

Registered through the ``carbot.commands`` entry point (only installed with the ``server`` extra).
Configuration comes from the ``CARBOT_*`` environment (``sync/server/config.py``). The server
migrates its database before uvicorn starts, so several workers never race on the schema.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from app.cli_output import emit
from app.errors import WorkshopError
from app.i18n import _
from app.plans import PLANS, SubscriptionStatus

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate, make sure a signing key exists, then run uvicorn."""
    import uvicorn

    from sync.server.config import Settings
    from sync.server.context import ServerContext
    from sync.server.main import configure_logging, create_app, tune_process

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
        app = create_app(settings)
        tune_process()  # as the factory of the multi-worker case does
        uvicorn.run(app, **options)
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
    from sync.server.billing.store import prune_events
    from sync.server.config import Settings
    from sync.server.context import ServerContext
    from sync.server.sync_service_pull import prune

    ctx = ServerContext.build(Settings())
    try:
        with ctx.db.unit() as session:
            report = prune(session, now=ctx.clock())
            prune_events(session, now=ctx.clock())  # Stripe event ids past their retry window
    finally:
        ctx.close()
    emit(
        _(
            "Aufgeräumt: {changes} Einträge im Änderungsprotokoll, {tombstones} Löschmarken, "
            "{applied} erledigte Änderungskennungen."
        ).format(changes=report.changes, tombstones=report.tombstones, applied=report.applied_ops)
    )
    return 0


def cmd_stripe_catalog(args: argparse.Namespace) -> int:
    """Create or update the Stripe products and prices from app.plans (idempotent)."""
    from sync.server.billing.catalog import sync_catalog
    from sync.server.billing.stripe_client import StripeGateway
    from sync.server.config import Settings
    from sync.server.errors import ApiError

    try:
        actions = sync_catalog(StripeGateway.from_settings(Settings()), dry_run=args.dry_run)
    except ApiError as exc:
        raise WorkshopError(exc.message_id, **exc.params) from exc
    labels = {
        "product_created": _("Produkt angelegt"),
        "product_updated": _("Produkt aktualisiert"),
        "price_created": _("Preis angelegt"),
        "price_updated": _("Preis aktualisiert"),
        "price_deactivated": _("Alter Preis deaktiviert"),
        "unchanged": _("unverändert"),
    }
    for action in actions:
        emit(f"{labels.get(action.kind, action.kind)}: {action.object_id} ({action.detail})")
    changed = sum(1 for action in actions if action.kind != "unchanged")
    if args.dry_run:
        emit(_("Probelauf: {count} Änderung(en) wären nötig; nichts wurde geändert.").format(count=changed))
    else:
        emit(_("Stripe-Katalog: {count} Änderung(en).").format(count=changed))
    return 0


def _end_of_day(value: str) -> dt.datetime:
    """``YYYY-MM-DD`` as the end of that day in German time (the next midnight), in UTC."""
    from app.calendar_rules import WORKSHOP_TZ

    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_("Datum im Format JJJJ-MM-TT erwartet.")) from None
    following = day + dt.timedelta(days=1)
    return dt.datetime(following.year, following.month, following.day, tzinfo=WORKSHOP_TZ).astimezone(dt.UTC)


def cmd_subscription(args: argparse.Namespace) -> int:
    """Show or set an organisation's subscription by hand (before or without Stripe)."""
    from app.plans import SubscriptionStatus
    from sync.server.billing.store import announce_entitlement
    from sync.server.config import Settings
    from sync.server.context import ServerContext
    from sync.server.models import Organization
    from sync.server.plans_gate import plan_state, set_subscription

    if (args.plan is None) != (args.status is None):
        raise WorkshopError("Bitte --plan und --status zusammen angeben (oder beide weglassen zum Anzeigen).")
    ctx = ServerContext.build(Settings())
    seq = None
    try:
        with ctx.db.unit() as session:
            if session.get(Organization, args.organization_id) is None:
                raise WorkshopError("Organisation „{org}“ nicht gefunden.", org=args.organization_id)
            now = ctx.clock()
            if args.plan is None:
                state = plan_state(session, args.organization_id)
            else:
                status = SubscriptionStatus(args.status)
                grace = now + dt.timedelta(days=ctx.settings.billing_grace_days)
                state = set_subscription(
                    session, args.organization_id, plan_id=args.plan, status=status, now=now,
                    current_period_end=args.period_end,
                    trial_ends_at=args.period_end if status is SubscriptionStatus.TRIALING else None,
                    grace_until=grace if status is SubscriptionStatus.PAST_DUE else None,
                )  # fmt: skip
                seq = announce_entitlement(session, state, now=now)
        if seq is not None:
            ctx.store.notify(args.organization_id, seq)  # desktops pull at once (Redis: every worker)
    finally:
        ctx.close()
    emit(
        _("Organisation {org}: Tarif {plan}, Status {status}, Periodenende {end}, Kulanz bis {grace}.").format(
            org=args.organization_id,
            plan=state.plan_name,
            status=state.status.value,
            end=state.current_period_end.isoformat() if state.current_period_end else "–",
            grace=state.grace_until.isoformat() if state.grace_until else "–",
        )
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
    catalog = actions.add_parser(
        "stripe-catalog", help=_("Stripe-Produkte und -Preise aus den Tarifen anlegen oder aktualisieren")
    )
    catalog.add_argument("--dry-run", action="store_true", help=_("Nur anzeigen, was sich ändern würde"))
    catalog.set_defaults(handler=cmd_stripe_catalog)
    subscription = actions.add_parser(
        "subscription", help=_("Abo einer Organisation anzeigen oder von Hand setzen (ohne Stripe)")
    )
    subscription.add_argument("organization_id", metavar="ORG_ID", help=_("Kennung der Organisation"))
    subscription.add_argument("--plan", choices=[p.id for p in PLANS], help=_("Tarif"))
    subscription.add_argument("--status", choices=[s.value for s in SubscriptionStatus], help=_("Status"))
    subscription.add_argument(
        "--period-end", type=_end_of_day, default=None, help=_("Letzter Tag der Periode (JJJJ-MM-TT)")
    )
    subscription.set_defaults(handler=cmd_subscription)
