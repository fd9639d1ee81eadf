"""Login lockout with growing duration, rate limits per IP and per address, fail-closed on store errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from sync.server.config import Settings
from sync.server.main import create_app
from sync.server.models import AuditEvent
from sync.server.store import InProcessStore, StoreUnavailable
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import PASSWORD, FakeClock, login, make_settings, register_tenant

WRONG = "ganz-falsches-passwort"


def _attempt(client: TestClient, email: str, password: str = WRONG) -> int:
    return client.post("/v1/auth/login", json={"email": email, "password": password}).status_code


def test_lockout_after_n_failures_then_unlock_after_the_duration(
    api: TestClient, clock: FakeClock, server_settings: Settings
):
    tenant = register_tenant(api)
    limit = server_settings.login_max_failures
    assert [_attempt(api, tenant.email) for _ in range(limit)] == [401] * limit
    locked = api.post("/v1/auth/login", json={"email": tenant.email, "password": PASSWORD})
    assert locked.status_code == 429  # even the right password is refused while locked
    assert locked.json()["detail"] == "Zu viele Anmeldeversuche. Bitte in einigen Minuten erneut versuchen."
    assert 0 < int(locked.headers["retry-after"]) <= server_settings.lockout_base_seconds + 1
    clock.advance(seconds=server_settings.lockout_base_seconds + 1)
    login(api, tenant.email)  # unlocked, and the counter is reset:
    assert [_attempt(api, tenant.email) for _ in range(2)] == [401, 401]
    login(api, tenant.email)  # two new failures do not lock (10 attempts: the per-address limit holds)


def test_lockout_duration_grows_with_every_failure_after_a_lockout(
    api: TestClient, clock: FakeClock, server_settings: Settings
):
    tenant = register_tenant(api)
    base = server_settings.lockout_base_seconds
    for _ in range(server_settings.login_max_failures):
        _attempt(api, tenant.email)
    clock.advance(seconds=base + 1)
    assert _attempt(api, tenant.email) == 401  # one more failure: locked again, twice as long
    clock.advance(seconds=base + 1)
    assert _attempt(api, tenant.email, PASSWORD) == 429
    clock.advance(seconds=base)
    assert _attempt(api, tenant.email, PASSWORD) == 200


def test_unknown_addresses_get_the_same_answers_in_the_same_order(api: TestClient, server_settings: Settings):
    tenant = register_tenant(api)
    limit = server_settings.login_max_failures
    real = [_attempt(api, tenant.email) for _ in range(limit + 1)]
    fake = [_attempt(api, "gibt-es-nicht@werkstatt.example") for _ in range(limit + 1)]
    assert real == fake == [401] * limit + [429]


def test_rate_limit_per_ip_across_many_addresses(server_db_url: str, server_redis_url: str | None, clock: FakeClock):
    settings = make_settings(server_db_url, server_redis_url, login_rate_per_ip=5)
    with TestClient(create_app(settings, clock=clock)) as client:
        codes = [_attempt(client, f"kunde{i}@werkstatt.example") for i in range(7)]
    assert codes == [401] * 5 + [429] * 2


def test_rate_limit_per_address_across_ips(server_db_url: str, server_redis_url: str | None, clock: FakeClock):
    settings = make_settings(server_db_url, server_redis_url, login_rate_per_email=3, login_max_failures=10)
    app = create_app(settings, clock=clock)
    codes = []
    with TestClient(app, client=("10.0.0.1", 5000)) as first, TestClient(app, client=("10.0.0.2", 5000)) as second:
        for client in (first, second, first, second):
            codes.append(_attempt(client, "ziel@werkstatt.example"))
    assert codes == [401, 401, 401, 429]


def test_lockout_is_audited_with_ids_only(api: TestClient, server_settings: Settings):
    tenant = register_tenant(api)
    for _ in range(server_settings.login_max_failures):
        _attempt(api, tenant.email)
    engine = create_engine(server_settings.db_url)
    with Session(engine) as session:
        events = list(session.scalars(select(AuditEvent)))
    engine.dispose()
    kinds = [event.kind for event in events]
    assert kinds.count("login_failed") == server_settings.login_max_failures and kinds.count("lockout") == 1
    lockout = next(event for event in events if event.kind == "lockout")
    assert lockout.user_id == tenant.user_id and lockout.organization_id == tenant.organization_id
    for event in events:
        assert tenant.email not in f"{event.detail}{event.user_id}{event.organization_id}"


class BrokenStore(InProcessStore):
    """Redis gone: every counter call fails."""

    def incr(self, key: str, ttl_seconds: int) -> int:
        raise StoreUnavailable("ConnectionError")

    def get(self, key: str) -> str | None:
        raise StoreUnavailable("ConnectionError")

    def ping(self) -> None:
        raise StoreUnavailable("ConnectionError")


@pytest.fixture
def broken(server_db_url: str, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(server_db_url), clock=clock, store=BrokenStore())) as client:
        yield client


def test_login_and_register_fail_closed_when_the_store_is_down(broken: TestClient):
    body = {"organization_name": "W", "location_name": "O", "email": "neu@werkstatt.example", "password": PASSWORD}
    register = broken.post("/v1/auth/register", json=body)
    assert register.status_code == 503
    assert register.json()["detail"] == "Die Anmeldung ist vorübergehend nicht möglich. Bitte gleich erneut versuchen."
    assert _attempt(broken, "neu@werkstatt.example", PASSWORD) == 503
    assert broken.get("/readyz").status_code == 503
    assert broken.get("/healthz").status_code == 200  # alive, but not ready


def test_revocation_check_falls_back_to_the_database_when_the_store_is_down(
    api: TestClient, server_settings: Settings, clock: FakeClock
):
    tenant = register_tenant(api)
    assert (
        api.post("/v1/auth/logout", json={"refresh_token": tenant.refresh_token}, headers=tenant.headers).status_code
        == 204
    )
    with TestClient(create_app(server_settings, clock=clock, store=BrokenStore())) as degraded:
        assert degraded.get("/v1/me", headers=tenant.headers).status_code == 401
