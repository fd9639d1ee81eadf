"""Time limits, retries and German errors of the transport, against the local fake provider."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from app.chat.llm.anthropic import AnthropicProvider
from app.chat.llm.errors import (
    LlmAuthError,
    LlmError,
    LlmQuotaError,
    LlmRequestError,
    LlmStreamError,
    LlmTimeout,
    LlmUnavailable,
)
from app.chat.llm.events import Finished, StreamEvent, TextDelta, UserMessage
from app.chat.llm.openai import OpenAIProvider
from app.chat.llm.transport import LlmTransport, RetryPolicy, Timeouts, parse_retry_after
from tests.app.chat.llm.fake_provider import (
    PING,
    STALL,
    Chunk,
    FakeProvider,
    Reply,
    anthropic_error,
    anthropic_stream,
    openai_stream,
)

FAST = Timeouts(connect=1.0, first_token=2.0, stall=2.0, total=10.0)


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


class Sleeps(list[float]):
    """Records the retry pauses instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def run(
    fake_url: str,
    *,
    provider: str = "openai",
    timeouts: Timeouts = FAST,
    retry: bool = True,
    sleeps: Sleeps | None = None,
) -> tuple[list[StreamEvent], LlmTransport]:
    transport = LlmTransport(
        timeouts=timeouts,
        retry=RetryPolicy(attempts=3),
        sleep=sleeps if sleeps is not None else Sleeps(),
        rng=lambda: 0.5,
    )
    adapter = (
        OpenAIProvider("gpt-4.1-mini", "sk-test", fake_url + "/v1")
        if provider == "openai"
        else AnthropicProvider("claude-haiku-4-5", "sk-ant", fake_url)
    )
    request = adapter.build_request("S", [UserMessage("Hallo")], [])
    with transport:
        return list(transport.stream(request, adapter.decoder, retry=retry)), transport


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_429_with_retry_after_is_retried_then_succeeds(fake: FakeProvider) -> None:
    fake.queue(
        Reply.error(429, {"type": "rate_limit_error", "message": "slow down"}, {"retry-after": "1.5"}),
        Reply(chunks=openai_stream(["Guten ", "Tag"])),
    )
    sleeps = Sleeps()
    events, transport = run(fake.url, sleeps=sleeps)
    assert text_of(events) == "Guten Tag" and isinstance(events[-1], Finished)
    assert sleeps == [1.5]  # the provider's retry-after, not our own backoff
    assert len(fake.requests) == 2 and transport.attempts == 2
    assert fake.requests[0].path == "/v1/chat/completions"


def test_5xx_and_529_use_jittered_backoff_until_attempts_run_out(fake: FakeProvider) -> None:
    fake.queue(
        *[Reply.error(status, {"type": "overloaded_error", "message": "Overloaded"}) for status in (529, 503, 500)]
    )
    sleeps = Sleeps()
    with pytest.raises(LlmUnavailable) as err:
        run(fake.url, provider="anthropic", sleeps=sleeps)
    assert len(fake.requests) == 3
    assert sleeps == [0.25, 0.5]  # full jitter: rng 0.5 × min(max_delay, 0.5 × 2ⁿ)
    assert err.value.status == 500
    assert "überlastet oder gerade nicht verfügbar (HTTP 500)" in str(err.value)


def test_401_is_not_retried_and_explained_in_german(fake: FakeProvider) -> None:
    fake.queue(Reply.error(401, {"type": "authentication_error", "message": "invalid x-api-key"}))
    sleeps = Sleeps()
    with pytest.raises(LlmAuthError) as err:
        run(fake.url, provider="anthropic", sleeps=sleeps)
    assert len(fake.requests) == 1 and sleeps == []
    assert str(err.value) == (
        "Der KI-Anbieter hat den API-Schlüssel abgelehnt (HTTP 401). Bitte den Schlüssel in den Einstellungen prüfen."
    )


@pytest.mark.parametrize(
    "error",
    [
        {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"},
        {"type": "invalid_request_error", "message": "x", "code": "enforced_spend_limit_reached"},
    ],
)
def test_quota_429_is_not_retried(fake: FakeProvider, error: dict[str, str]) -> None:
    fake.queue(Reply.error(429, error, {"retry-after": "1"}))
    with pytest.raises(LlmQuotaError) as err:
        run(fake.url)
    assert len(fake.requests) == 1
    assert "Guthaben oder das Ausgabenlimit aufgebraucht" in str(err.value)


def test_400_is_not_retried(fake: FakeProvider) -> None:
    fake.queue(Reply.error(400, {"type": "invalid_request_error", "message": "bad schema"}))
    with pytest.raises(LlmRequestError, match="abgelehnt \\(HTTP 400\\): bad schema"):
        run(fake.url)
    assert len(fake.requests) == 1


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    with pytest.raises(LlmUnavailable, match="Keine Verbindung zum KI-Anbieter"):
        run(f"http://127.0.0.1:{port}", sleeps=sleeps)
    assert len(sleeps) == 2


def test_anthropic_overloaded_error_before_any_token_is_retried(fake: FakeProvider) -> None:
    fake.queue(
        Reply(chunks=anthropic_stream(stop=False)[:2] + [PING, anthropic_error()]),
        Reply(chunks=anthropic_stream(["Gerne."])),
    )
    events, _transport = run(fake.url, provider="anthropic")
    assert text_of(events) == "Gerne." and len(fake.requests) == 2


def test_error_after_the_first_token_is_never_retried(fake: FakeProvider) -> None:
    fake.queue(Reply(chunks=anthropic_stream(["Ein Ölwechsel "], stop=False) + [PING, anthropic_error()]))
    received: list[StreamEvent] = []
    transport = LlmTransport(timeouts=FAST, sleep=Sleeps())
    adapter = AnthropicProvider("claude-haiku-4-5", "k", fake.url)
    with pytest.raises(LlmStreamError) as err:
        for event in transport.stream(adapter.build_request("S", [UserMessage("x")], []), adapter.decoder):
            received.append(event)
    assert text_of(received) == "Ein Ölwechsel "
    assert err.value.code == "overloaded_error" and len(fake.requests) == 1
    assert str(err.value) == "Die Antwort des KI-Anbieters brach ab (overloaded_error): Overloaded"


def test_caller_can_forbid_retries(fake: FakeProvider) -> None:
    fake.queue(Reply.error(503, {"message": "down"}), Reply(chunks=openai_stream(["x"])))
    with pytest.raises(LlmUnavailable):
        run(fake.url, retry=False)
    assert len(fake.requests) == 1


def test_stall_between_chunks_times_out_without_retry(fake: FakeProvider) -> None:
    fake.queue(Reply(chunks=[*openai_stream(["Ein "], usage=None, done=False)[:2], STALL]))
    timeouts = Timeouts(connect=1.0, first_token=5.0, stall=0.3, total=10.0)
    started = time.monotonic()
    with pytest.raises(LlmTimeout) as err:
        run(fake.url, timeouts=timeouts)
    assert err.value.kind == "stall" and len(fake.requests) == 1
    assert time.monotonic() - started < 2.0
    assert "stockt (länger als 0.3 s nichts empfangen)" in str(err.value)


def test_pings_do_not_count_as_the_first_token(fake: FakeProvider) -> None:
    pings: list[Chunk] = []
    for _ in range(20):
        pings += [PING, 0.1]
    fake.queue(Reply(chunks=anthropic_stream(stop=False)[:2] + pings))
    timeouts = Timeouts(connect=1.0, first_token=0.5, stall=0.3, total=10.0)
    with pytest.raises(LlmTimeout) as err:
        run(fake.url, provider="anthropic", timeouts=timeouts)
    assert err.value.kind == "first_token" and len(fake.requests) == 1  # the stall clock never fired: pings flow


def test_total_time_limit(fake: FakeProvider) -> None:
    slow: list[Chunk] = [openai_stream(["a"])[0]]
    for piece in "abcdefghij":
        slow += [openai_stream([piece], usage=None)[1], 0.1]
    fake.queue(Reply(chunks=slow))
    with pytest.raises(LlmTimeout) as err:
        run(fake.url, timeouts=Timeouts(connect=1.0, first_token=1.0, stall=1.0, total=0.5))
    assert err.value.kind == "total"


def test_retry_after_header_forms() -> None:
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "Thu, 01 Jan 2026 00:00:10 GMT"}, now=lambda: 1767225600.0) == 10.0
    assert parse_retry_after({}) is None


def test_retry_after_longer_than_allowed_is_not_waited_for(fake: FakeProvider) -> None:
    fake.queue(Reply.error(429, {"type": "rate_limit_error", "message": "x"}, {"retry-after": "120"}))
    with pytest.raises(LlmError):
        run(fake.url)
    assert len(fake.requests) == 1
