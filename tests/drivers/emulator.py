"""The ELM327-emulator (Ircama, CC-BY-NC-SA: test and benchmark use only) run in-process.

``running_emulator()`` starts it on a pty (or TCP with ``net_port``), in the ``car`` scenario, with
the DTC-count patch and two more corrections of emulator artefacts that would otherwise test the
emulator instead of our driver:

* Mode 02 requests carry the frame number (``020C00``, SAE J1979); the emulator only knows ``020C``.
* A batched Mode 01 request is one CAN request with one reply, but the emulator answers it by
  running one nested request per PID, each sleeping ``delay`` again and merging the data of all
  ECUs into one message; the replacement sleeps once and takes the first ECU's data per PID, so
  ``delay`` stays "latency per answer" for batched requests too.

``stop()`` ends the emulator at once (its own ``terminate`` waits 1 s for a thread blocked in read).
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import elm.elm
from elm import Elm

from tests.drivers import emu_patches

# Without this the emulator configures the root logger (DEBUG, elm.log in the working directory).
elm.elm.setup_logging = lambda *args, **kwargs: None
emu_patches.apply()


class _Emulator(Elm):  # type: ignore[misc]
    """The emulator, but a client socket it replaces is closed (it only drops the reference: a leak)."""

    @property
    def sock_conn(self) -> Any:
        return self.__dict__.get("_sock_conn")

    @sock_conn.setter
    def sock_conn(self, value: Any) -> None:
        old = self.__dict__.get("_sock_conn")
        if old is not None and old is not value:
            old.close()
        self.__dict__["_sock_conn"] = value


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def url(emu: Any) -> str:
    """The pyserial URL of a running emulator."""
    return f"socket://127.0.0.1:{emu.net_port}" if emu.net_port else str(emu.get_pty())


def accept_frame_number(emu: Any) -> None:
    """Let ``02xx00`` reach the emulator's Mode 02 entries (which match ``02xx`` only)."""
    original = emu.handle_request

    def handle_request(cmd: str, do_write: bool = False) -> Any:
        compact = (cmd or "").replace(" ", "").upper()
        if re.fullmatch(r"02[0-9A-F]{2}00", compact) and compact != "020200":
            cmd = compact[:4]
        return original(cmd, do_write)

    emu.handle_request = handle_request


def one_answer_per_batch(emu: Any) -> None:
    """Answer a batched Mode 01 request like one CAN ECU: one ``delay``, one frame of data per PID.

    The emulator builds the batched answer from nested single requests, each sleeping ``delay``
    again and each contributing every ECU's data (one ENGINE_LOAD answer comes from two ECUs and
    is merged into one message). This replacement takes the first ECU's data of each PID only.
    """

    def multi_pid_answer(cmd: str, header: str) -> Any:
        if not re.fullmatch(r"01([0-9A-F]{2}){2,6}", cmd):
            return None
        saved, emu.delay = emu.delay, 0
        payload: list[str] = []
        try:
            for index in range(2, len(cmd), 2):
                pid = cmd[index : index + 2]
                answer = emu.handle_request("01" + pid)[2] or ""
                first = re.search(r"<data>(.*?)</data>", answer, re.DOTALL)
                data = first.group(1).split() if first else []
                if data[:2] == ["41", pid]:
                    payload += data[1:]
        finally:
            emu.delay = saved
        return f"<rh>7E0</rh><answer>41 {' '.join(payload)}</answer>" if payload else None

    emu.multi_pid_answer = multi_pid_answer


def start(scenario: str = "car", *, delay: float = 0.0, net_port: int | None = None) -> Any:
    """A started emulator (call ``stop`` when done)."""
    emu = _Emulator(batch_mode=True, net_port=net_port)
    emu.__enter__()
    deadline = time.monotonic() + 5
    while emu.threadState == emu.THREAD.STARTING and time.monotonic() < deadline:
        time.sleep(0.01)
    emu.scenario = scenario
    emu.set_sorted_obd_msg()
    emu.delay = delay
    accept_frame_number(emu)
    one_answer_per_batch(emu)
    return emu


def stop(emu: Any) -> None:
    """Terminate quickly: mark the thread terminated, wake its blocking read, close the port (idempotent)."""
    if getattr(emu, "stopped", False):
        return  # a second poke would reach whatever emulator listens on that port now
    emu.stopped = True
    emu.threadState = emu.THREAD.TERMINATED
    poke = None
    with suppress(OSError):
        if emu.sock_conn is not None:  # the client connection: wakes the thread's recv, the client sees EOF
            emu.sock_conn.shutdown(socket.SHUT_RDWR)
        if emu.net_port:  # a thread waiting in accept(): kept open until it has echoed and ended
            poke = socket.create_connection(("127.0.0.1", emu.net_port), timeout=0.2)
            poke.sendall(b"\r")
        elif emu.slave_name:
            fd = os.open(emu.slave_name, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
            os.write(fd, b"\r")
            os.close(fd)
    if emu.thread is not None:
        # Wait for the thread to really end BEFORE terminate() closes the pty's master fd: a thread that
        # still writes afterwards writes into whatever file the process opens next under that fd number
        # (it broke playwright's pipe to its driver in a full run). Under load the last answer (with its
        # configured delay) can take well over half a second.
        emu.thread.join(5.0)
    if poke is not None:
        poke.close()
    emu.terminate()
    emu.sock_conn = None
    if emu.sock_inet is not None:  # terminate() fails on shutdown() of the listening socket and leaks it
        emu.sock_inet.close()
        emu.sock_inet = None


@contextmanager
def running_emulator(scenario: str = "car", *, delay: float = 0.0, net_port: int | None = None) -> Iterator[Any]:
    """``with running_emulator() as emu: url(emu)`` — started and stopped around the block."""
    emu = start(scenario, delay=delay, net_port=net_port)
    try:
        yield emu
    finally:
        stop(emu)
