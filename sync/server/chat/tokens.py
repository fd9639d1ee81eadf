"""Visitor tokens of the web widget: ES256 JWTs with ``typ: widget+jwt`` and ``aud: carbot-widget``.

A visitor token is signed with the server's signing keys (``auth.keys.KeyRing``) like access tokens,
and validated by the same strict ``TokenService.decode`` (fixed algorithm, our own ``kid`` only, no
key-reference headers, required claims, the server's clock). The two kinds exclude each other:

- an access token has ``typ: at+jwt`` and the API audience, so ``visitor_claims`` refuses it;
- a visitor token has ``typ: widget+jwt`` and the audience ``carbot-widget``, so ``TokenService.principal``
  (which demands ``at+jwt`` and the API audience) refuses it on every other route.

Claims: ``sub`` = the conversation id (the token's whole scope), ``org``, ``loc``, ``vis`` (the random
visitor id; the database keeps only its SHA-256), ``jti``, ``iat``, ``nbf``, ``exp`` (24 hours).
A token for conversation A can never read conversation B: every widget route takes the conversation
from ``sub`` and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import jwt

from sync.server.auth.keys import ALGORITHM
from sync.server.context import ServerContext
from sync.server.errors import Unauthorized

WIDGET_TYP = "widget+jwt"
WIDGET_AUDIENCE = "carbot-widget"
VISITOR_TOKEN_HOURS = 24
INVALID_VISITOR = "Die Chat-Sitzung ist ungültig oder abgelaufen. Bitte laden Sie die Seite neu."


@dataclass(frozen=True)
class VisitorClaims:
    """What a valid visitor token says."""

    conversation_id: str
    organization_id: str
    location_id: str
    visitor_id: str
    expires_at: dt.datetime

    @property
    def visitor_hash(self) -> str:
        """The SHA-256 of the visitor id (what the database and the rate limits see)."""
        return hash_visitor(self.visitor_id)


@dataclass(frozen=True)
class IssuedVisitorToken:
    """A freshly signed visitor token."""

    token: str
    expires_at: dt.datetime


def new_visitor_id() -> str:
    """A random visitor id (128 bits)."""
    return secrets.token_urlsafe(16)


def hash_visitor(visitor_id: str) -> str:
    """SHA-256 (hex) of a visitor id."""
    return hashlib.sha256(visitor_id.encode()).hexdigest()


def issue_visitor_token(
    ctx: ServerContext, *, conversation_id: str, organization_id: str, location_id: str, visitor_id: str
) -> IssuedVisitorToken:
    """Sign a visitor token for one conversation (valid ``VISITOR_TOKEN_HOURS``)."""
    now = ctx.clock()
    expires = now + dt.timedelta(hours=VISITOR_TOKEN_HOURS)
    claims = {
        "iss": ctx.settings.jwt_issuer,
        "aud": WIDGET_AUDIENCE,
        "sub": conversation_id,
        "org": organization_id,
        "loc": location_id,
        "vis": visitor_id,
        "jti": secrets.token_urlsafe(12),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    kid, private = ctx.keyring.signing_key()
    token = jwt.encode(claims, private, algorithm=ALGORITHM, headers={"kid": kid, "typ": WIDGET_TYP})
    return IssuedVisitorToken(token, dt.datetime.fromtimestamp(int(expires.timestamp()), dt.UTC))


def visitor_claims(ctx: ServerContext, token: str) -> VisitorClaims:
    """Validate a visitor token; 401 ``invalid_visitor_token`` for anything not exactly right."""
    try:
        claims = ctx.tokens.decode(token, typ=WIDGET_TYP, audience=WIDGET_AUDIENCE)
    except Unauthorized as exc:
        raise Unauthorized(INVALID_VISITOR, code="invalid_visitor_token") from exc
    values = [claims.get(name) for name in ("sub", "org", "loc", "vis")]
    lifetime = int(claims["exp"]) - int(claims["iat"])
    if not all(isinstance(value, str) and value for value in values) or lifetime > VISITOR_TOKEN_HOURS * 3600:
        raise Unauthorized(INVALID_VISITOR, code="invalid_visitor_token")
    sub, org, loc, vis = (str(value) for value in values)
    return VisitorClaims(sub, org, loc, vis, dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC))
