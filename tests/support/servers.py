"""Throwaway PostgreSQL clusters and Redis servers on free loopback ports for the server test tiers.

Both servers live in their own temporary folder (``carbot-pg-*`` / ``carbot-redis-*`` in the system temp
dir), listen on 127.0.0.1 only, on a port the kernel handed out (never a fixed well-known port), and
keep no data beyond the run. PostgreSQL refuses to run as root, so under root the cluster belongs to
the ``postgres`` system user (``runuser``). This module holds PostgreSQL and re-exports the Redis server
(tests/support/redis_server.py) and the cleanup plumbing (tests/support/processes.py), so tests import
everything from here.

Missing binaries raise :class:`ServerUnavailable` (the fixtures turn it into a skip with that reason;
CI's ``CARBOT_REQUIRE_ALL_TIERS=1`` then fails the run). A server that exists but does not come up
raises :class:`ServerStartError` with the tail of its log.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shlex
import shutil
import signal
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from tests.support.processes import (
    ADDRESS_IN_USE,
    OWNER_FILE,
    PG_PREFIX,
    REDIS_PREFIX,
    START_ATTEMPTS,
    ServerStartError,
    ServerUnavailable,
    free_port,
    log_tail,
    make_workdir,
    pid_alive,
    read_pid,
    reap_stale,
    register_running,
    terminate,
    unregister_running,
)
from tests.support.redis_server import (
    REDIS_SERVER_ENV,
    RedisError,
    RedisServer,
    find_redis_server,
    redis_command,
)

__all__ = [
    "OWNER_FILE",
    "PG_BINDIR_ENV",
    "PG_PREFIX",
    "REDIS_PREFIX",
    "REDIS_SERVER_ENV",
    "PostgresCluster",
    "RedisError",
    "RedisServer",
    "ServerStartError",
    "ServerUnavailable",
    "find_pg_bindir",
    "find_redis_server",
    "free_port",
    "pid_alive",
    "reap_stale",
    "redis_command",
    "terminate",
]

PG_BINDIR_ENV = "CARBOT_PG_BINDIR"


def find_pg_bindir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: $CARBOT_PG_BINDIR, Debian's newest, or the PATH."""
    candidates: list[Path] = []
    if os.environ.get(PG_BINDIR_ENV):
        candidates.append(Path(os.environ[PG_BINDIR_ENV]))
    else:
        debian = glob.glob("/usr/lib/postgresql/*/bin")
        candidates += [Path(p) for p in sorted(debian, key=lambda p: int(Path(p).parent.name), reverse=True)]
        on_path = shutil.which("pg_ctl")
        if on_path:
            candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    where = f"{PG_BINDIR_ENV}={os.environ[PG_BINDIR_ENV]}" if os.environ.get(PG_BINDIR_ENV) else "PATH"
    raise ServerUnavailable(
        f"PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or {where}: "
        "install the Debian package 'postgresql' (apt-get install postgresql) "
        f"or point {PG_BINDIR_ENV} at the folder holding them."
    )


class PostgresCluster:
    """A throwaway PostgreSQL cluster: trust auth for ``user``, loopback TCP, socket in its own folder.

    Use as a context manager or call :meth:`start` / :meth:`stop` (both idempotent). After start, the
    database ``database`` exists and :attr:`url` is its SQLAlchemy URL.
    """

    def __init__(self, bindir: Path | None = None, user: str = "carbot", database: str = "carbot_test"):
        self.bindir = bindir
        self.user = user
        self.database = database
        self.port: int | None = None
        self.workdir: Path | None = None
        self._bindir: Path | None = None

    @property
    def running(self) -> bool:
        """Whether the cluster was started and not stopped yet."""
        return self.port is not None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the cluster's default test database."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of ``database`` in this cluster."""
        if self.port is None:
            raise RuntimeError("PostgreSQL cluster is not running")
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _as_owner(self, cmd: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return cmd
        # PostgreSQL refuses to run as root: the cluster belongs to the postgres system user.
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise ServerUnavailable(
                "Running as root needs the 'postgres' user (the Debian package 'postgresql' creates it)."
            ) from None
        runuser = shutil.which("runuser")
        if runuser is None:
            raise ServerUnavailable("Running PostgreSQL as root needs 'runuser' (Debian package util-linux).")
        return [runuser, "-u", "postgres", "--", *cmd]

    def _run(self, cmd: list[str], timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        # cwd: the postgres user cannot enter root's working directory, which only produces noise.
        return subprocess.run(
            self._as_owner(cmd),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self) -> Self:
        """initdb into a fresh temp folder, start on a free port, create the test database."""
        if self.running:
            return self
        bindir = self._bindir = self.bindir or find_pg_bindir()
        if not (bindir / "initdb").is_file():
            raise ServerUnavailable(f"No initdb in {bindir}: install the Debian package 'postgresql'.")
        self._as_owner([])  # fail early and clearly when root lacks the postgres user
        reap_stale()
        workdir = self.workdir = make_workdir(PG_PREFIX)
        register_running(self)
        try:
            if os.geteuid() == 0:
                postgres = pwd.getpwnam("postgres")
                os.chown(workdir, postgres.pw_uid, postgres.pw_gid)
            data = workdir / "data"
            init = self._run(
                [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", self.user,
                 "-E", "UTF8", "--no-locale", "--no-sync"]
            )  # fmt: skip
            if init.returncode != 0:
                raise ServerStartError(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")
            self._start_server(bindir, data, workdir)
            self.create_database(self.database)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_server(self, bindir: Path, data: Path, workdir: Path) -> None:
        log = workdir / "postgres.log"
        for _attempt in range(START_ATTEMPTS):
            port = free_port()
            # Durability is pointless for throwaway data; switching it off makes CREATE DATABASE cheap.
            options = (
                f"-p {port} -k {shlex.quote(str(workdir))} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            pg_ctl = str(bindir / "pg_ctl")
            started = self._run([pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"])
            if started.returncode == 0:
                self.port = port
                return
            if ADDRESS_IN_USE not in log_tail(log):
                break
        raise ServerStartError(f"pg_ctl start failed:\n{started.stdout}{started.stderr}\n{log_tail(log)}")

    def _admin(self) -> Any:
        import psycopg  # only the PostgreSQL tier needs the driver

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        )

    def create_database(self, name: str) -> str:
        """Create the empty database ``name``; returns its SQLAlchemy URL."""
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing connections a test left open (engines that were never disposed)."""
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def databases(self) -> set[str]:
        """Names of the databases in the cluster (templates excluded)."""
        with self._admin() as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate").fetchall()
        return {row[0] for row in rows}

    def stop(self) -> None:
        """Fast shutdown (open sessions are disconnected) and removal of the folder; safe to call twice."""
        workdir, self.workdir, self.port = self.workdir, None, None
        unregister_running(self)
        if workdir is None:
            return
        data = workdir / "data"
        pid = read_pid(data / "postmaster.pid")
        if pid is not None and pid_alive(pid) and self._bindir is not None:
            with contextlib.suppress(subprocess.TimeoutExpired, ServerUnavailable):
                pg_ctl = str(self._bindir / "pg_ctl")
                subprocess.run(
                    self._as_owner([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
                    cwd=workdir, capture_output=True, timeout=60, check=False,
                )  # fmt: skip
        if pid is not None and pid_alive(pid):
            terminate(pid, signal.SIGQUIT, timeout=5.0)
        shutil.rmtree(workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
