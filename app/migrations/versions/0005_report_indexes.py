"""report indexes: covering indexes for the owner's reports (issue 7)

The reports aggregate years of invoices in SQL; these indexes let SQLite answer each aggregate from an
index alone (no table lookups) and in the order of its GROUP BY (no temporary sort):

- invoice by issue date (and id, for the per-invoice VAT rounding) with the amounts: revenue per day;
- invoice by customer and date: new/returning customers, retention, RFM segments;
- invoice lines by invoice with kind, rate, net, AW and code: VAT per rate, labour/parts, top services;
- payments by date: open receivables as of a day;
- the Stornorechnungen (partial index): every cancelled invoice with its Storno's date;
- work orders by service date with their labour lines, vehicles by HU month, estimates by creation,
  appointments by start.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_invoice_report_day", "invoice",
     ["issue_date", "id", "status", "kind", "customer_id", "net_total", "tax_total", "gross_total", "due_date"]),
    ("ix_invoice_report_customer", "invoice", ["customer_id", "issue_date", "kind", "status", "net_total"]),
    ("ix_invoice_line_report", "invoice_line", ["invoice_id", "kind", "vat_rate", "net", "aw", "part_no"]),
    ("ix_payment_report", "payment", ["date", "amount"]),
    ("ix_work_order_report", "work_order", ["date_of_service", "status"]),
    ("ix_order_line_report", "order_line", ["work_order_id", "kind", "proposed", "mechanic_id", "aw_actual", "aw"]),
    ("ix_vehicle_hu_due", "vehicle", ["hu_due"]),
    ("ix_estimate_report", "estimate", ["created_at", "status"]),
    ("ix_appointment_report", "appointment", ["start", "status"]),
)  # fmt: skip


# Stornorechnungen only (a few per cent of the invoices): the reports read every cancelled invoice.
STORNO_INDEX = ("ix_invoice_report_storno", "invoice", ["cancels_id", "issue_date", "status"])


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    name, table, columns = STORNO_INDEX
    op.create_index(name, table, columns, unique=False, sqlite_where=sa.text("cancels_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index(STORNO_INDEX[0], table_name=STORNO_INDEX[1])
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
