"""Tests of the hosted API (sync/server/), each tier on SQLite and on real PostgreSQL + Redis."""
