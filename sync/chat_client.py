"""The desktop's client of the hosted API's chat routes (httpx, synchronous, Qt-free).

Authenticated as the registered device (``DeviceSession`` access tokens; a 401 refreshes once). Used by
the answering loop (``sync.chat_agent``), the Chat tab (staff messages, takeover) and ``carbot chat``:

- ``agent_tasks(wait)``: ``GET /v1/chat/agent/tasks`` long poll (being there marks the agent present);
- ``post_message`` / ``draft`` / ``set_status`` / ``post_booking`` on ``/v1/chat/conversations/{id}/…``;
- ``usage``, ``widget_config`` / ``update_widget``, ``put_profile``.

Errors are the sync client's German ``SyncError``s (``sync.errors``), with two chat-specific ones:
``BotMuted`` for ``409 bot_muted`` (the bot must stay silent: staff took over or the message was answered)
and ``PlanRequired`` for ``403 plan_required``; no connection, timeouts, 429 and 5xx are
``SyncUnavailable`` (offline: try again later).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from sync.authed import authed_request
from sync.credentials import CredentialsProvider
from sync.errors import BotMuted, PlanRequired, SyncError, from_response, wrap
from sync.protocol_chat import (
    AgentMessageIn,
    AgentTasks,
    BookingIn,
    BookingRequestOut,
    ChatMessage,
    ChatStatus,
    ChatUsage,
    ConversationOut,
    DraftIn,
    PublicProfileIn,
    StatusIn,
    WidgetConfig,
    WidgetConfigIn,
)

DEFAULT_TIMEOUT = 15.0
LONG_POLL_MARGIN = 10.0
"""Extra read time over the long poll's ``wait`` (the server answers after ``wait`` at the latest)."""


def _code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else ""


def chat_error(response: httpx.Response) -> SyncError:
    """The German error for an error answer of a chat route."""
    code = _code(response)
    if response.status_code == 409 and code == "bot_muted":
        return BotMuted(
            "Ein Mitarbeiter hat das Gespräch übernommen; die Antwort des Assistenten wurde nicht gesendet.",
            status=409,
        )
    if response.status_code == 403 and code in ("plan_required", "plan_limit"):
        error = from_response(response)
        return PlanRequired(
            "Das Chat-Widget ist im Tarif dieser Werkstatt nicht enthalten ({detail}).",
            status=403,
            detail=error.params.get("detail", ""),
        )
    return from_response(response)


class ChatClient:
    """The chat routes of one hosted API, as one registered device."""

    def __init__(
        self,
        base_url: str,
        credentials: CredentialsProvider,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.credentials = credentials
        self.http = httpx.Client(base_url=base_url, transport=transport, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any) -> httpx.Response:
        """One authenticated request; a 401 refreshes the access token once and retries."""
        return authed_request(
            self.http,
            self.credentials,
            method,
            path,
            offline=wrap,
            error=chat_error,
            timeout=timeout or self.http.timeout,
            **kwargs,
        )

    @staticmethod
    def _json(model: Any) -> dict[str, Any]:
        data: dict[str, Any] = model.model_dump(mode="json")
        return data

    # --- the answering loop ----------------------------------------------------------------------

    def agent_tasks(self, wait: float = 20.0) -> AgentTasks:
        """Conversations waiting for the bot (long poll up to ``wait`` seconds; leases the returned tasks)."""
        response = self._request("GET", "/v1/chat/agent/tasks", params={"wait": wait}, timeout=wait + LONG_POLL_MARGIN)
        return AgentTasks.model_validate(response.json())

    def post_message(
        self,
        conversation_id: str,
        text: str,
        *,
        author: str = "bot",
        reply_to_seq: int | None = None,
        quick_replies: Sequence[str] = (),
        client_id: uuid.UUID | None = None,
    ) -> ChatMessage:
        """Send a bot or staff message; ``client_id`` makes a retry harmless. ``BotMuted`` for a silenced bot."""
        body = AgentMessageIn(
            client_id=client_id or uuid.uuid4(),
            author="staff" if author == "staff" else "bot",
            text=text,
            reply_to_seq=reply_to_seq,
            quick_replies=list(quick_replies)[:6],
        )
        response = self._request("POST", f"/v1/chat/conversations/{conversation_id}/messages", json=self._json(body))
        return ChatMessage.model_validate(response.json())

    def draft(self, conversation_id: str, reply_to_seq: int, text: str) -> None:
        """Relay the bot's answer so far to the visitor (not stored)."""
        body = DraftIn(reply_to_seq=reply_to_seq, text=text)
        self._request("POST", f"/v1/chat/conversations/{conversation_id}/draft", json=self._json(body))

    def set_status(self, conversation_id: str, status: ChatStatus | str, reason: str = "") -> ConversationOut:
        """Take over, hand back to the bot, close, or hand off to staff; returns the conversation as it is now."""
        body = StatusIn(status=ChatStatus(status), reason=reason[:200])
        response = self._request("POST", f"/v1/chat/conversations/{conversation_id}/status", json=self._json(body))
        return ConversationOut.model_validate(response.json())

    def post_booking(self, conversation_id: str, booking: BookingIn) -> BookingRequestOut:
        """Tell the server the assistant took a booking request (the conversation becomes a lead)."""
        response = self._request("POST", f"/v1/chat/conversations/{conversation_id}/bookings", json=self._json(booking))
        return BookingRequestOut.model_validate(response.json())

    # --- settings and figures --------------------------------------------------------------------

    def usage(self) -> ChatUsage:
        """This month's leads against the plan's limit."""
        return ChatUsage.model_validate(self._request("GET", "/v1/chat/usage").json())

    def widget_config(self) -> WidgetConfig:
        """The location's widget key, allowed domains, branding and script snippet (created on first call)."""
        return WidgetConfig.model_validate(self._request("GET", "/v1/chat/widget").json())

    def update_widget(self, change: WidgetConfigIn) -> WidgetConfig:
        """Change allowed domains and/or branding."""
        body = change.model_dump(mode="json", exclude_none=True)
        return WidgetConfig.model_validate(self._request("PUT", "/v1/chat/widget", json=body).json())

    def put_profile(self, profile: Mapping[str, Any]) -> None:
        """Upload the workshop's public data (``PublicProfile.to_dict``) for the server's own assistant."""
        body = PublicProfileIn(profile=dict(profile))
        self._request("PUT", "/v1/chat/profile", json=self._json(body))
