"""Tables of the outgoing webhooks: endpoints, the event outbox and the delivery log.

- ``webhook_endpoints``: a URL of the organisation, the events it wants and its signing secret. The
  secret must be readable by the server (it signs every delivery with it), so it is stored as is,
  shown to the owner once, and never returned by any list.
- ``webhook_events``: the transactional outbox. An event row is written in the same transaction as
  the change that caused it (a pushed appointment or invoice, a lead), so a rolled-back change never
  sends an event and a committed one always does. ``(organization_id, type, subject)`` is unique:
  "created" events fire once per subject even if the trigger runs twice.
- ``webhook_deliveries``: one row per event and endpoint: the work queue of the delivery worker and
  the delivery log the owner reads (status, attempts, next_try_at, last status code and error).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync.server.models import Base, UTCDateTime, new_id, utcnow

DELIVERY_STATUS_CHECK = "status IN ('pending', 'delivered', 'failed', 'cancelled')"


class WebhookEndpoint(Base):
    """A receiver of the organisation's events (``deleted_at`` set = removed; its log stays)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class WebhookEvent(Base):
    """One event in the outbox; ``payload`` is the exact JSON object every endpoint receives."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("organization_id", "type", "subject", name="uq_webhook_events_subject"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # evt_<uuid hex>
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """Delivering one event to one endpoint: queue entry and log line in one."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(DELIVERY_STATUS_CHECK, name="status"),
        Index("ix_webhook_deliveries_due", "status", "next_try_at"),
        Index("ix_webhook_deliveries_org", "organization_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
