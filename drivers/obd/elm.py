"""The bounded ELM327 transport: one command out, lines back, never longer than a deadline.

python-OBD's own transport reads with a fixed 10 s timeout and retries empty reads ten times, so a
dead adapter can block one query for ~110 s; it also sleeps ≥ 3 s per connect. This module owns the
byte level instead (pyserial ``serial_for_url``: COM/USB, Bluetooth SPP, ``/dev/pts/N``,
``socket://host:port``): it writes a command, reads until the ``>`` prompt in short polls and gives up
when the caller's ``Deadline`` has passed. Parsing the lines into OBD messages is python-OBD's job
(``drivers.obd.replies``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

import serial

from drivers.obd.errors import AdapterNotFound, AdapterTimeout, LinkLost

log = logging.getLogger(__name__)

# One read waits at most this long, so a deadline is overshot by at most one poll.
POLL_SECONDS = 0.05
WRITE_TIMEOUT = 2.0
# Rates an ELM327 or STN adapter is found at (python-OBD's order, plus STN's 115200 early).
BAUD_RATES = (38400, 115200, 9600, 230400, 57600, 19200, 500000)
# Lines the adapter prints while it works; they carry no answer.
_NOISE = re.compile(r"^(SEARCHING\.*|BUS INIT:\s*\.*(OK)?)$", re.IGNORECASE)


class Deadline:
    """A point in time (monotonic clock) that a call must not run past."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.at = clock() + max(0.0, seconds)

    def remaining(self) -> float:
        """Seconds left (0 when expired)."""
        return max(0.0, self.at - self._clock())

    @property
    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self._clock() >= self.at

    def within(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now, but never later than this one."""
        return Deadline(min(seconds, self.remaining()), self._clock)


def is_virtual(url: str) -> bool:
    """Pseudo terminals (Linux ``/dev/pts/N``, macOS ``/dev/ttysNNN``) and network URLs have no baud rate."""
    return "://" in url or bool(re.match(r"^/dev/(pts/|ttys\d)", url))


def split_lines(raw: bytes, command: str) -> list[str]:
    """The reply's text lines without the echo of ``command``, empty lines, NULs and progress noise."""
    text = raw.replace(b"\x00", b"").decode("ascii", errors="replace")
    echo = command.replace(" ", "").upper()
    lines = []
    for part in re.split(r"[\r\n]+", text):
        line = part.strip()
        if not line or _NOISE.match(line) or line.replace(" ", "").upper() == echo:
            continue
        lines.append(line)
    return lines


class ElmLink:
    """One open adapter port; every call is bounded by a ``Deadline``. Not thread-safe: one owner."""

    def __init__(self, port: Any, url: str) -> None:
        self._port = port
        self.url = url

    @classmethod
    def open(cls, url: str, *, baudrate: int | None, deadline: Deadline) -> ElmLink:
        """Open the port (and find the baud rate of a real serial port when none is given)."""
        try:
            port = serial.serial_for_url(
                url, baudrate=baudrate or BAUD_RATES[0], timeout=POLL_SECONDS, write_timeout=WRITE_TIMEOUT
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise AdapterNotFound(url, str(exc)) from exc
        link = cls(port, url)
        if baudrate is None and not is_virtual(url):
            try:
                link._find_baudrate(deadline)
            except Exception:
                link.close()
                raise
        return link

    @property
    def is_open(self) -> bool:
        """False after close() or after the link broke."""
        return self._port is not None

    def close(self) -> None:
        """Close the port; safe to call twice."""
        port, self._port = self._port, None
        if port is None:
            return
        sock = getattr(port, "_socket", None)
        try:
            port.close()
        except (serial.SerialException, OSError) as exc:  # already gone: nothing left to release
            log.debug("closing %s: %s", self.url, exc)
        if sock is not None:
            sock.close()  # pyserial skips close() when shutdown() fails because the peer has gone

    def exchange(self, command: str, deadline: Deadline) -> list[str]:
        """Send one command and return its reply lines (up to the ``>`` prompt).

        Raises ``AdapterTimeout`` when no prompt arrives in time and ``LinkLost`` when the port fails.
        """
        raw = self._transact(command.encode("ascii") + b"\r", deadline, command)
        return split_lines(raw, command)

    def drain(self, deadline: Deadline) -> bool:
        """Wait quietly for a pending prompt (a late reply) and discard it; True when one came."""
        buffer = bytearray()
        while not deadline.expired:
            buffer += self._read()
            if b">" in buffer:
                self._flush()
                return True
        return False

    def resync(self, deadline: Deadline) -> None:
        """Get a busy or confused adapter back to an idle prompt, or raise ``AdapterTimeout``.

        First wait for the late reply; if none comes, send ``ATI`` (harmless when idle, and any
        character interrupts a busy ELM327 with ``STOPPED``) and wait for its prompt. A bare CR is
        never sent: it repeats the last command, which could be ``04`` (clear codes).
        """
        if self.drain(deadline.within(deadline.remaining() / 2)):
            return
        self._transact(b"ATI\r", deadline, "ATI")
        self.drain(deadline.within(0.1))  # stragglers of an interrupted command

    def _transact(self, data: bytes, deadline: Deadline, command: str) -> bytes:
        if self._port is None:
            raise LinkLost("Keine Verbindung zum Adapter – bitte zuerst verbinden.")
        self._flush()  # late replies of earlier commands must not shift onto this one
        try:
            self._port.write(data)
        except serial.SerialTimeoutException as exc:
            raise AdapterTimeout(command) from exc
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise LinkLost() from exc
        buffer = bytearray()
        while True:
            end = buffer.find(b">")
            if end >= 0:
                return bytes(buffer[:end])
            if deadline.expired:
                log.info("no prompt for %r within the deadline (%d bytes came)", command, len(buffer))
                raise AdapterTimeout(command)
            buffer += self._read()

    def _read(self) -> bytes:
        port = self._port
        if port is None:
            raise LinkLost()
        try:
            data: bytes = port.read(max(1, port.in_waiting))
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise LinkLost() from exc
        return data

    def _flush(self) -> None:
        try:
            if self._port is not None:
                self._port.reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise LinkLost() from exc

    def _find_baudrate(self, deadline: Deadline) -> None:
        """Try the usual rates: an ELM327 answers ``\\x7F\\x7F\\r`` (an invalid command) with ``?>``."""
        for rate in BAUD_RATES:
            if deadline.expired:
                break
            self._port.baudrate = rate
            try:
                self._transact(b"\x7f\x7f\r", deadline.within(0.2), "baud")
            except AdapterTimeout:
                continue
            log.debug("adapter on %s answers at %d baud", self.url, rate)
            return
        raise AdapterTimeout("baud")
