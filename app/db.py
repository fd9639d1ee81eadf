"""Database access: engine, session factory, migrations at start, backups and the instance lock.

The desktop database is one SQLite file in WAL mode with foreign keys on. Every service method is
one unit of work (``with db.sessions.begin() as s:``); sessions never cross threads.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import filelock
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.errors import DatabaseCorrupt, DatabaseLocked
from app.sync_outbox import OutboxCapture, registered_device

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_MAGIC = b"SQLite format 3\x00"


def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed invoice survives a power cut, not only a crash (GoBD completeness).
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


def make_engine(path: Path | str) -> Engine:
    """An engine for the SQLite file ``path`` (``":memory:"`` for tests) with our pragmas."""
    url = "sqlite://" if str(path) == ":memory:" else f"sqlite:///{Path(path)}"
    engine = create_engine(url, future=True)
    event.listen(engine, "connect", _on_connect)
    return engine


class Database:
    """An open, migrated database: the engine and the session factory for services."""

    def __init__(self, engine: Engine, path: Path | None = None) -> None:
        self.engine = engine
        self.path = path
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self.outbox: OutboxCapture | None = None

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """One transaction: commits on success, rolls back on any exception."""
        with self.sessions.begin() as session:
            yield session

    def enable_outbox(self) -> OutboxCapture:
        """Capture every change of a syncable entity into the sync outbox (idempotent; see app.sync_outbox).

        ``open_database`` calls it when the installation is registered as a device; composition roots and
        tests may call it earlier.
        """
        if self.outbox is None:
            self.outbox = OutboxCapture.install(self)
        return self.outbox

    def disable_outbox(self) -> None:
        """Stop capturing changes (the installation was unregistered)."""
        if self.outbox is not None:
            self.outbox.uninstall(self)
            self.outbox = None

    def close(self) -> None:
        """Dispose the engine (checkpoints the WAL)."""
        self.engine.dispose()


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    """The newest migration revision shipped with this version."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database file is at (None for a new file)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Upgrade the schema to head in one transaction."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def check_file(path: Path) -> None:
    """Raise DatabaseCorrupt if ``path`` exists but is no SQLite database."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise DatabaseCorrupt(
                "Die Datei {path} ist keine CarBot-Datenbank oder ist beschädigt. "
                "Bitte die letzte Sicherung einspielen.",
                path=str(path),
            )


def backup(db: Database, dest: Path) -> Path:
    """A consistent copy of the live database (SQLite backup API, WAL-safe)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    raw = db.engine.raw_connection()
    try:
        target = sqlite3.connect(dest)
        try:
            raw.driver_connection.backup(target)  # type: ignore[union-attr]
        finally:
            target.close()
    finally:
        raw.close()
    return dest


def backup_path(path: Path, when: dt.datetime | None = None) -> Path:
    """Where the automatic pre-migration backup of ``path`` goes."""
    stamp = (when or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return path.parent / "backups" / f"{path.stem}-{stamp}{path.suffix}"


def integrity_check(db: Database) -> list[str]:
    """``PRAGMA integrity_check`` – an empty list when the file is sound."""
    with db.engine.connect() as conn:
        rows = [r[0] for r in conn.execute(text("PRAGMA integrity_check"))]
    return [] if rows == ["ok"] else rows


def open_database(path: Path | str, *, run_migrations: bool = True) -> Database:
    """Open (and create) the database at ``path``; back it up and migrate it when needed.

    Raises DatabaseCorrupt or DatabaseLocked with a German message; nothing is changed then.
    """
    if str(path) == ":memory:":
        db = Database(make_engine(":memory:"))
        if run_migrations:
            migrate(db.engine)
        return db
    db = _open_file(Path(path), run_migrations=run_migrations)
    # A registered installation must never change data without queueing it for the server.
    if registered_device(db.engine) is not None:
        db.enable_outbox()
    return db


def _open_file(path: Path, *, run_migrations: bool) -> Database:
    """The file part of ``open_database``: check, back up before a migration, migrate."""
    path.parent.mkdir(parents=True, exist_ok=True)
    check_file(path)
    db = Database(make_engine(path), path)
    try:
        if run_migrations:
            current = current_revision(db.engine)
            if current != head_revision():
                if current is not None:
                    dest = backup(db, backup_path(path))
                    log.info("Backup before migration written to %s", dest)
                migrate(db.engine)
    except OperationalError as exc:
        db.close()
        if "locked" in str(exc).lower():
            raise DatabaseLocked(
                "Die Datenbank {path} ist gesperrt – sie wird gerade von einem anderen Programm benutzt.",
                path=str(path),
            ) from exc
        raise
    except SADatabaseError as exc:
        db.close()
        raise DatabaseCorrupt(
            "Die Datenbank {path} ist beschädigt ({detail}). Bitte die letzte Sicherung einspielen.",
            path=str(path),
            detail=str(exc.orig),
        ) from exc
    return db


class InstanceLock:
    """Ensures only one desktop instance works on a database file at a time."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(str(db_path) + ".lock")
        self._lock = filelock.FileLock(str(self.path), timeout=0)

    def acquire(self) -> None:
        """Take the lock or raise DatabaseLocked with a German message."""
        try:
            self._lock.acquire()
        except filelock.Timeout as exc:
            raise DatabaseLocked(
                "CarBot Werkstatt läuft bereits mit dieser Datenbank ({path}). Bitte das andere Fenster verwenden.",
                path=str(self.path.with_suffix("")),
            ) from exc

    def release(self) -> None:
        """Give the lock back."""
        self._lock.release()
