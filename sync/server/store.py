"""A small key-value store for rate limits, the revocation mirror and change pokes: Redis or in-process.

``RedisStore`` is shared by every worker and host; ``InProcessStore`` serves one process (the
embedded single-worker server and the tests). Both implement ``KeyValueStore``:

- ``incr(key, ttl)`` counts inside a fixed window (the first increment starts the window);
- ``set``/``get``/``delete`` with an optional TTL;
- ``notify(tenant, seq)`` records the newest change sequence of a tenant and wakes its waiters;
  ``await wait(tenant, after, timeout)`` returns the newest sequence once it is above ``after``,
  or None after ``timeout`` seconds (long-poll and server-sent events use it).

Errors: a Redis failure raises ``StoreUnavailable``. Callers decide what that means; the auth
rate limits fail CLOSED (the request is refused with 503), because a limiter that lets everything
through while Redis is down is exactly the hole an attacker waits for.
"""

from __future__ import annotations

import abc
import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

PREFIX = "carbot:"


class StoreUnavailable(Exception):
    """The shared store (Redis) could not be reached or answered with an error."""


class KeyValueStore(abc.ABC):
    """What the server needs from Redis; ``shared`` tells whether other processes see the same data."""

    shared: bool = False

    @abc.abstractmethod
    def incr(self, key: str, ttl_seconds: int) -> int:
        """Add one to ``key`` and return the new count; a new key lives ``ttl_seconds``."""

    @abc.abstractmethod
    def ttl(self, key: str) -> int:
        """Seconds until ``key`` expires (0 when missing or without expiry)."""

    @abc.abstractmethod
    def set(self, key: str, value: str, ttl_seconds: int | None = None) -> None:
        """Store ``value`` under ``key`` (expiring after ``ttl_seconds`` when given)."""

    @abc.abstractmethod
    def get(self, key: str) -> str | None:
        """The value of ``key`` or None."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``."""

    @abc.abstractmethod
    def notify(self, tenant: str, seq: int) -> None:
        """Record that ``tenant`` has changes up to ``seq`` and wake whoever waits for them."""

    @abc.abstractmethod
    async def wait(self, tenant: str, after: int, timeout: float) -> int | None:
        """The newest sequence of ``tenant`` once it exceeds ``after``; None on timeout."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise StoreUnavailable when the store cannot answer."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""


class InProcessStore(KeyValueStore):
    """Dictionaries guarded by a lock; waiters are asyncio events woken thread-safely."""

    shared = False
    _PURGE_AT = 100_000  # entries; expired ones are dropped when the table grows this large

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._values: dict[str, tuple[str, float | None]] = {}
        self._seq: dict[str, int] = {}
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def _live(self, key: str) -> tuple[str, float | None] | None:
        entry = self._values.get(key)
        if entry is not None and entry[1] is not None and entry[1] <= self._clock():
            del self._values[key]
            return None
        return entry

    def _purge(self) -> None:
        if len(self._values) >= self._PURGE_AT:
            now = self._clock()
            self._values = {k: v for k, v in self._values.items() if v[1] is None or v[1] > now}

    def incr(self, key: str, ttl_seconds: int) -> int:
        with self._lock:
            entry = self._live(key)
            if entry is None:
                self._purge()
                self._values[key] = ("1", self._clock() + ttl_seconds)
                return 1
            count = int(entry[0]) + 1
            self._values[key] = (str(count), entry[1])
            return count

    def ttl(self, key: str) -> int:
        with self._lock:
            entry = self._live(key)
            if entry is None or entry[1] is None:
                return 0
            return max(0, int(entry[1] - self._clock() + 0.999))

    def set(self, key: str, value: str, ttl_seconds: int | None = None) -> None:
        with self._lock:
            self._purge()
            self._values[key] = (value, None if ttl_seconds is None else self._clock() + ttl_seconds)

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._live(key)
            return None if entry is None else entry[0]

    def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def notify(self, tenant: str, seq: int) -> None:
        with self._lock:
            if seq <= self._seq.get(tenant, 0):
                return
            self._seq[tenant] = seq
            waiters = list(self._waiters.get(tenant, ()))
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    def ping(self) -> None:
        """Always reachable."""

    def close(self) -> None:
        """Nothing to release."""

    async def wait(self, tenant: str, after: int, timeout: float) -> int | None:
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        entry = (loop, event)
        with self._lock:
            current = self._seq.get(tenant, 0)
            if current > after:
                return current
            self._waiters.setdefault(tenant, set()).add(entry)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                waiting = self._waiters.get(tenant, set())
                waiting.discard(entry)
                if not waiting:
                    self._waiters.pop(tenant, None)
        with self._lock:
            current = self._seq.get(tenant, 0)
        return current if current > after else None


# Atomic fixed window: the first INCR sets the expiry, later ones keep it.
_INCR_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
# Keep the highest sequence only, then tell the subscribers.
_NOTIFY_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('PUBLISH', KEYS[2], ARGV[1])
end
return 0
"""


class RedisStore(KeyValueStore):
    """Redis for several workers and hosts; every key carries the configured prefix (``carbot:``)."""

    shared = True

    def __init__(self, url: str, *, prefix: str = PREFIX) -> None:
        import redis

        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._client: Any = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._url = url
        self._prefix = prefix
        self._incr = self._client.register_script(_INCR_SCRIPT)
        self._notify = self._client.register_script(_NOTIFY_SCRIPT)

    def _call(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except self._errors as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    def incr(self, key: str, ttl_seconds: int) -> int:
        return int(self._call(self._incr, keys=[self._prefix + key], args=[ttl_seconds]))

    def ttl(self, key: str) -> int:
        return max(0, int(self._call(self._client.ttl, self._prefix + key)))

    def set(self, key: str, value: str, ttl_seconds: int | None = None) -> None:
        self._call(self._client.set, self._prefix + key, value, ex=ttl_seconds)

    def get(self, key: str) -> str | None:
        value = self._call(self._client.get, self._prefix + key)
        return None if value is None else bytes(value).decode()

    def delete(self, key: str) -> None:
        self._call(self._client.delete, self._prefix + key)

    def notify(self, tenant: str, seq: int) -> None:
        self._call(self._notify, keys=[f"{self._prefix}seq:{tenant}", f"{self._prefix}poke:{tenant}"], args=[seq])

    async def wait(self, tenant: str, after: int, timeout: float) -> int | None:
        import redis.asyncio

        key = f"{self._prefix}seq:{tenant}"
        try:
            # One short-lived client per wait: a pub/sub subscription needs its own connection anyway,
            # and an asyncio client must not outlive the event loop that opened it.
            client = redis.asyncio.Redis.from_url(self._url, socket_connect_timeout=2.0)
            async with client, client.pubsub() as pubsub:
                await pubsub.subscribe(f"{self._prefix}poke:{tenant}")
                # Read after subscribing, so a poke between the read and the subscription is not lost.
                current = int(await client.get(key) or 0)
                deadline = time.monotonic() + timeout
                while current <= after:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=remaining)
                    if message is not None:
                        current = max(current, int(message["data"]))
                return current
        except self._errors as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    def ping(self) -> None:
        self._call(self._client.ping)

    def close(self) -> None:
        self._client.close()


def make_store(
    redis_url: str | None, *, prefix: str = PREFIX, clock: Callable[[], float] = time.monotonic
) -> KeyValueStore:
    """RedisStore when a URL is configured, else the in-process store."""
    return RedisStore(redis_url, prefix=prefix) if redis_url else InProcessStore(clock=clock)
