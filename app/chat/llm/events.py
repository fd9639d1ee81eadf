"""Provider-neutral stream events and conversation messages of the LLM proxy.

A provider adapter (``openai.py``, ``anthropic.py``) turns the provider's server-sent events into

- ``TextDelta``: the next piece of the answer's text;
- ``ToolCall``: one complete tool call (its arguments are the raw JSON text the model produced; the
  ``ToolExecutor`` validates them, nothing here trusts them);
- ``Usage`` (``app.chat.llm.pricing.Usage``): the provider's token counts, once per stream;
- ``Finished``: the model stopped (``stop``, ``tool_calls``, ``length`` or the provider's own word);
- ``StreamError``: the provider reported an error inside an HTTP 200 stream (Anthropic ``error`` event,
  an OpenAI-compatible ``{"error": …}`` chunk) — the transport turns it into an ``LlmStreamError``.

The messages (``UserMessage``, ``AssistantMessage``, ``ToolResultMessage``) and the offered tools
(``ToolSpec``) are what the tool loop sends; each adapter renders them in its wire format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.chat.llm.pricing import Usage


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer's text."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    """A complete tool call as the model sent it (``arguments_json`` unvalidated)."""

    id: str
    name: str
    arguments_json: str


@dataclass(frozen=True)
class Finished:
    """The model stopped; ``reason`` is ``stop``, ``tool_calls``, ``length`` or the provider's raw reason."""

    reason: str


@dataclass(frozen=True)
class StreamError:
    """An error reported inside the stream (``code`` e.g. ``overloaded_error``)."""

    code: str
    message: str


StreamEvent = TextDelta | ToolCall | Usage | Finished | StreamError


@dataclass(frozen=True)
class UserMessage:
    """A user-role message (already wrapped in the visitor delimiters by the assistant)."""

    text: str


@dataclass(frozen=True)
class AssistantMessage:
    """What the model answered in one round: text and/or tool calls."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ToolOutcome:
    """The executor's answer to one tool call (``content`` is JSON text)."""

    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class ToolResultMessage:
    """The results of all tool calls of the preceding ``AssistantMessage``."""

    results: tuple[ToolOutcome, ...]


Message = UserMessage | AssistantMessage | ToolResultMessage


@dataclass(frozen=True)
class ToolSpec:
    """A tool as offered to the model (made from ``app.chat.tools.TOOL_DEFINITIONS``)."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    strict: bool = True


__all__ = [
    "AssistantMessage",
    "Finished",
    "Message",
    "StreamError",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "ToolOutcome",
    "ToolResultMessage",
    "ToolSpec",
    "Usage",
    "UserMessage",
]
