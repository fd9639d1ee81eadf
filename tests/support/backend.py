"""The value of the ``backend`` fixture: where one server test keeps its data (tests/server/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

SQLITE = "sqlite"
POSTGRES_REDIS = "postgres+redis"


@dataclass(frozen=True)
class Backend:
    """A database URL and, for the real tier, a Redis URL; both fresh and empty for each test."""

    name: str  # SQLITE or POSTGRES_REDIS
    db_url: str
    redis_url: str | None  # None: the server uses its in-process fallback

    @property
    def env(self) -> dict[str, str]:
        """The environment variables that point ``carbot server`` at this backend."""
        env = {"CARBOT_SERVER_DB_URL": self.db_url}
        if self.redis_url is not None:
            env["CARBOT_REDIS_URL"] = self.redis_url
        return env
