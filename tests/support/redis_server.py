"""A throwaway Redis server (no persistence, loopback, free port) and a tiny RESP client for it."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from tests.support.processes import (
    ADDRESS_IN_USE,
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

REDIS_SERVER_ENV = "CARBOT_REDIS_SERVER"


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
        return None if self.workdir is None else read_pid(self.workdir / "redis.pid")

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
        workdir = self.workdir = make_workdir(REDIS_PREFIX)
        register_running(self)
        try:
            self._start_server(executable, workdir, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_server(self, executable: str, workdir: Path, timeout: float) -> None:
        log = workdir / "redis.log"
        for _attempt in range(START_ATTEMPTS):
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
            if ADDRESS_IN_USE not in log_tail(log):
                break
        raise ServerStartError(f"redis-server did not answer PING within {timeout:.0f} s:\n{log_tail(log)}")

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
        unregister_running(self)
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
