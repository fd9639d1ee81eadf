"""chat: desktop-side web-chat bookkeeping (links, imported booking requests, LLM usage) — issue 6

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_link",
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("read_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_chat_link_customer_id_customer"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.id"], name=op.f("fk_chat_link_vehicle_id_vehicle"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_chat_link_appointment_id_appointment"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_chat_link")),
    )
    op.create_table(
        "chat_booking_import",
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_chat_booking_import_appointment_id_appointment"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("booking_id", name=op.f("pk_chat_booking_import")),
    )
    op.create_index(
        op.f("ix_chat_booking_import_conversation_id"), "chat_booking_import", ["conversation_id"], unique=False
    )
    op.create_table(
        "chat_llm_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("message_client_id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("cached_input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("reasoning_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_eur", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column("price_table_version", sa.String(length=20), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_llm_usage")),
    )
    op.create_index("ix_chat_llm_usage_month", "chat_llm_usage", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_chat_llm_usage_month", table_name="chat_llm_usage")
    op.drop_table("chat_llm_usage")
    op.drop_index(op.f("ix_chat_booking_import_conversation_id"), table_name="chat_booking_import")
    op.drop_table("chat_booking_import")
    op.drop_table("chat_link")
