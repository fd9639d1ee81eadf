"""Applied ops are remembered in the change log (``op_id``, ``version``), not in a row of their own.

A push of 100 new records wrote 300 rows (record, change, applied op); now 200. ``sync_applied_ops`` keeps
the answers without a change-log entry (conflicts, rejections) and the rows written before this revision.
Downgrading drops the op ids of the change log: an op applied after this revision and resent after the
downgrade is decided again (an upsert then answers ``conflict``, a final invoice ``duplicate``).

Revision ID: s0006
Revises: s0005
Create Date: 2026-11-28 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0006"
down_revision = "s0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Two nullable columns (a plain ALTER on both backends) and the unique index of the op ids."""
    with op.batch_alter_table("sync_change_log") as batch:
        batch.add_column(sa.Column("op_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
    op.create_index("ux_sync_change_log_op_id", "sync_change_log", ["op_id"], unique=True)


def downgrade() -> None:
    """Drop the index and the columns."""
    op.drop_index("ux_sync_change_log_op_id", table_name="sync_change_log")
    with op.batch_alter_table("sync_change_log") as batch:
        batch.drop_column("version")
        batch.drop_column("op_id")
