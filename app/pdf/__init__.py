"""PDF documents (Qt-free): invoices and Stornorechnungen, payment reminders and dunning letters.

ReportLab with the shipped DejaVu fonts only, DIN 5008 Form B letters, A4, reproducible bytes.
"""

from __future__ import annotations

from app.pdf.dunning import OpenInvoice, ReminderDocument, ReminderLevel, render_reminder_pdf
from app.pdf.girocode import girocode_payload
from app.pdf.invoice import render_invoice_pdf
from app.pdf.layout import PdfStyle

__all__ = [
    "OpenInvoice",
    "PdfStyle",
    "ReminderDocument",
    "ReminderLevel",
    "girocode_payload",
    "render_invoice_pdf",
    "render_reminder_pdf",
]
