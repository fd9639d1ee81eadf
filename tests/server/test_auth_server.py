"""The server as a whole: migrations up/down, settings, `carbot server` under uvicorn, OpenAPI, errors, logs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pydantic
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from app.cli import main
from sync.server.config import Settings
from sync.server.db import (
    VERSION_TABLE,
    current_revision,
    downgrade,
    head_revision,
    load_models,
    make_engine,
    migrate,
)
from sync.server.main import create_app
from sync.server.models import Base
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import PASSWORD, FakeClock, bearer, make_settings, register_tenant
from tests.support.backend import Backend
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_migrations_match_the_models_and_go_down_and_up(server_db_url: str):
    load_models()  # every *_models.py module: the whole schema, not only the tables of this feature
    engine = make_engine(server_db_url)
    try:
        migrate(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "version_table": VERSION_TABLE})
            assert compare_metadata(context, Base.metadata) == []
        downgrade(engine)
        assert set(inspect(engine).get_table_names()) <= {VERSION_TABLE}
        migrate(engine)
        assert {"users", "refresh_tokens", "signing_keys", "revoked_access_tokens"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CARBOT_SERVER_DB_URL", "postgres://carbot:geheim@db.example/carbot")
    monkeypatch.setenv("CARBOT_REDIS_URL", "redis://:auch-geheim@cache.example:6379/0")
    monkeypatch.setenv("CARBOT_CORS_ORIGINS", "https://werkstatt.example, https://app.werkstatt.example")
    monkeypatch.setenv("CARBOT_JWT_ISSUER", "https://api.werkstatt.example")
    settings = Settings()
    assert settings.db_url == "postgresql+psycopg://carbot:geheim@db.example/carbot"
    assert settings.cors_origins == ["https://werkstatt.example", "https://app.werkstatt.example"]
    assert settings.jwt_issuer == "https://api.werkstatt.example"
    assert settings.access_token_minutes == 10
    assert "geheim" not in repr(settings) and "geheim" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("name", "value"),
    [("CARBOT_CORS_ORIGINS", "*"), ("CARBOT_ACCESS_TOKEN_MINUTES", "16"), ("CARBOT_REFRESH_REUSE_GRACE_SECONDS", "60")],
)
def test_unsafe_settings_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str):
    monkeypatch.setenv(name, value)
    with pytest.raises(pydantic.ValidationError):
        Settings()


def test_default_database_is_a_sqlite_file_in_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("CARBOT_SERVER_DB_URL", raising=False)
    monkeypatch.setenv("CARBOT_DATA_DIR", str(tmp_path))
    assert Settings().db_url == f"sqlite:///{tmp_path / 'server.db'}"


def test_openapi_docs_and_german_errors(api: TestClient):
    schema = api.get("/openapi.json").json()
    for path in (
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/devices",
        "/healthz",
    ):
        assert path in schema["paths"]
    documented_422 = schema["paths"]["/v1/auth/login"]["post"]["responses"]["422"]
    assert documented_422["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationErrorBody")
    assert api.get("/docs").status_code == 200
    assert api.get("/healthz").json() == {"status": "ok"}
    assert api.get("/readyz").status_code == 200
    assert api.get("/gibt-es-nicht").json() == {"detail": "Nicht gefunden.", "code": "http_error"}
    assert api.put("/v1/me").json()["detail"] == "Diese Methode ist hier nicht erlaubt."
    assert api.put("/v1/locations").headers["allow"] == "GET, POST"  # both routes of the path
    assert "security" not in schema["paths"]["/v1/auth/logout"]["post"]  # the refresh token is the credential
    assert schema["paths"]["/v1/me"]["get"]["security"] == [{"HTTPBearer": []}]
    broken_json = api.post("/v1/auth/login", content=b"{kein json", headers={"Content-Type": "application/json"})
    assert broken_json.status_code == 422 and broken_json.json()["detail"] == "Die Anfrage ist ungültig."
    assert api.get("/healthz").headers["x-content-type-options"] == "nosniff"


def test_cors_allows_only_the_configured_origins(server_db_url: str, clock: FakeClock):
    settings = make_settings(server_db_url, None, cors_origins=["https://werkstatt.example"])
    with TestClient(create_app(settings, clock=clock)) as client:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        allowed = client.options("/v1/auth/login", headers={"Origin": "https://werkstatt.example", **preflight})
        assert allowed.headers["access-control-allow-origin"] == "https://werkstatt.example"
        foreign = client.options("/v1/auth/login", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in foreign.headers


def test_logs_carry_no_personal_data_or_secrets(api: TestClient, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    email = "vertraulich@werkstatt.example"
    tenant = register_tenant(api, email=email)
    api.post("/v1/auth/login", json={"email": email, "password": "falsch-falsch-falsch"})
    refreshed = api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token}).json()
    api.post("/v1/auth/logout", json={"refresh_token": refreshed["refresh_token"]}, headers=tenant.headers)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "audit login_failed" in text and "/v1/auth/login 401" in text  # the logs are there ...
    for secret in (
        email,
        PASSWORD,
        "falsch-falsch-falsch",
        tenant.refresh_token,
        tenant.access_token,
        refreshed["refresh_token"],
        refreshed["access_token"],
        "testclient",
    ):
        assert secret not in text  # ... without addresses, passwords, tokens or client IPs


def test_several_workers_need_redis(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.delenv("CARBOT_REDIS_URL", raising=False)
    assert main(["server", "--workers", "2"]) == 1
    assert "Mehrere Worker brauchen Redis" in capsys.readouterr().err


@pytest.fixture
def live_server(backend: Backend, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`carbot server` as a real process on the test backend (two workers when Redis is there)."""
    port = free_port()
    workers = "2" if backend.redis_url else "1"
    env = {
        **os.environ,
        **backend.env,
        "CARBOT_DATA_DIR": str(tmp_path),
        "CARBOT_ARGON2_TIME_COST": "1",
        "CARBOT_ARGON2_MEMORY_KIB": "8192",
        "CARBOT_ARGON2_PARALLELISM": "1",
    }
    if not backend.redis_url:
        env.pop("CARBOT_REDIS_URL", None)
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "server", "--port", str(port), "--workers", workers],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_carbot_server_serves_the_api_statelessly(live_server: tuple[str, subprocess.Popen[bytes]], tmp_path: Path):
    base, _ = live_server
    with httpx.Client(base_url=base, timeout=10) as client:
        assert "/v1/auth/login" in client.get("/openapi.json").json()["paths"]
        body = {
            "organization_name": "Live",
            "location_name": "Ort",
            "email": "live@werkstatt.example",
            "password": PASSWORD,
        }
        tokens = client.post("/v1/auth/register", json=body).json()
        headers = bearer(tokens["access_token"])
        assert client.get("/v1/me", headers=headers).status_code == 200
        assert (
            client.post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers).status_code
            == 204
        )
        # With two workers the requests land on both; the revocation holds everywhere.
        assert {client.get("/v1/me", headers=headers).status_code for _ in range(20)} == {401}
    server_log = (tmp_path / "server.log").read_text()
    assert "live@werkstatt.example" not in server_log and PASSWORD not in server_log
    assert "POST /v1/auth/register 201" in server_log
