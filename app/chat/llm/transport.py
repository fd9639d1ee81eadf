"""Streaming HTTP to the LLM provider: time limits, retries with jitter, HTTP errors in German.

Time limits (``Timeouts``, all configurable): connect 5 s; the first token (first text or tool-call fragment,
not a ``ping``) within 20 s of sending the request; at most 30 s of silence between two chunks once the
response started; 90 s for the whole call including retries. httpx can only limit single socket reads, so
the request runs in a small worker thread that hands raw chunks over a queue; the caller's thread waits on
the queue with the exact remaining time and parses the events, and ``on_delta`` runs in the caller's thread.

Retries (``RetryPolicy``): connection errors, 408/409/429/5xx/529, a stream that broke off (or an
``overloaded_error`` event) — ONLY while nothing of this stream was handed to the caller, so no text a
customer saw is ever repeated; and only if the caller allows it (the assistant forbids it once any text
reached the customer). Delays use full jitter and honour ``retry-after``/``retry-after-ms``. Never retried:
400/401/403/404/422, and a 429 that means the credit or spend limit is used up (OpenAI
``insufficient_quota``, Anthropic ``enforced_spend_limit_reached``).
"""

from __future__ import annotations

import email.utils
import json
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from app.chat.llm.errors import (
    LlmAuthError,
    LlmError,
    LlmQuotaError,
    LlmRequestError,
    LlmStreamError,
    LlmTimeout,
    LlmUnavailable,
)
from app.chat.llm.events import Finished, Message, StreamError, StreamEvent, ToolSpec
from app.chat.llm.sse import SseEvent, SseParser
from app.i18n import N_

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429, 529}) | frozenset(range(500, 600))
QUOTA_CODES = frozenset({"insufficient_quota", "enforced_spend_limit_reached", "billing_hard_limit_reached"})
RETRYABLE_STREAM_CODES = frozenset({"overloaded_error", "api_error", "rate_limit_error", "incomplete_stream"})
MAX_ERROR_BODY = 64 * 1024


@dataclass(frozen=True)
class Timeouts:
    """Time limits in seconds (chat-sync-auth-billing.md §2.4)."""

    connect: float = 5.0
    first_token: float = 20.0
    stall: float = 30.0
    total: float = 90.0


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in total (first try included); full-jitter backoff ``random() × min(max, base × 2ⁿ)``."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0  # a provider asking for a longer pause is not retried: the visitor waits


@dataclass(frozen=True)
class HttpRequest:
    """A provider request: POST ``url`` with JSON ``body`` (``headers`` may hold the API key: never log them)."""

    url: str
    headers: Mapping[str, str]
    body: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"HttpRequest(url={self.url!r}, …)"

    def content(self) -> bytes:
        """The JSON body as sent."""
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()


class StreamDecoder(Protocol):
    """Turns one provider's SSE events into ``StreamEvent``s (one decoder per attempt)."""

    @property
    def content_started(self) -> bool:
        """True once the first text or tool-call fragment arrived (stops the first-token clock)."""

    def feed(self, event: SseEvent) -> list[StreamEvent]:
        """Events for one SSE event."""

    def finish(self) -> list[StreamEvent]:
        """The stream ended: remaining events, or a ``StreamError`` when it ended too early."""


class ChatProvider(Protocol):
    """A provider adapter: renders one round of the tool loop as a request and decodes its stream."""

    @property
    def name(self) -> str:
        """``openai`` or ``anthropic`` (stored with the usage)."""

    @property
    def model(self) -> str:
        """The model asked."""

    def build_request(self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> HttpRequest:
        """The streaming request."""

    def decoder(self) -> StreamDecoder:
        """A fresh decoder for one attempt."""


@dataclass
class _Channel:
    """What the worker thread hands to the caller's thread."""

    items: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)
    cancel: threading.Event = field(default_factory=threading.Event)


def _worker(client: httpx.Client, request: HttpRequest, timeout: httpx.Timeout, channel: _Channel) -> None:
    try:
        with client.stream(
            "POST", request.url, headers=dict(request.headers), content=request.content(), timeout=timeout
        ) as response:
            if response.status_code >= 300:  # redirects are not followed: the key must not travel elsewhere
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) >= MAX_ERROR_BODY:
                        break
                channel.items.put(("response", (response.status_code, response.headers, body)))
                return
            channel.items.put(("response", (response.status_code, response.headers, b"")))
            for chunk in response.iter_bytes():
                if channel.cancel.is_set():
                    return
                channel.items.put(("chunk", chunk))
        channel.items.put(("end", None))
    except Exception as exc:  # handed to the caller's thread, which raises the German error
        channel.items.put(("fail", exc))


def parse_retry_after(headers: Mapping[str, str], *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date), or None."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now(), 0.0)


def _error_fields(body: bytes) -> tuple[str, str]:
    """(code, message) from an OpenAI ``{"error": {message, type, code}}`` or Anthropic error body."""
    try:
        data = json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        return "", body.decode("utf-8", errors="replace").strip()[:200]
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return "", str(data)[:200]
    code = error.get("code") or ""
    kind = error.get("type") or ""
    codes = [str(c) for c in (code, kind) if c]
    chosen = next((c for c in codes if c in QUOTA_CODES), codes[0] if codes else "")
    return chosen, str(error.get("message") or "")[:200]


def http_error(status: int, headers: Mapping[str, str], body: bytes) -> LlmError:
    """The German error for an HTTP error answer of the provider."""
    code, detail = _error_fields(body)
    error: LlmError
    if status in (401, 403):
        error = LlmAuthError(
            N_(
                "Der KI-Anbieter hat den API-Schlüssel abgelehnt (HTTP {status}). Bitte den Schlüssel in den "
                "Einstellungen prüfen."
            ),
            status=status,
            code=code,
        )
    elif status == 429 and (code in QUOTA_CODES or any(q.encode() in body for q in QUOTA_CODES)):
        error = LlmQuotaError(
            N_(
                "Beim KI-Anbieter ist das Guthaben oder das Ausgabenlimit aufgebraucht ({code}). Bis es aufgeladen "
                "ist, antwortet der eingebaute Assistent."
            ),
            status=status,
            code=code or "insufficient_quota",
        )
    elif status in RETRY_STATUSES:
        error = LlmUnavailable(
            N_("Der KI-Anbieter ist überlastet oder gerade nicht verfügbar (HTTP {status}): {detail}"),
            status=status,
            code=code,
            retryable=True,
            detail=detail,
        )
        error.retry_after = parse_retry_after(headers)
    else:
        error = LlmRequestError(
            N_("Der KI-Anbieter hat die Anfrage abgelehnt (HTTP {status}): {detail}"),
            status=status,
            code=code,
            detail=detail,
        )
    return error


def _transport_error(exc: Exception, *, responded: bool, timeouts: Timeouts) -> LlmError:
    reason = type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return LlmTimeout(
            N_("Der KI-Anbieter war nicht rechtzeitig erreichbar (Verbindungsaufbau länger als {seconds} s)."),
            kind="connect",
            retryable=True,
            seconds=timeouts.connect,
        )
    if isinstance(exc, httpx.ReadTimeout):
        return _timeout("stall", timeouts)
    if isinstance(exc, httpx.ConnectError):
        return LlmUnavailable(N_("Keine Verbindung zum KI-Anbieter ({reason})."), retryable=True, reason=reason)
    if isinstance(exc, httpx.TransportError):
        if responded:
            return LlmStreamError(
                N_("Die Verbindung zum KI-Anbieter brach während der Antwort ab ({reason})."),
                code="incomplete_stream",
                retryable=True,
                reason=reason,
            )
        # e.g. a kept-alive connection the server had already closed: nothing was sent, so a retry is safe
        return LlmUnavailable(N_("Keine Verbindung zum KI-Anbieter ({reason})."), retryable=True, reason=reason)
    return LlmUnavailable(N_("Die Anfrage an den KI-Anbieter ist fehlgeschlagen ({reason})."), reason=reason)


def _timeout(kind: str, timeouts: Timeouts) -> LlmTimeout:
    if kind == "first_token":
        return LlmTimeout(
            N_("Der KI-Anbieter hat nicht rechtzeitig geantwortet (nach {seconds} s noch kein Wort)."),
            kind=kind,
            seconds=timeouts.first_token,
        )
    if kind == "stall":
        return LlmTimeout(
            N_("Die Antwort des KI-Anbieters stockt (länger als {seconds} s nichts empfangen)."),
            kind=kind,
            seconds=timeouts.stall,
        )
    return LlmTimeout(
        N_("Der KI-Anbieter hat nicht rechtzeitig geantwortet (insgesamt mehr als {seconds} s)."),
        kind=kind,
        seconds=timeouts.total,
    )


def stream_error(event: StreamError) -> LlmStreamError:
    """The German error for an error event inside the stream."""
    return LlmStreamError(
        N_("Die Antwort des KI-Anbieters brach ab ({code}): {detail}"),
        code=event.code,
        retryable=event.code in RETRYABLE_STREAM_CODES,
        detail=event.message[:200],
    )


class LlmTransport:
    """Sends provider requests and yields their stream events, with time limits and retries (thread-safe)."""

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._client = client
        self._own_client = client is None
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self.attempts = 0  # requests sent over the lifetime (for tests and the log)

    @property
    def client(self) -> httpx.Client:
        """The httpx client (created on first use; redirects are not followed: the key must not travel)."""
        if self._client is None:
            self._client = httpx.Client(follow_redirects=False, trust_env=True)
        return self._client

    def close(self) -> None:
        """Close the client if this transport created it."""
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None

    def stream(
        self, request: HttpRequest, decoder_factory: Callable[[], StreamDecoder], *, retry: bool = True
    ) -> Iterator[StreamEvent]:
        """The events of one completion; retried (see the module docstring) while nothing was yielded yet.

        Raises an ``LlmError`` subclass; an error event inside the stream is raised as ``LlmStreamError``.
        """
        deadline = self._clock() + self.timeouts.total
        attempt = 0
        while True:
            attempt += 1
            yielded = False
            try:
                for event in self._attempt(request, decoder_factory(), deadline):
                    yielded = True
                    yield event
                return
            except LlmError as exc:
                delay = self._delay(attempt, exc)
                if yielded or not retry or delay is None or self._clock() + delay >= deadline:
                    raise
                log.warning("KI-Anfrage fehlgeschlagen (%s), neuer Versuch in %.1f s", exc, delay)
                self._sleep(delay)

    def _delay(self, attempt: int, exc: LlmError) -> float | None:
        if not exc.retryable or attempt >= self.retry.attempts:
            return None
        if exc.retry_after is not None:
            return exc.retry_after if exc.retry_after <= self.retry.max_retry_after else None
        return self._rng() * min(self.retry.max_delay, self.retry.base_delay * 2.0 ** (attempt - 1))

    def _attempt(self, request: HttpRequest, decoder: StreamDecoder, deadline: float) -> Iterator[StreamEvent]:
        timeouts = self.timeouts
        # The worker's own read limit is only a backstop that ends an abandoned thread; the exact limits are here.
        backstop = max(timeouts.stall, timeouts.first_token) + 1.0
        timeout = httpx.Timeout(connect=timeouts.connect, read=backstop, write=timeouts.connect, pool=timeouts.connect)
        channel = _Channel()
        self.attempts += 1
        threading.Thread(
            target=_worker, args=(self.client, request, timeout, channel), name="llm-stream", daemon=True
        ).start()
        parser = SseParser()
        first_token_deadline = self._clock() + timeouts.first_token
        last_chunk: float | None = None  # the stall clock runs once the response started
        try:
            while True:
                limits = [(deadline, "total")]
                if not decoder.content_started:
                    limits.append((first_token_deadline, "first_token"))
                if last_chunk is not None:
                    limits.append((last_chunk + timeouts.stall, "stall"))
                limit, kind = min(limits)
                remaining = limit - self._clock()
                if remaining <= 0:
                    raise _timeout(kind, timeouts)
                try:
                    tag, payload = channel.items.get(timeout=remaining)
                except queue.Empty:
                    continue
                if tag == "response":
                    status, headers, body = payload
                    if status >= 300:
                        raise http_error(status, headers, body)
                    last_chunk = self._clock()
                elif tag == "chunk":
                    last_chunk = self._clock()
                    for event in self._decode(decoder, parser.feed(payload)):
                        yield event
                        if isinstance(event, Finished):
                            return
                elif tag == "end":
                    yield from self._decode(decoder, parser.close(), final=True)
                    return
                else:
                    raise _transport_error(payload, responded=last_chunk is not None, timeouts=timeouts)
        finally:
            channel.cancel.set()

    @staticmethod
    def _decode(decoder: StreamDecoder, sse_events: list[SseEvent], *, final: bool = False) -> Iterator[StreamEvent]:
        events = [event for sse in sse_events for event in decoder.feed(sse)]
        if final:
            events += decoder.finish()
        for event in events:
            if isinstance(event, StreamError):
                raise stream_error(event)
            yield event

    def __enter__(self) -> LlmTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
