"""Request building and stream decoding of both wire formats, fed with the fake server's real chunk shapes."""

from __future__ import annotations

import json
from collections.abc import Sequence

from app.chat.llm.anthropic import AnthropicDecoder, AnthropicProvider
from app.chat.llm.events import (
    AssistantMessage,
    Finished,
    Message,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolOutcome,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
)
from app.chat.llm.openai import OpenAIDecoder, OpenAIProvider
from app.chat.llm.pricing import Usage
from app.chat.llm.sse import iter_sse
from tests.app.chat.llm.fake_provider import (
    Chunk,
    FakeCall,
    anthropic_error,
    anthropic_stream,
    openai_chunk,
    openai_stream,
)

SCHEMA = {
    "type": "object",
    "properties": {"query": {"type": "string", "maxLength": 200}},
    "required": ["query"],
    "additionalProperties": False,
}
TOOLS = [ToolSpec("search_services", "Search the catalogue.", SCHEMA)]
CALL = ToolCall("call_1", "search_services", '{"query": "Öl"}')
HISTORY: list[Message] = [
    UserMessage("Was kostet ein Ölwechsel?"),
    AssistantMessage("", (CALL,)),
    ToolResultMessage((ToolOutcome("call_1", "search_services", '{"services": []}'),)),
]


def decode(decoder: OpenAIDecoder | AnthropicDecoder, chunks: Sequence[Chunk]) -> list[StreamEvent]:
    raw = b"".join(c for c in chunks if isinstance(c, bytes))
    events: list[StreamEvent] = []
    for sse in iter_sse([raw[i : i + 7] for i in range(0, len(raw), 7)]):  # odd-sized network chunks
        events += decoder.feed(sse)
    return events + decoder.finish()


def test_openai_request_shape() -> None:
    provider = OpenAIProvider("gpt-4.1-mini", "sk-test", "https://api.openai.com/v1", 500)
    request = provider.build_request("SYSTEM", HISTORY, TOOLS)
    assert request.url == "https://api.openai.com/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test"
    body = request.body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 500
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "search_services",
                "description": "Search the catalogue.",
                "parameters": {**SCHEMA, "properties": {"query": {"type": "string"}}},  # length checked locally
                "strict": True,
            },
        }
    ]
    assert body["messages"] == [
        {"role": "system", "content": "SYSTEM"},
        {"role": "user", "content": "Was kostet ein Ölwechsel?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "search_services", "arguments": '{"query": "Öl"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"services": []}'},
    ]
    assert "sk-test" not in repr(provider) and "sk-test" not in repr(request)


def test_openai_compatible_local_server_without_key() -> None:
    request = OpenAIProvider("llama3", "", "http://localhost:11434/v1/").build_request("S", HISTORY[:1], [])
    assert request.url == "http://localhost:11434/v1/chat/completions"
    assert "Authorization" not in request.headers
    assert "tools" not in request.body and request.body["max_tokens"] == 800


def test_openai_text_tool_calls_split_across_chunks_and_usage() -> None:
    chunks = openai_stream(
        ["Ich ", "schaue ", "nach."],
        [
            FakeCall("call_a", "search_services", ['{"que', 'ry": "Öl', 'wechsel"}']),
            FakeCall("call_b", "find_free_slots", ['{"service_code"', ': "OE-1"}']),
        ],
        usage=(1200, 1000, 80, 30),
    )
    decoder = OpenAIDecoder()
    events = decode(decoder, chunks)
    assert events == [
        TextDelta("Ich "),
        TextDelta("schaue "),
        TextDelta("nach."),
        ToolCall("call_a", "search_services", '{"query": "Ölwechsel"}'),
        ToolCall("call_b", "find_free_slots", '{"service_code": "OE-1"}'),
        Usage(input_tokens=1200, cached_input_tokens=1000, output_tokens=80, reasoning_tokens=30),
        Finished("tool_calls"),
    ]
    assert decoder.content_started and decoder.model == "gpt-4.1-mini"


def test_openai_interleaved_parallel_calls_are_accumulated_by_index() -> None:
    def data(obj: object) -> bytes:
        return b"data: " + json.dumps(obj).encode() + b"\n\n"

    frag = [
        {"index": 1, "id": "call_y", "type": "function", "function": {"name": "b", "arguments": ""}},
        {"index": 0, "id": "call_x", "type": "function", "function": {"name": "a", "arguments": '{"x"'}},
    ]
    chunks = [
        data(openai_chunk({"tool_calls": frag})),
        data(openai_chunk({"tool_calls": [{"index": 1, "function": {"arguments": '{"y": 2}'}}]})),
        data(openai_chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]})),
        data(openai_chunk({}, "tool_calls")),
        b"data: [DONE]\n\n",
    ]
    events = decode(OpenAIDecoder(), list(chunks))
    assert events == [ToolCall("call_x", "a", '{"x": 1}'), ToolCall("call_y", "b", '{"y": 2}'), Finished("tool_calls")]


def test_openai_truncated_stream_and_error_chunk() -> None:
    truncated = openai_stream(["Hal"], usage=None, done=False)[:-1]  # no finish_reason, no [DONE]
    assert decode(OpenAIDecoder(), truncated)[-1] == StreamError(
        "incomplete_stream", "stream ended before finish_reason"
    )
    error = b'data: {"error": {"message": "boom", "type": "server_error", "code": null}}\n\n'
    assert decode(OpenAIDecoder(), [error])[0] == StreamError("server_error", "boom")


def test_anthropic_request_shape() -> None:
    provider = AnthropicProvider("claude-haiku-4-5", "sk-ant", "https://api.anthropic.com", 600)
    messages = [AssistantMessage("Hallo!"), *HISTORY, UserMessage("Und wann?")]
    request = provider.build_request("SYSTEM", messages, TOOLS)
    assert request.url == "https://api.anthropic.com/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant"
    assert request.headers["anthropic-version"] == "2023-06-01"
    body = request.body
    assert body["system"] == "SYSTEM" and body["max_tokens"] == 600 and body["stream"] is True
    assert body["tools"] == [
        {"name": "search_services", "description": "Search the catalogue.", "input_schema": SCHEMA}
    ]
    assert body["messages"] == [  # leading greeting dropped; tool results + next user text merged into one turn
        {"role": "user", "content": [{"type": "text", "text": "Was kostet ein Ölwechsel?"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "call_1", "name": "search_services", "input": {"query": "Öl"}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": '{"services": []}', "is_error": False},
                {"type": "text", "text": "Und wann?"},
            ],
        },
    ]
    assert "sk-ant" not in repr(provider)


def test_anthropic_forged_malformed_call_is_replayed_as_empty_input() -> None:
    bad = AssistantMessage("", (ToolCall("t1", "read_customers", "not json"),))
    request = AnthropicProvider("m", "k").build_request("S", [UserMessage("x"), bad], [])
    assert request.body["messages"][1]["content"][0]["input"] == {}


def test_anthropic_event_sequence_with_pings() -> None:
    chunks = anthropic_stream(
        ["Gern", "e!"],
        [FakeCall("toolu_1", "find_free_slots", ['{"service_', 'code": "OE-1"}'])],
        usage=(900, 400, 55),
    )
    decoder = AnthropicDecoder()
    events = decode(decoder, chunks)
    assert events == [
        TextDelta("Gern"),
        TextDelta("e!"),
        ToolCall("toolu_1", "find_free_slots", '{"service_code": "OE-1"}'),
        Usage(input_tokens=1300, cached_input_tokens=400, output_tokens=55),
        Finished("tool_calls"),
    ]
    assert decoder.model == "claude-haiku-4-5"


def test_anthropic_output_usage_is_cumulative_not_summed() -> None:
    chunks = anthropic_stream(["a"], usage=(10, 0, 25), stop=False)
    delta = (
        b'event: message_delta\ndata: {"type": "message_delta", "delta": {"stop_reason": null}, '
        b'"usage": {"output_tokens": %d}}\n\n'
    )
    chunks += [delta % 10, delta % 25, b'event: message_stop\ndata: {"type": "message_stop"}\n\n']
    usage = [e for e in decode(AnthropicDecoder(), chunks) if isinstance(e, Usage)]
    assert usage == [Usage(input_tokens=10, output_tokens=25)]


def test_anthropic_error_event_after_200_is_a_failure_not_an_end() -> None:
    chunks = anthropic_stream(["Hal"], stop=False) + [anthropic_error()]
    events = decode(AnthropicDecoder(), chunks)
    assert events[-1] == StreamError("overloaded_error", "Overloaded")
    assert not any(isinstance(e, Finished) for e in events)
    truncated = anthropic_stream(["Hal"], stop=False)
    assert decode(AnthropicDecoder(), truncated)[-1].code == "incomplete_stream"  # type: ignore[union-attr]
