"""Process plumbing shared by the throwaway test servers: free ports, pid checks, cleanup of leftovers.

Cleanup is layered so a failing or aborted run leaves nothing behind: the pytest fixture's finalizer
stops a server, an ``atexit`` hook stops whatever is still registered as running, and the next start
reaps folders whose owning process has died (SIGKILL, CI timeout): :func:`reap_stale`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path
from typing import Protocol

PG_PREFIX = "carbot-pg-"
REDIS_PREFIX = "carbot-redis-"
OWNER_FILE = "owner.pid"
START_ATTEMPTS = 3  # a free port can be taken by someone else between probing and binding
ADDRESS_IN_USE = "Address already in use"


class ServerUnavailable(RuntimeError):
    """The server's binaries are not installed here; the message says what to install."""


class ServerStartError(RuntimeError):
    """The binaries exist, but the server did not come up; the message carries its log tail."""


class Stoppable(Protocol):
    """Anything :func:`register_running` can stop at interpreter exit."""

    def stop(self) -> None:
        """Stop the server and remove its folder."""


_RUNNING: dict[int, Stoppable] = {}


def register_running(server: Stoppable) -> None:
    """Remember ``server`` until :func:`unregister_running`, so ``atexit`` can stop it."""
    _RUNNING[id(server)] = server


def unregister_running(server: Stoppable) -> None:
    """The server stopped normally; ``atexit`` need not bother."""
    _RUNNING.pop(id(server), None)


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


def read_pid(path: Path) -> int | None:
    """The pid on the first line of a pid file, or None when it is missing or garbled."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def log_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a server log, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def make_workdir(prefix: str) -> Path:
    """A fresh temp folder that names this process as its owner (see :func:`reap_stale`)."""
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
            owner = read_pid(workdir / OWNER_FILE)
            if owner is None or pid_alive(owner):
                continue
            server_pid = read_pid(workdir / pid_file)
            if server_pid and pid_alive(server_pid) and _process_name(server_pid).startswith(name):
                # SIGQUIT: PostgreSQL's immediate shutdown (takes its backends along); Redis exits on it too.
                terminate(server_pid, signal.SIGQUIT, timeout=5.0)
            shutil.rmtree(workdir, ignore_errors=True)
            removed.append(workdir)
    return removed
