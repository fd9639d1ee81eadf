"""Where CarBot keeps its files on this machine (platformdirs), overridable by environment."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "CarBot Werkstatt"
APP_AUTHOR = "CarBot"


def data_dir() -> Path:
    """Per-user data folder (database, backups, archive)."""
    return Path(os.environ.get("CARBOT_DATA_DIR") or platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def default_db_path() -> Path:
    """The database used when no --db is given: $CARBOT_DB or <data dir>/carbot.db."""
    env = os.environ.get("CARBOT_DB")
    return Path(env) if env else data_dir() / "carbot.db"


def log_dir() -> Path:
    """Per-user log folder."""
    return Path(os.environ.get("CARBOT_LOG_DIR") or platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
