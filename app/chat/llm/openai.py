"""OpenAI-compatible Chat Completions over httpx (OpenAI, Azure-style gateways, vLLM, llama.cpp, Ollama).

Request (chat-sync-auth-billing.md §2.1): ``POST {base_url}/chat/completions`` (the base URL includes ``/v1``,
as in the SDK) with ``messages``, ``tools`` nested as ``{"type": "function", "function": {name, description,
parameters, strict}}``, ``stream: true`` and ``stream_options.include_usage``. The stream is ``data:`` lines
with ``chat.completion.chunk`` objects; tool calls arrive as ``delta.tool_calls`` fragments that are
accumulated by ``index`` (the first fragment carries ``id`` and ``name``, later ones append to ``arguments``);
one extra chunk with ``choices: []`` carries ``usage``; ``data: [DONE]`` ends the stream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.chat.llm.events import (
    AssistantMessage,
    Finished,
    Message,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
)
from app.chat.llm.pricing import Usage
from app.chat.llm.sse import SseEvent
from app.chat.llm.transport import HttpRequest

DEFAULT_BASE_URL = "https://api.openai.com/v1"
FINISH_REASONS = {"stop": "stop", "tool_calls": "tool_calls", "function_call": "tool_calls", "length": "length"}


def render_messages(system: str, messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The ``messages`` array: system first, tool results as one ``role: tool`` message per call."""
    rendered: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for message in messages:
        if isinstance(message, UserMessage):
            rendered.append({"role": "user", "content": message.text})
        elif isinstance(message, AssistantMessage):
            item: dict[str, Any] = {"role": "assistant", "content": message.text or None}
            if message.tool_calls:
                item["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments_json},
                    }
                    for call in message.tool_calls
                ]
            rendered.append(item)
        elif isinstance(message, ToolResultMessage):
            rendered.extend(
                {"role": "tool", "tool_call_id": result.call_id, "content": result.content}
                for result in message.results
            )
    return rendered


# OpenAI's strict mode accepts only a subset of JSON Schema and answers 400 to the rest; string length limits
# are left out to be safe (the ToolExecutor checks them on every call anyway).
STRICT_UNSUPPORTED = frozenset({"minLength", "maxLength"})


def strict_schema(schema: Any) -> Any:
    """``schema`` without the keywords strict mode may refuse (a copy; the input is not changed)."""
    if isinstance(schema, Mapping):
        return {k: strict_schema(v) for k, v in schema.items() if k not in STRICT_UNSUPPORTED}
    if isinstance(schema, list):
        return [strict_schema(item) for item in schema]
    return schema


def render_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """Tools in the nested Chat Completions form."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": strict_schema(tool.parameters) if tool.strict else dict(tool.parameters),
                "strict": tool.strict,
            },
        }
        for tool in tools
    ]


@dataclass(frozen=True)
class OpenAIProvider:
    """Builds Chat Completions requests and decoders for one configured endpoint and model."""

    model: str
    api_key: str = ""
    base_url: str = DEFAULT_BASE_URL
    max_output_tokens: int = 800
    name: str = "openai"

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIProvider(model={self.model!r}, base_url={self.base_url!r})"

    def build_request(self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> HttpRequest:
        """The streaming request for one round of the tool loop."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": render_messages(system, messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            body["tools"] = render_tools(tools)
        # OpenAI itself wants max_completion_tokens (reasoning models refuse max_tokens); compatible local servers
        # mostly know only max_tokens.
        is_openai = urlsplit(self.base_url).hostname == "api.openai.com"
        body["max_completion_tokens" if is_openai else "max_tokens"] = self.max_output_tokens
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:  # local servers run without a key
            headers["Authorization"] = f"Bearer {self.api_key}"
        return HttpRequest(self.base_url.rstrip("/") + "/chat/completions", headers, body)

    def decoder(self) -> OpenAIDecoder:
        """A fresh decoder for one attempt."""
        return OpenAIDecoder()


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


def usage_from_openai(data: dict[str, Any]) -> Usage:
    """Normalised usage from an OpenAI ``usage`` object."""
    prompt_details = data.get("prompt_tokens_details") or {}
    completion_details = data.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=int(data.get("prompt_tokens") or 0),
        cached_input_tokens=int(prompt_details.get("cached_tokens") or 0),
        output_tokens=int(data.get("completion_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
    )


class OpenAIDecoder:
    """Chat Completions chunks → ``StreamEvent``s."""

    def __init__(self) -> None:
        self.content_started = False
        self._calls: dict[int, _PartialCall] = {}
        self._calls_emitted = False
        self._reason: str | None = None
        self._usage: Usage | None = None
        self._done = False
        self.model = ""

    def feed(self, event: SseEvent) -> list[StreamEvent]:
        """Events for one ``data:`` chunk."""
        if self._done:
            return []
        if event.data.strip() == "[DONE]":
            self._done = True
            return self._end()
        try:
            chunk = json.loads(event.data)
        except ValueError:
            return [StreamError("invalid_chunk", event.data[:200])]
        if not isinstance(chunk, dict):
            return []
        if isinstance(chunk.get("error"), dict):  # compatible servers report mid-stream failures this way
            error = chunk["error"]
            return [StreamError(str(error.get("code") or error.get("type") or "error"), str(error.get("message", "")))]
        self.model = self.model or str(chunk.get("model") or "")
        if isinstance(chunk.get("usage"), dict):
            self._usage = usage_from_openai(chunk["usage"])
        events: list[StreamEvent] = []
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if content:
                self.content_started = True
                events.append(TextDelta(content))
            for position, fragment in enumerate(delta.get("tool_calls") or []):
                self.content_started = True
                index = fragment.get("index", position)
                call = self._calls.setdefault(int(index), _PartialCall())
                call.id = fragment.get("id") or call.id
                function = fragment.get("function") or {}
                call.name = function.get("name") or call.name
                if function.get("arguments"):
                    call.arguments.append(function["arguments"])
            if choice.get("finish_reason"):
                reason = str(choice["finish_reason"])
                self._reason = FINISH_REASONS.get(reason, reason)
                events.extend(self._emit_calls())
        return events

    def _emit_calls(self) -> list[StreamEvent]:
        if self._calls_emitted:
            return []
        self._calls_emitted = True
        return [
            ToolCall(call.id or f"call_{index}", call.name, "".join(call.arguments) or "{}")
            for index, call in sorted(self._calls.items())
        ]

    def _end(self) -> list[StreamEvent]:
        events: list[StreamEvent] = list(self._emit_calls())
        if self._usage is not None:
            events.append(self._usage)
        reason = self._reason or ("tool_calls" if self._calls else "stop")
        events.append(Finished(reason))
        return events

    def finish(self) -> list[StreamEvent]:
        """End of stream: fine after ``[DONE]`` or a finish reason (some local servers omit ``[DONE]``)."""
        if self._done:
            return []
        if self._reason is not None:
            self._done = True
            return self._end()
        return [StreamError("incomplete_stream", "stream ended before finish_reason")]
