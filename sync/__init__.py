"""Sync with the hosted API: wire protocol, client and (in sync/server/) the server."""
