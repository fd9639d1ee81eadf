"""The key-value store (in-process and Redis): counters with a window, TTLs, change pokes, failures."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from sync.server.config import Settings
from sync.server.main import create_app
from sync.server.store import InProcessStore, KeyValueStore, RedisStore, StoreUnavailable, make_store
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import FakeClock, register_tenant


@pytest.fixture
def kv(server_redis_url: str | None) -> Iterator[KeyValueStore]:
    """In-process on the SQLite tier, Redis on the PostgreSQL + Redis tier."""
    store = make_store(server_redis_url, prefix=f"kvtest{time.monotonic_ns()}:")
    yield store
    store.close()


def test_store_kind_follows_the_configuration(kv: KeyValueStore, server_redis_url: str | None):
    assert isinstance(kv, RedisStore if server_redis_url else InProcessStore)
    assert kv.shared is (server_redis_url is not None)


def test_incr_counts_inside_a_window_and_restarts_after_it(kv: KeyValueStore):
    assert [kv.incr("rl:a", 1) for _ in range(3)] == [1, 2, 3]
    assert kv.incr("rl:b", 1) == 1
    assert 0 < kv.ttl("rl:a") <= 1
    time.sleep(1.1)
    assert kv.incr("rl:a", 1) == 1


def test_set_get_delete_with_and_without_ttl(kv: KeyValueStore):
    kv.set("k", "wert")
    kv.set("t", "kurz", 1)
    assert kv.get("k") == "wert" and kv.get("t") == "kurz" and kv.get("fehlt") is None
    assert kv.ttl("k") == 0 and 0 < kv.ttl("t") <= 1
    kv.delete("k")
    time.sleep(1.1)
    assert kv.get("k") is None and kv.get("t") is None


def test_in_process_expiry_follows_its_clock():
    now = [100.0]
    store = InProcessStore(clock=lambda: now[0])
    assert store.incr("x", 10) == 1
    now[0] += 9.9
    assert store.incr("x", 10) == 2 and store.ttl("x") == 1
    now[0] += 0.2
    assert store.incr("x", 10) == 1


def test_wait_returns_at_once_when_already_newer_and_none_on_timeout(kv: KeyValueStore):
    kv.notify("org-a", 5)
    assert asyncio.run(kv.wait("org-a", 4, timeout=1)) == 5
    started = time.monotonic()
    assert asyncio.run(kv.wait("org-a", 5, timeout=0.3)) is None
    assert 0.25 < time.monotonic() - started < 2
    assert asyncio.run(kv.wait("org-b", 0, timeout=0.1)) is None  # tenants are separate


def test_notify_from_another_thread_wakes_the_waiter(kv: KeyValueStore):
    kv.notify("org-a", 1)

    async def scenario() -> tuple[int | None, float]:
        started = time.monotonic()
        timer = threading.Timer(0.3, kv.notify, args=("org-a", 7))
        timer.start()
        result = await kv.wait("org-a", 1, timeout=5)
        timer.join()
        return result, time.monotonic() - started

    result, waited = asyncio.run(scenario())
    assert result == 7 and waited < 3
    kv.notify("org-a", 3)  # an older sequence never moves the cursor back
    assert asyncio.run(kv.wait("org-a", 6, timeout=1)) == 7


def test_unreachable_redis_raises_store_unavailable():
    store = RedisStore("redis://127.0.0.1:1/0")
    for call in (lambda: store.incr("a", 1), lambda: store.get("a"), lambda: store.set("a", "b"), store.ping):
        with pytest.raises(StoreUnavailable):
            call()
    with pytest.raises(StoreUnavailable):
        asyncio.run(store.wait("org", 0, timeout=0.5))


def test_revocation_survives_a_store_that_lost_its_data(
    api: TestClient, server_settings: Settings, server_redis_url: str | None, clock: FakeClock
):
    tenant = register_tenant(api)
    assert (
        api.post("/v1/auth/logout", json={"refresh_token": tenant.refresh_token}, headers=tenant.headers).status_code
        == 204
    )
    if server_redis_url:  # Redis restarted without persistence: every key is gone, the marker too
        redis.Redis.from_url(server_redis_url).flushdb()
    with TestClient(create_app(server_settings, clock=clock)) as restarted:
        assert restarted.get("/v1/me", headers=tenant.headers).status_code == 401
    assert api.get("/v1/me", headers=tenant.headers).status_code == 401
