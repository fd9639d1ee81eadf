"""Test support code shared by several test tiers (real PostgreSQL and Redis servers for the hosted API)."""
