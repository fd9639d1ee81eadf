"""Incremental parser for server-sent events (the WHATWG ``text/event-stream`` format).

Both providers stream this way: OpenAI sends only ``data:`` lines (ending with ``data: [DONE]``), Anthropic
``event: <type>`` plus ``data:`` lines. The parser is fed raw bytes exactly as they come off the socket, so a
line, a CRLF pair or a multi-byte UTF-8 character may be split between two chunks. Rules kept from the spec:

- lines end in LF, CR or CRLF; a line starting with ``:`` is a comment (keep-alive) and ignored;
- ``field: value`` (one space after the colon is dropped); ``data`` lines of one event are joined with LF;
- a blank line dispatches the event; without data nothing is dispatched;
- an event still open when the stream ends is discarded (it was never completed).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event: its type (``message`` unless an ``event:`` line said otherwise) and data."""

    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SseParser:
    """Turns byte (or text) chunks into ``SseEvent``s; keeps partial lines between calls."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._pending_cr = False  # the previous chunk ended in CR: a following LF belongs to it
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None
        self._first_line = True

    def feed(self, chunk: bytes | str) -> list[SseEvent]:
        """Parse a chunk; returns the events completed by it (possibly none)."""
        text = self._decoder.decode(chunk) if isinstance(chunk, bytes) else chunk
        if not text:
            return []
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]
        self._pending_cr = False
        self._buffer += text
        events: list[SseEvent] = []
        start = 0
        for match in _LINE_END.finditer(self._buffer):
            if match.group() == "\r" and match.end() == len(self._buffer):
                self._pending_cr = True  # maybe the first half of a CRLF split between two chunks
            event = self._line(self._buffer[start : match.start()])
            if event is not None:
                events.append(event)
            start = match.end()
        self._buffer = self._buffer[start:]
        return events

    def feed_line(self, line: str) -> list[SseEvent]:
        """Parse one line without its line ending (as from httpx ``iter_lines()``)."""
        event = self._line(line)
        return [event] if event is not None else []

    def close(self) -> list[SseEvent]:
        """End of stream: flush the decoder; an event without its closing blank line is dropped."""
        tail = self._decoder.decode(b"", final=True)
        events = self.feed(tail) if tail else []
        self._buffer = ""
        self._reset()
        return events

    def _reset(self) -> None:
        self._event = ""
        self._data = []

    def _line(self, line: str) -> SseEvent | None:
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")  # a byte order mark may start the stream
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        if not self._data:
            self._reset()
            return None
        event = SseEvent(self._event or "message", "\n".join(self._data), self._id, self._retry)
        self._reset()
        return event


def iter_sse(chunks: Iterable[bytes | str]) -> Iterator[SseEvent]:
    """Events of a whole stream of raw chunks (e.g. httpx ``response.iter_bytes()``)."""
    parser = SseParser()
    for chunk in chunks:
        yield from parser.feed(chunk)
    yield from parser.close()


def iter_sse_lines(lines: Iterable[str]) -> Iterator[SseEvent]:
    """Events of a stream already split into lines without endings (httpx ``response.iter_lines()``)."""
    parser = SseParser()
    for line in lines:
        yield from parser.feed_line(line)
