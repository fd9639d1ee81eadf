"""Alembic history of the server database (separate from the desktop schema in app/migrations)."""
