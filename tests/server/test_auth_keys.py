"""Signing-key rotation without logging anybody out, the JWKS, encrypted keys and `carbot server rotate-keys`."""

from __future__ import annotations

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.cli import main
from sync.server.config import Settings
from sync.server.main import create_app
from sync.server.models import SigningKey
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import FakeClock, bearer, login, make_settings, register_tenant


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def _jwks_kids(api: TestClient) -> list[str]:
    return [key["kid"] for key in api.get("/.well-known/jwks.json").json()["keys"]]


def _keys(settings: Settings) -> list[SigningKey]:
    engine = create_engine(settings.db_url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(SigningKey).order_by(SigningKey.created_at)))
    finally:
        engine.dispose()


def test_jwks_publishes_public_keys_only(api: TestClient):
    response = api.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    [key] = response.json()["keys"]
    assert key["kty"] == "EC" and key["crv"] == "P-256" and key["alg"] == "ES256" and key["use"] == "sig"
    assert "d" not in key  # the private part never leaves the server
    # The published key verifies our tokens (what other verifiers, e.g. the desktop, will do).
    tenant = register_tenant(api)
    public = jwt.PyJWK(key).key
    claims = jwt.decode(tenant.access_token, public, algorithms=["ES256"], audience="carbot-api-test")
    assert claims["sub"] == tenant.user_id


def test_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key(api: TestClient):
    tenant = register_tenant(api)
    old_kid = _kid(tenant.access_token)
    new_kid = api.app.state.ctx.keyring.rotate()  # type: ignore[attr-defined]
    assert new_kid != old_kid
    assert api.get("/v1/me", headers=tenant.headers).status_code == 200  # nobody is logged out
    fresh = api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token}).json()
    assert _kid(fresh["access_token"]) == new_kid
    assert _kid(login(api, tenant.email)["access_token"]) == new_kid
    assert _jwks_kids(api) == [new_kid, old_kid]  # newest first, both verify


def test_rotation_by_another_process_reaches_this_one(api: TestClient, server_settings: Settings, clock: FakeClock):
    tenant = register_tenant(api)
    with TestClient(create_app(server_settings, clock=clock)) as other_worker:
        new_kid = other_worker.app.state.ctx.keyring.rotate()  # type: ignore[attr-defined]
        token = login(other_worker, tenant.email)["access_token"]
    assert _kid(token) == new_kid
    # This worker has never seen the new kid: it reloads its keys on the unknown kid and accepts it.
    assert api.get("/v1/me", headers=bearer(token)).status_code == 200


def test_retired_keys_drop_out_after_their_overlap(api: TestClient, clock: FakeClock, server_settings: Settings):
    first_kid = _kid(register_tenant(api).access_token)
    keyring = api.app.state.ctx.keyring  # type: ignore[attr-defined]
    second_kid = keyring.rotate()
    clock.advance(hours=server_settings.key_overlap_hours, minutes=1)
    keyring.reload()
    assert _jwks_kids(api) == [second_kid]
    third_kid = keyring.rotate()
    assert {key.kid for key in _keys(server_settings)} == {second_kid, third_kid}  # the first one is deleted
    assert first_kid not in _jwks_kids(api)


def test_retire_now_kills_old_tokens_but_keeps_sessions(api: TestClient):
    tenant = register_tenant(api)
    assert api.get("/v1/me", headers=tenant.headers).status_code == 200  # verified once: remembered
    new_kid = api.app.state.ctx.keyring.rotate(retire_now=True)  # type: ignore[attr-defined]
    assert api.get("/v1/me", headers=tenant.headers).status_code == 401  # ... but not past its key
    assert _jwks_kids(api) == [new_kid]
    # The refresh token is opaque, so the desktop simply refreshes and carries on.
    fresh = api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token})
    assert fresh.status_code == 200
    assert api.get("/v1/me", headers=bearer(fresh.json()["access_token"])).status_code == 200


def test_private_keys_are_encrypted_with_a_passphrase(server_db_url: str, clock: FakeClock):
    settings = make_settings(server_db_url, None, signing_key_passphrase="ein langes Geheimnis für die Schlüssel")
    with TestClient(create_app(settings, clock=clock)) as client:
        tenant = register_tenant(client)
        assert client.get("/v1/me", headers=tenant.headers).status_code == 200
    [key] = _keys(settings)
    assert key.private_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert "ein langes Geheimnis" not in repr(settings)


def test_cli_rotate_keys(
    server_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("CARBOT_SERVER_DB_URL", server_settings.db_url)
    monkeypatch.delenv("CARBOT_REDIS_URL", raising=False)
    assert main(["server", "rotate-keys"]) == 0
    keys = _keys(server_settings)  # a new database: the first key is created at start, then rotated
    assert len(keys) == 2 and keys[0].retired_at is not None and keys[1].retired_at is None
    assert keys[1].kid in capsys.readouterr().out
    assert main(["server", "rotate-keys"]) == 0
    assert [key.retired_at is None for key in _keys(server_settings)] == [False, False, True]
    assert main(["server", "rotate-keys", "--retire-now"]) == 0
    assert len(_keys(server_settings)) == 1
    assert "sofort ungültig" in capsys.readouterr().out
