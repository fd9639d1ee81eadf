"""Stripe subscriptions: Stripe ids and billing details on ``subscriptions``, the ``stripe_events`` table.

Revision ID: s0005
Revises: s0004
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0005"
down_revision = "s0004"
branch_labels = None
depends_on = None

_SCHEDULED = (
    "scheduled_plan_id IN ('starter', 'professional', 'enterprise') AND scheduled_interval IN ('month', 'year')"
)


def upgrade() -> None:
    """Add the Stripe columns (batch mode: SQLite rebuilds the table) and the event-id table."""
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("billing_interval", sa.String(8), nullable=True))
        batch.add_column(sa.Column("cancel_at_period_end", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("scheduled_plan_id", sa.String(20), nullable=True))
        batch.add_column(sa.Column("scheduled_interval", sa.String(8), nullable=True))
        batch.add_column(sa.Column("had_trial", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("stripe_customer_id", sa.String(255), nullable=True))
        batch.add_column(sa.Column("stripe_subscription_id", sa.String(255), nullable=True))
        batch.create_check_constraint("billing_interval", "billing_interval IN ('month', 'year')")
        batch.create_check_constraint("scheduled", _SCHEDULED)
        batch.create_unique_constraint(op.f("uq_subscriptions_stripe_customer_id"), ["stripe_customer_id"])
        batch.create_unique_constraint(op.f("uq_subscriptions_stripe_subscription_id"), ["stripe_subscription_id"])
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_stripe_events_organization_id_organizations",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_stripe_events"),
    )
    op.create_index("ix_stripe_events_organization_id", "stripe_events", ["organization_id"])
    op.create_index("ix_stripe_events_received_at", "stripe_events", ["received_at"])


def downgrade() -> None:
    """Drop the event table and the Stripe columns."""
    op.drop_table("stripe_events")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_constraint(op.f("uq_subscriptions_stripe_subscription_id"), type_="unique")
        batch.drop_constraint(op.f("uq_subscriptions_stripe_customer_id"), type_="unique")
        batch.drop_constraint(op.f("ck_subscriptions_scheduled"), type_="check")
        batch.drop_constraint(op.f("ck_subscriptions_billing_interval"), type_="check")
        for column in (
            "stripe_subscription_id",
            "stripe_customer_id",
            "had_trial",
            "scheduled_interval",
            "scheduled_plan_id",
            "cancel_at_period_end",
            "billing_interval",
        ):
            batch.drop_column(column)
