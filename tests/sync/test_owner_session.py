"""The owner's desktop login (sync.owner_session) against the real hosted API under uvicorn on loopback.

The refresh token may only ever be in the (in-memory test) keyring; it rotates on every refresh and the
new one is stored before the access token is used. Counters are refused, auditors may read only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync.errors import SyncAuthError, SyncError, SyncUnavailable
from sync.owner_session import (
    ROLE_REFUSED,
    SESSION_EXPIRED,
    WRONG_CREDENTIALS,
    OwnerCredentialStore,
    OwnerRoleError,
    OwnerSession,
    owner_account,
)
from sync.server.main import create_app
from tests.server.fixtures import PASSWORD, FakeClock, make_settings
from tests.sync.sync_support import LiveServer, MemoryKeyring, register_org


class TickClock:
    """A monotonic clock for the session (the token's lifetime), moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def live(tmp_path: Path, server_clock: FakeClock) -> Iterator[LiveServer]:
    settings = make_settings(f"sqlite:///{tmp_path / 'server.db'}", refresh_reuse_grace_seconds=5)
    with LiveServer(create_app(settings, clock=server_clock)) as server:
        yield server


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


@pytest.fixture
def org(http: httpx.Client, live: LiveServer) -> dict[str, Any]:
    return register_org(http, live.server.config.app, locations=1)


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def store(keyring: MemoryKeyring, tmp_path: Path) -> OwnerCredentialStore:
    return OwnerCredentialStore(owner_account(tmp_path / "werkstatt.db"), backend=keyring)


def stored(keyring: MemoryKeyring) -> dict[str, Any]:
    assert len(keyring.secrets) == 1
    ((service, account), raw) = next(iter(keyring.secrets.items()))
    assert service == "carbot-werkstatt-sync" and account.startswith("owner:")
    data: dict[str, Any] = json.loads(raw)
    return data


def add_user(http: httpx.Client, owner: OwnerSession, role: str, location_id: str | None = None) -> str:
    email = f"{role}-{len(role)}@werkstatt.example"
    body: dict[str, Any] = {"email": email, "password": PASSWORD, "name": role, "role": role}
    if location_id is not None:
        body["location_ids"] = [location_id]
    token = owner.access_token(http)
    response = http.post("/v1/users", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    return email


def refresh_status(http: httpx.Client, token: str) -> int:
    return http.post("/v1/auth/refresh", json={"refresh_token": token}).status_code


def test_login_keeps_only_the_refresh_token_in_the_keyring(
    http: httpx.Client, org: dict[str, Any], store: OwnerCredentialStore, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    session = OwnerSession.login(http, store, email=org["email"], password=PASSWORD)
    assert session.role == "owner" and session.is_owner
    assert session.organization_id == org["organization_id"] and session.organization_name == "Autohaus Sonne"
    entry = stored(keyring)
    assert store.account == f"owner:{(tmp_path / 'werkstatt.db').resolve()}"
    assert entry["refresh_token"] and entry["email"] == org["email"] and entry["server_url"] == str(http.base_url)
    access = session.access_token(http)
    raw = next(iter(keyring.secrets.values()))
    assert access not in raw and PASSWORD not in raw  # neither the access token nor the password is stored
    assert PASSWORD not in repr(store.load()) and entry["refresh_token"] not in repr(store.load())
    me = http.get("/v1/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200 and me.json()["role"] == "owner"


def test_every_refresh_rotates_and_saves_the_new_token_first(
    http: httpx.Client, org: dict[str, Any], store: OwnerCredentialStore, keyring: MemoryKeyring,
    server_clock: FakeClock,
) -> None:  # fmt: skip
    clock = TickClock()
    session = OwnerSession.login(http, store, email=org["email"], password=PASSWORD, clock=clock)
    first_access, first_refresh = session.access_token(http), stored(keyring)["refresh_token"]
    assert session.access_token(http) == first_access  # still valid: no refresh
    clock.now += 3600  # the access token is about to expire: the next call refreshes
    second_access = session.access_token(http)
    second_refresh = stored(keyring)["refresh_token"]
    assert second_access != first_access and second_refresh != first_refresh
    # The spent token is refused once the server's concurrency grace is over (reuse revokes the family).
    server_clock.advance(seconds=30)
    assert refresh_status(http, first_refresh) == 401
    assert refresh_status(http, second_refresh) == 401  # the whole family is gone now
    with pytest.raises(SyncAuthError) as refused:
        session.access_token(http, force_refresh=True)
    assert refused.value.message == SESSION_EXPIRED
    assert keyring.secrets == {}  # a refused refresh token is forgotten


def test_a_restart_restores_the_session_from_the_keyring(
    http: httpx.Client, org: dict[str, Any], store: OwnerCredentialStore, keyring: MemoryKeyring
) -> None:
    OwnerSession.login(http, store, email=org["email"], password=PASSWORD)
    before = stored(keyring)["refresh_token"]
    restored = OwnerSession.restore(store)
    assert restored is not None and restored.email == org["email"] and restored.role == "owner"
    token = restored.access_token(http)  # no access token in memory yet: refresh with the stored one
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert stored(keyring)["refresh_token"] != before


def test_the_new_refresh_token_is_stored_before_the_access_token_is_used(
    http: httpx.Client, org: dict[str, Any], store: OwnerCredentialStore, keyring: MemoryKeyring
) -> None:
    session = OwnerSession.login(http, store, email=org["email"], password=PASSWORD)
    login_access, login_refresh = session.access_token(http), stored(keyring)["refresh_token"]

    def broken(*_args: Any) -> None:
        raise RuntimeError("keyring locked")

    keyring.set_password = broken  # type: ignore[method-assign]
    with pytest.raises(SyncError) as failed:
        session.access_token(http, force_refresh=True)
    assert "Schlüsselbund" in failed.value.message
    # The rotated pair was not taken: the old access token is still the one handed out, the keyring unchanged.
    assert session.access_token(http) == login_access
    assert stored(keyring)["refresh_token"] == login_refresh


def test_a_counter_is_refused_and_logged_out_again(
    http: httpx.Client, org: dict[str, Any], store: OwnerCredentialStore, keyring: MemoryKeyring
) -> None:
    owner = OwnerSession.login(http, store, email=org["email"], password=PASSWORD)
    counter = add_user(http, owner, "counter", org["location_ids"][0])
    owner.logout(http)
    with pytest.raises(OwnerRoleError) as refused:
        OwnerSession.login(http, store, email=counter, password=PASSWORD)
    assert refused.value.message == ROLE_REFUSED and refused.value.status == 403
    assert keyring.secrets == {}


def test_an_auditor_may_log_in_but_not_change_the_subscription(
    http: httpx.Client, org: dict[str, Any], store: OwnerCredentialStore
) -> None:
    owner = OwnerSession.login(http, store, email=org["email"], password=PASSWORD)
    auditor_email = add_user(http, owner, "auditor")
    owner.logout(http)
    auditor = OwnerSession.login(http, store, email=auditor_email, password=PASSWORD)
    assert auditor.role == "auditor" and not auditor.is_owner
    with pytest.raises(OwnerRoleError, match="Nur der Inhaber"):
        auditor.require_owner()
    owner_again = OwnerSession.login(http, store, email=org["email"], password=PASSWORD)
    owner_again.require_owner()  # no error


def test_a_wrong_password_gives_a_german_error(
    http: httpx.Client, org: dict[str, Any], store: OwnerCredentialStore, keyring: MemoryKeyring
) -> None:
    with pytest.raises(SyncAuthError) as wrong:
        OwnerSession.login(http, store, email=org["email"], password="falsch-falsch-falsch")
    assert wrong.value.message == WRONG_CREDENTIALS
    assert keyring.secrets == {}


def test_logout_revokes_the_session_and_clears_the_keyring(
    http: httpx.Client, org: dict[str, Any], store: OwnerCredentialStore, keyring: MemoryKeyring
) -> None:
    session = OwnerSession.login(http, store, email=org["email"], password=PASSWORD)
    token = stored(keyring)["refresh_token"]
    access = session.access_token(http)
    session.logout(http)
    assert keyring.secrets == {} and OwnerSession.restore(store) is None
    assert refresh_status(http, token) == 401
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_offline_login_and_logout(store: OwnerCredentialStore, keyring: MemoryKeyring) -> None:
    with httpx.Client(base_url="http://127.0.0.1:9", timeout=2) as offline:
        with pytest.raises(SyncUnavailable, match="Keine Verbindung"):
            OwnerSession.login(offline, store, email="inhaber@werkstatt.example", password=PASSWORD)
        keyring.set_password("carbot-werkstatt-sync", store.account, json.dumps({
            "server_url": "http://127.0.0.1:9", "email": "a@b.de", "user_id": "u", "organization_id": "o",
            "organization_name": "", "role": "owner", "refresh_token": "r"}))  # fmt: skip
        session = OwnerSession.restore(store)
        assert session is not None
        with pytest.raises(SyncUnavailable):
            session.access_token(offline)
        assert keyring.secrets  # offline is no reason to forget the session
        session.logout(offline)  # offline logout still forgets the session locally
    assert keyring.secrets == {}
