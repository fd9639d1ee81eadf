"""Register, login, refresh rotation with reuse detection, logout and revocation across restarts."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from sync.server.config import Settings
from sync.server.main import create_app
from sync.server.models import AuditEvent, RefreshToken, User
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import PASSWORD, FakeClock, bearer, login, make_settings, register_tenant


def _rows(settings: Settings, model: type, **where: object) -> list:  # type: ignore[type-arg]
    engine = create_engine(settings.db_url)
    try:
        with Session(engine) as session:
            query = select(model).filter_by(**where)
            return list(session.scalars(query))
    finally:
        engine.dispose()


def test_register_creates_owner_with_argon2id_hash_and_returns_tokens(api: TestClient, server_settings: Settings):
    tenant = register_tenant(api, email="Chef@Werkstatt-Berger.example")
    me = api.get("/v1/me", headers=tenant.headers)
    assert me.status_code == 200
    body = me.json()
    assert body["role"] == "owner"
    assert body["email"] == "chef@werkstatt-berger.example"  # normalised
    assert body["location_ids"] == [tenant.location_id]
    assert body["organization_name"] == "Kfz-Werkstatt Berger"
    [user] = _rows(server_settings, User, id=tenant.user_id)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_token_responses_are_not_cacheable_and_short_lived(api: TestClient):
    response = api.post(
        "/v1/auth/register",
        json={
            "organization_name": "Autohaus Nord",
            "location_name": "Kiel",
            "email": "nord@werkstatt.example",
            "password": PASSWORD,
        },
    )
    assert response.headers["cache-control"] == "no-store"
    assert 0 < response.json()["expires_in"] <= 15 * 60
    assert response.json()["token_type"] == "Bearer"


def test_register_twice_with_one_address_is_a_conflict(api: TestClient):
    register_tenant(api, email="doppelt@werkstatt.example")
    response = api.post(
        "/v1/auth/register",
        json={
            "organization_name": "Zweite",
            "location_name": "Ort",
            "email": "DOPPELT@werkstatt.example",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "Diese E-Mail-Adresse ist bereits registriert."


def test_register_rejects_short_password_and_foreign_fields_in_german(api: TestClient):
    base = {"organization_name": "Werkstatt", "location_name": "Ort", "email": "kurz@werkstatt.example"}
    short = api.post("/v1/auth/register", json={**base, "password": "kurz"})
    assert short.status_code == 422
    assert short.json()["errors"] == [{"field": "password", "message": "Zu kurz (mindestens 12 Zeichen)."}]
    same_as_mail = api.post("/v1/auth/register", json={**base, "password": "  KURZ@werkstatt.example"})
    assert same_as_mail.json()["detail"] == "Das Passwort darf nicht die E-Mail-Adresse sein."
    assert same_as_mail.json()["errors"][0]["field"] == "password"
    sneaky = api.post("/v1/auth/register", json={**base, "password": PASSWORD, "organization_id": "x"})
    assert sneaky.status_code == 422
    assert sneaky.json()["detail"] == "Die Anfrage ist ungültig."
    assert {"field": "organization_id", "message": "Dieses Feld ist nicht erlaubt."} in sneaky.json()["errors"]
    bad_mail = api.post("/v1/auth/register", json={**base, "email": "keine-adresse", "password": PASSWORD})
    assert bad_mail.json()["errors"][0]["message"] == "Bitte eine gültige E-Mail-Adresse angeben."


def test_login_with_right_and_wrong_password(api: TestClient):
    tenant = register_tenant(api)
    tokens = login(api, tenant.email.upper())
    assert api.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 200
    wrong = api.post("/v1/auth/login", json={"email": tenant.email, "password": "falsch-falsch-falsch"})
    unknown = api.post("/v1/auth/login", json={"email": "niemand@werkstatt.example", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    # Same answer whether the account exists or not (no account enumeration).
    assert (
        wrong.json()
        == unknown.json()
        == {"detail": "E-Mail-Adresse oder Passwort ist falsch.", "code": "wrong_credentials"}
    )


def test_refresh_rotates_and_the_old_token_is_used_up(api: TestClient, clock: FakeClock):
    tenant = register_tenant(api)
    first = api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token})
    assert first.status_code == 200
    child = first.json()["refresh_token"]
    assert child != tenant.refresh_token
    assert api.get("/v1/me", headers=bearer(first.json()["access_token"])).status_code == 200
    clock.advance(seconds=60)
    assert api.post("/v1/auth/refresh", json={"refresh_token": child}).status_code == 200


def test_reused_refresh_token_revokes_the_whole_family(api: TestClient, clock: FakeClock, server_settings: Settings):
    tenant = register_tenant(api)
    child = api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token}).json()
    newest = api.post("/v1/auth/refresh", json={"refresh_token": child["refresh_token"]}).json()
    clock.advance(seconds=server_settings.refresh_reuse_grace_seconds + 1)
    reuse = api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token})
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "refresh_reused"
    # The newest sibling (the legitimate client's or the thief's) is dead too, and so are its access tokens.
    assert api.post("/v1/auth/refresh", json={"refresh_token": newest["refresh_token"]}).status_code == 401
    assert api.get("/v1/me", headers=bearer(newest["access_token"])).status_code == 401
    assert api.get("/v1/me", headers=bearer(child["access_token"])).status_code == 401
    rows = _rows(server_settings, RefreshToken, user_id=tenant.user_id)
    assert len(rows) == 3 and all(row.revoked_at is not None for row in rows)
    assert [e.kind for e in _rows(server_settings, AuditEvent, kind="refresh_reuse")] == ["refresh_reuse"]
    # A new login starts a new family and works.
    assert api.get("/v1/me", headers=bearer(login(api, tenant.email)["access_token"])).status_code == 200


def test_retry_within_the_grace_gets_a_second_child(api: TestClient, clock: FakeClock):
    tenant = register_tenant(api)
    first = api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token})
    clock.advance(seconds=2)  # the desktop lost the response and retries
    retry = api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token})
    assert first.status_code == retry.status_code == 200
    assert first.json()["refresh_token"] != retry.json()["refresh_token"]
    assert api.post("/v1/auth/refresh", json={"refresh_token": retry.json()["refresh_token"]}).status_code == 200


def test_refresh_token_expires_idle_and_absolute(api: TestClient, clock: FakeClock, server_settings: Settings):
    tenant = register_tenant(api)
    clock.advance(days=server_settings.user_refresh_idle_days, seconds=1)
    assert api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token}).status_code == 401
    token = login(api, tenant.email)["refresh_token"]
    # Refreshing every few days keeps the idle window open, but not beyond the absolute lifetime.
    for _ in range(server_settings.user_refresh_absolute_days // 5 - 1):
        clock.advance(days=5)
        response = api.post("/v1/auth/refresh", json={"refresh_token": token})
        assert response.status_code == 200
        token = response.json()["refresh_token"]
    clock.advance(days=5)
    assert api.post("/v1/auth/refresh", json={"refresh_token": token}).status_code == 401


def test_logout_revokes_refresh_family_and_access_token_even_after_restart(
    api: TestClient, server_settings: Settings, clock: FakeClock
):
    tenant = register_tenant(api)
    other_session = login(api, tenant.email)
    response = api.post("/v1/auth/logout", json={"refresh_token": tenant.refresh_token}, headers=tenant.headers)
    assert response.status_code == 204
    assert api.get("/v1/me", headers=tenant.headers).json()["code"] == "token_revoked"
    assert api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token}).status_code == 401
    # The other login (another PC) is a separate family and stays logged in.
    assert api.get("/v1/me", headers=bearer(other_session["access_token"])).status_code == 200
    # A new app instance on the same database (a restart, or another worker without shared memory).
    restarted = make_settings(
        server_settings.db_url,
        None,
        **{"jwt_issuer": server_settings.jwt_issuer, "jwt_audience": server_settings.jwt_audience},
    )
    with TestClient(create_app(restarted, clock=clock)) as fresh:
        assert fresh.get("/v1/me", headers=tenant.headers).status_code == 401
        assert fresh.get("/v1/me", headers=bearer(other_session["access_token"])).status_code == 200
        assert fresh.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token}).status_code == 401


def test_logout_without_or_with_an_expired_access_token_still_ends_the_session(api: TestClient):
    tenant = register_tenant(api)
    response = api.post(
        "/v1/auth/logout", json={"refresh_token": tenant.refresh_token}, headers=bearer("kein.gueltiges.token")
    )
    assert response.status_code == 204
    assert api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token}).status_code == 401
    assert api.post("/v1/auth/logout", json={"refresh_token": "cbr_unbekannt"}).status_code == 204


def test_tokens_of_one_kind_do_not_work_as_the_other(api: TestClient):
    tenant = register_tenant(api)
    assert api.get("/v1/me", headers=bearer(tenant.refresh_token)).status_code == 401
    assert api.post("/v1/auth/refresh", json={"refresh_token": tenant.access_token}).status_code == 401
    assert api.get("/v1/me").status_code == 401
    assert api.get("/v1/me", headers={"Authorization": f"Basic {tenant.access_token}"}).status_code == 401


def test_login_rehashes_a_password_hashed_with_older_parameters(api: TestClient, server_settings: Settings, clock):
    tenant = register_tenant(api)
    [before] = _rows(server_settings, User, id=tenant.user_id)
    assert "t=1" in before.password_hash
    stronger = make_settings(
        server_settings.db_url,
        None,
        argon2_time_cost=2,
        jwt_issuer=server_settings.jwt_issuer,
        jwt_audience=server_settings.jwt_audience,
    )
    with TestClient(create_app(stronger, clock=clock)) as upgraded:
        login(upgraded, tenant.email)
    [after] = _rows(server_settings, User, id=tenant.user_id)
    assert after.password_hash.startswith("$argon2id$") and "t=2" in after.password_hash
    assert after.password_hash != before.password_hash
    login(api, tenant.email)  # the new hash still verifies with the old app
