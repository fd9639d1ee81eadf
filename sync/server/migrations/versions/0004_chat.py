"""Web chat: widget keys, conversations, messages, booking requests, public profiles (issue 6).

Revision ID: s0004
Revises: s0003
Create Date: 2026-11-27 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0004"
down_revision = "s0003"
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id(name: str = "id") -> sa.Column[object]:
    return sa.Column(name, sa.String(36), nullable=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".", maxsplit=1)[0]
    return sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}_{referred}", ondelete="CASCADE")


def upgrade() -> None:
    """Create the chat tables."""
    op.create_table(
        "chat_widget_keys",
        _id("location_id"),
        _id("organization_id"),
        sa.Column("public_key", sa.String(40), nullable=False),
        sa.Column("allowed_domains", sa.JSON(), nullable=False),
        sa.Column("branding", sa.JSON(none_as_null=True), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _fk("chat_widget_keys", "location_id", "locations.id"),
        _fk("chat_widget_keys", "organization_id", "organizations.id"),
        sa.PrimaryKeyConstraint("location_id", name="pk_chat_widget_keys"),
        sa.UniqueConstraint("public_key", name="uq_chat_widget_keys_public_key"),
    )
    op.create_index("ix_chat_widget_keys_organization_id", "chat_widget_keys", ["organization_id"])
    op.create_table(
        "chat_public_profiles",
        _id("location_id"),
        _id("organization_id"),
        sa.Column("profile", sa.JSON(), nullable=False),
        _ts("updated_at"),
        _fk("chat_public_profiles", "location_id", "locations.id"),
        _fk("chat_public_profiles", "organization_id", "organizations.id"),
        sa.PrimaryKeyConstraint("location_id", name="pk_chat_public_profiles"),
    )
    op.create_index("ix_chat_public_profiles_organization_id", "chat_public_profiles", ["organization_id"])
    op.create_table(
        "chat_conversations",
        _id(),
        _id("organization_id"),
        _id("location_id"),
        sa.Column("visitor_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        _ts("consent_at"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_visitor_seq", sa.Integer(), nullable=False),
        sa.Column("answered_seq", sa.Integer(), nullable=False),
        sa.Column("bot_task_seq", sa.Integer(), nullable=False),
        _ts("bot_due_at", nullable=True),
        sa.Column("lease_holder", sa.String(36), nullable=True),
        _ts("lease_until", nullable=True),
        sa.Column("is_lead", sa.Boolean(), nullable=False),
        _ts("lead_at", nullable=True),
        sa.Column("contact", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("handoff_reason", sa.String(200), nullable=False),
        sa.Column("bot_stopped_by_limit", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "status IN ('bot', 'waiting_staff', 'staff', 'closed')", name="ck_chat_conversations_status"
        ),
        sa.CheckConstraint("language IN ('de', 'en', 'tr', 'pl')", name="ck_chat_conversations_language"),
        _fk("chat_conversations", "organization_id", "organizations.id"),
        _fk("chat_conversations", "location_id", "locations.id"),
        sa.PrimaryKeyConstraint("id", name="pk_chat_conversations"),
    )
    op.create_index("ix_chat_conversations_location", "chat_conversations", ["location_id", "updated_at"])
    op.create_index("ix_chat_conversations_leads", "chat_conversations", ["organization_id", "lead_at"])
    op.create_index("ix_chat_conversations_created", "chat_conversations", ["organization_id", "created_at"])
    op.create_index("ix_chat_conversations_due", "chat_conversations", ["bot_due_at"])
    op.create_table(
        "chat_messages",
        _id(),
        _id("conversation_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("quick_replies", sa.JSON(), nullable=False),
        sa.Column("client_id", sa.String(36), nullable=True),
        sa.Column("reply_to_seq", sa.Integer(), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint("author IN ('visitor', 'bot', 'staff', 'system')", name="ck_chat_messages_author"),
        _fk("chat_messages", "conversation_id", "chat_conversations.id"),
        sa.PrimaryKeyConstraint("id", name="pk_chat_messages"),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_chat_messages_seq"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_chat_messages_client_id"),
    )
    op.create_table(
        "chat_booking_requests",
        _id(),
        _id("organization_id"),
        _id("location_id"),
        _id("conversation_id"),
        sa.Column("client_id", sa.String(36), nullable=True),
        sa.Column("service_code", sa.String(20), nullable=False),
        sa.Column("service_name", sa.String(200), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        _ts("created_at"),
        _fk("chat_booking_requests", "organization_id", "organizations.id"),
        _fk("chat_booking_requests", "location_id", "locations.id"),
        _fk("chat_booking_requests", "conversation_id", "chat_conversations.id"),
        sa.PrimaryKeyConstraint("id", name="pk_chat_booking_requests"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_chat_booking_requests_client_id"),
    )
    op.create_index("ix_chat_booking_requests_organization_id", "chat_booking_requests", ["organization_id"])
    op.create_index("ix_chat_booking_requests_location", "chat_booking_requests", ["location_id", "created_at"])


def downgrade() -> None:
    """Drop the chat tables."""
    for table in (
        "chat_booking_requests",
        "chat_messages",
        "chat_conversations",
        "chat_public_profiles",
        "chat_widget_keys",
    ):
        op.drop_table(table)
