"""The owner's login on this desktop as the GUI sees it: session, billing client and the last overview.

``OwnerAccount`` is shared by Einstellungen → Abo, the billing banner of the main window and the reports'
location filter. Every network call (login, refresh, ``/v1/billing/*``, logout) and every keyring access
runs as a ``TaskRunner`` network task (``uses_db=False``), never on the GUI thread; the results come back
as callbacks and signals on the GUI thread. The password is passed through once and never kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import httpx
from PySide6.QtCore import QObject, Signal

from app.i18n import N_
from sync.billing_client import BillingClient
from sync.errors import SyncAuthError
from sync.owner_session import OwnerCredentialStore, OwnerRollups, OwnerSession, owner_account
from sync.protocol_billing import BillingOverview
from ui.context import UiContext

log = logging.getLogger(__name__)
LOGIN_TIMEOUT = 15.0
T = TypeVar("T")
ErrorCallback = Callable[[BaseException], None]


class OwnerAccount(QObject):
    """The logged-in owner (or auditor) of this installation, if any."""

    session_changed = Signal(object)  # OwnerSession | None
    overview_changed = Signal(object)  # BillingOverview | None

    def __init__(
        self,
        ctx: UiContext,
        *,
        store: OwnerCredentialStore | None = None,
        transport: httpx.BaseTransport | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        path = ctx.services.db.path
        self.store = store or OwnerCredentialStore(owner_account(path) if path else "owner:memory")
        self.transport = transport  # tests: a scripted server at the network edge
        self.session: OwnerSession | None = None
        self.client: BillingClient | None = None
        self.overview: BillingOverview | None = None
        self.restored = False
        self._restoring = False
        self._restore_waiting: list[Callable[[OwnerSession | None], None]] = []

    # --- session ----------------------------------------------------------------------------------

    def restore(self, on_done: Callable[[OwnerSession | None], None] | None = None) -> None:
        """Read a kept session from the keyring once (in the background; no network yet).

        Several callers (the Abo page, the banner) may ask at start-up: one keyring read answers all.
        """
        if on_done is not None:
            self._restore_waiting.append(on_done)
        if self.restored:
            self._restore_finished(self.session)
            return
        if self._restoring:
            return
        self._restoring = True

        def failed(exc: BaseException) -> None:  # a locked keyring: the login box shows instead
            log.warning("owner session not restored: %s", type(exc).__name__)
            self._restore_finished(None)

        self.ctx.runner.run(lambda: OwnerSession.restore(self.store), self._restore_finished, failed, uses_db=False)

    def _restore_finished(self, session: OwnerSession | None) -> None:
        self._restoring = False
        self.restored = True
        if session is not None and self.session is None:
            self._set_session(session)
        waiting, self._restore_waiting = self._restore_waiting, []
        for callback in waiting:
            callback(self.session)

    def login(
        self,
        server_url: str,
        email: str,
        password: str,
        on_done: Callable[[OwnerSession], None],
        on_error: ErrorCallback,
    ) -> None:
        """Log in (network pool); on success the session is kept and ``session_changed`` emitted."""
        transport = self.transport

        def network() -> OwnerSession:
            with httpx.Client(base_url=server_url, timeout=LOGIN_TIMEOUT, transport=transport) as http:
                return OwnerSession.login(http, self.store, email=email, password=password)

        def done(session: OwnerSession) -> None:
            self._set_session(session)
            on_done(session)

        self.ctx.runner.run(network, done, on_error, uses_db=False)

    def logout(self, on_done: Callable[[], None] | None = None) -> None:
        """Log out on the server (best effort) and forget the session in the keyring."""
        session, client = self.session, self.client
        self._set_session(None, close_old=False)  # the logout request below still needs the connection
        if session is None:
            if on_done is not None:
                on_done()
            return

        def network() -> None:
            try:
                if client is not None:
                    session.logout(client.http)
                else:
                    with httpx.Client(base_url=session.server_url, timeout=LOGIN_TIMEOUT) as http:
                        session.logout(http)
            finally:
                if client is not None:
                    client.close()

        self.ctx.runner.run(network, lambda _r: on_done() if on_done else None, self._log_error, uses_db=False)

    def _set_session(self, session: OwnerSession | None, *, close_old: bool = True) -> None:
        old = self.client
        self.session = session
        self.client = BillingClient(session, transport=self.transport) if session is not None else None
        if old is not None and close_old:
            old.close()
        if session is None:
            self.overview = None
            self.overview_changed.emit(None)
        self.session_changed.emit(session)

    def rollups(self) -> OwnerRollups | None:
        """A roll-up source for the reports' location filter with this session, or None when logged out."""
        return OwnerRollups(self.session, transport=self.transport) if self.session is not None else None

    # --- billing ----------------------------------------------------------------------------------

    def call(self, fn: Callable[[BillingClient], T], on_done: Callable[[T], None], on_error: ErrorCallback) -> None:
        """Run ``fn(client)`` in the network pool; a refused login ends the session (log in again)."""
        client = self.client
        if client is None:
            on_error(SyncAuthError(N_("Bitte zuerst als Inhaber anmelden.")))
            return

        def failed(exc: BaseException) -> None:
            if isinstance(exc, SyncAuthError) and exc.status == 401 and self.client is client:
                self._set_session(None)  # the keyring entry is already cleared by OwnerSession
            on_error(exc)

        self.ctx.runner.run(lambda: fn(client), on_done, failed, uses_db=False)

    def load(
        self, on_done: Callable[[BillingOverview], None] | None = None, on_error: ErrorCallback | None = None
    ) -> None:
        """Fetch the overview; ``overview_changed`` follows."""
        self.call(lambda c: c.overview(), lambda o: self._overview(o, on_done), on_error or self._log_error)

    def apply(
        self,
        fn: Callable[[BillingClient], BillingOverview],
        on_done: Callable[[BillingOverview], None],
        on_error: ErrorCallback,
    ) -> None:
        """Run a change that answers with the new overview (change, cancel, resume)."""
        self.call(fn, lambda o: self._overview(o, on_done), on_error)

    def _overview(self, overview: BillingOverview, then: Callable[[BillingOverview], None] | None) -> None:
        self.overview = overview
        self.overview_changed.emit(overview)
        if then is not None:
            then(overview)

    @staticmethod
    def _log_error(exc: BaseException) -> None:
        log.warning("owner account: %s", getattr(exc, "message", type(exc).__name__))

    def shutdown(self) -> None:
        """Close the connection (app close; the session stays in the keyring)."""
        if self.client is not None:
            self.client.close()
