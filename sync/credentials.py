"""Device credentials in the OS keyring, and the access tokens made from them.

What is stored (one keyring entry, service ``carbot-werkstatt-sync``, user ``device:<database path>``, JSON):
the server URL, the device id, the location id and the current refresh token. Nothing of it is ever
written to a file or a log (architecture §7). The refresh token rotates on every use; the new one is saved
BEFORE the access token is used, so a crash between the two never leaves the keyring with a spent token.

``DeviceSession`` is the credentials provider the ``SyncClient`` uses: it keeps the short-lived access
token in memory and refreshes it when it is about to expire or when the server said 401. A refresh whose
answer got lost is retried with the same refresh token at once (the server accepts a reuse within a few
seconds, chat-sync-auth-billing.md §4); a refused refresh means the device has to be registered again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import httpx

from sync.errors import SyncAuthError, SyncError, SyncUnavailable, from_response, wrap

SERVICE = "carbot-werkstatt-sync"
REFRESH_MARGIN_SECONDS = 60.0
REFRESH_ATTEMPTS = 3


@dataclass(frozen=True)
class DeviceCredentials:
    """Everything needed to act as the registered device (the refresh token is a secret)."""

    server_url: str
    device_id: str
    location_id: str
    refresh_token: str

    def __repr__(self) -> str:  # never show the token in logs or tracebacks
        return f"DeviceCredentials(server_url={self.server_url!r}, device_id={self.device_id!r}, …)"


class KeyringLike(Protocol):
    """The part of a ``keyring`` backend we use (tests pass an in-memory backend)."""

    def get_password(self, service: str, username: str) -> str | None:
        """The stored secret or None."""

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store a secret."""

    def delete_password(self, service: str, username: str) -> None:
        """Remove a secret."""


def _system_keyring() -> KeyringLike:
    import keyring  # the desktop extra; imported late so a server-only install can load this module

    backend: KeyringLike = keyring.get_keyring()
    return backend


class CredentialStore:
    """Reads and writes the device credentials of one installation in the keyring."""

    def __init__(self, account: str = "device", *, backend: KeyringLike | None = None, service: str = SERVICE) -> None:
        self.account = account
        self.service = service
        self._backend = backend

    @property
    def backend(self) -> KeyringLike:
        """The keyring backend (the OS keyring unless one was given)."""
        if self._backend is None:
            self._backend = _system_keyring()
        return self._backend

    def load(self) -> DeviceCredentials | None:
        """The stored credentials, or None when this installation is not registered."""
        try:
            raw = self.backend.get_password(self.service, self.account)
        except Exception as exc:  # keyring raises backend-specific errors (locked, no backend, D-Bus)
            raise SyncError(
                "Der Schlüsselbund des Systems ist nicht verfügbar ({reason}).", reason=type(exc).__name__
            ) from exc
        if not raw:
            return None
        data: dict[str, Any] = json.loads(raw)
        return DeviceCredentials(**data)

    def save(self, credentials: DeviceCredentials) -> None:
        """Store (replace) the credentials."""
        try:
            self.backend.set_password(self.service, self.account, json.dumps(asdict(credentials)))
        except Exception as exc:
            raise SyncError(
                "Die Zugangsdaten konnten nicht im Schlüsselbund gespeichert werden ({reason}).",
                reason=type(exc).__name__,
            ) from exc

    def clear(self) -> None:
        """Forget the credentials (unregister)."""
        try:
            self.backend.delete_password(self.service, self.account)
        except Exception:  # nothing stored is fine
            return


class CredentialsProvider(Protocol):
    """What the SyncClient needs: who the device is and a valid access token."""

    @property
    def device_id(self) -> str:
        """The registered device's id."""

    @property
    def location_id(self) -> str:
        """The location the device belongs to."""

    def access_token(self, http: httpx.Client, *, force_refresh: bool = False) -> str:
        """A valid access token (refreshing through ``http`` when needed)."""


class RotatingTokens:
    """Short-lived access tokens from a rotating refresh token kept in the keyring (thread-safe).

    The common part of the device's and the owner's session: the access token is refreshed a minute before
    it expires (or when the server refused it); every refresh rotates the refresh token, which is saved to
    the keyring before the new access token is used. Subclasses say where the refresh token lives
    (``_stored_refresh_token``, ``accept``) and what a refused refresh means (``_refused``).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._access: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def access_token(self, http: httpx.Client, *, force_refresh: bool = False) -> str:
        """A valid access token; refreshes (rotating the refresh token) when needed."""
        with self._lock:
            if force_refresh or self._access is None or self._clock() >= self._expires - REFRESH_MARGIN_SECONDS:
                self._refresh(http)
            assert self._access is not None
            return self._access

    def accept(self, access_token: str, expires_in: float, refresh_token: str) -> None:  # noqa: ARG002
        """Take a fresh token pair: save ``refresh_token`` first (subclasses), then use the access token."""
        self._access = access_token
        self._expires = self._clock() + float(expires_in)

    def _stored_refresh_token(self) -> str:
        """The refresh token to present: the one the keyring holds NOW."""
        raise NotImplementedError

    def _refused(self, status: int) -> SyncError:
        """The error for a refresh token the server refused (the session is over)."""
        raise NotImplementedError

    def _refresh(self, http: httpx.Client) -> None:
        # Another process of this installation (``carbot chat agent``, ``carbot sync --watch`` next to the
        # open app) may have rotated the refresh token since we loaded it: presenting the spent one would
        # revoke the whole token family, so always start from the token the keyring holds now.
        body = {"refresh_token": self._stored_refresh_token()}
        last_error: SyncError | None = None
        for _attempt in range(REFRESH_ATTEMPTS):
            try:
                response = http.post("/v1/auth/refresh", json=body)
            except httpx.TransportError as exc:  # the answer may be lost after the server rotated: retry now
                last_error = wrap(exc)
                continue
            if response.status_code == 200:
                data = response.json()
                self.accept(str(data["access_token"]), float(data["expires_in"]), str(data["refresh_token"]))
                return
            error = from_response(response)
            if isinstance(error, SyncUnavailable):
                last_error = error
                continue
            self._access = None
            raise self._refused(response.status_code)
        assert last_error is not None
        raise last_error


class DeviceSession(RotatingTokens):
    """Access tokens for the device whose credentials are in ``store`` (thread-safe)."""

    def __init__(
        self,
        store: CredentialStore,
        *,
        clock: Callable[[], float] = time.monotonic,
        credentials: DeviceCredentials | None = None,
    ) -> None:
        loaded = credentials or store.load()
        if loaded is None:
            raise SyncAuthError(
                "Dieser Arbeitsplatz ist noch nicht registriert: bitte „carbot sync register“ ausführen."
            )
        super().__init__(clock)
        self._store = store
        self._credentials = loaded

    @property
    def device_id(self) -> str:
        """The registered device's id."""
        return self._credentials.device_id

    @property
    def location_id(self) -> str:
        """The location the device belongs to."""
        return self._credentials.location_id

    @property
    def server_url(self) -> str:
        """The server the device is registered with."""
        return self._credentials.server_url

    def accept(self, access_token: str, expires_in: float, refresh_token: str) -> None:
        """Take a fresh token pair (registration or refresh): the refresh token is saved first."""
        self._credentials = DeviceCredentials(
            self._credentials.server_url, self._credentials.device_id, self._credentials.location_id, refresh_token
        )
        self._store.save(self._credentials)
        super().accept(access_token, expires_in, refresh_token)

    def _stored_refresh_token(self) -> str:
        stored = self._store.load()
        if stored is not None and stored.device_id == self._credentials.device_id:
            self._credentials = stored
        return self._credentials.refresh_token

    def _refused(self, status: int) -> SyncError:
        return SyncAuthError(
            "Die Anmeldung dieses Arbeitsplatzes ist abgelaufen oder wurde widerrufen. Bitte mit „carbot sync "
            "register“ neu anmelden.",
            status=status,
        )


class StaticCredentials:
    """A fixed access token (tests and tools that already hold one)."""

    def __init__(self, device_id: str, location_id: str, token: str) -> None:
        self._device_id = device_id
        self._location_id = location_id
        self.token = token

    @property
    def device_id(self) -> str:
        """The device id."""
        return self._device_id

    @property
    def location_id(self) -> str:
        """The location id."""
        return self._location_id

    def access_token(self, http: httpx.Client, *, force_refresh: bool = False) -> str:  # noqa: ARG002
        """Always the same token."""
        return self.token


@dataclass(frozen=True)
class Registration:
    """What registering this desktop returned (the refresh token is already in the keyring)."""

    server_url: str
    device_id: str
    location_id: str
    location_name: str
    access_token: str
    expires_in: int


def _pick_location(locations: list[dict[str, Any]], wanted: str | None) -> dict[str, Any]:
    if wanted:
        for location in locations:
            if wanted in (location.get("id"), location.get("name")):
                return location
        raise SyncError("Den Standort „{location}“ gibt es in dieser Organisation nicht.", location=wanted)
    if len(locations) != 1:
        names = ", ".join(str(loc.get("name")) for loc in locations)
        raise SyncError("Bitte den Standort mit --location angeben ({names}).", names=names)
    return locations[0]


def _checked(response: httpx.Response) -> dict[str, Any]:
    if response.is_error:
        raise from_response(response)
    data: dict[str, Any] = response.json()
    return data


def register_device(
    http: httpx.Client,
    store: CredentialStore,
    *,
    email: str,
    password: str,
    location: str | None,
    name: str,
) -> Registration:
    """Log in as a person (owner or counter), register this desktop for a location, keep its credentials.

    The person's own session is logged out again at once; only the device's refresh token is stored.
    """
    try:
        login = _checked(http.post("/v1/auth/login", json={"email": email, "password": password}))
        user = {"Authorization": f"Bearer {login['access_token']}"}
        locations: list[dict[str, Any]] = http.get("/v1/locations", headers=user).raise_for_status().json()
        chosen = _pick_location(locations, location)
        device = _checked(http.post("/v1/devices", json={"location_id": chosen["id"], "name": name}, headers=user))
        store.save(
            DeviceCredentials(
                str(http.base_url).rstrip("/"), device["device_id"], device["location_id"], device["refresh_token"]
            )
        )
        http.post("/v1/auth/logout", json={"refresh_token": login["refresh_token"]}, headers=user)
    except httpx.HTTPError as exc:
        raise wrap(exc) from exc
    return Registration(
        server_url=str(http.base_url).rstrip("/"),
        device_id=device["device_id"],
        location_id=device["location_id"],
        location_name=str(chosen.get("name", "")),
        access_token=device["access_token"],
        expires_in=int(device["expires_in"]),
    )
