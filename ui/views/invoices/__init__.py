"""Invoices at the counter: the list with its filters, the preview, payments, Storno and reminders."""
