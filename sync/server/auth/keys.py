"""ES256 signing keys: generation, rotation without logging anybody out, and the JWKS.

Lifecycle of a key: it signs while it is the newest unretired key; ``rotate_keys`` retires it
(``retired_at = now``) and adds a new one; a retired key keeps verifying for ``key_overlap_hours``
(longer than any token it signed can live), then it drops out of the JWKS and is deleted.
``retire_now`` is for a leaked key: old keys are deleted at once, so every token they signed dies;
users stay logged in anyway, because refresh tokens are opaque and not signed.

The ``KeyRing`` caches the keys per process and reloads them every ``RELOAD_SECONDS`` and when an
unknown ``kid`` shows up (at most once per ``MISS_RELOAD_SECONDS``), so a rotation made by another
worker or by ``carbot server rotate-keys`` reaches every worker without a restart. Only ``kid``s
from our own table are ever trusted; nothing is fetched from URLs in token headers.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sync.server import audit
from sync.server.config import Settings
from sync.server.db import ServerDatabase
from sync.server.models import AuditKind, Clock, SigningKey

ALGORITHM = "ES256"
RELOAD_SECONDS = 30.0
MISS_RELOAD_SECONDS = 1.0


def _encryption(settings: Settings) -> serialization.KeySerializationEncryption:
    if settings.signing_key_passphrase is None:
        return serialization.NoEncryption()
    return serialization.BestAvailableEncryption(settings.signing_key_passphrase.get_secret_value().encode())


def _passphrase(settings: Settings) -> bytes | None:
    secret = settings.signing_key_passphrase
    return None if secret is None else secret.get_secret_value().encode()


def new_signing_key(settings: Settings, now: dt.datetime) -> SigningKey:
    """A fresh P-256 key pair as a table row (not yet added to a session)."""
    private = ec.generate_private_key(ec.SECP256R1())
    kid = f"{now:%Y%m%d}-{secrets.token_hex(4)}"
    jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, _encryption(settings))
    return SigningKey(
        kid=kid, algorithm=ALGORITHM, private_pem=pem.decode(), public_jwk=json.dumps(jwk), created_at=now
    )


def _expired_before(settings: Settings, now: dt.datetime) -> dt.datetime:
    """Keys retired before this moment no longer verify anything."""
    return now - dt.timedelta(hours=settings.key_overlap_hours)


def rotate_keys(session: Session, settings: Settings, *, now: dt.datetime, retire_now: bool = False) -> str:
    """Retire the signing key(s), add a new one, drop keys past their overlap; returns the new kid."""
    if retire_now:
        session.execute(delete(SigningKey))
    else:
        for key in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
            key.retired_at = now
        session.execute(delete(SigningKey).where(SigningKey.retired_at < _expired_before(settings, now)))
    key = new_signing_key(settings, now)
    session.add(key)
    audit.record(session, AuditKind.KEYS_ROTATED, at=now, detail=f"kid={key.kid} retire_now={retire_now}")
    return key.kid


def ensure_signing_key(session: Session, settings: Settings, *, now: dt.datetime) -> None:
    """Create the first key when no unretired key exists (first start)."""
    if session.scalars(select(SigningKey.kid).where(SigningKey.retired_at.is_(None))).first() is None:
        session.add(new_signing_key(settings, now))


@dataclass(frozen=True)
class LoadedKey:
    """One key as the process uses it."""

    kid: str
    public_key: ec.EllipticCurvePublicKey
    public_jwk: dict[str, Any]
    private_pem: str
    created_at: dt.datetime
    retired_at: dt.datetime | None


def _newest_first(key: LoadedKey) -> tuple[bool, dt.datetime, dt.datetime]:
    """Sort key: the signing key first, then retired keys by how recently they were retired."""
    return (key.retired_at is None, key.retired_at or key.created_at, key.created_at)


class KeyRing:
    """The process's view of the signing keys (thread-safe, reloaded from the database)."""

    def __init__(self, db: ServerDatabase, settings: Settings, clock: Clock) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, LoadedKey] = {}
        self._private: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._loaded_at = float("-inf")
        self._miss_reload_at = float("-inf")

    def reload(self) -> None:
        """Read every key that may still verify from the database (creating the first key if needed)."""
        now = self._clock()
        with self._db.unit() as session:
            ensure_signing_key(session, self._settings, now=now)
            rows = session.scalars(
                select(SigningKey).where(
                    (SigningKey.retired_at.is_(None)) | (SigningKey.retired_at >= _expired_before(self._settings, now))
                )
            ).all()
            keys = {row.kid: self._load(row) for row in rows}
        with self._lock:
            self._keys = keys
            self._private = {kid: key for kid, key in self._private.items() if kid in keys}
            self._loaded_at = time.monotonic()

    @staticmethod
    def _load(row: SigningKey) -> LoadedKey:
        jwk = json.loads(row.public_jwk)
        public = ECAlgorithm.from_jwk(jwk)
        assert isinstance(public, ec.EllipticCurvePublicKey)
        return LoadedKey(row.kid, public, jwk, row.private_pem, row.created_at, row.retired_at)

    def _current(self) -> dict[str, LoadedKey]:
        if time.monotonic() - self._loaded_at > RELOAD_SECONDS:
            self.reload()
        with self._lock:
            return self._keys

    def signing_key(self) -> tuple[str, ec.EllipticCurvePrivateKey]:
        """kid and private key of the newest unretired key."""
        active = [key for key in self._current().values() if key.retired_at is None]
        if not active:
            self.reload()
            active = [key for key in self._current().values() if key.retired_at is None]
        newest = max(active, key=lambda key: (key.created_at, key.kid))
        with self._lock:
            private = self._private.get(newest.kid)
        if private is None:
            loaded = serialization.load_pem_private_key(newest.private_pem.encode(), _passphrase(self._settings))
            assert isinstance(loaded, ec.EllipticCurvePrivateKey)
            private = loaded
            with self._lock:
                self._private[newest.kid] = private
        return newest.kid, private

    def verification_key(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        """The public key for ``kid`` if it is ours and still inside its overlap, else None."""
        key = self._current().get(kid)
        if key is None and time.monotonic() - self._miss_reload_at > MISS_RELOAD_SECONDS:
            self._miss_reload_at = time.monotonic()
            self.reload()
            key = self._current().get(kid)
        if key is None:
            return None
        if key.retired_at is not None and key.retired_at < _expired_before(self._settings, self._clock()):
            return None
        return key.public_key

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JSON Web Key Set: every key that may still verify, newest first."""
        keys = sorted(self._current().values(), key=_newest_first, reverse=True)
        return {"keys": [key.public_jwk for key in keys]}

    def rotate(self, *, retire_now: bool = False) -> str:
        """Rotate in the database and reload at once; returns the new kid."""
        with self._db.unit() as session:
            kid = rotate_keys(session, self._settings, now=self._clock(), retire_now=retire_now)
        self.reload()
        return kid
