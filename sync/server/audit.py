"""Server-side security audit trail: ids and event kinds only, never personal data or secrets."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from sync.server.models import AuditEvent, AuditKind

log = logging.getLogger(__name__)


def record(
    session: Session,
    kind: AuditKind,
    *,
    at: dt.datetime,
    organization_id: str | None = None,
    user_id: str | None = None,
    device_id: str | None = None,
    detail: str = "",
) -> None:
    """Add one audit event to the current unit of work (and a log line with the same ids)."""
    session.add(
        AuditEvent(
            at=at,
            kind=kind.value,
            organization_id=organization_id,
            user_id=user_id,
            device_id=device_id,
            detail=detail[:200],
        )
    )
    log.info("audit %s org=%s user=%s device=%s %s", kind.value, organization_id, user_id, device_id, detail)
