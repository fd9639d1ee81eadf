"""A local fake LLM provider on 127.0.0.1 speaking the real wire formats (chat-sync-auth-billing.md §2.5).

Each POST takes the next scripted ``Reply`` from the queue: an HTTP status, headers and a list of chunks
written as they are (``bytes``) with pauses (``float`` seconds) in between, or ``STALL`` to hang until the
test ends. Every request is recorded (path, headers, JSON body). ``openai_stream`` and ``anthropic_stream``
build the providers' real event sequences: OpenAI ``chat.completion.chunk`` objects with tool-call
fragments accumulated by index and a ``choices: []`` usage chunk before ``[DONE]``; Anthropic
``message_start`` … ``message_stop`` with ``ping`` in between and optional ``error`` events.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Stall:
    """Marker: stop sending and hang (until the server is stopped)."""


STALL = _Stall()
Chunk = bytes | float | _Stall


@dataclass
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    chunks: Sequence[Chunk] = ()
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, status: int, error: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        """A JSON error answer as both providers send it."""
        body = json.dumps({"type": "error", "error": error}).encode()
        return cls(status, [body], {"Content-Type": "application/json", **(headers or {})})


@dataclass
class Recorded:
    """A request the fake received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeProvider:
    """The fake server; use as a context manager."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[Recorded] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection closes, as with a streamed answer

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    reply = fake.replies.pop(0) if fake.replies else Reply.error(500, {"message": "no script"})
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    for chunk in reply.chunks:
                        if isinstance(chunk, _Stall):
                            fake.release.wait(30)
                            return
                        if isinstance(chunk, float):
                            fake.release.wait(chunk)
                            continue
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def queue(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies`` in order."""
        with self._lock:
            self.replies.extend(replies)

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


# ----------------------------------------------------------------------------------------------- OpenAI


def _data(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def openai_chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """A ``chat.completion.chunk`` with one choice."""
    choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1767225600,
        "model": "gpt-4.1-mini",
        "choices": choices,
        **extra,
    }


@dataclass
class FakeCall:
    """A tool call the fake model makes, its arguments sent in ``pieces``."""

    id: str
    name: str
    pieces: Sequence[str]


def openai_stream(
    text: Sequence[str] = (),
    calls: Sequence[FakeCall] = (),
    *,
    usage: tuple[int, int, int, int] | None = (100, 0, 20, 0),
    finish: str | None = None,
    done: bool = True,
) -> list[Chunk]:
    """A complete Chat Completions stream; ``usage`` = (prompt, cached, completion, reasoning)."""
    chunks: list[Chunk] = [_data(openai_chunk({"role": "assistant", "content": ""}))]
    chunks += [_data(openai_chunk({"content": piece})) for piece in text]
    for index, call in enumerate(calls):
        first = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        chunks.append(_data(openai_chunk({"tool_calls": [first]})))
        for piece in call.pieces:
            chunks.append(_data(openai_chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})))
    reason = finish or ("tool_calls" if calls else "stop")
    chunks.append(_data(openai_chunk({}, reason)))
    if usage is not None:
        prompt, cached, completion, reasoning = usage
        chunks.append(
            _data(
                openai_chunk(
                    None,
                    usage={
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                        "prompt_tokens_details": {"cached_tokens": cached},
                        "completion_tokens_details": {"reasoning_tokens": reasoning},
                    },
                )
            )
        )
    if done:
        chunks.append(b"data: [DONE]\n\n")
    return chunks


# -------------------------------------------------------------------------------------------- Anthropic


def _event(name: str, obj: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(obj)}\n\n".encode()


PING = _event("ping", {"type": "ping"})


def anthropic_error(kind: str = "overloaded_error", message: str = "Overloaded") -> bytes:
    """The ``error`` event that may arrive after HTTP 200."""
    return _event("error", {"type": "error", "error": {"type": kind, "message": message}})


def _blocks(text: Sequence[str], calls: Sequence[FakeCall]) -> Iterator[bytes]:
    index = 0
    if text:
        yield _event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
        yield PING
        for piece in text:
            yield _event(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
            )
        yield _event("content_block_stop", {"type": "content_block_stop", "index": 0})
        index = 1
    for call in calls:
        yield _event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "tool_use", "id": call.id, "name": call.name, "input": {}},
            },
        )
        for piece in call.pieces:
            yield _event(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                },
            )
        yield _event("content_block_stop", {"type": "content_block_stop", "index": index})
        index += 1


def anthropic_stream(
    text: Sequence[str] = (),
    calls: Sequence[FakeCall] = (),
    *,
    usage: tuple[int, int, int] = (100, 0, 20),
    stop: bool = True,
) -> list[Chunk]:
    """A complete Messages stream; ``usage`` = (input, cache read, output)."""
    prompt, cache_read, output = usage
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-haiku-4-5",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": prompt,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": cache_read,
                "output_tokens": 1,
            },
        },
    }
    chunks: list[Chunk] = [_event("message_start", start), PING]
    chunks += list(_blocks(text, calls))
    if stop:
        reason = "tool_use" if calls else "end_turn"
        chunks.append(
            _event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": reason, "stop_sequence": None},
                    "usage": {"output_tokens": output},
                },
            )
        )
        chunks.append(_event("message_stop", {"type": "message_stop"}))
    return chunks
