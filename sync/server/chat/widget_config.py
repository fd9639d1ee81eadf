"""Widget keys, allowed domains, branding and the public profile of a location.

**Key.** One public key per location (``wk_`` + 24 URL-safe characters), created on the first
``GET /v1/chat/widget``. It is public by design (it sits in the website's script tag); it names the
location, it authorises nothing beyond starting a visitor conversation.

**Allowed domains.** Host names (``werkstatt-berger.de``); a host matches itself and its subdomains
(``www.werkstatt-berger.de``). An empty list allows any site (the default of a fresh location, so the
snippet works at once; the settings page recommends filling it in). The check runs on the ``Referer``
of the frame request and on the ``Origin``/``Referer`` of the widget API calls (see
``routes/widget.py``), and the frame's CSP ``frame-ancestors`` lets browsers enforce it too.

**Branding.** Stored branding, else the workshop name from the public profile, else the organisation's
name. ``show_powered_by`` is forced on without the ``white_label`` feature; colours must be ``#rgb`` or
``#rrggbb`` and image/privacy links ``https://`` (the frame puts them into CSS and ``<img>``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.plans import Feature
from sync.protocol_chat import Branding, WidgetConfig, WidgetConfigIn
from sync.server.chat.models import PublicProfileRow, WidgetKey
from sync.server.errors import Unprocessable
from sync.server.models import Organization
from sync.server.plans_gate import plan_state

KEY_PREFIX = "wk_"
MAX_PROFILE_BYTES = 512 * 1024
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
BAD_DOMAIN = "Ungültige Domain „{domain}“."
BAD_COLOR = "Die Farbe muss als #RRGGBB angegeben werden."
BAD_LINK = "Links müssen mit https:// beginnen."
BAD_PROFILE = "Das Werkstattprofil ist ungültig: {reason}"


def new_public_key() -> str:
    """A fresh widget key: ``wk_`` + 24 URL-safe characters (144 random bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(18)


def get_or_create_key(session: Session, organization_id: str, location_id: str, *, now: dt.datetime) -> WidgetKey:
    """The location's widget key (created on first use, with an empty allow-list)."""
    row = session.get(WidgetKey, location_id)
    if row is None:
        row = WidgetKey(location_id=location_id, organization_id=organization_id, public_key=new_public_key(),
                        allowed_domains=[], branding=None, created_at=now, updated_at=now)  # fmt: skip
        session.add(row)
        session.flush()
    return row


def key_by_public(session: Session, public_key: str) -> WidgetKey | None:
    """The widget key row for a public key (None when unknown)."""
    return session.scalars(select(WidgetKey).where(WidgetKey.public_key == public_key)).first()


def normalise_domain(text: str) -> str:
    """``https://www.Example.de/kontakt`` → ``www.example.de``; 422 for anything that is no host name."""
    value = text.strip().lower()
    if "://" in value:
        value = urlsplit(value).hostname or ""
    value = value.split("/", 1)[0].split(":", 1)[0].removeprefix("*.").strip(".")
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        value = ""
    if not _HOST.match(value):
        raise Unprocessable(BAD_DOMAIN, field="allowed_domains", domain=text[:80])
    return value


def host_of(url: str | None) -> str | None:
    """The lower-case host of an ``Origin`` or ``Referer`` value (None when there is none)."""
    if not url or url == "null":
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def host_allowed(host: str, allowed: list[str]) -> bool:
    """True when ``host`` is an allowed domain or one of its subdomains (any host for an empty list)."""
    return not allowed or any(host == domain or host.endswith("." + domain) for domain in allowed)


def load_profile(session: Session, location_id: str) -> dict[str, Any] | None:
    """The location's stored public profile (None before the desktop uploaded one)."""
    row = session.get(PublicProfileRow, location_id)
    return None if row is None else dict(row.profile)


def validate_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """Check a profile with ``app.chat.profile.PublicProfile.from_dict`` and its size; 422 otherwise."""
    if len(json.dumps(profile, separators=(",", ":"))) > MAX_PROFILE_BYTES:
        raise Unprocessable(BAD_PROFILE, field="profile", reason="zu groß")
    from app.chat.profile import PublicProfile

    try:
        return PublicProfile.from_dict(profile).to_dict()
    except (ValueError, TypeError, KeyError) as exc:
        raise Unprocessable(BAD_PROFILE, field="profile", reason=str(exc)[:200]) from exc


def store_profile(session: Session, organization_id: str, location_id: str, profile: dict[str, Any],
                  *, now: dt.datetime) -> None:  # fmt: skip
    """Replace the location's public profile."""
    row = session.get(PublicProfileRow, location_id)
    if row is None:
        session.add(PublicProfileRow(location_id=location_id, organization_id=organization_id, profile=profile,
                                     updated_at=now))  # fmt: skip
    else:
        row.profile, row.updated_at = profile, now


def branding_for(session: Session, key: WidgetKey, *, now: dt.datetime) -> Branding:
    """What the widget shows: stored branding or defaults (see the module docstring)."""
    if key.branding:
        branding = Branding.model_validate(key.branding)
    else:
        profile = load_profile(session, key.location_id) or {}
        org = session.get(Organization, key.organization_id)
        name = str(profile.get("workshop_name") or (org.name if org else "") or "Werkstatt")
        branding = Branding(name=name[:100], phone=str(profile.get("phone") or "")[:40])
    if Feature.WHITE_LABEL not in plan_state(session, key.organization_id).features(now):
        branding = branding.model_copy(update={"show_powered_by": True})
    return branding


def _checked_branding(branding: Branding) -> Branding:
    if not _COLOR.match(branding.color):
        raise Unprocessable(BAD_COLOR, field="branding.color")
    for name in ("logo_url", "privacy_url"):
        link = getattr(branding, name)
        if link is not None and (not link.startswith("https://") or len(link) > 500 or host_of(link) is None):
            raise Unprocessable(BAD_LINK, field=f"branding.{name}")
    if not branding.name.strip() or len(branding.name) > 100 or len(branding.phone) > 40:
        raise Unprocessable("Bitte einen Namen (höchstens 100 Zeichen) angeben.", field="branding.name")
    return branding


def update_config(key: WidgetKey, body: WidgetConfigIn, *, now: dt.datetime) -> None:
    """Apply changed allowed domains and/or branding."""
    if body.allowed_domains is not None:
        key.allowed_domains = sorted({normalise_domain(domain) for domain in body.allowed_domains})
    if body.branding is not None:
        key.branding = _checked_branding(body.branding).model_dump()
    key.updated_at = now


def snippet(base_url: str, public_key: str) -> str:
    """The script tag for the workshop's website."""
    return f'<script src="{base_url}/widget.js" data-location-key="{public_key}" async></script>'


def widget_config(session: Session, key: WidgetKey, *, base_url: str, now: dt.datetime) -> WidgetConfig:
    """The location's widget settings as the desktop shows them."""
    return WidgetConfig(location_id=key.location_id, public_key=key.public_key,
                        allowed_domains=list(key.allowed_domains), branding=branding_for(session, key, now=now),
                        snippet=snippet(base_url, key.public_key))  # fmt: skip
