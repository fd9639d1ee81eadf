"""Access tokens: ES256 JWTs (``typ: at+jwt``) with strict validation (RFC 8725, RFC 9068 shape).

Claims: ``iss``, ``aud``, ``sub`` (user or device id), ``kind`` (user|device), ``org``, ``role``,
``location_ids``, ``jti``, ``iat``, ``nbf``, ``exp`` (≤ 15 minutes after ``iat``).

Validation refuses, before and while checking the signature:
- any ``alg`` but ES256 (the allow-list is fixed here, never read from the header), so ``none``
  and HS256 signed with our public key (key confusion) fail;
- a ``typ`` other than the expected one, so an entitlement or widget token cannot act as access token;
- a ``kid`` that is not in our own key table (``jku``/``jwk``/``x5u``/``x5c`` headers are refused
  outright; we never fetch keys from a token);
- missing ``exp``/``iat``/``nbf``/``iss``/``aud``/``sub``/``jti``, a wrong ``iss`` or ``aud``,
  an expired token or one not yet valid (clock skew ``clock_skew_seconds``);
- claims of the wrong type. Revoked ``jti``s are checked by ``revocation.RevocationList``.

A token whose signature was verified is remembered (``VERIFIED_CACHE_SIZE`` per process): the same token
string again skips parsing and the ECDSA check, never the rest – its times are checked against the clock
on every use, and a hit counts only while the key ring still hands out the very key that verified it (a
key past its overlap, or gone, sends the token through the full check again, which refuses it).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import jwt

from sync.server.auth.keys import ALGORITHM, KeyRing
from sync.server.config import Settings
from sync.server.errors import Unauthorized
from sync.server.models import Clock, Role

log = logging.getLogger(__name__)

ACCESS_TYP = "at+jwt"
ALLOWED_ALGORITHMS = [ALGORITHM]  # fixed; RFC 8725 §3.1
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]
FORBIDDEN_HEADERS = ("jku", "jwk", "x5u", "x5c", "crit")
DEVICE_ROLE = "device"
MAX_ACCESS_SECONDS = 15 * 60  # the hard ceiling, whatever the configuration says
PrincipalKind = Literal["user", "device"]
VERIFIED_CACHE_SIZE = 10_000
"""Verified tokens remembered per process (each a few hundred bytes; tokens live ≤ 15 minutes)."""
INVALID_TOKEN = "Die Anmeldung ist ungültig. Bitte erneut anmelden."
EXPIRED_TOKEN = "Die Anmeldung ist abgelaufen. Bitte erneut anmelden."


@dataclass(frozen=True)
class Principal:
    """Who calls: a user or a device, always inside one organisation."""

    kind: PrincipalKind
    id: str
    organization_id: str
    role: str  # a Role value for users, "device" for devices
    location_ids: tuple[str, ...]
    jti: str
    expires_at: dt.datetime

    @property
    def is_user(self) -> bool:
        """True for a person (not a desktop device)."""
        return self.kind == "user"


@dataclass(frozen=True)
class IssuedAccessToken:
    """A freshly signed access token."""

    token: str
    jti: str
    expires_at: dt.datetime
    expires_in: int


def _invalid(reason: str) -> Unauthorized:
    log.debug("access token rejected: %s", reason)
    return Unauthorized(INVALID_TOKEN, code="invalid_token")


class _Verified(NamedTuple):
    """A token whose header and signature passed: the key that verified it and its claims."""

    kid: str
    key: object
    claims: dict[str, Any]


class TokenService:
    """Signs and validates access tokens with the key ring."""

    def __init__(self, keyring: KeyRing, settings: Settings, clock: Clock) -> None:
        self._keyring = keyring
        self._settings = settings
        self._clock = clock
        self._verified: dict[tuple[str, str, str | None], _Verified] = {}
        self._verified_lock = threading.Lock()

    def issue_access(
        self, *, kind: PrincipalKind, subject: str, organization_id: str, role: str, location_ids: list[str]
    ) -> IssuedAccessToken:
        """Sign an access token for a user or device."""
        now = self._clock()
        lifetime = dt.timedelta(minutes=self._settings.access_token_minutes)
        jti = secrets.token_urlsafe(18)
        claims = {
            "iss": self._settings.jwt_issuer,
            "aud": self._settings.jwt_audience,
            "sub": subject,
            "kind": kind,
            "org": organization_id,
            "role": role,
            "location_ids": sorted(location_ids),
            "jti": jti,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
        }
        kid, private = self._keyring.signing_key()
        token = jwt.encode(claims, private, algorithm=ALGORITHM, headers={"kid": kid, "typ": ACCESS_TYP})
        expires_at = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)  # type: ignore[arg-type]
        return IssuedAccessToken(token, jti, expires_at, int(lifetime.total_seconds()))

    def decode(self, token: str, *, typ: str = ACCESS_TYP, audience: str | None = None) -> dict[str, Any]:
        """The verified claims of ``token``; raises Unauthorized for anything not exactly right."""
        cache_key = (token, typ, audience)
        known = self._verified.get(cache_key)
        if known is not None and self._keyring.verification_key(known.kid) is known.key:
            self._check_times(known.claims)
            return dict(known.claims)
        claims = self._verify(token, typ=typ, audience=audience)
        with self._verified_lock:
            if len(self._verified) >= VERIFIED_CACHE_SIZE:  # drop the oldest (dicts keep insertion order)
                self._verified.pop(next(iter(self._verified)), None)
            self._verified[cache_key] = _Verified(*claims)
        return dict(claims[2])

    def _verify(self, token: str, *, typ: str, audience: str | None) -> tuple[str, object, dict[str, Any]]:
        """Full check of header, signature, claims and times: (kid, verifying key, claims)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _invalid("malformed") from exc
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise _invalid(f"alg {header.get('alg')!r}")
        if header.get("typ") != typ:
            raise _invalid(f"typ {header.get('typ')!r}")
        if any(name in header for name in FORBIDDEN_HEADERS):
            raise _invalid("key reference header")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise _invalid("unknown kid")
        key = self._keyring.verification_key(kid)
        if key is None:
            raise _invalid("unknown kid")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALLOWED_ALGORITHMS,
                audience=audience or self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                # Times are checked below against the server's clock (the one that issued them).
                options={
                    "require": REQUIRED_CLAIMS,
                    "strict_aud": True,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise _invalid(type(exc).__name__) from exc
        self._check_times(claims)
        return kid, key, claims

    def _check_times(self, claims: dict[str, Any]) -> None:
        times = [claims.get(name) for name in ("iat", "nbf", "exp")]
        if not all(isinstance(value, int) and not isinstance(value, bool) for value in times):
            raise _invalid("time claims")
        iat, nbf, exp = (int(value) for value in times)  # type: ignore[arg-type]
        now = self._clock().timestamp()
        skew = self._settings.clock_skew_seconds
        if exp <= now - skew:
            log.debug("access token rejected: expired")
            raise Unauthorized(EXPIRED_TOKEN, code="token_expired")
        if nbf > now + skew or iat > now + skew:
            raise _invalid("not yet valid")

    def principal(self, token: str) -> Principal:
        """Validate an access token and turn its claims into a Principal (revocation not yet checked)."""
        claims = self.decode(token)
        kind, role, org = claims.get("kind"), claims.get("role"), claims.get("org")
        locations = claims.get("location_ids")
        if kind not in ("user", "device") or not isinstance(org, str) or not isinstance(claims["jti"], str):
            raise _invalid("claims")
        valid_roles = {DEVICE_ROLE} if kind == "device" else {r.value for r in Role}
        if role not in valid_roles:
            raise _invalid("role")
        if not isinstance(locations, list) or not all(isinstance(item, str) for item in locations):
            raise _invalid("location_ids")
        # Our access tokens never live longer than 15 minutes; a longer one was not made here.
        if int(claims["exp"]) - int(claims["iat"]) > MAX_ACCESS_SECONDS:
            raise _invalid("lifetime")
        return Principal(
            kind=kind,
            id=str(claims["sub"]),
            organization_id=org,
            role=str(role),
            location_ids=tuple(locations),
            jti=claims["jti"],
            expires_at=dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC),
        )
