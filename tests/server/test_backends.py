"""The real-server fixtures work: PostgreSQL and Redis answer, each test gets its own data, cleanup holds."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, inspect, select, text
from sqlalchemy.exc import OperationalError

from tests.support.backend import POSTGRES_REDIS, SQLITE, Backend
from tests.support.servers import (
    OWNER_FILE,
    PostgresCluster,
    RedisServer,
    ServerUnavailable,
    find_pg_bindir,
    find_redis_server,
    pid_alive,
    reap_stale,
)

_SEEN_DB_URLS: set[str] = set()


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    """An engine on the session database; the tables a test creates are dropped afterwards."""
    eng = create_engine(postgres_url)
    yield eng
    with eng.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS counters, parts"))
    eng.dispose()


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_postgres_url_is_a_real_loopback_postgresql(postgres_url: str, engine: Engine) -> None:
    assert postgres_url.startswith("postgresql+psycopg://carbot@127.0.0.1:")
    assert postgres_url.endswith("/carbot_test")
    assert engine.dialect.name == "postgresql"
    assert engine.dialect.driver == "psycopg"
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT version()")).startswith("PostgreSQL ")
        assert conn.scalar(text("SELECT current_database()")) == "carbot_test"
        assert conn.scalar(text("SELECT pg_encoding_to_char(encoding) FROM pg_database LIMIT 1")) == "UTF8"


def test_postgres_create_insert_select(engine: Engine) -> None:
    parts = Table(
        "parts",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("name", String(80), nullable=False),
    )
    parts.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(parts.insert(), [{"name": "Bremsscheibe"}, {"name": "Ölfilter"}, {"name": "Zündkerze"}])
    with engine.connect() as conn:
        names = conn.scalars(select(parts.c.name).order_by(parts.c.id)).all()
        ids = conn.scalars(select(parts.c.id).order_by(parts.c.id)).all()
    assert names == ["Bremsscheibe", "Ölfilter", "Zündkerze"]
    assert ids == [1, 2, 3]  # a real SERIAL sequence


def _wait_for_lock_waiter(engine: Engine, timeout: float = 10.0) -> None:
    """Block until some session of this database waits for a row lock (deterministic, no sleeps)."""
    deadline = time.monotonic() + timeout
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    with engine.connect() as conn:
        while conn.scalar(query) == 0:
            assert time.monotonic() < deadline, "the second transaction never waited for the row lock"
            time.sleep(0.02)
            conn.rollback()  # a fresh snapshot of pg_stat_activity for the next poll


def test_select_for_update_serialises_concurrent_transactions(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counters (id int PRIMARY KEY, value int NOT NULL)"))
        conn.execute(text("INSERT INTO counters VALUES (1, 0)"))
    seen_by_second: list[int] = []
    errors: list[BaseException] = []

    def second_transaction() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '20s'"))
                value = conn.scalar(text("SELECT value FROM counters WHERE id = 1 FOR UPDATE"))
                seen_by_second.append(value)
                conn.execute(text("UPDATE counters SET value = :v WHERE id = 1"), {"v": value + 1})
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    with engine.begin() as first:
        value = first.scalar(text("SELECT value FROM counters WHERE id = 1 FOR UPDATE"))
        worker = threading.Thread(target=second_transaction)
        worker.start()
        _wait_for_lock_waiter(engine)
        assert seen_by_second == []  # still blocked behind our lock
        with engine.connect() as third:
            with pytest.raises(OperationalError, match="could not obtain lock"):
                third.execute(text("SELECT value FROM counters WHERE id = 1 FOR UPDATE NOWAIT"))
            third.rollback()
        first.execute(text("UPDATE counters SET value = :v WHERE id = 1"), {"v": value + 1})
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert errors == []
    assert seen_by_second == [1]  # it read our committed value: no lost update
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT value FROM counters WHERE id = 1")) == 2


def test_redis_set_get_incr_expire(redis_url: str) -> None:
    assert redis_url.startswith("redis://127.0.0.1:")
    assert not redis_url.startswith("redis://127.0.0.1:6379/")  # never the well-known port
    client = redis.Redis.from_url(redis_url)
    try:
        client.delete("werkstatt:name", "werkstatt:hits", "werkstatt:otp")
        assert client.set("werkstatt:name", "Kfz-Meisterbetrieb Müller")
        assert client.get("werkstatt:name") == "Kfz-Meisterbetrieb Müller".encode()
        assert client.incr("werkstatt:hits") == 1
        assert client.incr("werkstatt:hits", 41) == 42
        assert client.expire("werkstatt:hits", 60)
        assert 0 < client.ttl("werkstatt:hits") <= 60
        assert client.ttl("werkstatt:name") == -1  # no expiry set
        client.set("werkstatt:otp", "123456")
        assert client.pexpire("werkstatt:otp", 100)
        deadline = time.monotonic() + 5
        while client.exists("werkstatt:otp"):
            assert time.monotonic() < deadline, "the key never expired"
            time.sleep(0.02)
        assert client.get("werkstatt:otp") is None
    finally:
        client.delete("werkstatt:name", "werkstatt:hits", "werkstatt:otp")
        client.close()


def test_backend_param_is_usable(backend: Backend) -> None:
    engine = create_engine(backend.db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE notes (id integer PRIMARY KEY, body varchar(40))"))
            conn.execute(text("INSERT INTO notes VALUES (1, 'HU/AU fällig')"))
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT body FROM notes WHERE id = 1")) == "HU/AU fällig"
    finally:
        engine.dispose()
    assert backend.env["CARBOT_SERVER_DB_URL"] == backend.db_url
    if backend.name == SQLITE:
        assert engine.dialect.name == "sqlite"
        assert backend.redis_url is None
        assert "CARBOT_REDIS_URL" not in backend.env
    else:
        assert backend.name == POSTGRES_REDIS
        assert engine.dialect.name == "postgresql"
        assert backend.redis_url is not None
        assert backend.env["CARBOT_REDIS_URL"] == backend.redis_url
        client = redis.Redis.from_url(backend.redis_url)
        try:
            assert client.ping()
        finally:
            client.close()


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_fresh_empty_storage(backend: Backend, round_: int) -> None:
    # Four runs (2 rounds × 2 backends): whichever runs later would see the earlier one's data if shared.
    assert backend.db_url not in _SEEN_DB_URLS
    _SEEN_DB_URLS.add(backend.db_url)
    engine = create_engine(backend.db_url)
    try:
        assert inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE marker (round integer)"))
            conn.execute(text("INSERT INTO marker VALUES (:r)"), {"r": round_})
    finally:
        engine.dispose()
    if backend.redis_url is not None:
        client = redis.Redis.from_url(backend.redis_url)
        try:
            assert client.dbsize() == 0
            client.set("marker", round_)
        finally:
            client.close()


def test_drop_database_closes_leftover_connections(postgres_cluster: PostgresCluster) -> None:
    url = postgres_cluster.create_database("carbot_probe")
    assert "carbot_probe" in postgres_cluster.databases()
    leftover = create_engine(url)
    conn = leftover.connect()  # a test that forgot to close its connection must not block the drop
    try:
        postgres_cluster.drop_database("carbot_probe")
        assert "carbot_probe" not in postgres_cluster.databases()
    finally:
        conn.invalidate()
        leftover.dispose()


def test_per_test_databases_were_dropped(postgres_cluster: PostgresCluster, backend: Backend) -> None:
    # Runs after the tests above in this module: only the current test's database may remain.
    per_test = {name for name in postgres_cluster.databases() if name.startswith("carbot_t_")}
    current = {backend.db_url.rsplit("/", 1)[1]} if backend.name == POSTGRES_REDIS else set()
    assert per_test == current
    assert len(_SEEN_DB_URLS) >= 4  # the fresh-storage tests did create (and release) theirs


def test_postgres_cluster_cleans_up_even_when_the_test_fails(postgres_bindir: Path) -> None:
    cluster = PostgresCluster(bindir=postgres_bindir, database="carbot_cleanup")
    with pytest.raises(RuntimeError, match="Test schlägt fehl"), cluster:
        assert cluster.workdir is not None
        workdir, port = cluster.workdir, cluster.port
        assert port is not None
        pid = int((workdir / "data" / "postmaster.pid").read_text().split()[0])
        engine = create_engine(cluster.url)
        conn = engine.connect()  # an open session: fast shutdown must still go through
        raise RuntimeError("Test schlägt fehl")
    conn.invalidate()
    engine.dispose()
    assert workdir is not None and port is not None
    assert not pid_alive(pid)
    assert not workdir.exists()
    assert not _port_open(port)
    assert not cluster.running
    cluster.stop()  # idempotent


def test_redis_server_cleans_up_even_when_the_test_fails(redis_executable: str) -> None:
    server = RedisServer(executable=redis_executable)
    with pytest.raises(RuntimeError, match="Test schlägt fehl"), server:
        pid, port, workdir = server.pid, server.port, server.workdir
        assert pid is not None and port is not None and workdir is not None
        assert server.command("PING") == "PONG"
        raise RuntimeError("Test schlägt fehl")
    assert pid is not None and port is not None and workdir is not None
    assert not pid_alive(pid)
    assert not workdir.exists()
    assert not _port_open(port)
    server.stop()  # idempotent


def test_servers_left_by_a_dead_test_run_are_reaped(redis_executable: str) -> None:
    server = RedisServer(executable=redis_executable).start()
    assert server.workdir is not None and server.pid is not None
    workdir, pid = server.workdir, server.pid
    dead = subprocess.Popen(["true"])
    dead.wait()
    (workdir / OWNER_FILE).write_text(str(dead.pid))  # as if the owning pytest had been SIGKILLed
    try:
        assert workdir in reap_stale()
        assert not pid_alive(pid)
        assert not workdir.exists()
    finally:
        server.stop()


def test_running_servers_of_live_runs_are_left_alone(redis_server: RedisServer) -> None:
    assert redis_server.workdir is not None
    assert redis_server.workdir not in reap_stale()
    assert redis_server.command("PING") == "PONG"


def test_missing_binaries_give_an_actionable_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CARBOT_PG_BINDIR", str(tmp_path))
    with pytest.raises(ServerUnavailable, match=r"apt-get install postgresql"):
        find_pg_bindir()
    with pytest.raises(ServerUnavailable, match=r"apt-get install postgresql"):
        PostgresCluster().start()
    with pytest.raises(ServerUnavailable, match=r"Debian package 'postgresql'"):
        PostgresCluster(bindir=tmp_path).start()
    monkeypatch.setenv("CARBOT_REDIS_SERVER", str(tmp_path / "redis-server"))
    with pytest.raises(ServerUnavailable, match=r"apt-get install redis-server"):
        find_redis_server()
    with pytest.raises(ServerUnavailable, match=r"apt-get install redis-server"):
        RedisServer().start()
