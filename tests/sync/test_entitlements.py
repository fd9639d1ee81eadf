"""Entitlement tokens (sync/entitlements.py): format, strict offline verification and the desktop policy."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import subprocess
import sys
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from app import plans
from app.errors import NotFound
from app.plans import READ_ONLY_FEATURES, Feature, SubscriptionStatus
from sync import entitlements as ents
from sync.entitlements import EntitlementError, Entitlements, FeatureLocked, Mode

ISSUER = "https://api.carbot.test"
T0 = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)


def _jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": "ES256", "use": "sig"}


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def next_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def jwks(key: ec.EllipticCurvePrivateKey, next_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    return {"keys": [_jwk(key, "2026-11-a"), _jwk(next_key, "2026-11-b")]}


def _claims(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "issuer": ISSUER,
        "organization_id": "org-1",
        "location_id": "loc-1",
        "plan_id": "professional",
        "status": SubscriptionStatus.ACTIVE,
        "issued_at": T0,
    }
    return ents.build_claims(**{**args, **overrides})


def _token(key: ec.EllipticCurvePrivateKey, kid: str = "2026-11-a", **overrides: Any) -> str:
    return ents.encode_entitlement(_claims(**overrides), key, kid=kid)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(obj: dict[str, Any]) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def _reason(token: str, jwks: dict[str, Any], now: dt.datetime = T0, **kwargs: Any) -> str:
    with pytest.raises(EntitlementError) as info:
        ents.verify_entitlement(token, jwks, now=now, issuer=ISSUER, **kwargs)
    return info.value.reason


# --- format ----------------------------------------------------------------------------------------------------


def test_build_claims_is_the_documented_format() -> None:
    grace = T0 + 7 * DAY
    claims = _claims(status=SubscriptionStatus.PAST_DUE, grace_until=grace)
    iat = int(T0.timestamp())
    assert claims == {
        "iss": ISSUER,
        "aud": "carbot-desktop",
        "typ": "entitlement+jwt",
        "sub": "org-1",
        "location_id": "loc-1",
        "plan": "professional",
        "features": sorted(f.value for f in plans.features_for("professional")),
        "status": "past_due",
        "iat": iat,
        "exp": iat + 14 * 86400,
        "grace_until": int(grace.timestamp()),
    }
    cancelled = _claims(plan_id="enterprise", status=SubscriptionStatus.CANCELLED)
    assert cancelled["features"] == sorted(f.value for f in READ_ONLY_FEATURES)
    with pytest.raises(NotFound):
        _claims(plan_id="basic")


def test_valid_token_verifies(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    token = _token(key)
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "typ": "entitlement+jwt", "kid": "2026-11-a"}
    ent = ents.verify_entitlement(token, jwks, now=T0 + DAY, issuer=ISSUER)
    assert (ent.organization_id, ent.location_id, ent.plan_id) == ("org-1", "loc-1", "professional")
    assert ent.features == plans.features_for("professional")
    assert ent.status is SubscriptionStatus.ACTIVE
    assert (ent.issued_at, ent.expires_at, ent.grace_until) == (T0, T0 + 14 * DAY, None)
    assert ent.key_id == "2026-11-a" and ent.token == token


def test_both_keys_of_a_rotation_verify(next_key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    ent = ents.verify_entitlement(_token(next_key, kid="2026-11-b"), jwks, now=T0, issuer=ISSUER)
    assert ent.key_id == "2026-11-b"


def test_unknown_feature_names_are_ignored(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    claims = {**_claims(), "features": ["sync", "teleportation"]}
    token = ents.encode_entitlement(claims, key, kid="2026-11-a")
    assert ents.verify_entitlement(token, jwks, now=T0, issuer=ISSUER).features == {Feature.SYNC}


# --- attacks and broken tokens -----------------------------------------------------------------------------------


def test_expired_token_is_refused_unless_restoring(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    token = _token(key)
    assert ents.verify_entitlement(token, jwks, now=T0 + 14 * DAY - SECOND, issuer=ISSUER)
    with pytest.raises(EntitlementError, match="abgelaufen") as info:
        ents.verify_entitlement(token, jwks, now=T0 + 14 * DAY, issuer=ISSUER)
    assert info.value.reason == "expired"
    assert ents.verify_entitlement(token, jwks, now=T0 + 40 * DAY, issuer=ISSUER, allow_expired=True)


def test_tampered_payload_is_refused(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    header, _payload, signature = _token(key, plan_id="starter").split(".")
    forged = _segment(_claims(plan_id="enterprise"))
    assert _reason(f"{header}.{forged}.{signature}", jwks) == "signature"


def test_token_signed_by_a_foreign_key_with_a_known_kid_is_refused(jwks: dict[str, Any]) -> None:
    attacker = ec.generate_private_key(ec.SECP256R1())
    assert _reason(_token(attacker, kid="2026-11-a"), jwks) == "signature"


def test_wrong_typ_is_refused(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    access_token = jwt.encode(_claims(), key, algorithm="ES256", headers={"typ": "at+jwt", "kid": "2026-11-a"})
    with pytest.raises(EntitlementError, match="keine Berechtigung"):
        ents.verify_entitlement(access_token, jwks, now=T0, issuer=ISSUER)
    no_typ = jwt.encode(_claims(), key, algorithm="ES256", headers={"kid": "2026-11-a"})
    assert jwt.get_unverified_header(no_typ)["typ"] == "JWT"
    assert _reason(no_typ, jwks) == "typ"
    wrong_claim = ents.encode_entitlement({**_claims(), "typ": "at+jwt"}, key, kid="2026-11-a")
    assert _reason(wrong_claim, jwks) == "claims"


def test_unknown_kid_is_refused(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    assert _reason(_token(key, kid="2025-01-z"), jwks) == "kid"
    assert _reason(_token(key), {"keys": []}) == "kid"
    assert _reason(_token(key), {}) == "kid"
    no_kid = jwt.encode(_claims(), key, algorithm="ES256", headers={"typ": "entitlement+jwt"})
    assert _reason(no_kid, jwks) == "kid"


def test_jwks_entry_for_another_algorithm_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    assert _reason(_token(key), {"keys": [{**_jwk(key, "2026-11-a"), "alg": "ES384"}]}) == "kid"
    assert _reason(_token(key), {"keys": [{**_jwk(key, "2026-11-a"), "use": "enc"}]}) == "kid"
    duplicate = {"keys": [_jwk(key, "2026-11-a"), _jwk(key, "2026-11-a")]}
    assert _reason(_token(key), duplicate) == "kid"


def test_alg_none_is_refused(jwks: dict[str, Any]) -> None:
    header = _segment({"alg": "none", "typ": "entitlement+jwt", "kid": "2026-11-a"})
    token = f"{header}.{_segment(_claims(plan_id='enterprise'))}."
    with pytest.raises(EntitlementError, match="nur ES256") as info:
        ents.verify_entitlement(token, jwks, now=T0, issuer=ISSUER)
    assert info.value.reason == "alg"


def test_hs256_signed_with_the_public_key_is_refused(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    # The classic key-confusion attack: the public key (PEM, as a verifier might hold it) as HMAC secret.
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'entitlement+jwt', 'kid': '2026-11-a'})}.{_segment(_claims())}"
    signature = _b64(hmac.new(pem, signing_input.encode("ascii"), hashlib.sha256).digest())
    assert _reason(f"{signing_input}.{signature}", jwks) == "alg"


def test_wrong_audience_and_issuer_are_refused(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    assert _reason(_token(key, audience="carbot-dashboard"), jwks) == "audience"
    assert _reason(_token(key), jwks, audience="carbot-dashboard") == "audience"
    assert _reason(_token(key, issuer="https://evil.test"), jwks) == "issuer"


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "plan", "status", "features"])
def test_missing_claims_are_refused(claim: str, key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    claims = _claims()
    del claims[claim]
    assert _reason(ents.encode_entitlement(claims, key, kid="2026-11-a"), jwks) == "claims"


@pytest.mark.parametrize(
    "override",
    [{"plan": "basic"}, {"status": "unpaid"}, {"features": "sync"}, {"location_id": ""}, {"grace_until": "bald"}],
)
def test_invalid_claim_values_are_refused(
    override: dict[str, Any], key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]
) -> None:
    token = ents.encode_entitlement({**_claims(), **override}, key, kid="2026-11-a")
    assert _reason(token, jwks) == "claims"


def test_token_from_the_future_is_refused_beyond_the_clock_leeway(
    key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]
) -> None:
    token = _token(key)
    assert ents.verify_entitlement(token, jwks, now=T0 - 5 * 60 * SECOND, issuer=ISSUER)
    with pytest.raises(EntitlementError, match="Uhrzeit dieses Computers") as info:
        ents.verify_entitlement(token, jwks, now=T0 - 5 * 60 * SECOND - SECOND, issuer=ISSUER)
    assert info.value.reason == "not_yet_valid"


def test_garbage_is_refused(jwks: dict[str, Any]) -> None:
    for garbage in ["", "abc", "a.b.c", "eyJhbGciOiJFUzI1NiJ9..."]:
        assert _reason(garbage, jwks) in {"malformed", "alg"}


# --- the desktop policy ------------------------------------------------------------------------------------------


def _policy(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any], **token_args: Any) -> Entitlements:
    policy = Entitlements(issuer=ISSUER)
    policy.accept(_token(key, **token_args), jwks, now=T0)
    return policy


def test_valid_until_exp_then_offline_grace_then_read_only(
    key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]
) -> None:
    policy = _policy(key, jwks)
    full = plans.features_for("professional")
    active = policy.current(T0 + 14 * DAY - SECOND)
    assert (active.mode, active.features, active.banners, active.read_only) == (Mode.ACTIVE, full, (), False)

    grace = policy.current(T0 + 14 * DAY)  # expired: within the offline grace period
    assert (grace.mode, grace.features, grace.read_only) == (Mode.OFFLINE_GRACE, full, False)
    assert grace.mode == "offline_grace"
    assert grace.offline_grace_until == T0 + 28 * DAY
    assert len(grace.banners) == 1 and "Internetverbindung" in grace.banners[0]
    assert policy.current(T0 + 28 * DAY - SECOND).mode is Mode.OFFLINE_GRACE

    locked = policy.current(T0 + 28 * DAY)
    assert (locked.mode, locked.features, locked.read_only) == (Mode.READ_ONLY, READ_ONLY_FEATURES, True)
    assert "Lesemodus" in locked.banners[0] and "gedruckt" in locked.banners[0]


def test_offline_grace_is_configurable(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    policy = Entitlements(issuer=ISSUER, offline_grace=3 * DAY)
    policy.accept(_token(key), jwks, now=T0)
    assert policy.current(T0 + 17 * DAY - SECOND).mode is Mode.OFFLINE_GRACE
    assert policy.current(T0 + 17 * DAY).mode is Mode.READ_ONLY


def test_setting_the_clock_back_does_not_extend_the_grace(
    key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]
) -> None:
    policy = _policy(key, jwks)
    assert policy.current(T0 + 30 * DAY).mode is Mode.READ_ONLY
    assert policy.current(T0 + DAY).mode is Mode.READ_ONLY
    assert policy.clock_floor == T0 + 30 * DAY
    restarted = Entitlements(issuer=ISSUER, clock_floor=policy.clock_floor)
    assert policy.token is not None
    restarted.restore(policy.token, jwks, now=T0 + DAY)
    assert restarted.current(T0 + DAY).mode is Mode.READ_ONLY


def test_restore_keeps_an_expired_token_for_the_grace(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    token = _token(key)
    with pytest.raises(EntitlementError):
        Entitlements(issuer=ISSUER).accept(token, jwks, now=T0 + 20 * DAY)
    policy = Entitlements(issuer=ISSUER)
    policy.restore(token, jwks, now=T0 + 20 * DAY)
    assert policy.current(T0 + 20 * DAY).mode is Mode.OFFLINE_GRACE


def test_an_older_token_never_replaces_a_newer_one(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    policy = Entitlements(issuer=ISSUER)
    cancelled = _token(key, status=SubscriptionStatus.CANCELLED, issued_at=T0 + DAY)
    policy.accept(cancelled, jwks, now=T0 + DAY)
    kept = policy.accept(_token(key), jwks, now=T0 + DAY)  # the older, still active token, replayed
    assert kept.status is SubscriptionStatus.CANCELLED and policy.token == cancelled
    assert policy.current(T0 + DAY).mode is Mode.READ_ONLY


def test_payment_grace_from_the_token_and_its_end(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    grace_until = T0 + 7 * DAY
    policy = _policy(key, jwks, status=SubscriptionStatus.PAST_DUE, grace_until=grace_until)
    during = policy.current(grace_until - SECOND)
    assert (during.mode, during.features) == (Mode.PAYMENT_GRACE, plans.features_for("professional"))
    assert "Zahlung" in during.banners[0]
    after = policy.current(grace_until)  # still offline-valid, but the payment grace is over
    assert (after.mode, after.features) == (Mode.READ_ONLY, READ_ONLY_FEATURES)
    assert "Abo ist nicht aktiv" in after.banners[0]


def test_cancelled_token_is_read_only(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    state = _policy(key, jwks, status=SubscriptionStatus.CANCELLED).current(T0)
    assert (state.mode, state.features, state.read_only) == (Mode.READ_ONLY, READ_ONLY_FEATURES, True)


def test_require_gates_features_with_german_errors(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    starter = _policy(key, jwks, plan_id="starter")
    starter.require(Feature.CHAT_WIDGET, now=T0)
    assert starter.current(T0).allows(Feature.BASIC_REPORTS)
    with pytest.raises(FeatureLocked, match="in Ihrem Tarif nicht enthalten") as info:
        starter.require(Feature.PUBLIC_API, now=T0)
    assert info.value.reason == "plan" and "Öffentliche API" in str(info.value)
    with pytest.raises(FeatureLocked, match="Lesemodus") as info:
        starter.require(Feature.CHAT_WIDGET, now=T0 + 28 * DAY)
    assert info.value.reason == "read_only"
    starter.require(Feature.BASIC_REPORTS, now=T0 + 28 * DAY)  # reports stay readable


def test_no_token_yet_means_unregistered_and_locked() -> None:
    state = Entitlements(issuer=ISSUER).current(T0)
    assert (state.mode, state.features, state.read_only, state.entitlement) == (
        Mode.UNREGISTERED,
        frozenset(),
        True,
        None,
    )
    assert "14-tägige Testphase" in state.banners[0]
    with pytest.raises(FeatureLocked):
        state.require(Feature.SYNC)


def test_naive_datetimes_are_refused(key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _policy(key, jwks).current(T0.replace(tzinfo=None))


def test_module_is_qt_free_and_server_free() -> None:
    code = (
        "import sys, sync.entitlements; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'fastapi', 'uvicorn', 'sqlalchemy') "
        "or m.startswith('sync.server')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
