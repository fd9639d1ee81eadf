"""Rate limits of the widget API: per visitor (token) and per client IP, in fixed windows of the store.

Keys hold only hashes (``chat:rl:<kind>:<sha256 prefix>``), never an IP address or a visitor id, and
expire with their window. Fail closed (as the login limits): when the store is down the widget API
answers 503 rather than letting unlimited traffic through (carbot-lessons.md §4.6).
"""

from __future__ import annotations

import hashlib

from sync.server.errors import ServiceUnavailable, TooManyRequests
from sync.server.store import KeyValueStore, StoreUnavailable

TOO_MANY = "Zu viele Nachrichten in kurzer Zeit. Bitte warten Sie einen Moment."
UNAVAILABLE = "Der Chat ist vorübergehend nicht erreichbar. Bitte gleich erneut versuchen."


def digest(value: str) -> str:
    """A short SHA-256 of an identifier (enough to keep counters apart, useless to recover it)."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def hit(store: KeyValueStore, kind: str, identifier: str, *, limit: int, window: int) -> None:
    """Count one request of ``identifier``; 429 (with Retry-After) over ``limit`` per ``window`` seconds."""
    key = f"chat:rl:{kind}:{digest(identifier)}"
    try:
        count = store.incr(key, window)
        if count > limit:
            raise TooManyRequests(TOO_MANY, retry_after=store.ttl(key) or window)
    except StoreUnavailable as exc:
        raise ServiceUnavailable(UNAVAILABLE) from exc
