"""Throwaway PostgreSQL clusters and Redis servers on free loopback ports for the server test tiers.

Both servers live in their own temporary folder (``carbot-pg-*`` / ``carbot-redis-*`` in the system temp
dir), listen on 127.0.0.1 only, on a port the kernel handed out (never a fixed well-known port), and
keep no data beyond the run. PostgreSQL refuses to run as root, so under root the cluster belongs to
the ``postgres`` system user (``runuser``). Cleanup is layered so a failing or aborted run leaves
nothing behind: the pytest fixture's finalizer stops the server, an ``atexit`` hook stops whatever is
still running, and the next start reaps folders whose owning process has died (SIGKILL, CI timeout).

Missing binaries raise :class:`ServerUnavailable` (the fixtures turn it into a skip with that reason;
CI's ``CARBOT_REQUIRE_ALL_TIERS=1`` then fails the run). A server that exists but does not come up
raises :class:`ServerStartError` with the tail of its log.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

PG_BINDIR_ENV = "CARBOT_PG_BINDIR"
REDIS_SERVER_ENV = "CARBOT_REDIS_SERVER"
PG_PREFIX = "carbot-pg-"
REDIS_PREFIX = "carbot-redis-"
OWNER_FILE = "owner.pid"
_START_ATTEMPTS = 3  # a free port can be taken by someone else between probing and binding
_ADDRESS_IN_USE = "Address already in use"


class ServerUnavailable(RuntimeError):
    """The server's binaries are not installed here; the message says what to install."""


class ServerStartError(RuntimeError):
    """The binaries exist, but the server did not come up; the message carries its log tail."""


class _Stoppable(Protocol):
    def stop(self) -> None: ...


_RUNNING: dict[int, _Stoppable] = {}


@atexit.register
def _stop_all() -> None:
    """Last line of defence when a fixture finalizer never ran (an exception in pytest itself)."""
    for server in list(_RUNNING.values()):
        with contextlib.suppress(Exception):
            server.stop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie counts as gone (our PID 1 may never reap daemonised children)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state letter follows the parenthesised command name, which may itself contain spaces.
    return stat.rpartition(")")[2].split()[0] != "Z"


def _process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def terminate(pid: int, first: signal.Signals = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Send ``first``, then SIGKILL if ``pid`` is still there after ``timeout`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, first)
        if not _wait_gone(pid, timeout):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5.0)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _make_workdir(prefix: str) -> Path:
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    (workdir / OWNER_FILE).write_text(str(os.getpid()))
    return workdir


def reap_stale(tmpdir: str | None = None) -> list[Path]:
    """Stop servers and remove folders left behind by test runs that died; returns the removed folders.

    A folder is stale when the process named in its ``owner.pid`` is gone. Before killing the pid in a
    leftover pid file we check it still names a postgres/redis process, since pids get reused.
    """
    removed: list[Path] = []
    base = Path(tmpdir or tempfile.gettempdir())
    for prefix, pid_file, name in (
        (PG_PREFIX, Path("data/postmaster.pid"), "postgres"),
        (REDIS_PREFIX, Path("redis.pid"), "redis-server"),
    ):
        for workdir in base.glob(prefix + "*"):
            owner = _read_pid(workdir / OWNER_FILE)
            if owner is None or pid_alive(owner):
                continue
            server_pid = _read_pid(workdir / pid_file)
            if server_pid and pid_alive(server_pid) and _process_name(server_pid).startswith(name):
                # SIGQUIT: PostgreSQL's immediate shutdown (takes its backends along); Redis exits on it too.
                terminate(server_pid, signal.SIGQUIT, timeout=5.0)
            shutil.rmtree(workdir, ignore_errors=True)
            removed.append(workdir)
    return removed


# --- PostgreSQL -----------------------------------------------------------------------------------------


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
        workdir = self.workdir = _make_workdir(PG_PREFIX)
        _RUNNING[id(self)] = self
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
        for _attempt in range(_START_ATTEMPTS):
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
            if _ADDRESS_IN_USE not in _log_tail(log):
                break
        raise ServerStartError(f"pg_ctl start failed:\n{started.stdout}{started.stderr}\n{_log_tail(log)}")

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
        _RUNNING.pop(id(self), None)
        if workdir is None:
            return
        data = workdir / "data"
        pid = _read_pid(data / "postmaster.pid")
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


# --- Redis ----------------------------------------------------------------------------------------------


def find_redis_server() -> str:
    """Path of ``redis-server``: $CARBOT_REDIS_SERVER or the PATH."""
    wanted = os.environ.get(REDIS_SERVER_ENV) or "redis-server"
    found = shutil.which(wanted)
    if found is None:
        raise ServerUnavailable(
            f"'{wanted}' not found: install the Debian package 'redis-server' (apt-get install redis-server) "
            f"or point {REDIS_SERVER_ENV} at the binary."
        )
    return found


class RedisError(RuntimeError):
    """Redis answered a command with an error reply."""


def _encode(*args: str | int) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        raw = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


def _read_reply(stream: Any) -> Any:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("Redis closed the connection")
    kind, body = line[:1], line[1:-2]
    if kind == b"+":
        return body.decode()
    if kind == b"-":
        raise RedisError(body.decode())
    if kind == b":":
        return int(body)
    if kind == b"$":
        size = int(body)
        return None if size < 0 else stream.read(size + 2)[:-2]
    if kind == b"*":
        size = int(body)
        return None if size < 0 else [_read_reply(stream) for _ in range(size)]
    raise ConnectionError(f"unexpected Redis reply {line!r}")


def redis_command(port: int, *args: str | int, timeout: float = 5.0) -> Any:
    """Send one command to the Redis server on 127.0.0.1:``port`` (tiny RESP client, no dependencies)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(_encode(*args))
        with sock.makefile("rb") as stream:
            return _read_reply(stream)


class RedisServer:
    """A throwaway Redis server: no persistence, loopback only, daemonised with a pid file.

    Use as a context manager or call :meth:`start` / :meth:`stop` (both idempotent).
    """

    def __init__(self, executable: str | None = None) -> None:
        self.executable = executable
        self.port: int | None = None
        self.workdir: Path | None = None

    @property
    def running(self) -> bool:
        """Whether the server was started and not stopped yet."""
        return self.port is not None

    @property
    def url(self) -> str:
        """redis:// URL of database 0."""
        if self.port is None:
            raise RuntimeError("Redis server is not running")
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """Process id of the daemonised server (from its pid file)."""
        return None if self.workdir is None else _read_pid(self.workdir / "redis.pid")

    def command(self, *args: str | int) -> Any:
        """Send one command and return the decoded reply (bulk strings as bytes)."""
        if self.port is None:
            raise RuntimeError("Redis server is not running")
        return redis_command(self.port, *args)

    def flush(self) -> None:
        """Empty every database, so the next test starts without keys."""
        self.command("FLUSHALL")

    def start(self, timeout: float = 10.0) -> Self:
        """Start on a free port and wait until it answers PING."""
        if self.running:
            return self
        executable = self.executable or find_redis_server()
        if shutil.which(executable) is None:
            raise ServerUnavailable(f"Redis server binary '{executable}' not found or not executable.")
        reap_stale()
        workdir = self.workdir = _make_workdir(REDIS_PREFIX)
        _RUNNING[id(self)] = self
        try:
            self._start_server(executable, workdir, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_server(self, executable: str, workdir: Path, timeout: float) -> None:
        log = workdir / "redis.log"
        for _attempt in range(_START_ATTEMPTS):
            port = free_port()
            subprocess.run(
                [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "yes", "--pidfile", str(workdir / "redis.pid"), "--dir", str(workdir),
                 "--logfile", str(log)],
                cwd=workdir, capture_output=True, timeout=30, check=True,
            )  # fmt: skip
            if self._wait_ready(port, timeout):
                self.port = port
                return
            pid = self.pid
            if pid is not None:
                terminate(pid)
            if _ADDRESS_IN_USE not in _log_tail(log):
                break
        raise ServerStartError(f"redis-server did not answer PING within {timeout:.0f} s:\n{_log_tail(log)}")

    def _wait_ready(self, port: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, RedisError):
                # The pid file must exist too, or stop() could not find the daemon.
                if redis_command(port, "PING", timeout=1.0) == "PONG" and self.pid is not None:
                    return True
            pid = self.pid
            if pid is not None and not pid_alive(pid):
                return False
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        """Terminate the daemon by its pid and remove the folder; safe to call twice."""
        pid = self.pid
        workdir, self.workdir, self.port = self.workdir, None, None
        _RUNNING.pop(id(self), None)
        if workdir is None:
            return
        if pid is not None and pid_alive(pid):
            terminate(pid)
        shutil.rmtree(workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
