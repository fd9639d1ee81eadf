"""report indexes: covering indexes for the owner's reports (issue 7)

The reports aggregate years of invoices in SQL; these indexes let SQLite answer each aggregate from an
index alone (no table lookups) and in the order of its GROUP BY (no temporary sort):

- invoice by issue date (and id, for the per-invoice VAT rounding) with the amounts: revenue per day;
- invoice by customer and date: new/returning customers, retention, RFM segments;
- invoice lines by invoice with kind, rate, net, AW and code: VAT per rate, labour/parts, top services;
- payments by date: open receivables as of a day;
- work orders by service date, vehicles by HU month, estimates by creation, appointments by start.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:00:00
"""
from __future__ import annotations

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
    ("ix_vehicle_hu_due", "vehicle", ["hu_due"]),
    ("ix_estimate_report", "estimate", ["created_at", "status"]),
    ("ix_appointment_report", "appointment", ["start", "status"]),
)  # fmt: skip


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
