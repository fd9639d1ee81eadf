"""Everything a request needs, built once per app: settings, database, store, keys and auth services.

``create_app`` builds one ``ServerContext`` and keeps it in ``app.state``; the dependencies in
``deps.py`` hand its parts to the routes. Tests pass their own clock to move time forward.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sync.server.auth.keys import KeyRing
from sync.server.auth.lockout import LoginGuard
from sync.server.auth.passwords import Passwords
from sync.server.auth.refresh import RefreshTokens
from sync.server.auth.revocation import RevocationList
from sync.server.auth.tokens import TokenService
from sync.server.config import Settings
from sync.server.db import ServerDatabase, open_server_database
from sync.server.models import Clock, utcnow
from sync.server.store import KeyValueStore, make_store


@dataclass
class ServerContext:
    """The wired server components (one per app instance)."""

    settings: Settings
    db: ServerDatabase
    store: KeyValueStore
    clock: Clock
    keyring: KeyRing
    tokens: TokenService
    revocations: RevocationList
    refresh: RefreshTokens
    passwords: Passwords
    guard: LoginGuard

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        store: KeyValueStore | None = None,
        run_migrations: bool = True,
    ) -> ServerContext:
        """Open the database (migrating it), connect the store and load the signing keys."""
        db = open_server_database(settings.db_url, run_migrations=run_migrations)
        if store is None:
            redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
            store = make_store(redis_url, prefix=settings.redis_key_prefix, clock=time.monotonic)
        keyring = KeyRing(db, settings, clock)
        keyring.reload()
        revocations = RevocationList(store, clock)
        return cls(
            settings=settings,
            db=db,
            store=store,
            clock=clock,
            keyring=keyring,
            tokens=TokenService(keyring, settings, clock),
            revocations=revocations,
            refresh=RefreshTokens(settings, clock, revocations),
            passwords=Passwords(settings),
            guard=LoginGuard(store, settings, clock),
        )

    def close(self) -> None:
        """Release the database pool and the store's connections."""
        self.store.close()
        self.db.close()
