"""A stand-in cloud LLM on loopback for benchmarks: OpenAI-compatible Chat Completions, streamed.

``POST /v1/chat/completions`` (any body; the last one is kept in ``LlmStub.last_body``) answers with the
real ``chat.completion.chunk`` wire format: after ``first_token_delay`` seconds the role chunk and the first
word in one write, then the other words ``chunk_delay`` apart, a ``finish_reason`` chunk, the
``choices: []`` usage chunk and ``data: [DONE]``. No tool calls: the benchmark measures the text path.
HTTP/1.0, so the body ends when the connection closes (a new connection per request, for the proxy and
the baseline alike).

Manual use, e.g. with ``carbot chat agent`` against a local server:
``python -m bench.llm_stub --port 8099 --delay 0.15`` and base URL ``http://127.0.0.1:8099/v1``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER = (
    "Ein Ölwechsel kostet bei uns ab 89,00 € inklusive Öl und Filter. Möchten Sie gleich einen Termin "
    "vereinbaren? Ich kann Ihnen freie Zeiten in dieser Woche nennen."
)
MODEL = "gpt-4.1-mini"


def _data(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"


def _chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    body = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": int(time.time()), "model": MODEL}
    return _data(body | {"choices": choices} | extra)


def words(text: str) -> list[str]:
    """``text`` split into word tokens that join back to it (each with its leading space)."""
    parts = text.split(" ")
    return [parts[0]] + [" " + part for part in parts[1:]]


class LlmStub:
    """The stub server in a background thread; use as a context manager."""

    def __init__(
        self, *, first_token_delay: float = 0.15, chunk_delay: float = 0.02, answer: str = ANSWER, port: int = 0
    ) -> None:
        self.first_token_delay = first_token_delay
        self.chunk_delay = chunk_delay
        self.pieces = words(answer)
        self.last_body: dict[str, Any] | None = None
        self.requests = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *_args: Any) -> None:
                """Quiet."""

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with stub._lock:
                    stub.last_body, stub.requests = body, stub.requests + 1
                if not self.path.endswith("/chat/completions"):
                    self.send_error(404)
                    return
                try:
                    stub._stream(self)
                except (BrokenPipeError, ConnectionResetError):
                    return

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="llm-stub", daemon=True)

    def _stream(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        handler.wfile.flush()
        # The model "thinks": headers are out at once (as real providers send them), the first token comes later.
        self._stopping.wait(self.first_token_delay)
        first, *rest = self.pieces
        handler.wfile.write(_chunk({"role": "assistant", "content": ""}) + _chunk({"content": first}))
        handler.wfile.flush()
        for piece in rest:
            self._stopping.wait(self.chunk_delay)
            handler.wfile.write(_chunk({"content": piece}))
            handler.wfile.flush()
        usage = {"prompt_tokens": 900, "completion_tokens": len(self.pieces), "total_tokens": 900 + len(self.pieces)}
        handler.wfile.write(_chunk({}, "stop") + _chunk(None, usage=usage) + b"data: [DONE]\n\n")
        handler.wfile.flush()

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL (with ``/v1``), as configured in the desktop."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> LlmStub:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    """Serve until Ctrl+C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--delay", type=float, default=0.15, help="seconds before the first token")
    parser.add_argument("--chunk-delay", type=float, default=0.02, help="seconds between tokens")
    args = parser.parse_args()
    with LlmStub(first_token_delay=args.delay, chunk_delay=args.chunk_delay, port=args.port) as stub:
        print(f"LLM stub on {stub.base_url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return


if __name__ == "__main__":
    main()
