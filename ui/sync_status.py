"""The sync status as the desktop shows it: state from the database, entitlement, German texts, banner.

Read by ``ui.workers.sync_runner.SyncController`` (status bar) and the "Sync & Konto" settings page.
``read_status`` runs on a worker thread (no Qt); the text functions are pure.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jwt
from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget

from app import formatting
from app.errors import WorkshopError
from app.i18n import _, ngettext
from sync import local
from sync.entitlements import Entitlements, EntitlementState, Mode
from ui.prefs import Pref

log = logging.getLogger(__name__)
LOCATION_NAME = Pref("sync/location_name", "")
"""The name of the registered location (the server only hands it out at registration)."""
# A payment in arrears is the subscription banner's matter (ui/billing_banner.py, above the tabs, with a
# button to Einstellungen → Abo); the status bar would only repeat it.
BANNER_MODES = (Mode.OFFLINE_GRACE, Mode.READ_ONLY)


class Connection(StrEnum):
    """What the last round found out."""

    UNREGISTERED = "unregistered"
    STARTING = "starting"  # registered, no round yet in this session
    ONLINE = "online"
    OFFLINE = "offline"
    AUTH_REQUIRED = "auth_required"
    FAILED = "failed"  # the server answered but refused, or an unexpected error


@dataclass(frozen=True)
class SyncStatus:
    """The sync state as the status bar and the settings page show it."""

    connection: Connection
    server_url: str = ""
    device_id: str | None = None
    location_id: str | None = None
    pending: int = 0
    last_sync_at: dt.datetime | None = None  # naive UTC, as stored
    last_error: str = ""
    cursor: int = 0
    entitlement: EntitlementState | None = None

    @property
    def banner(self) -> str:
        """The entitlement banner to show (offline grace, read-only), or ""."""
        ent = self.entitlement
        return " ".join(ent.banners) if ent is not None and ent.mode in BANNER_MODES else ""


def evaluate_entitlement(state: local.LocalState, now: dt.datetime) -> EntitlementState | None:
    """The stored entitlement token, re-verified against the stored JWKS, evaluated at ``now``."""
    if not state.entitlement_token or state.jwks is None:
        return None
    try:
        # The client stored it only after verifying it against the server's keys and this issuer.
        issuer = str(jwt.decode(state.entitlement_token, options={"verify_signature": False})["iss"])
        policy = Entitlements(issuer=issuer)
        policy.restore(state.entitlement_token, state.jwks, now=now)
    except (WorkshopError, jwt.PyJWTError, KeyError, ValueError) as exc:  # EntitlementError is a WorkshopError
        log.warning("stored entitlement not usable: %s", getattr(exc, "reason", type(exc).__name__))
        return None
    return policy.current(now)


def read_status(db: Any, connection: Connection | None, *, error: str | None = None) -> SyncStatus:
    """The status from the database (worker thread; no Qt). ``connection`` None = decide from the state."""
    state = local.state(db)
    if not state.registered:
        connection = Connection.UNREGISTERED
    elif connection is None or connection is Connection.UNREGISTERED:
        connection = Connection.STARTING
    return SyncStatus(
        connection=connection,
        server_url=state.server_url,
        device_id=state.device_id,
        location_id=state.location_id,
        pending=state.pending,
        last_sync_at=state.last_sync_at,
        last_error=state.last_error if error is None else error,
        cursor=state.cursor,
        entitlement=evaluate_entitlement(state, dt.datetime.now(dt.UTC)),
    )


def pending_text(count: int) -> str:
    """ "keine Änderungen ausstehend", "1 Änderung ausstehend", "3 Änderungen ausstehend"."""
    if count == 0:
        return _("keine Änderungen ausstehend")
    return ngettext("{count} Änderung ausstehend", "{count} Änderungen ausstehend", count).format(count=count)


def when_text(moment: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """A stored (naive UTC) moment in local time: "14:32" today, else date and time."""
    if moment is None:
        return _("noch nie")
    local_moment = moment.replace(tzinfo=dt.UTC).astimezone().replace(tzinfo=None)
    today = (now or dt.datetime.now()).date()
    return local_moment.strftime("%H:%M") if local_moment.date() == today else formatting.datetime(local_moment)


def connection_text(connection: Connection) -> str:
    """The connection in a few words (the settings page; the status bar says more)."""
    texts = {
        Connection.UNREGISTERED: _("nicht eingerichtet"),
        Connection.STARTING: _("wird gestartet …"),
        Connection.ONLINE: _("online"),
        Connection.OFFLINE: _("offline – arbeitet lokal weiter"),
        Connection.AUTH_REQUIRED: _("Anmeldung erforderlich"),
    }
    return texts.get(connection, _("Fehler – wird erneut versucht"))


def status_text(status: SyncStatus) -> str:
    """The status bar text."""
    pending = pending_text(status.pending)
    match status.connection:
        case Connection.UNREGISTERED:
            return _("Sync: nicht eingerichtet – die Werkstatt arbeitet lokal")
        case Connection.STARTING:
            return _("Sync: wird gestartet … ({pending})").format(pending=pending)
        case Connection.ONLINE:
            return _("Sync: online · zuletzt {when} · {pending}").format(
                when=when_text(status.last_sync_at), pending=pending
            )
        case Connection.OFFLINE:
            return _("Sync: offline – arbeitet lokal weiter ({pending})").format(pending=pending)
        case Connection.AUTH_REQUIRED:
            return _("Sync: Anmeldung erforderlich")
    return _("Sync: Fehler – wird erneut versucht ({pending})").format(pending=pending)


def status_tooltip(status: SyncStatus) -> str:
    """The tooltip: server, last sync, last error and what a click does."""
    if status.connection is Connection.UNREGISTERED:
        return _("Unter Einstellungen → Sync & Konto verbinden Sie diesen Arbeitsplatz mit dem CarBot-Server.")
    lines = [
        _("Server: {url}").format(url=status.server_url),
        _("Letzte Synchronisation: {when}").format(when=when_text(status.last_sync_at)),
    ]
    if status.last_error:
        lines.append(_("Letzter Fehler: {message}").format(message=status.last_error))
    if status.connection is Connection.AUTH_REQUIRED:
        lines.append(_("Klicken, um den Arbeitsplatz unter Einstellungen → Sync & Konto neu anzumelden."))
    else:
        lines.append(_("Klicken, um jetzt zu synchronisieren."))
    return "\n".join(lines)


def entitlement_summary(ent: EntitlementState | None) -> tuple[Any, ...]:
    """What matters of an entitlement for the views (a fresh token every round must not count as news)."""
    if ent is None:
        return ()
    plan = ent.entitlement.plan_id if ent.entitlement else ""
    status = ent.entitlement.status if ent.entitlement else ""
    return (ent.mode, plan, status, ent.features)


class BannerLabel(QLabel):
    """A one-line banner that elides to its width (the full text is in the tooltip).

    While it shows, ``replaces`` (the status bar's database path) is hidden to make room for it.
    """

    def __init__(self, replaces: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.replaces = replaces
        self.setObjectName("entitlementBanner")
        self.setMinimumWidth(60)
        self.full_text = ""
        self.hide()

    def set_banner(self, text: str, *, severe: bool) -> None:
        """Show ``text`` (amber, or red when ``severe``); "" hides the banner."""
        self.full_text = text
        colours = ("#ffebee", "#b71c1c") if severe else ("#fff3e0", "#e65100")
        self.setStyleSheet(f"background: {colours[0]}; color: {colours[1]}; padding: 1px 8px; font-weight: 600;")
        self.setToolTip(text)
        self.setVisible(bool(text))
        if self.replaces is not None:
            self.replaces.setVisible(not text)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        """Elide again for the new width."""
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(0, self.width() - 18)
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight, width))
