"""Server database: engine for SQLite or PostgreSQL, session factory and the server's own migrations.

SQLite (the embedded default) runs in WAL mode with foreign keys on, and every transaction starts
with ``BEGIN IMMEDIATE``: request handlers run in a thread pool, and a deferred transaction that
reads first and writes later would fail with SQLITE_BUSY instead of waiting for the write lock.
PostgreSQL gets a pre-ping pool; migrations take an advisory lock so several hosts starting at once
do not race.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from sync.server.checkpoint import SAFETY_PAGES, WalCheckpointer

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "carbot_server_version"
# Arbitrary constant for pg_advisory_xact_lock: "one migration at a time".
_MIGRATION_LOCK_ID = 0x43415242  # "CARB"
CACHE_KIB = 32_768
"""SQLite page cache of the writer connections (default 2 MB): the indexes of a few 100,000 synced records stay
in memory."""


def json_dumps(value: Any) -> str:
    """JSON text of a JSON column's value: orjson (ten times json.dumps' speed, 300 documents per push), or
    json.dumps for what orjson refuses (integers beyond 64 bits), so no value is stored differently or lost.

    Reading stays with json.loads: orjson would turn such integers into floats.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value)


def _sqlite_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    # Checkpoints belong to the server's background thread (checkpoint.py), not to a request's commit.
    cur.execute(f"PRAGMA wal_autocheckpoint={SAFETY_PAGES}")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_connect_reader(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # BEGIN is emitted below
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA query_only=ON")
    # SQLite's default cache (2 MB), not CACHE_KIB: a reader's cache is dropped whenever another connection
    # wrote, so a large one bought nothing but memory (ten pooled readers × 32 MB).
    cur.close()


def _sqlite_begin_reader(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")  # deferred: in WAL mode a reader never waits for the writer


def read_only_engine(url: str) -> Engine:
    """SQLite connections for reading only: deferred transactions and ``query_only`` (a write fails)."""
    engine = create_engine(
        url, connect_args={"check_same_thread": False}, pool_size=10, max_overflow=30, json_serializer=json_dumps
    )
    event.listen(engine, "connect", _sqlite_connect_reader)
    event.listen(engine, "begin", _sqlite_begin_reader)
    return engine


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the backend's connection setup."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, json_serializer=json_dumps)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, json_serializer=json_dumps)


class ServerDatabase:
    """The engine and session factory of the server database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self._read_engine: Engine | None = None
        self._readers: sessionmaker[Session] | None = None
        self._read_lock = threading.Lock()
        self._checkpointer: WalCheckpointer | None = None

    def start_checkpoints(self) -> None:
        """Checkpoint an SQLite file's WAL in the background from now on (the server app's lifespan)."""
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database and database != ":memory:" and not self._checkpointer:
            self._checkpointer = WalCheckpointer(Path(database))
            self._checkpointer.start()

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """One transaction: commits on success, rolls back on any exception."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reading (token checks, pulls, the chat's reads): on SQLite a deferred, ``query_only``
        transaction on its own pool that never waits for the write lock; always rolled back at the end."""
        with self._reader_factory()() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """``reading()`` as a bare Core connection, without an ORM session: for the checks every request
        makes (token revocation, device), where the session's set-up cost more than the two lookups."""
        with self._reader_engine().connect() as conn:
            conn.begin()
            try:
                yield conn
            finally:
                conn.rollback()

    def _reader_engine(self) -> Engine:
        """The engine of the reading pool: on SQLite its own ``query_only`` engine, made on first use."""
        if self.engine.dialect.name != "sqlite":
            return self.engine  # PostgreSQL readers never wait for writers anyway
        with self._read_lock:
            if self._read_engine is None:
                self._read_engine = read_only_engine(self.engine.url.render_as_string(hide_password=False))
            return self._read_engine

    def _reader_factory(self) -> sessionmaker[Session]:
        engine = self._reader_engine()
        if engine is self.engine:
            return self.sessions
        with self._read_lock:
            if self._readers is None:
                self._readers = sessionmaker(engine, expire_on_commit=False)
            return self._readers

    def close(self) -> None:
        """Stop the checkpoints and dispose the connection pools."""
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.close()
        with self._read_lock:
            engine, self._read_engine, self._readers = self._read_engine, None, None
        if engine is not None:
            engine.dispose()
        self.engine.dispose()


def load_models() -> None:
    """Import every table module (``models.py`` and each ``*_models.py`` of sync/server/).

    They all share one declarative base, so Alembic autogenerate and the schema test see the
    complete metadata, whichever feature added the tables.
    """
    package = importlib.import_module("sync.server")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name == "models" or module.name.endswith("_models"):
            importlib.import_module(f"sync.server.{module.name}")
    importlib.import_module("sync.server.chat.models")  # the chat keeps its tables in its own package


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    """The newest server migration shipped with this version."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the server database is at (None when empty)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` in one transaction."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Downgrade the schema (tests prove every migration can be undone)."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def open_server_database(url: str, *, run_migrations: bool = True) -> ServerDatabase:
    """Open the database at ``url`` and bring its schema to head."""
    db = ServerDatabase(make_engine(url))
    if run_migrations:
        migrate(db.engine)
    return db
