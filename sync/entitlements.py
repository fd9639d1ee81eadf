"""Entitlement tokens: what an organisation's desktops may do, signed by the server, verified offline.

The hosted API issues one token per location (chat-sync-auth-billing.md §3.3): a JWT signed with ES256,
header ``{"alg": "ES256", "typ": "entitlement+jwt", "kid": ...}``, claims::

    iss, aud "carbot-desktop", typ "entitlement+jwt", sub (organisation id), location_id, plan,
    features (list of app.plans.Feature values), status (app.plans.SubscriptionStatus),
    iat, exp = iat + 14 days, grace_until (end of the payment grace as epoch seconds, or null)

The desktop verifies it against the cached JWKS only (never fetching a URL named in a token), with a
fixed algorithm allow-list, an explicit ``typ`` (so an access token cannot pass as an entitlement) and
required ``exp``/``iat``/``iss``/``aud``. ``Entitlements`` keeps the last verified token and decides
offline: full use until ``exp``, then an offline grace period with a banner, then read-only mode.

Qt-free and without server dependencies: PyJWT and ``app.plans`` only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

from app import formatting, plans
from app.errors import WorkshopError
from app.i18n import N_, _
from app.plans import Feature, SubscriptionStatus

ALGORITHM = "ES256"
TOKEN_TYPE = "entitlement+jwt"
AUDIENCE = "carbot-desktop"
TOKEN_LIFETIME = dt.timedelta(days=14)
OFFLINE_GRACE = dt.timedelta(days=14)
CLOCK_LEEWAY = dt.timedelta(minutes=5)
"""How far the desktop's clock may run behind the server's before a fresh token counts as "not yet valid"."""

_REQUIRED = ["iss", "aud", "sub", "typ", "iat", "exp", "location_id", "plan", "features", "status"]


class EntitlementError(WorkshopError):
    """A token was refused; ``reason`` is a stable code (alg, typ, kid, signature, expired, …) for logs.

    The message ids are marked with ``N_`` because extraction (app.i18n_tools) knows only app's error classes.
    """

    def __init__(self, message_id: str, *, reason: str, **params: Any) -> None:
        super().__init__(message_id, **params)
        self.reason = reason


class FeatureLocked(EntitlementError):
    """A gated feature is not available in the current plan or mode."""


@dataclass(frozen=True)
class Entitlement:
    """The verified content of an entitlement token (``token`` is kept for storage and re-verification)."""

    organization_id: str
    location_id: str
    plan_id: str
    features: frozenset[Feature]
    status: SubscriptionStatus
    issued_at: dt.datetime
    expires_at: dt.datetime
    grace_until: dt.datetime | None
    key_id: str
    token: str = field(repr=False)


def _epoch(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return int(moment.timestamp())


def _moment(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _local_date(moment: dt.datetime) -> str:
    return formatting.date(moment.astimezone().date())  # the PC's time zone, as the user reads it


def _local_datetime(moment: dt.datetime) -> str:
    return formatting.datetime(moment.astimezone())


def build_claims(
    *,
    issuer: str,
    organization_id: str,
    location_id: str,
    plan_id: str,
    status: SubscriptionStatus,
    issued_at: dt.datetime,
    grace_until: dt.datetime | None = None,
    features: Iterable[Feature] | None = None,
    audience: str = AUDIENCE,
    lifetime: dt.timedelta = TOKEN_LIFETIME,
) -> dict[str, Any]:
    """The claims of an entitlement token (pure). ``features`` defaults to ``plans.effective_features``."""
    plans.plan(plan_id)  # refuses unknown plan ids
    status = SubscriptionStatus(status)
    if features is None:
        features = plans.effective_features(plan_id, status, now=issued_at, grace_until=grace_until)
    iat = _epoch(issued_at)
    return {
        "iss": issuer,
        "aud": audience,
        "typ": TOKEN_TYPE,
        "sub": organization_id,
        "location_id": location_id,
        "plan": plan_id,
        "features": sorted(Feature(f).value for f in features),
        "status": status.value,
        "iat": iat,
        "exp": iat + int(lifetime.total_seconds()),
        "grace_until": None if grace_until is None else _epoch(grace_until),
    }


def encode_entitlement(claims: Mapping[str, Any], private_key: EllipticCurvePrivateKey, *, kid: str) -> str:
    """Sign ``claims`` (from ``build_claims``) with ES256 and the entitlement ``typ``/``kid`` header."""
    return jwt.encode(dict(claims), private_key, algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE, "kid": kid})


def _public_key(jwks: Mapping[str, Any], kid: str) -> Any:
    """The ES256 public key for ``kid`` from the given JWKS dict only; nothing is ever fetched."""
    matches = [k for k in jwks.get("keys", []) if isinstance(k, Mapping) and k.get("kid") == kid]
    if len(matches) != 1:
        raise EntitlementError(
            N_("Der Schlüssel „{kid}“ ist unbekannt – die Berechtigung wird nicht anerkannt."), reason="kid", kid=kid
        )
    jwk = dict(matches[0])
    usable = (
        jwk.get("kty") == "EC"
        and jwk.get("crv") == "P-256"
        and jwk.get("alg", ALGORITHM) == ALGORITHM
        and jwk.get("use", "sig") == "sig"
    )
    if not usable:
        raise EntitlementError(N_("Der Schlüssel „{kid}“ ist kein ES256-Signaturschlüssel."), reason="kid", kid=kid)
    try:
        return jwt.PyJWK(jwk, algorithm=ALGORITHM).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError) as exc:
        raise EntitlementError(N_("Der Schlüssel „{kid}“ ist beschädigt."), reason="kid", kid=kid) from exc


def _header_kid(token: str) -> str:
    """The ``kid`` of the unverified header, after checking that ``alg`` and ``typ`` match exactly."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise EntitlementError(N_("Die Berechtigung ist unlesbar oder beschädigt."), reason="malformed") from exc
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise EntitlementError(
            N_("Die Berechtigung ist mit „{alg}“ signiert; erlaubt ist nur ES256."), reason="alg", alg=str(alg)
        )
    if header.get("typ") != TOKEN_TYPE:
        raise EntitlementError(
            N_("Das Token ist keine Berechtigung (typ „{typ}“)."), reason="typ", typ=str(header.get("typ"))
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise EntitlementError(N_("Der Berechtigung fehlt die Schlüsselkennung (kid)."), reason="kid", kid="")
    return kid


def _decode(token: str, key: Any, *, issuer: str, audience: str) -> dict[str, Any]:
    # Times are checked against the caller's ``now`` below, so PyJWT's own clock checks are off.
    options: Any = {"require": _REQUIRED, "verify_exp": False, "verify_iat": False, "verify_nbf": False}
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[ALGORITHM], audience=audience, issuer=issuer, options=options
        )
    except jwt.InvalidSignatureError as exc:
        raise EntitlementError(N_("Die Signatur der Berechtigung ist ungültig."), reason="signature") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise EntitlementError(
            N_("In der Berechtigung fehlt die Angabe „{claim}“."), reason="claims", claim=exc.claim
        ) from exc
    except jwt.InvalidAudienceError as exc:
        raise EntitlementError(N_("Die Berechtigung gilt für eine andere Anwendung."), reason="audience") from exc
    except jwt.InvalidIssuerError as exc:
        raise EntitlementError(N_("Die Berechtigung stammt von einem fremden Aussteller."), reason="issuer") from exc
    except jwt.InvalidTokenError as exc:
        raise EntitlementError(N_("Die Berechtigung ist unlesbar oder beschädigt."), reason="malformed") from exc
    return claims


def _parse(claims: Mapping[str, Any], *, kid: str, token: str) -> Entitlement:
    def bad(claim: str) -> EntitlementError:
        return EntitlementError(N_("Die Angabe „{claim}“ der Berechtigung ist ungültig."), reason="claims", claim=claim)

    for name in ("iat", "exp"):
        if not isinstance(claims[name], int) or isinstance(claims[name], bool):
            raise bad(name)
    grace = claims.get("grace_until")
    if grace is not None and (not isinstance(grace, int) or isinstance(grace, bool)):
        raise bad("grace_until")
    if claims["typ"] != TOKEN_TYPE:
        raise bad("typ")
    if claims["plan"] not in {p.id for p in plans.PLANS}:
        raise bad("plan")
    if claims["status"] not in {s.value for s in SubscriptionStatus}:
        raise bad("status")
    if not isinstance(claims["features"], list) or not all(isinstance(f, str) for f in claims["features"]):
        raise bad("features")
    for name in ("sub", "location_id"):
        if not isinstance(claims[name], str) or not claims[name]:
            raise bad(name)
    if claims["exp"] <= claims["iat"]:
        raise bad("exp")
    known = {f.value for f in Feature}
    return Entitlement(
        organization_id=claims["sub"],
        location_id=claims["location_id"],
        plan_id=claims["plan"],
        # Names this desktop does not know yet (a newer server) are ignored, never guessed.
        features=frozenset(Feature(f) for f in claims["features"] if f in known),
        status=SubscriptionStatus(claims["status"]),
        issued_at=_moment(claims["iat"]),
        expires_at=_moment(claims["exp"]),
        grace_until=None if grace is None else _moment(grace),
        key_id=kid,
        token=token,
    )


def verify_entitlement(
    token: str,
    jwks: Mapping[str, Any],
    *,
    now: dt.datetime,
    issuer: str,
    audience: str = AUDIENCE,
    allow_expired: bool = False,
    leeway: dt.timedelta = CLOCK_LEEWAY,
) -> Entitlement:
    """Verify an entitlement token against ``jwks`` (a JWKS dict) at ``now``; raise EntitlementError.

    ES256 only (``alg: none``, HS256 with the public key and every other algorithm are refused before
    and during decoding), ``typ`` checked in the header and the claims, ``kid`` looked up in ``jwks``
    only. ``allow_expired`` re-verifies a stored token after ``exp`` (for the offline grace period).
    """
    now_s = _epoch(now)
    kid = _header_kid(token)
    claims = _decode(token, _public_key(jwks, kid), issuer=issuer, audience=audience)
    entitlement = _parse(claims, kid=kid, token=token)
    not_before = max(claims["iat"], claims["nbf"] if isinstance(claims.get("nbf"), int) else 0)
    if not_before > now_s + leeway.total_seconds():
        raise EntitlementError(
            N_("Die Berechtigung ist erst ab {issued_at} gültig – bitte Datum und Uhrzeit dieses Computers prüfen."),
            reason="not_yet_valid",
            issued_at=_local_datetime(entitlement.issued_at),
        )
    if not allow_expired and claims["exp"] <= now_s:
        raise EntitlementError(
            N_("Die Berechtigung ist am {expired_at} abgelaufen."),
            reason="expired",
            expired_at=_local_datetime(entitlement.expires_at),
        )
    return entitlement


class Mode(StrEnum):
    """How the desktop may work right now."""

    ACTIVE = "active"
    PAYMENT_GRACE = "payment_grace"  # past_due, within grace_until: everything works, banner shown
    OFFLINE_GRACE = "offline_grace"  # token expired, server unreachable: everything works, banner shown
    READ_ONLY = "read_only"  # see app.plans.READ_ONLY_FEATURES
    UNREGISTERED = "unregistered"  # no token yet: register the installation (Einstellungen → Sync & Konto)


@dataclass(frozen=True)
class EntitlementState:
    """The outcome of ``Entitlements.current``: mode, usable features and the German banners to show."""

    mode: Mode
    features: frozenset[Feature]
    banners: tuple[str, ...]
    entitlement: Entitlement | None
    offline_grace_until: dt.datetime | None

    @property
    def read_only(self) -> bool:
        """No new or changed business records (nothing is deleted; invoices stay printable)."""
        return self.mode in (Mode.READ_ONLY, Mode.UNREGISTERED)

    def allows(self, feature: Feature) -> bool:
        """Whether ``feature`` may be used now."""
        return feature in self.features

    def require(self, feature: Feature) -> None:
        """Raise FeatureLocked (German) unless ``feature`` may be used now."""
        if feature in self.features:
            return
        label = _(plans.FEATURE_LABELS[feature])
        if self.read_only:
            raise FeatureLocked(
                N_("CarBot arbeitet im Lesemodus – „{feature}“ ist derzeit nicht verfügbar."),
                reason="read_only",
                feature=label,
            )
        raise FeatureLocked(
            N_(
                "„{feature}“ ist in Ihrem Tarif nicht enthalten. "
                "Unter Einstellungen → Abo können Sie den Tarif wechseln."
            ),
            reason="plan",
            feature=label,
        )


class Entitlements:
    """The desktop's policy: keeps the last verified token and decides offline what is allowed.

    Full use until the token's ``exp``; then ``offline_grace`` (default 14 days) in mode
    ``offline_grace`` with a banner; after that read-only. The subscription state inside the token
    applies on top (``past_due`` after ``grace_until`` and ``cancelled`` are read-only). The clock never
    runs backwards for this policy: the latest time seen and the token's ``iat`` are floors for ``now``,
    so setting the PC's date back does not extend a grace period (persist ``clock_floor`` with the token).
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str = AUDIENCE,
        offline_grace: dt.timedelta = OFFLINE_GRACE,
        clock_floor: dt.datetime | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.offline_grace = offline_grace
        self._entitlement: Entitlement | None = None
        self._floor = clock_floor

    @property
    def token(self) -> str | None:
        """The kept token (to store between runs), or None."""
        return None if self._entitlement is None else self._entitlement.token

    @property
    def clock_floor(self) -> dt.datetime | None:
        """The latest time this policy has seen (to store between runs)."""
        return self._floor

    def accept(self, token: str, jwks: Mapping[str, Any], *, now: dt.datetime) -> Entitlement:
        """Verify a token fresh from the server and keep it unless the kept one is newer; returns the kept."""
        entitlement = verify_entitlement(token, jwks, now=now, issuer=self.issuer, audience=self.audience)
        return self._keep(entitlement)

    def restore(self, token: str, jwks: Mapping[str, Any], *, now: dt.datetime) -> Entitlement:
        """Re-verify a stored token at start-up; an expired one is kept for the offline grace period."""
        entitlement = verify_entitlement(
            token, jwks, now=now, issuer=self.issuer, audience=self.audience, allow_expired=True
        )
        return self._keep(entitlement)

    def _keep(self, entitlement: Entitlement) -> Entitlement:
        kept = self._entitlement
        if kept is None or entitlement.issued_at >= kept.issued_at:  # a replayed older token never wins
            self._entitlement = kept = entitlement
        return kept

    def current(self, now: dt.datetime) -> EntitlementState:
        """What is allowed at ``now`` (works offline)."""
        _epoch(now)  # aware datetimes only
        if self._floor is not None:
            now = max(now, self._floor)
        self._floor = now
        ent = self._entitlement
        if ent is None:
            banner = _(
                "Diese Installation ist noch nicht angemeldet. Unter Einstellungen → Sync & Konto starten Sie die "
                "{days}-tägige Testphase."
            ).format(days=plans.TRIAL_DAYS)
            return EntitlementState(Mode.UNREGISTERED, frozenset(), (banner,), None, None)
        now = max(now, ent.issued_at)
        grace_end = ent.expires_at + self.offline_grace
        if now >= grace_end:
            banner = _(
                "Lesemodus: Die Lizenz wurde zuletzt am {date} beim Server bestätigt. Ihre Daten bleiben "
                "vollständig erhalten, Rechnungen können weiterhin angesehen und gedruckt werden. Stellen Sie "
                "eine Internetverbindung her, um weiterzuarbeiten."
            ).format(date=_local_date(ent.issued_at))
            return self._state(Mode.READ_ONLY, ent, plans.READ_ONLY_FEATURES, (banner,), grace_end)
        if plans.is_read_only(ent.status, now=now, grace_until=ent.grace_until):
            banner = _(
                "Lesemodus: Ihr CarBot-Abo ist nicht aktiv. Ihre Daten bleiben vollständig erhalten, Rechnungen "
                "können weiterhin angesehen und gedruckt werden. Unter Einstellungen → Abo können Sie es wieder "
                "aktivieren."
            )
            return self._state(Mode.READ_ONLY, ent, plans.READ_ONLY_FEATURES, (banner,), grace_end)
        banners: list[str] = []
        mode = Mode.ACTIVE
        if ent.status is SubscriptionStatus.PAST_DUE and ent.grace_until is not None:
            mode = Mode.PAYMENT_GRACE
            banners.append(
                _(
                    "Die letzte Zahlung für Ihr CarBot-Abo ist fehlgeschlagen. Bitte aktualisieren Sie Ihre "
                    "Zahlungsdaten bis {date} (Einstellungen → Abo), sonst wechselt CarBot in den Lesemodus."
                ).format(date=_local_datetime(ent.grace_until))
            )
        if now >= ent.expires_at:
            mode = Mode.OFFLINE_GRACE
            banners.append(
                _(
                    "Offline: Die Lizenz wurde zuletzt am {since} beim Server bestätigt. Bitte stellen Sie bis "
                    "{deadline} eine Internetverbindung her, sonst wechselt CarBot in den Lesemodus."
                ).format(since=_local_date(ent.issued_at), deadline=_local_datetime(grace_end))
            )
        return self._state(mode, ent, ent.features, tuple(banners), grace_end)

    @staticmethod
    def _state(
        mode: Mode,
        ent: Entitlement,
        features: frozenset[Feature],
        banners: tuple[str, ...],
        grace_end: dt.datetime,
    ) -> EntitlementState:
        # The server's list is authoritative; read-only can only take features away, never add any.
        return EntitlementState(mode, ent.features & features, banners, ent, grace_end)

    def require(self, feature: Feature, *, now: dt.datetime) -> None:
        """Raise FeatureLocked (German) unless ``feature`` may be used at ``now``."""
        self.current(now).require(feature)
