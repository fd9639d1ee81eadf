"""Sync protocol: counters, records, applied ops, change log, daily facts, number prefixes.

Revision ID: s0002
Revises: s0001
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organization_id"],
        ["organizations.id"],
        name=f"fk_{table}_organization_id_organizations",
        ondelete="CASCADE",
    )


def _location_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["location_id"], ["locations.id"], name=f"fk_{table}_location_id_locations", ondelete="CASCADE"
    )


def _money(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Numeric(14, 2), nullable=False)


def upgrade() -> None:
    """Create the sync tables."""
    op.create_table(
        "sync_counters",
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("pruned_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", name="pk_sync_counters"),
        _org_fk("sync_counters"),
    )
    op.create_table(
        "sync_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("location_id", sa.String(36), nullable=False),
        sa.Column("stream", sa.String(20), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hlc", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        _ts("deleted_at", nullable=True),
        _ts("updated_at"),
        sa.Column("origin_device", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sync_records"),
        sa.UniqueConstraint("organization_id", "location_id", "entity", "entity_id", name="uq_sync_records_key"),
        _org_fk("sync_records"),
    )
    op.create_index("ix_sync_records_stream", "sync_records", ["organization_id", "stream", "id"])
    op.create_table(
        "sync_applied_ops",
        sa.Column("op_id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("device_id", sa.String(36), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("op_id", name="pk_sync_applied_ops"),
        _org_fk("sync_applied_ops"),
    )
    op.create_index("ix_sync_applied_ops_created_at", "sync_applied_ops", ["created_at"])
    op.create_table(
        "sync_change_log",
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stream", sa.String(20), nullable=False),
        sa.Column("location_id", sa.String(36), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("origin_device", sa.String(36), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("organization_id", "seq", name="pk_sync_change_log"),
        _org_fk("sync_change_log"),
    )
    op.create_index("ix_sync_change_log_stream", "sync_change_log", ["organization_id", "stream", "seq"])
    op.create_table(
        "sync_daily_facts",
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("location_id", sa.String(36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hlc", sa.String(64), nullable=False),
        sa.Column("revenue", sa.JSON(), nullable=False),
        _money("net_total"),
        _money("tax_total"),
        _money("gross_total"),
        _money("altteil_tax"),
        sa.Column("invoice_count", sa.Integer(), nullable=False),
        sa.Column("storno_count", sa.Integer(), nullable=False),
        _money("aw_sold"),
        _money("labour_net"),
        _money("parts_net"),
        _money("other_net"),
        sa.Column("new_customers", sa.Integer(), nullable=False),
        sa.Column("appointments", sa.Integer(), nullable=False),
        sa.Column("chats", sa.Integer(), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("organization_id", "location_id", "day", name="pk_sync_daily_facts"),
        _org_fk("sync_daily_facts"),
        _location_fk("sync_daily_facts"),
    )
    op.create_table(
        "sync_number_prefixes",
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("prefix", sa.String(10), nullable=False),
        sa.Column("location_id", sa.String(36), nullable=False),
        _ts("claimed_at"),
        sa.PrimaryKeyConstraint("organization_id", "prefix", name="pk_sync_number_prefixes"),
        _org_fk("sync_number_prefixes"),
        _location_fk("sync_number_prefixes"),
    )


def downgrade() -> None:
    """Drop the sync tables."""
    for table in (
        "sync_number_prefixes",
        "sync_daily_facts",
        "sync_change_log",
        "sync_applied_ops",
        "sync_records",
        "sync_counters",
    ):
        op.drop_table(table)
