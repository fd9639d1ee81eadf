"""Fixtures and helpers for the hosted-API tests: settings, a fake clock, apps on a real database.

Backends: ``server_db_url`` and ``server_redis_url`` come from the ``backend`` fixture of
tests/server/conftest.py, so every test that builds an app runs twice: on a fresh SQLite file with the
in-process store, and on a fresh PostgreSQL database with Redis.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sync.server.config import Settings
from sync.server.main import create_app
from tests.support.backend import Backend

# Test modules star-import this module for its fixtures (helpers are imported by name).
__all__ = ["api", "clock", "server_db_url", "server_redis_url", "server_settings"]

PASSWORD = "Werkstatt-Passwort-2026"


class FakeClock:
    """A clock tests move forward by hand (aware UTC)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move forward by ``timedelta(**delta)``."""
        self.now += dt.timedelta(**delta)


@pytest.fixture
def server_db_url(backend: Backend) -> str:
    """A fresh, empty server database for this test."""
    return backend.db_url


@pytest.fixture
def server_redis_url(backend: Backend) -> str | None:
    """Redis for this test, or None for the in-process store."""
    return backend.redis_url


def make_settings(db_url: str, redis_url: str | None = None, **overrides: Any) -> Settings:
    """Test settings: cheap argon2id, a per-test Redis key prefix, explicit issuer and audience."""
    values: dict[str, Any] = {
        "server_db_url": db_url,
        "redis_url": redis_url,
        "redis_key_prefix": f"t{uuid.uuid4().hex[:10]}:",
        "jwt_issuer": "https://api.carbot.test",
        "jwt_audience": "carbot-api-test",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8192,
        "argon2_parallelism": 1,
        "refresh_reuse_grace_seconds": 5,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def clock() -> FakeClock:
    """The clock of the app under test."""
    return FakeClock()


@pytest.fixture
def server_settings(server_db_url: str, server_redis_url: str | None) -> Settings:
    """Settings of the app under test."""
    return make_settings(server_db_url, server_redis_url)


@pytest.fixture
def api(server_settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    """A running app (lifespan entered) on the test database."""
    with TestClient(create_app(server_settings, clock=clock)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tenant:
    """An organisation registered through the API, with its owner's tokens."""

    organization_id: str
    location_id: str
    user_id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header of the owner."""
        return bearer(self.access_token)


def register_tenant(client: TestClient, name: str = "Kfz-Werkstatt Berger", email: str | None = None) -> Tenant:
    """Register an organisation (owner + first location) and return its ids and tokens."""
    email = email or f"inhaber-{uuid.uuid4().hex[:8]}@werkstatt.example"
    response = client.post(
        "/v1/auth/register",
        json={
            "organization_name": name,
            "location_name": "Hauptbetrieb",
            "email": email,
            "password": PASSWORD,
            "name": "Inhaber",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Tenant(
        organization_id=body["organization_id"],
        location_id=body["location_id"],
        user_id=body["user_id"],
        email=email,
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
    )


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """Log in and return the token response (asserting success)."""
    response = client.post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
