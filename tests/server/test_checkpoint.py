"""WAL checkpoints of the embedded server database run in the background, not in a request's commit."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from sync.server.checkpoint import SAFETY_PAGES, WalCheckpointer
from sync.server.db import open_server_database
from sync.server.main import create_app
from tests.server.fixtures import make_settings


def test_writer_connections_leave_checkpoints_to_the_background(tmp_path: Path):
    path = tmp_path / "server.db"
    db = open_server_database(f"sqlite:///{path}")
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE filler (n INTEGER, pad TEXT)"))
        conn.execute(text("INSERT INTO filler VALUES (:n, :pad)"), [{"n": n, "pad": "x" * 200} for n in range(2_000)])
    with db.engine.connect() as conn:  # the pooled writer connection stays open: the log stays
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == SAFETY_PAGES
    wal = Path(f"{path}-wal")
    checkpointer = WalCheckpointer(path, interval=0.05)
    busy, frames, copied = checkpointer.checkpoint()
    assert busy == 0 and frames > 0 and copied == frames  # everything copied back in one round
    checkpointer.start()
    deadline = time.monotonic() + 10
    while checkpointer.rounds < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert checkpointer.rounds >= 2
    checkpointer.close()
    assert wal.stat().st_size == 0  # the last round truncated the log
    with db.reading() as session:
        assert session.execute(text("SELECT count(*) FROM filler")).scalar() == 2_000
    db.close()


def test_the_server_app_runs_the_checkpointer_while_it_lives(tmp_path: Path):
    settings = make_settings(f"sqlite:///{tmp_path / 'server.db'}")
    app = create_app(settings)
    db = app.state.ctx.db
    assert db._checkpointer is None  # noqa: SLF001 - not before the app starts
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        running = db._checkpointer  # noqa: SLF001
        assert running is not None and running._thread is not None and running._thread.is_alive()  # noqa: SLF001
    assert db._checkpointer is None  # noqa: SLF001 - stopped with the app
    assert not running._thread  # noqa: SLF001
