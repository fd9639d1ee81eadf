"""Background sync for the desktop: ``SyncController`` runs sync rounds and shows their outcome.

Architecture §5: a round (``SyncClient.run_once``) is a ``TaskRunner`` network task – never on the GUI
thread, never two at once (a timer tick while one runs is skipped); a ``QTimer`` starts the first round a
few seconds after start-up and then one a minute. Between rounds a small daemon thread long-polls the
server's ``/v1/sync/events`` (one idle HTTP request), so a change made on another desktop is fetched within
a second. Local changes announced on the bus refresh the pending count at once (a count query on the
database executor, no network).

The status bar label reads "Sync: online · zuletzt 14:32 · 3 Änderungen ausstehend", "Sync: offline –
arbeitet lokal weiter (12 Änderungen ausstehend)" or "Sync: Anmeldung erforderlich"; its tooltip carries
the last error; a click runs a round now. A ``SyncAuthError`` clears the stored credentials (§9) and
stops the timer until the workplace is registered again (Einstellungen → Sync & Konto).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import httpx
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.changes import Changes
from app.i18n import _
from sync import local
from sync.cli import keyring_account
from sync.client import SyncClient, SyncReport
from sync.credentials import CredentialStore, DeviceSession, Registration, register_device
from sync.entitlements import EntitlementState, Mode
from sync.errors import SyncAuthError, SyncError, SyncUnavailable
from ui.context import UiContext
from ui.errors import error_text
from ui.sync_status import (
    LOCATION_NAME,
    BannerLabel,
    Connection,
    SyncStatus,
    entitlement_summary,
    read_status,
    status_text,
    status_tooltip,
)

log = logging.getLogger(__name__)
FIRST_DELAY_MS = 5_000
INTERVAL_MS = 60_000
POKE_WAIT_SECONDS = 25.0
REGISTER_TIMEOUT = 15.0


@dataclass(frozen=True)
class RoundResult:
    """The outcome of one round: the new status, the report (None if it failed), what to announce."""

    status: SyncStatus
    report: SyncReport | None
    changes: Changes | None


class PokeListener:
    """A daemon thread that long-polls ``/v1/sync/events`` and calls ``on_poke`` when the server has news.

    Armed with the cursor after each successful round; it disarms itself after a poke (the round it
    triggers arms it again) and when the server cannot be reached (the timer takes over while offline).
    """

    def __init__(self, client: SyncClient, on_poke: Callable[[int], None], wait: float = POKE_WAIT_SECONDS) -> None:
        self.client = client
        self.on_poke = on_poke
        self.wait = wait
        self._cursor = 0
        self._generation = 0  # bumped by every arm, so a failed poll never disarms a newer arming
        self._armed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="carbot-sync-pokes", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def arm(self, cursor: int) -> None:
        """Wait for changes after ``cursor``."""
        self._cursor = cursor
        self._generation += 1
        self._armed.set()

    def disarm(self) -> None:
        """Stop polling until armed again."""
        self._armed.clear()

    def stop(self) -> None:
        """End the thread (it may finish its current long poll first; it is a daemon)."""
        self._stop.set()
        self._armed.set()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self._armed.wait(1.0) or self._stop.is_set():
                    continue
                after, generation = self._cursor, self._generation
                try:
                    poke = self.client.wait_for_change(after, self.wait)
                except Exception as exc:  # offline, refused, or the client was closed: the timer goes on
                    log.debug("poke listener paused: %s", type(exc).__name__)
                    if generation == self._generation:
                        self._armed.clear()
                    continue
                if poke.seq != after and generation == self._generation and not self._stop.is_set():
                    self._armed.clear()
                    self.on_poke(poke.seq)
        except Exception:  # never an unhandled exception in a thread
            log.exception("poke listener failed")
        finally:
            self.client.close()


class SyncController(QObject):
    """Owns the periodic sync of one installation (created by the main window after ``attach``)."""

    status_changed = Signal(object)  # SyncStatus
    sync_finished = Signal(object)  # RoundResult
    setup_requested = Signal()  # the label was clicked while the workplace needs registering
    _poked = Signal(int)  # from the poke listener thread; delivered queued on the GUI thread

    def __init__(
        self,
        ctx: UiContext,
        *,
        store: CredentialStore | None = None,
        first_delay_ms: int | None = None,
        interval_ms: int | None = None,
        listen_for_pokes: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.db = ctx.services.db
        path = self.db.path
        self.store = store or CredentialStore(keyring_account(path) if path else "device")
        self.first_delay_ms = FIRST_DELAY_MS if first_delay_ms is None else first_delay_ms
        self.interval_ms = INTERVAL_MS if interval_ms is None else interval_ms
        self.listen_for_pokes = listen_for_pokes
        self.status: SyncStatus = SyncStatus(Connection.UNREGISTERED)
        self.label: QLabel | None = None
        self.banner: BannerLabel | None = None
        self.running = False
        self._again = False
        self._reset_after_round = False
        self._after_round: Callable[[], None] | None = None  # a logout waiting for the running round
        self._closed = False
        self._rounds = 0
        self._session: DeviceSession | None = None
        self._session_lock = threading.Lock()  # the Chat tab asks for the session from its worker threads
        self._client: SyncClient | None = None
        self._listener: PokeListener | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._recount = QTimer(self)  # coalesces bursts of local changes into one count query
        self._recount.setSingleShot(True)
        self._recount.setInterval(300)
        self._recount.timeout.connect(self.refresh)
        self._poked.connect(self._on_poke)
        ctx.bus.operation_did_execute.connect(self._on_changes)
        ctx.bus.sync_requested.connect(self.sync_now)

    # --- wiring -----------------------------------------------------------------------------------

    def install(self, status_bar: QStatusBar, label: QLabel, *, replaces: QWidget | None = None) -> None:
        """Drive ``label`` (clickable) and put the entitlement banner left of it in ``status_bar``.

        ``replaces`` is hidden while a banner shows (a banner matters more than the database path).
        """
        self.label = label
        label.setCursor(Qt.CursorShape.PointingHandCursor)
        label.installEventFilter(self)
        self.banner = BannerLabel(replaces)
        status_bar.removeWidget(label)  # re-added after the banner, so the banner sits on its left
        status_bar.addPermanentWidget(self.banner, 1)
        status_bar.addPermanentWidget(label)
        label.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """A left click on the label syncs now (or asks for the registration)."""
        if watched is self.label and event.type() == QEvent.Type.MouseButtonRelease:
            if self.status.connection in (Connection.UNREGISTERED, Connection.AUTH_REQUIRED):
                self.setup_requested.emit()
            else:
                self.sync_now()
            return True
        return super().eventFilter(watched, event)

    def start(self) -> None:
        """Read the local state; when the installation is registered, start the periodic rounds."""
        self.ctx.query(lambda: read_status(self.db, None), self._started)

    def _started(self, status: SyncStatus) -> None:
        self._show(status)
        if status.connection is not Connection.UNREGISTERED and not self._closed:
            self._timer.start(self.first_delay_ms)

    # --- rounds -----------------------------------------------------------------------------------

    def _tick(self) -> None:
        if self._timer.interval() != self.interval_ms:
            self._timer.setInterval(self.interval_ms)  # after the delayed first round: once a minute
        if not self.running:  # skip a tick while a round runs
            self.sync_now()

    def sync_now(self) -> None:
        """Run a round now in the network pool (if one runs, one more follows it)."""
        if self._closed or self.status.connection in (Connection.UNREGISTERED, Connection.AUTH_REQUIRED):
            return
        if self.running:
            self._again = True
            return
        self.running = True
        if self.label is not None:
            self.label.setText(_("Sync: wird synchronisiert …"))
        before = self.status.entitlement
        self.ctx.runner.run(lambda: self._round(before), self._round_done, self._round_failed, uses_db=False)

    def _ensure_client(self) -> SyncClient:
        """The round's client (worker thread; rounds never overlap, so no lock is needed)."""
        if self._client is None:
            session = self.device_session()
            self._client = SyncClient(session.server_url, session)
        return self._client

    def device_session(self) -> DeviceSession:
        """This workplace's one access-token holder, shared by the rounds and the Chat tab (any thread).

        A refresh token rotates on every use: a second session in the same process would later present a
        used token, and the server revokes the device's whole token family (sync/server/auth/refresh.py).
        """
        with self._session_lock:
            if self._session is None:
                self._session = DeviceSession(self.store)  # reads the keyring: SyncAuthError when empty
            return self._session

    def _round(self, before: EntitlementState | None) -> RoundResult:
        """One round (worker thread: no Qt here)."""
        report: SyncReport | None = None
        error: str | None = None
        try:
            report = self._ensure_client().run_once(self.db)
            connection = Connection.ONLINE
        except SyncAuthError as exc:
            self.store.clear()  # architecture §9: a refused device forgets its credentials
            connection, error = Connection.AUTH_REQUIRED, exc.message
        except SyncUnavailable as exc:
            connection, error = Connection.OFFLINE, exc.message
        except SyncError as exc:
            connection, error = Connection.FAILED, exc.message
        status = read_status(self.db, connection, error=error)
        news = report is not None and (report.pulled > 0 or report.full_resync)
        news = news or entitlement_summary(before) != entitlement_summary(status.entitlement)
        return RoundResult(status, report, Changes(settings=True) if news else None)

    def _round_done(self, result: RoundResult) -> None:
        self.running = False
        self._rounds += 1  # a count query started before this round must not overwrite its outcome
        if self._closed:
            return
        if self._reset_after_round:
            self.reset()
        if self._after_round is not None:  # a logout came in during the round: it wins
            action, self._after_round, self._again = self._after_round, None, False
            self._show(replace(result.status, connection=Connection.AUTH_REQUIRED, last_error=""))
            self.sync_finished.emit(result)
            action()
            return
        self._show(result.status)
        if result.status.connection is Connection.AUTH_REQUIRED:
            self._timer.stop()
            self.reset()
        elif result.status.connection is Connection.ONLINE:
            self._listen(result.status.cursor)
        elif self._listener is not None:
            self._listener.disarm()
        if result.changes is not None:
            self.ctx.bus.operation_did_execute.emit(result.changes, self)
        if result.report is not None and (result.report.chat_changes or result.report.chat_bookings_imported):
            self.ctx.bus.chat_synced.emit(result.report)
        self.sync_finished.emit(result)
        if self._again:
            self._again = False
            self.sync_now()

    def _round_failed(self, exc: BaseException) -> None:
        """An unexpected error (not a SyncError): logged, shown in the tooltip, retried at the next tick."""
        log.error("sync round failed", exc_info=exc)
        self._round_done(
            RoundResult(replace(self.status, connection=Connection.FAILED, last_error=error_text(exc)), None, None)
        )

    def _on_poke(self, _seq: int) -> None:
        self.sync_now()

    def _listen(self, cursor: int) -> None:
        if not self.listen_for_pokes or self._session is None:
            return
        if self._listener is None:
            self._listener = PokeListener(SyncClient(self._session.server_url, self._session), self._poked.emit)
            self._listener.start()
        self._listener.arm(cursor)

    # --- status -----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the local state (pending count, entitlement) without a round."""
        if self._closed:
            return
        connection, error, rounds = self.status.connection, self.status.last_error, self._rounds
        self.ctx.query(
            lambda: read_status(self.db, connection, error=error),
            lambda status: self._refreshed(status) if rounds == self._rounds else self.refresh(),
        )

    def _refreshed(self, status: SyncStatus) -> None:
        if self._closed:
            return
        was_registered = self.status.connection is not Connection.UNREGISTERED
        self._show(status)
        if not was_registered and status.connection is not Connection.UNREGISTERED and not self._timer.isActive():
            self._timer.start(self.first_delay_ms)

    def _on_changes(self, _changes: Changes, initiator: object) -> None:
        if initiator is not self and self.status.connection is not Connection.UNREGISTERED:
            self._recount.start()

    def _show(self, status: SyncStatus) -> None:
        self.status = status
        if self.label is not None and not (self.running and status.connection is not Connection.AUTH_REQUIRED):
            self.label.setText(status_text(status))
            self.label.setToolTip(status_tooltip(status))
        if self.banner is not None:
            mode = status.entitlement.mode if status.entitlement else None
            self.banner.set_banner(status.banner, severe=mode is Mode.READ_ONLY)
        self.status_changed.emit(status)

    # --- registration -----------------------------------------------------------------------------

    def register(
        self,
        *,
        server_url: str,
        email: str,
        password: str,
        location: str | None,
        name: str,
        on_done: Callable[[Registration, int], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """Register this installation (network pool), then bind the database to the device (DB executor)."""

        def network() -> Registration:
            with httpx.Client(base_url=server_url, timeout=REGISTER_TIMEOUT) as http:
                return register_device(http, self.store, email=email, password=password, location=location, name=name)

        def registered(reg: Registration) -> None:
            self.ctx.prefs.set(LOCATION_NAME, reg.location_name)
            self.ctx.mutate(
                lambda: local.register(
                    self.db, server_url=reg.server_url, device_id=reg.device_id, location_id=reg.location_id
                ),
                lambda queued: bound(reg, queued),
                on_error=on_error,
            )

        def bound(reg: Registration, queued: int) -> None:
            self.reset()
            self.status = replace(self.status, connection=Connection.STARTING, last_error="")
            self._timer.start(self.interval_ms)
            on_done(reg, queued)
            self.sync_now()

        self.ctx.runner.run(network, registered, on_error, uses_db=False)

    def logout(self, on_done: Callable[[], None]) -> None:
        """Forget the device credentials (in the network pool: the keyring may block).

        Nothing may refresh (and so save) a token after the keyring was cleared: the timer and the
        listener stop first, and a running round finishes before the keyring is touched.
        """
        self._timer.stop()
        self._show(replace(self.status, connection=Connection.AUTH_REQUIRED, last_error=""))
        if self.running:
            self._after_round = lambda: self._clear_credentials(on_done)
            return
        self._clear_credentials(on_done)

    def _clear_credentials(self, on_done: Callable[[], None]) -> None:
        self.reset()
        self.ctx.runner.run(self.store.clear, lambda _result: on_done(), uses_db=False)

    def reset(self) -> None:
        """Drop the client and the listener, so the next round reads the credentials again."""
        if self.running:
            self._reset_after_round = True
            return
        self._reset_after_round = False
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self._client is not None:
            self._client.close()
        self._client = None
        self._session = None

    def shutdown(self) -> None:
        """Stop the timer and the listener (app close; a running round is awaited by the TaskRunner)."""
        self._closed = True
        self._timer.stop()
        self._recount.stop()
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if not self.running and self._client is not None:
            self._client.close()
            self._client = None
