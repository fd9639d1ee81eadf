"""Token attacks, all rejected: alg none, key confusion, expiry, nbf, aud, iss, kid, typ, foreign keys.

Each forged token is built from the claims of a genuine one, and the genuine token is shown to pass
first, so every rejection below is caused by exactly the one thing the test changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from sync.server.context import ServerContext
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import FakeClock, Tenant, bearer, register_tenant


def _ctx(api: TestClient) -> ServerContext:
    ctx: ServerContext = api.app.state.ctx  # type: ignore[attr-defined]
    return ctx


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(api: TestClient, tenant: Tenant) -> dict[str, Any]:
    return jwt.decode(tenant.access_token, options={"verify_signature": False})


def _sign(api: TestClient, claims: dict[str, Any], **header: Any) -> str:
    """Sign with OUR current private key (so only the changed detail can make it fail)."""
    kid, private = _ctx(api).keyring.signing_key()
    headers = {"kid": kid, "typ": "at+jwt", **header}
    return jwt.encode(claims, private, algorithm="ES256", headers=headers)


def _status(api: TestClient, token: str) -> int:
    return api.get("/v1/me", headers=bearer(token)).status_code


@pytest.fixture
def tenant(api: TestClient) -> Tenant:
    return register_tenant(api)


def test_a_token_signed_like_ours_passes(api: TestClient, tenant: Tenant):
    assert _status(api, tenant.access_token) == 200
    assert _status(api, _sign(api, _claims(api, tenant))) == 200


def test_alg_none_is_rejected(api: TestClient, tenant: Tenant):
    kid, _ = _ctx(api).keyring.signing_key()
    header = _b64(json.dumps({"alg": "none", "typ": "at+jwt", "kid": kid}).encode())
    body = _b64(json.dumps(_claims(api, tenant)).encode())
    assert _status(api, f"{header}.{body}.") == 401
    assert _status(api, f"{header}.{body}") == 401
    for spelling in ("None", "NONE", "nOnE"):
        header = _b64(json.dumps({"alg": spelling, "typ": "at+jwt", "kid": kid}).encode())
        assert _status(api, f"{header}.{body}.") == 401


def _hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def test_hs256_signed_with_our_public_key_is_rejected(api: TestClient, tenant: Tenant):
    """Key confusion: the attacker uses the published public key as an HMAC secret."""
    kid, private = _ctx(api).keyring.signing_key()
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk = next(k for k in api.get("/.well-known/jwks.json").json()["keys"] if k["kid"] == kid)
    header = {"alg": "HS256", "typ": "at+jwt", "kid": kid}
    for secret in (public_pem, public_pem.strip(), json.dumps(jwk).encode()):
        assert _status(api, _hs256(header, _claims(api, tenant), secret)) == 401


def test_other_asymmetric_algorithms_are_outside_the_allow_list(api: TestClient, tenant: Tenant):
    other = ec.generate_private_key(ec.SECP384R1())
    kid, _ = _ctx(api).keyring.signing_key()
    token = jwt.encode(_claims(api, tenant), other, algorithm="ES384", headers={"kid": kid, "typ": "at+jwt"})
    assert _status(api, token) == 401


def test_expired_token_is_rejected(api: TestClient, tenant: Tenant, clock: FakeClock):
    assert api.get("/v1/me", headers=tenant.headers).status_code == 200  # verified once: remembered
    clock.advance(minutes=10, seconds=31)  # lifetime 10 min + 30 s clock skew
    response = api.get("/v1/me", headers=tenant.headers)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Die Anmeldung ist abgelaufen. Bitte erneut anmelden.",
        "code": "token_expired",
    }
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_token_not_yet_valid_is_rejected(api: TestClient, tenant: Tenant):
    claims = _claims(api, tenant)
    assert _status(api, _sign(api, {**claims, "nbf": claims["nbf"] + 3600})) == 401
    assert _status(api, _sign(api, {**claims, "iat": claims["iat"] + 3600, "nbf": claims["nbf"]})) == 401


def test_wrong_audience_or_issuer_is_rejected(api: TestClient, tenant: Tenant):
    claims = _claims(api, tenant)
    assert _status(api, _sign(api, {**claims, "aud": "ein-anderer-dienst"})) == 401
    assert _status(api, _sign(api, {**claims, "aud": [claims["aud"], "x"]})) == 401
    assert _status(api, _sign(api, {**claims, "iss": "https://evil.example"})) == 401


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "org", "role", "kind"])
def test_missing_claims_are_rejected(api: TestClient, tenant: Tenant, claim: str):
    claims = _claims(api, tenant)
    del claims[claim]
    assert _status(api, _sign(api, claims)) == 401


def test_wrongly_typed_claims_are_rejected(api: TestClient, tenant: Tenant):
    claims = _claims(api, tenant)
    assert _status(api, _sign(api, {**claims, "exp": str(claims["exp"])})) == 401
    assert _status(api, _sign(api, {**claims, "location_ids": "alle"})) == 401
    assert _status(api, _sign(api, {**claims, "role": "admin"})) == 401
    assert _status(api, _sign(api, {**claims, "kind": "device"})) == 401  # a device is never an owner
    too_long = {**claims, "exp": claims["iat"] + 3600}  # more than the 15-minute ceiling
    assert _status(api, _sign(api, too_long)) == 401


def test_unknown_kid_and_foreign_keys_are_rejected(api: TestClient, tenant: Tenant):
    claims = _claims(api, tenant)
    stranger = ec.generate_private_key(ec.SECP256R1())
    assert (
        _status(api, jwt.encode(claims, stranger, algorithm="ES256", headers={"kid": "fremd", "typ": "at+jwt"})) == 401
    )
    kid, _ = _ctx(api).keyring.signing_key()
    # Our kid, somebody else's key: the signature check fails.
    assert _status(api, jwt.encode(claims, stranger, algorithm="ES256", headers={"kid": kid, "typ": "at+jwt"})) == 401
    no_kid = jwt.encode(claims, _ctx(api).keyring.signing_key()[1], algorithm="ES256", headers={"typ": "at+jwt"})
    assert _status(api, no_kid) == 401


def test_key_reference_headers_are_refused(api: TestClient, tenant: Tenant):
    claims = _claims(api, tenant)
    assert _status(api, _sign(api, claims, jku="https://evil.example/jwks.json")) == 401
    assert _status(api, _sign(api, claims, x5u="https://evil.example/cert.pem")) == 401
    assert _status(api, _sign(api, claims, jwk={"kty": "EC"})) == 401


def test_typ_confusion_is_rejected(api: TestClient, tenant: Tenant):
    """An entitlement or widget token signed with our own key must never act as an access token."""
    claims = _claims(api, tenant)
    for typ in ("entitlement+jwt", "widget+jwt", "JWT", "at+JWT"):
        assert _status(api, _sign(api, claims, typ=typ)) == 401
    kid, private = _ctx(api).keyring.signing_key()
    untyped = jwt.encode(claims, private, algorithm="ES256", headers={"kid": kid, "typ": None})
    assert _status(api, untyped) == 401


def test_tampered_payload_and_garbage_are_rejected(api: TestClient, tenant: Tenant):
    header, payload, signature = tenant.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = _b64(json.dumps({**claims, "role": "owner", "org": "andere-organisation"}).encode())
    assert _status(api, f"{header}.{forged}.{signature}") == 401
    for garbage in ("", "a.b.c", "x" * 5000, tenant.access_token + "x"):
        assert _status(api, garbage) == 401


def test_revoked_jti_is_rejected_by_every_worker(api: TestClient, tenant: Tenant):
    response = api.post("/v1/auth/logout", json={"refresh_token": tenant.refresh_token}, headers=tenant.headers)
    assert response.status_code == 204
    assert api.get("/v1/me", headers=tenant.headers).json()["code"] == "token_revoked"


def test_remembered_tokens_are_bounded_and_still_checked(api: TestClient, tenant: Tenant, monkeypatch):
    tokens = _ctx(api).tokens
    monkeypatch.setattr("sync.server.auth.tokens.VERIFIED_CACHE_SIZE", 3)
    signed = [_sign(api, {**_claims(api, tenant), "jti": f"jti-{n}"}) for n in range(5)]
    for token in signed:
        assert _status(api, token) == 200
    assert len(tokens._verified) == 3  # the oldest two were dropped
    assert _status(api, signed[0]) == 200  # ... and are simply verified again
    # A remembered token is the exact string: one changed signature byte is checked in full (and refused).
    tampered = signed[-1][:-2] + ("A" if signed[-1][-2] != "A" else "B") + signed[-1][-1]
    assert _status(api, tampered) == 401
