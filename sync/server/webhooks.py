"""Outgoing webhooks: endpoints, URL rules, the outbox (``emit_event``) and the delivery log.

Events: ``appointment.created`` (a desktop pushed a new appointment), ``invoice.finalized`` (a final
invoice or Stornorechnung arrived; invoices are only ever pushed when final) and ``lead.created``
(the web chat calls ``emit_event`` once it exists). ``webhooks_sync`` emits the first two in the
transaction of the sync push; ``webhooks_delivery`` sends, signs and retries (docs/api.md).

**Target URLs (SSRF).** Only ``https://`` with a public host. Refused at registration: other schemes,
user info in the URL, ``localhost`` names and IP literals that are not globally routable (private,
loopback, link-local incl. 169.254.169.254, CGNAT, multicast, reserved, IPv4-mapped variants). Host
names are resolved at delivery time and EVERY address must be public; the connection then goes to the
vetted address (no second lookup, so DNS rebinding cannot swap it). ``http://127.0.0.1``,
``http://[::1]`` and ``http://localhost`` are accepted only with ``CARBOT_WEBHOOK_ALLOW_LOCAL_HTTP=1``,
a development and test setting that production never sets.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal, cast
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.plans import Feature
from sync.server.errors import Conflict, NotFound, Unprocessable
from sync.server.plans_gate import plan_state
from sync.server.schemas import Request
from sync.server.webhooks_models import WebhookDelivery, WebhookEndpoint, WebhookEvent

MAX_ENDPOINTS = 20
"""Active endpoints per organisation."""
API_VERSION = "2026-12-01"
SECRET_PREFIX = "whsec_"
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
BAD_URL = "Die Adresse muss mit https:// beginnen und einen öffentlich erreichbaren Server nennen."


class EventType(StrEnum):
    """Events an endpoint can subscribe to."""

    APPOINTMENT_CREATED = "appointment.created"
    INVOICE_FINALIZED = "invoice.finalized"
    LEAD_CREATED = "lead.created"


DeliveryStatus = Literal["pending", "delivered", "failed", "cancelled"]


class EndpointCreate(Request):
    """A new receiver: its https URL, the events it wants, a note for the owner."""

    url: Annotated[
        str, Field(min_length=10, max_length=2048, pattern="^https?://", examples=["https://crm.example.de/carbot"])
    ]
    events: Annotated[list[EventType], Field(min_length=1, max_length=len(EventType))]
    description: Annotated[str, Field(max_length=200)] = ""


class EndpointPublic(BaseModel):
    """An endpoint as lists show it: never the secret."""

    id: str
    url: str
    events: list[EventType]
    description: str
    created_at: dt.datetime
    deleted_at: dt.datetime | None


class EndpointCreated(EndpointPublic):
    """A new endpoint WITH its signing ``secret``: shown this once."""

    secret: str


class DeliveryPublic(BaseModel):
    """One line of the delivery log."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    next_try_at: dt.datetime | None
    last_status_code: int | None
    last_error: str
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime


def address_allowed(address: str, *, allow_local: bool) -> bool:
    """True for a globally routable unicast address (and loopback when ``allow_local``)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if allow_local and ip.is_loopback:
        return True
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_local: bool) -> str:
    """The URL if it may receive webhooks (see the module docstring), else 422 on ``url``."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        _port = parts.port  # ValueError for a port out of range
    except ValueError:
        raise Unprocessable(BAD_URL, field="url") from None
    if not host or parts.username is not None or parts.password is not None or parts.fragment:
        raise Unprocessable(BAD_URL, field="url")
    local = host in LOCAL_HOSTS
    if parts.scheme == "http" and not (allow_local and local):
        raise Unprocessable(BAD_URL, field="url")
    if parts.scheme not in ("https", "http"):
        raise Unprocessable(BAD_URL, field="url")
    if local or host.endswith(".localhost"):
        if not allow_local:
            raise Unprocessable(BAD_URL, field="url")
        return url.strip()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return url.strip()  # a name: checked against its addresses at every delivery
    if not address_allowed(host, allow_local=allow_local):
        raise Unprocessable(BAD_URL, field="url")
    return url.strip()


def endpoint_public(row: WebhookEndpoint) -> EndpointPublic:
    """The wire form of an endpoint without its secret."""
    return EndpointPublic(
        id=row.id,
        url=row.url,
        events=[EventType(e) for e in row.events],
        description=row.description,
        created_at=row.created_at,
        deleted_at=row.deleted_at,
    )


def create_endpoint(
    session: Session, organization_id: str, body: EndpointCreate, *, now: dt.datetime, allow_local: bool
) -> EndpointCreated:
    """Register an endpoint (the caller checked role/scope and the ``public_api`` feature)."""
    url = check_url(body.url, allow_local=allow_local)
    active = session.scalars(
        select(WebhookEndpoint.id).where(
            WebhookEndpoint.organization_id == organization_id, WebhookEndpoint.deleted_at.is_(None)
        )
    ).all()
    if len(active) >= MAX_ENDPOINTS:
        raise Conflict("Es sind höchstens {limit} Webhook-Empfänger möglich.", code="too_many", limit=MAX_ENDPOINTS)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    events = [e.value for e in dict.fromkeys(body.events)]
    row = WebhookEndpoint(organization_id=organization_id, url=url, events=events,
                          description=body.description.strip(), secret=secret, created_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    return EndpointCreated(**endpoint_public(row).model_dump(), secret=secret)


def list_endpoints(session: Session, organization_id: str) -> list[EndpointPublic]:
    """The organisation's active endpoints, oldest first."""
    rows = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.organization_id == organization_id, WebhookEndpoint.deleted_at.is_(None))
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return [endpoint_public(row) for row in rows]


def delete_endpoint(session: Session, organization_id: str, endpoint_id: str, *, now: dt.datetime) -> EndpointPublic:
    """Remove an endpoint: nothing more is sent to it (pending deliveries are cancelled), its log stays."""
    row = session.get(WebhookEndpoint, endpoint_id)
    if row is None or row.organization_id != organization_id or row.deleted_at is not None:
        raise NotFound("Webhook-Empfänger nicht gefunden.")
    row.deleted_at = now
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == row.id, WebhookDelivery.status == "pending")
        .values(status="cancelled", next_try_at=None, last_error="Empfänger entfernt.")
    )
    session.flush()
    return endpoint_public(row)


def list_deliveries(
    session: Session,
    organization_id: str,
    *,
    endpoint_id: str | None = None,
    status: DeliveryStatus | None = None,
    limit: int = 100,
) -> list[DeliveryPublic]:
    """The delivery log of the organisation, newest first."""
    query = (
        select(WebhookDelivery, WebhookEvent.type)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.organization_id == organization_id)
    )
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    rows = session.execute(query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit))
    return [
        DeliveryPublic(id=d.id, endpoint_id=d.endpoint_id, event_id=d.event_id, event_type=EventType(kind),
                       status=cast(DeliveryStatus, d.status), attempts=d.attempts, next_try_at=d.next_try_at,
                       last_status_code=d.last_status_code, last_error=d.last_error,
                       last_attempt_at=d.last_attempt_at, delivered_at=d.delivered_at, created_at=d.created_at)
        for d, kind in rows
    ]  # fmt: skip


def emit_event(
    db: Session | Connection,
    organization_id: str,
    event_type: EventType,
    *,
    subject: str,
    data: dict[str, Any],
    now: dt.datetime,
) -> str | None:
    """Put an event into the outbox, in the caller's transaction; returns its id.

    ``subject`` identifies what the event is about (e.g. ``<location>:<appointment id>``); an event of
    the same type and subject is written only once, so a trigger that runs twice sends nothing twice.
    Nothing is written (None) when no active endpoint subscribes to ``event_type`` or the
    organisation's plan has no ``public_api``. The chat calls this for ``lead.created`` with its
    session; the sync push hook (``webhooks_sync``) with the push's connection. Core statements only,
    so it works on both and never triggers a flush.
    """
    ep = WebhookEndpoint.__table__.c
    endpoints = [
        endpoint_id
        for endpoint_id, events in db.execute(
            select(ep.id, ep.events).where(ep.organization_id == organization_id, ep.deleted_at.is_(None))
        )
        if event_type.value in events
    ]
    if not endpoints or Feature.PUBLIC_API not in plan_state(db, organization_id).features(now):
        return None
    event_id = "evt_" + uuid.uuid4().hex
    payload = {
        "id": event_id,
        "type": event_type.value,
        "api_version": API_VERSION,
        "created": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "organization_id": organization_id,
        "data": data,
    }
    dialect = db.get_bind().dialect.name if isinstance(db, Session) else db.dialect.name
    make_insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = make_insert(WebhookEvent.__table__).values(
        id=event_id, organization_id=organization_id, type=event_type.value, subject=subject[:120],
        payload=payload, created_at=now,
    )  # fmt: skip
    conflict_free = stmt.on_conflict_do_nothing(index_elements=["organization_id", "type", "subject"])
    if db.execute(conflict_free.returning(WebhookEvent.__table__.c.id)).first() is None:
        return None
    db.execute(
        insert(WebhookDelivery),
        [{"id": str(uuid.uuid4()), "organization_id": organization_id, "endpoint_id": endpoint_id,
          "event_id": event_id, "status": "pending", "attempts": 0, "next_try_at": now, "last_error": "",
          "created_at": now} for endpoint_id in endpoints],
    )  # fmt: skip
    return event_id
