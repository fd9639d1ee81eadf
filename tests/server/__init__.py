"""Tests of the hosted API (sync/server)."""
