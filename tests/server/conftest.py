"""Fixtures for the hosted-API tiers: every test taking ``backend`` runs on SQLite and on PostgreSQL + Redis.

The real servers start lazily, the first time a test asks for them, and once per session (a cluster
start costs well under a second; a fresh database per test costs a few milliseconds). Without the
binaries the PostgreSQL/Redis tests skip with the reason; CI sets ``CARBOT_REQUIRE_ALL_TIERS=1``,
which turns any skip into a failed run (tests/conftest.py), so a CI machine without the servers fails.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backend import POSTGRES_REDIS, SQLITE, Backend
from tests.support.servers import (
    PostgresCluster,
    RedisServer,
    ServerUnavailable,
    find_pg_bindir,
    find_redis_server,
)

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_bindir() -> Path:
    """Folder of the PostgreSQL server binaries; skips (with what to install) when there are none."""
    try:
        return find_pg_bindir()
    except ServerUnavailable as exc:
        pytest.skip(f"PostgreSQL not available: {exc}")


@pytest.fixture(scope="session")
def redis_executable() -> str:
    """Path of redis-server; skips (with what to install) when it is missing."""
    try:
        return find_redis_server()
    except ServerUnavailable as exc:
        pytest.skip(f"Redis not available: {exc}")


@pytest.fixture(scope="session")
def postgres_cluster(postgres_bindir: Path) -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the whole session, stopped and removed at its end."""
    cluster = PostgresCluster(bindir=postgres_bindir)
    try:
        cluster.start()
    except ServerUnavailable as exc:
        pytest.skip(f"PostgreSQL not available: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_server(redis_executable: str) -> Iterator[RedisServer]:
    """One throwaway Redis server for the whole session, stopped at its end."""
    server = RedisServer(executable=redis_executable)
    try:
        server.start()
    except ServerUnavailable as exc:
        pytest.skip(f"Redis not available: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """SQLAlchemy URL of the shared session database ``carbot_test`` (tests clean up after themselves)."""
    return postgres_cluster.url


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """redis:// URL of the session's Redis server (shared; ``backend`` flushes it per test)."""
    return redis_server.url


@pytest.fixture(params=[SQLITE, POSTGRES_REDIS])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A fresh, empty backend per test: a new SQLite file, or a new PostgreSQL database plus emptied Redis."""
    if request.param == SQLITE:
        yield Backend(SQLITE, f"sqlite:///{tmp_path / 'server.db'}", None)
        return
    # Asked for here rather than as arguments, so SQLite-only runs never start the real servers.
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    redis: RedisServer = request.getfixturevalue("redis_server")
    name = f"carbot_t_{next(_database_numbers)}"
    db_url = cluster.create_database(name)
    redis.flush()
    try:
        yield Backend(POSTGRES_REDIS, db_url, redis.url)
    finally:
        cluster.drop_database(name)
