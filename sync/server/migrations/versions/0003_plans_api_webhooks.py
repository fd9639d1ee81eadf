"""Subscriptions, API keys, webhook endpoints, the webhook outbox and the delivery log.

Revision ID: s0003
Revises: s0002
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0003"
down_revision = "s0002"
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id(name: str = "id", length: int = 36) -> sa.Column[object]:
    return sa.Column(name, sa.String(length), nullable=False)


def _fk(table: str, column: str, target: str, *, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    referred = target.split(".", maxsplit=1)[0]
    return sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}_{referred}", ondelete=ondelete)


def upgrade() -> None:
    """Create the plan, API-key and webhook tables."""
    op.create_table(
        "subscriptions",
        _id("organization_id"),
        sa.Column("plan_id", sa.String(20), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("trial_ends_at", nullable=True),
        _ts("current_period_end", nullable=True),
        _ts("grace_until", nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("plan_id IN ('starter', 'professional', 'enterprise')", name="ck_subscriptions_plan_id"),
        sa.CheckConstraint("status IN ('trialing', 'active', 'past_due', 'cancelled')", name="ck_subscriptions_status"),
        _fk("subscriptions", "organization_id", "organizations.id"),
        sa.PrimaryKeyConstraint("organization_id", name="pk_subscriptions"),
    )
    op.create_table(
        "api_keys",
        _id(),
        _id("organization_id"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        _ts("created_at"),
        _ts("last_used_at", nullable=True),
        _ts("revoked_at", nullable=True),
        _fk("api_keys", "organization_id", "organizations.id"),
        _fk("api_keys", "created_by", "users.id", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_organization_id", "api_keys", ["organization_id"])
    op.create_table(
        "webhook_endpoints",
        _id(),
        _id("organization_id"),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        _ts("created_at"),
        _ts("deleted_at", nullable=True),
        _fk("webhook_endpoints", "organization_id", "organizations.id"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
    )
    op.create_index("ix_webhook_endpoints_organization_id", "webhook_endpoints", ["organization_id"])
    op.create_table(
        "webhook_events",
        _id("id", 40),
        _id("organization_id"),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _ts("created_at"),
        _fk("webhook_events", "organization_id", "organizations.id"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_events"),
        sa.UniqueConstraint("organization_id", "type", "subject", name="uq_webhook_events_subject"),
    )
    op.create_table(
        "webhook_deliveries",
        _id(),
        _id("organization_id"),
        _id("endpoint_id"),
        _id("event_id", 40),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_try_at", nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=False),
        _ts("last_attempt_at", nullable=True),
        _ts("delivered_at", nullable=True),
        _ts("created_at"),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'cancelled')", name="ck_webhook_deliveries_status"
        ),
        _fk("webhook_deliveries", "organization_id", "organizations.id"),
        _fk("webhook_deliveries", "endpoint_id", "webhook_endpoints.id"),
        _fk("webhook_deliveries", "event_id", "webhook_events.id"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_try_at"])
    op.create_index("ix_webhook_deliveries_org", "webhook_deliveries", ["organization_id", "created_at"])
    op.create_index("ix_webhook_deliveries_endpoint_id", "webhook_deliveries", ["endpoint_id"])
    op.create_index("ix_webhook_deliveries_event_id", "webhook_deliveries", ["event_id"])


def downgrade() -> None:
    """Drop the plan, API-key and webhook tables."""
    for table in ("webhook_deliveries", "webhook_events", "webhook_endpoints", "api_keys", "subscriptions"):
        op.drop_table(table)
