"""Accounts, locations, devices, signing keys, refresh tokens, revocations, audit events.

Revision ID: s0001
Revises:
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0001"
down_revision = None
branch_labels = None
depends_on = None

ROLE_CHECK = "role IN ('owner', 'counter', 'mechanic', 'auditor')"


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id(name: str = "id") -> sa.Column[object]:
    return sa.Column(name, sa.String(36), nullable=False)


def upgrade() -> None:
    """Create the first server schema."""
    op.create_table(
        "organizations",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
    )
    op.create_table(
        "locations",
        _id(),
        _id("organization_id"),
        sa.Column("name", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_locations_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_locations"),
        sa.UniqueConstraint("organization_id", "name", name="uq_locations_org_name"),
    )
    op.create_index("ix_locations_organization_id", "locations", ["organization_id"])
    op.create_table(
        "users",
        _id(),
        _id("organization_id"),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        _ts("locked_until", nullable=True),
        _ts("created_at"),
        _ts("last_login_at", nullable=True),
        sa.CheckConstraint(ROLE_CHECK, name="ck_users_role"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_users_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_index("ix_users_organization_id", "users", ["organization_id"])
    op.create_table(
        "user_locations",
        _id("user_id"),
        _id("location_id"),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name="fk_user_locations_location_id_locations", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_locations_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "location_id", name="pk_user_locations"),
    )
    op.create_table(
        "devices",
        _id(),
        _id("organization_id"),
        _id("location_id"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_devices_created_by_users", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name="fk_devices_location_id_locations", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_devices_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_devices"),
    )
    op.create_index("ix_devices_organization_id", "devices", ["organization_id"])
    op.create_index("ix_devices_location_id", "devices", ["location_id"])
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        _ts("created_at"),
        _ts("retired_at", nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_signing_keys"),
    )
    op.create_table(
        "refresh_tokens",
        _id(),
        _id("family_id"),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("device_id", sa.String(36), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("parent_id", sa.String(36), nullable=True),
        _ts("created_at"),
        _ts("used_at", nullable=True),
        _ts("revoked_at", nullable=True),
        _ts("expires_at"),
        _ts("absolute_expires_at"),
        sa.Column("access_jti", sa.String(64), nullable=True),
        _ts("access_expires_at", nullable=True),
        sa.CheckConstraint("(user_id IS NULL) <> (device_id IS NULL)", name="ck_refresh_tokens_one_owner"),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name="fk_refresh_tokens_device_id_devices", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_refresh_tokens_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"])
    op.create_index("ix_refresh_tokens_device_id", "refresh_tokens", ["device_id"])
    op.create_table(
        "revoked_access_tokens",
        sa.Column("jti", sa.String(64), nullable=False),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("jti", name="pk_revoked_access_tokens"),
    )
    op.create_index("ix_revoked_access_tokens_expires_at", "revoked_access_tokens", ["expires_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        _ts("at"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=True),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("device_id", sa.String(36), nullable=True),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_organization_id", "audit_events", ["organization_id"])


def downgrade() -> None:
    """Drop the whole server schema."""
    for table in (
        "audit_events",
        "revoked_access_tokens",
        "refresh_tokens",
        "signing_keys",
        "devices",
        "user_locations",
        "users",
        "locations",
        "organizations",
    ):
        op.drop_table(table)
