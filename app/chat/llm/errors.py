"""Errors of the LLM proxy, with German messages for the desktop's log and UI::

    LlmError                 a request to the cloud LLM failed (``status``/``code`` when the provider answered)
     ├── LlmConfigError      no provider configured, API key missing
     ├── LlmAuthError        401/403: the API key was refused (never retried)
     ├── LlmQuotaError       429 meaning the provider's credit or spend limit is used up (never retried)
     ├── LlmRequestError     400/404/422 …: the provider refused the request itself (never retried)
     ├── LlmUnavailable      connection failed, 408/409/429/5xx/529 still after the retries
     ├── LlmTimeout          connect / first token / stall between chunks / total time ran out
     ├── LlmStreamError      the stream broke off after HTTP 200 (Anthropic ``error`` event, truncated stream)
     └── BudgetExceeded      this month's LLM budget of the location is spent (see ``budget.py``)

They are ``WorkshopError``s, so the CLI and the GUI show them like every domain error. ``usage`` may carry the
tokens already spent in earlier rounds of a tool loop, so the caller can still record their cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.errors import WorkshopError

if TYPE_CHECKING:
    from app.chat.llm.pricing import Usage


class LlmError(WorkshopError):
    """A request to the cloud LLM failed."""

    def __init__(
        self, message_id: str, *, status: int | None = None, code: str = "", retryable: bool = False, **params: Any
    ) -> None:
        super().__init__(message_id, status=status, code=code, **params)
        self.status = status
        self.code = code
        self.retryable = retryable
        self.retry_after: float | None = None  # seconds the provider asked us to wait (retry-after header)
        self.usage: Usage | None = None


class LlmConfigError(LlmError):
    """The LLM is not configured (no provider, no API key)."""


class LlmAuthError(LlmError):
    """The provider refused the API key (401/403)."""


class LlmQuotaError(LlmError):
    """The provider's credit or spend limit is exhausted (a 429 that waiting does not cure)."""


class LlmRequestError(LlmError):
    """The provider refused the request as such (400, 404, 413, 422)."""


class LlmUnavailable(LlmError):
    """The provider could not be reached or was overloaded, also after the retries."""


class LlmTimeout(LlmError):
    """A time limit ran out; ``kind`` is ``connect``, ``first_token``, ``stall`` or ``total``."""

    def __init__(self, message_id: str, *, kind: str, retryable: bool = False, **params: Any) -> None:
        super().__init__(message_id, code=f"timeout_{kind}", retryable=retryable, kind=kind, **params)
        self.kind = kind


class LlmStreamError(LlmError):
    """The answer broke off after the provider had accepted the request (HTTP 200)."""


class BudgetExceeded(LlmError):
    """This calendar month's LLM budget of the location is used up; the built-in assistant answers instead."""
