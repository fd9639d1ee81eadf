"""The owner's own login on the desktop (Einstellungen → Abo, the reports' location filter).

The desktop normally acts as a registered *device* (``sync.credentials``). Subscriptions and roll-ups
need a *person*: the owner (or an auditor, read-only) logs in with e-mail and password
(``POST /v1/auth/login``). The password is never kept. What is kept:

- the short-lived access token: in memory only;
- the refresh token: ONLY in the OS keyring (service ``carbot-werkstatt-sync``, account
  ``owner:<database path>``), through ``sync.credentials.CredentialStore``; it rotates on every refresh and
  the new one is saved BEFORE the new access token is used, so a crash between the two never leaves a
  spent token in the keyring (the same rule as ``DeviceSession``).

Roles: only ``owner`` and ``auditor`` may use billing and roll-ups; any other account is logged out again
at once with a German error. Mutations of the subscription are for the owner only (``require_owner``).
``logout`` revokes the session on the server (best effort) and always clears the keyring entry.
``OwnerRollups`` feeds the reports' location filter (``GET /v1/rollups``) with this session.
Qt-free; used from worker threads (``OwnerSession`` is thread-safe).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import jwt

from app.i18n import N_
from sync.client import SyncClient
from sync.credentials import CredentialStore, KeyringLike, RotatingTokens, StaticCredentials
from sync.errors import SyncAuthError, SyncError, SyncUnavailable, from_response, wrap
from sync.rollups_client import Group, Rollup, RollupsClient

MANAGER_ROLES = frozenset({"owner", "auditor"})
"""Roles that may see the subscription and the roll-ups (the owner may also change the subscription)."""

WRONG_CREDENTIALS = N_("E-Mail-Adresse oder Passwort ist falsch.")
ROLE_REFUSED = N_(
    "Abo und standortübergreifende Auswertungen sind nur für Inhaber und Prüfer zugänglich. "
    "Bitte mit dem Konto des Inhabers anmelden."
)
OWNER_ONLY = N_("Nur der Inhaber kann das Abo ändern. Ein Prüfer darf es nur ansehen.")
SESSION_EXPIRED = N_("Die Anmeldung des Inhabers ist abgelaufen oder wurde widerrufen. Bitte erneut anmelden.")


def owner_account(db_path: Path | str) -> str:
    """The keyring account of the owner's session on the installation using ``db_path``."""
    return f"owner:{Path(db_path).resolve()}"


@dataclass(frozen=True)
class OwnerCredentials:
    """What the keyring keeps of the owner's session (the refresh token is a secret)."""

    server_url: str
    email: str
    user_id: str
    organization_id: str
    organization_name: str
    role: str
    refresh_token: str

    def __repr__(self) -> str:  # never show the token in logs or tracebacks
        return f"OwnerCredentials(server_url={self.server_url!r}, email={self.email!r}, role={self.role!r}, …)"


class OwnerCredentialStore:
    """The owner's credentials as one JSON entry of the keyring (``CredentialStore``'s backend and service)."""

    def __init__(self, account: str, *, backend: KeyringLike | None = None) -> None:
        self.store = CredentialStore(account, backend=backend)

    @property
    def account(self) -> str:
        """The keyring account (``owner:<db path>``)."""
        return self.store.account

    def load(self) -> OwnerCredentials | None:
        """The stored session, or None (never logged in, logged out, or an unreadable entry)."""
        try:
            raw = self.store.backend.get_password(self.store.service, self.store.account)
        except Exception as exc:  # keyring raises backend-specific errors (locked, no backend, D-Bus)
            raise SyncError(
                N_("Der Schlüsselbund des Systems ist nicht verfügbar ({reason})."), reason=type(exc).__name__
            ) from exc
        if not raw:
            return None
        try:
            data: dict[str, Any] = json.loads(raw)
            return OwnerCredentials(**data)
        except (ValueError, TypeError):  # an entry of an older format: log in again
            return None

    def save(self, credentials: OwnerCredentials) -> None:
        """Store (replace) the credentials."""
        try:
            self.store.backend.set_password(self.store.service, self.store.account, json.dumps(asdict(credentials)))
        except Exception as exc:
            raise SyncError(
                N_("Die Zugangsdaten konnten nicht im Schlüsselbund gespeichert werden ({reason})."),
                reason=type(exc).__name__,
            ) from exc

    def clear(self) -> None:
        """Forget the session."""
        self.store.clear()


class OwnerRoleError(SyncAuthError):
    """The account may not use billing or roll-ups (or may only read them)."""


def _json(response: httpx.Response) -> dict[str, Any]:
    data: dict[str, Any] = response.json()
    return data


def _login_error(response: httpx.Response) -> SyncError:
    if response.status_code == 401:
        return SyncAuthError(WRONG_CREDENTIALS, status=401)
    if response.status_code == 429:  # lockout or rate limit: the server's German text says how long
        detail = str(response.json().get("detail", "")) if response.content else ""
        return SyncUnavailable(N_("Zu viele Anmeldeversuche: {detail}"), status=429, detail=detail)
    return from_response(response)


def _role_claim(access_token: str) -> str | None:
    """The ``role`` claim of an access token, unverified: only for the UI's decisions (the server decides)."""
    try:
        role = jwt.decode(access_token, options={"verify_signature": False}).get("role")
    except jwt.PyJWTError:
        return None
    return role if isinstance(role, str) else None


class OwnerSession(RotatingTokens):
    """Access tokens of the logged-in owner or auditor; the refresh token lives in ``store`` (thread-safe)."""

    def __init__(
        self,
        store: OwnerCredentialStore,
        credentials: OwnerCredentials,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self._store = store
        self._credentials = credentials

    # --- creating a session -----------------------------------------------------------------------

    @classmethod
    def login(
        cls,
        http: httpx.Client,
        store: OwnerCredentialStore,
        *,
        email: str,
        password: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> OwnerSession:
        """Log in at ``http``'s server; refuses (and logs out again) accounts that are not owner or auditor."""
        try:
            response = http.post("/v1/auth/login", json={"email": email, "password": password})
            if response.is_error:
                raise _login_error(response)
            tokens = _json(response)
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            me_response = http.get("/v1/me", headers=bearer)
            if me_response.is_error:
                raise from_response(me_response)
            me = _json(me_response)
            if me.get("kind") != "user" or me.get("role") not in MANAGER_ROLES:
                http.post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=bearer)
                raise OwnerRoleError(ROLE_REFUSED, status=403)
        except httpx.HTTPError as exc:
            raise wrap(exc) from exc
        credentials = OwnerCredentials(
            server_url=str(http.base_url).rstrip("/"),
            email=str(me.get("email") or email),
            user_id=str(me["id"]),
            organization_id=str(me["organization_id"]),
            organization_name=str(me.get("organization_name", "")),
            role=str(me["role"]),
            refresh_token=str(tokens["refresh_token"]),
        )
        session = cls(store, credentials, clock=clock)
        session.accept(str(tokens["access_token"]), float(tokens["expires_in"]), credentials.refresh_token)
        return session

    @classmethod
    def restore(
        cls, store: OwnerCredentialStore, *, clock: Callable[[], float] = time.monotonic
    ) -> OwnerSession | None:
        """The session kept in the keyring (no network; the first request refreshes), or None."""
        credentials = store.load()
        if credentials is None:
            return None
        return cls(store, credentials, clock=clock)

    # --- who -------------------------------------------------------------------------------------

    @property
    def server_url(self) -> str:
        """The server the owner is logged in at."""
        return self._credentials.server_url

    @property
    def email(self) -> str:
        """The owner's e-mail address."""
        return self._credentials.email

    @property
    def role(self) -> str:
        """``owner`` or ``auditor``."""
        return self._credentials.role

    @property
    def organization_id(self) -> str:
        """The organisation of the account."""
        return self._credentials.organization_id

    @property
    def organization_name(self) -> str:
        """The organisation's name (as the server knew it at login)."""
        return self._credentials.organization_name

    @property
    def is_owner(self) -> bool:
        """Whether the account may change the subscription."""
        return self._credentials.role == "owner"

    def require_owner(self) -> None:
        """Raise OwnerRoleError (German) unless the account is an owner."""
        if not self.is_owner:
            raise OwnerRoleError(OWNER_ONLY, status=403)

    # --- tokens ----------------------------------------------------------------------------------

    def accept(self, access_token: str, expires_in: float, refresh_token: str) -> None:
        """Take a fresh token pair: the refresh token is saved to the keyring first, then the access token used."""
        role = _role_claim(access_token) or self._credentials.role
        credentials = replace(self._credentials, refresh_token=refresh_token, role=role)
        self._store.save(credentials)
        self._credentials = credentials
        super().accept(access_token, expires_in, refresh_token)

    def _stored_refresh_token(self) -> str:
        stored = self._store.load()  # the Abo page and the reports may share the login with another process
        if stored is not None and stored.user_id == self._credentials.user_id:
            self._credentials = stored
        return self._credentials.refresh_token

    def _refused(self, status: int) -> SyncError:
        self._store.clear()  # a refused refresh token is worthless: log in again
        return SyncAuthError(SESSION_EXPIRED, status=status)

    def logout(self, http: httpx.Client) -> None:
        """End the session on the server (best effort) and always forget it in the keyring."""
        with self._lock:
            try:
                headers = {"Authorization": f"Bearer {self._access}"} if self._access else {}
                http.post("/v1/auth/logout", json={"refresh_token": self._credentials.refresh_token}, headers=headers)
            except httpx.HTTPError:
                pass  # offline: the refresh token expires on the server by itself
            finally:
                self._access = None
                self._store.clear()


class OwnerRollups:
    """``GET /v1/rollups`` with the owner's session: the ``RollupSource`` of the reports' location filter."""

    def __init__(
        self, session: OwnerSession, *, transport: httpx.BaseTransport | None = None, timeout: float = 15.0
    ) -> None:
        # Only the connection of the SyncClient is used; the token comes from the owner's session.
        self._client = SyncClient(session.server_url, StaticCredentials("", "", ""), transport=transport,
                                  timeout=timeout)  # fmt: skip
        self._rollups = RollupsClient(self._client, session)

    def rollups(
        self, date_from: dt.date, date_to: dt.date, *, group: str = "location", location_id: str | None = None
    ) -> Rollup:
        """The organisation's figures of ``date_from``..``date_to`` (owner or auditor)."""
        wanted: Group = "day" if group == "day" else "location"
        return self._rollups.rollups(date_from, date_to, group=wanted, location_id=location_id)

    def close(self) -> None:
        """Close the connection (the owner stays logged in)."""
        self._client.close()
