"""Bot tasks: leasing open tasks to a desktop agent and claiming overdue ones for the server.

A task is open while the conversation is ``bot`` and ``bot_task_seq > answered_seq`` (see
``models.Conversation``). Both functions lock the rows they take (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers never take the same task; SQLite has one writer) and set the lease
(``lease_holder``, ``lease_until``) and the next due time (``bot_due_at = lease_until``: if the holder
does not answer in time, the server's sweeper takes the task). The caller commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from sync.protocol_chat import AgentTask, ChatStatus
from sync.server.chat.models import Conversation
from sync.server.chat.service import SERVER_HOLDER, Claim, history
from sync.server.chat.wire import conversation_out


def _open_tasks(location_id: str | None = None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Conversation.status == ChatStatus.BOT.value,
        Conversation.bot_task_seq > Conversation.answered_seq,
    ]
    if location_id is not None:
        conditions.append(Conversation.location_id == location_id)
    return conditions


def lease_tasks(session: Session, location_id: str, holder: str, *, now: dt.datetime, lease_seconds: int,
                limit: int = 5) -> list[AgentTask]:  # fmt: skip
    """Lease the location's open, unleased bot tasks to a desktop agent (the caller commits)."""
    rows = session.scalars(
        select(Conversation)
        .where(*_open_tasks(location_id), or_(Conversation.lease_until.is_(None), Conversation.lease_until < now))
        .order_by(Conversation.bot_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    until = now + dt.timedelta(seconds=lease_seconds)
    tasks = []
    for row in rows:
        row.lease_holder, row.lease_until, row.bot_due_at = holder, until, until
        tasks.append(AgentTask(conversation=conversation_out(row), reply_to_seq=row.bot_task_seq, lease_until=until,
                               messages=history(session, row.id, upto=row.bot_task_seq)))  # fmt: skip
    return tasks


def claim_due(session: Session, *, now: dt.datetime, lease_seconds: int, limit: int = 20) -> list[Claim]:
    """Lease the overdue bot tasks of all locations to the server (the caller commits)."""
    rows = session.scalars(
        select(Conversation)
        .where(*_open_tasks(), Conversation.bot_due_at <= now)
        .order_by(Conversation.bot_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    until = now + dt.timedelta(seconds=lease_seconds)
    claims = []
    for row in rows:
        row.lease_holder, row.lease_until, row.bot_due_at = SERVER_HOLDER, until, until
        claims.append(Claim(row.id, row.organization_id, row.location_id, row.bot_task_seq))
    return claims
