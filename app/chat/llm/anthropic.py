"""Anthropic Messages API over httpx (chat-sync-auth-billing.md §2.3).

Request: ``POST {base_url}/v1/messages`` with ``x-api-key`` and ``anthropic-version: 2023-06-01``; the system
prompt is a top-level field, tools are ``{name, description, input_schema}``, tool calls come back as
``tool_use`` blocks and their results go in a *user* message as ``tool_result`` blocks. Roles must alternate,
so consecutive messages of one role are merged.

Stream: ``message_start`` (input usage) → per block ``content_block_start`` (``text`` or ``tool_use``) →
``content_block_delta`` (``text_delta``, ``input_json_delta``; ``thinking_delta``/``signature_delta`` are
ignored) → ``content_block_stop`` → ``message_delta`` (``stop_reason`` and the CUMULATIVE ``output_tokens``:
the last value counts, never the sum) → ``message_stop``. ``ping`` may come anywhere; an ``error`` event
(e.g. ``overloaded_error``) may come after HTTP 200 and is a failed message, not a clean end.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.chat.llm.events import (
    AssistantMessage,
    Finished,
    Message,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolSpec,
    UserMessage,
)
from app.chat.llm.pricing import Usage
from app.chat.llm.sse import SseEvent
from app.chat.llm.transport import HttpRequest

DEFAULT_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls", "max_tokens": "length"}


def _tool_input(arguments_json: str) -> dict[str, Any]:
    """A replayed tool call's input must be an object; a malformed one (the executor refused it) becomes {}."""
    try:
        value = json.loads(arguments_json)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _blocks(message: Message) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(message, UserMessage):
        return "user", [{"type": "text", "text": message.text}]
    if isinstance(message, AssistantMessage):
        blocks: list[dict[str, Any]] = []
        if message.text:  # the API refuses empty text blocks
            blocks.append({"type": "text", "text": message.text})
        blocks.extend(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": _tool_input(call.arguments_json)}
            for call in message.tool_calls
        )
        return "assistant", blocks
    return "user", [
        {"type": "tool_result", "tool_use_id": result.call_id, "content": result.content, "is_error": result.is_error}
        for result in message.results
    ]


def render_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Messages as content blocks, consecutive same-role messages merged, starting with a user message."""
    rendered: list[dict[str, Any]] = []
    for message in messages:
        role, blocks = _blocks(message)
        if not blocks:
            continue
        if not rendered and role != "user":
            continue  # the conversation must open with the user; a leading greeting adds nothing
        if rendered and rendered[-1]["role"] == role:
            rendered[-1]["content"].extend(blocks)
        else:
            rendered.append({"role": role, "content": blocks})
    return rendered


def render_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """Tools in the flat Messages form."""
    return [{"name": t.name, "description": t.description, "input_schema": dict(t.parameters)} for t in tools]


@dataclass(frozen=True)
class AnthropicProvider:
    """Builds Messages requests and decoders for one configured endpoint and model."""

    model: str
    api_key: str = ""
    base_url: str = DEFAULT_BASE_URL
    max_output_tokens: int = 800
    name: str = "anthropic"

    def __repr__(self) -> str:  # never show the key
        return f"AnthropicProvider(model={self.model!r}, base_url={self.base_url!r})"

    def build_request(self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> HttpRequest:
        """The streaming request for one round of the tool loop."""
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_output_tokens,
            "system": system,
            "messages": render_messages(messages),
            "stream": True,
        }
        if tools:
            body["tools"] = render_tools(tools)
        headers = {
            "x-api-key": self.api_key,
            "anthropic-version": ANTHROPIC_VERSION,
            "content-type": "application/json",
            "accept": "text/event-stream",
        }
        return HttpRequest(self.base_url.rstrip("/") + "/v1/messages", headers, body)

    def decoder(self) -> AnthropicDecoder:
        """A fresh decoder for one attempt."""
        return AnthropicDecoder()


@dataclass
class _Block:
    kind: str
    id: str = ""
    name: str = ""
    parts: list[str] = field(default_factory=list)


class AnthropicDecoder:
    """Messages stream events → ``StreamEvent``s."""

    def __init__(self) -> None:
        self.content_started = False
        self.model = ""
        self._blocks: dict[int, _Block] = {}
        self._input = 0
        self._cached = 0
        self._output = 0
        self._reason = "stop"
        self._done = False

    def feed(self, event: SseEvent) -> list[StreamEvent]:
        """Events for one SSE event (the type is in ``event:`` and repeated in the data's ``type``)."""
        if self._done:
            return []
        try:
            data = json.loads(event.data)
        except ValueError:
            return [StreamError("invalid_event", event.data[:200])]
        if not isinstance(data, dict):
            return []
        kind = event.event if event.event != "message" else str(data.get("type", ""))
        handlers = {
            "message_start": self._on_message_start,
            "content_block_start": self._on_content_block_start,
            "content_block_delta": self._on_content_block_delta,
            "content_block_stop": self._on_content_block_stop,
            "message_delta": self._on_message_delta,
            "message_stop": self._on_message_stop,
            "error": self._on_error,
        }
        handler = handlers.get(kind)
        return handler(data) if handler is not None else []  # ping and event types added later

    def _on_error(self, data: dict[str, Any]) -> list[StreamEvent]:
        error = data.get("error") or {}
        self._done = True
        return [StreamError(str(error.get("type") or "error"), str(error.get("message") or ""))]

    def _on_message_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        message = data.get("message") or {}
        self.model = str(message.get("model") or "")
        self._take_usage(message.get("usage") or {})
        return []

    def _take_usage(self, usage: dict[str, Any]) -> None:
        if "input_tokens" in usage:  # message_delta may repeat the (cumulative) input figures
            read = int(usage.get("cache_read_input_tokens") or 0)
            written = int(usage.get("cache_creation_input_tokens") or 0)
            self._input = int(usage.get("input_tokens") or 0) + read + written
            self._cached = read
        if "output_tokens" in usage:
            self._output = int(usage.get("output_tokens") or 0)

    def _on_content_block_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        block = data.get("content_block") or {}
        index = int(data.get("index", len(self._blocks)))
        kind = str(block.get("type", ""))
        self._blocks[index] = _Block(kind, str(block.get("id", "")), str(block.get("name", "")))
        if kind == "tool_use":
            self.content_started = True
            if block.get("input"):  # normally {} with the JSON streamed as input_json_delta
                self._blocks[index].parts.append(json.dumps(block["input"]))
        elif kind == "text" and block.get("text"):
            self.content_started = True
            return [TextDelta(str(block["text"]))]
        return []

    def _on_content_block_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        delta = data.get("delta") or {}
        block = self._blocks.get(int(data.get("index", -1)))
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            self.content_started = True
            return [TextDelta(str(delta["text"]))]
        if kind == "input_json_delta" and block is not None:
            self.content_started = True
            block.parts.append(str(delta.get("partial_json") or ""))
        return []

    def _on_content_block_stop(self, data: dict[str, Any]) -> list[StreamEvent]:
        block = self._blocks.get(int(data.get("index", -1)))
        if block is None or block.kind != "tool_use":
            return []
        return [ToolCall(block.id, block.name, "".join(block.parts) or "{}")]

    def _on_message_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        reason = (data.get("delta") or {}).get("stop_reason")
        if reason:
            self._reason = STOP_REASONS.get(str(reason), str(reason))
        self._take_usage(data.get("usage") or {})
        return []

    def _on_message_stop(self, data: dict[str, Any]) -> list[StreamEvent]:  # noqa: ARG002 - dispatch signature
        self._done = True
        return [self.usage(), Finished(self._reason)]

    def usage(self) -> Usage:
        """The usage seen so far (input from ``message_start``, the last cumulative output)."""
        return Usage(input_tokens=self._input, cached_input_tokens=self._cached, output_tokens=self._output)

    def finish(self) -> list[StreamEvent]:
        """End of stream: clean only after ``message_stop`` (or the ``error`` event already reported)."""
        if self._done:
            return []
        return [StreamError("incomplete_stream", "stream ended before message_stop")]
