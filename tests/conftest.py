"""Shared fixtures: a migrated SQLite database per test (copied from one template), offscreen Qt."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CARBOT_LANG", "de")

from app.db import Database, open_database  # noqa: E402
from app.i18n import set_language  # noqa: E402


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the empty migrated database once per run (Anki's getEmptyCol idea)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = open_database(path)
    db.close()
    return path


@pytest.fixture
def db_path(_template_db: Path, tmp_path: Path) -> Path:
    """A fresh copy of the migrated template database."""
    path = tmp_path / "carbot.db"
    shutil.copy(_template_db, path)
    return path


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    """An open, migrated, empty database."""
    database = open_database(db_path)
    yield database
    database.close()


@pytest.fixture(autouse=True)
def _german() -> Iterator[None]:
    set_language("de")
    yield
    set_language("de")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (CARBOT_REQUIRE_ALL_TIERS=1) a skipped test fails the run: every tier must really run."""
    if not os.environ.get("CARBOT_REQUIRE_ALL_TIERS"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"FAILED: {skipped} test(s) skipped, but CI requires every tier to run.", red=True)
        session.exitstatus = 1
