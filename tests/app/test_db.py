"""Database opening: migrations up/down, WAL and foreign keys, backups, corrupt files, the instance lock."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from app.db import (
    InstanceLock,
    _alembic_config,
    backup,
    current_revision,
    head_revision,
    integrity_check,
    open_database,
)
from app.errors import DatabaseCorrupt, DatabaseLocked


def test_new_database_is_migrated_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    db = open_database(tmp_path / "new.db")
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert integrity_check(db) == []
    db.close()


def test_migrations_downgrade_to_base_and_up_again(tmp_path: Path) -> None:
    db = open_database(tmp_path / "updown.db")
    cfg = _alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    with db.engine.connect() as conn:
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    assert tables <= {"alembic_version"}
    db.close()
    db = open_database(tmp_path / "updown.db")
    assert current_revision(db.engine) == head_revision()
    db.close()


def test_pending_migration_writes_a_backup_first(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = open_database(path)
    with db.unit() as s:
        s.execute(text("INSERT INTO bay(name, kind, active, sort) VALUES ('Bühne 1', 'Hebebühne', 1, 0)"))
        s.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    db.close()
    # An unknown older revision cannot be upgraded, but the backup must exist before anything is touched.
    with pytest.raises(Exception):  # noqa: B017 - alembic raises its own CommandError
        open_database(path)
    backups = list((tmp_path / "backups").glob("old-*.db"))
    assert len(backups) == 1
    copy = open_database(backups[0], run_migrations=False)
    with copy.unit() as s:
        assert s.execute(text("SELECT name FROM bay")).scalar() == "Bühne 1"
    copy.close()


def test_corrupt_file_gets_a_german_message_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "kaputt.db"
    path.write_bytes(b"Das ist keine Datenbank" * 100)
    before = path.read_bytes()
    with pytest.raises(DatabaseCorrupt) as info:
        open_database(path)
    assert "keine CarBot-Datenbank" in str(info.value)
    assert path.read_bytes() == before


def test_truncated_database_is_reported_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "cut.db"
    open_database(path).close()
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\x00" * 50)
    with pytest.raises(DatabaseCorrupt):
        open_database(path)


def test_second_instance_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    first = InstanceLock(path)
    first.acquire()
    try:
        with pytest.raises(DatabaseLocked) as info:
            InstanceLock(path).acquire()
        assert "läuft bereits" in str(info.value)
    finally:
        first.release()
    again = InstanceLock(path)
    again.acquire()
    again.release()


def test_backup_is_a_consistent_copy(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with db.unit() as s:
        s.execute(text("INSERT INTO mechanic(name, active, hours_per_day) VALUES ('Emre', 1, 8)"))
    dest = backup(db, tmp_path / "b" / "copy.db")
    copy = open_database(dest)
    with copy.unit() as s:
        assert s.execute(text("SELECT name FROM mechanic")).scalar() == "Emre"
    copy.close()
