"""What staff do in the Chat tab that goes to the hosted API: take over, hand back, close, reply.

Every call runs on the TaskRunner's network pool (never on the GUI thread) through a ``StaffClient``
– in the app ``sync.chat_client.ChatClient`` with this workplace's device credentials, in tests a fake
at the network edge. The server is the authority on conversations; the desktop sees the result when the
next sync round pulls the ``chat`` stream (the view asks for that round at once). Until then the answer
of the server is shown as an *overlay*: a sent message, a new status. An overlay entry is dropped as
soon as the pulled data contains it.

A staff reply to a conversation the bot still answers takes it over first (status ``staff``), so bot and
person never talk over each other (Chatwoot #13673).
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from app.services.chat_inbox import ChatMessageDTO, ConversationSummary
from sync.protocol_chat import ChatMessage, ChatStatus, ChatUsage, ConversationOut


class StaffClient(Protocol):
    """The part of ``sync.chat_client.ChatClient`` the inbox uses (network; worker threads only)."""

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
        """Store a staff message; the server relays it to the visitor."""
        ...

    def set_status(self, conversation_id: str, status: ChatStatus | str, reason: str = "") -> ConversationOut:
        """Change who answers the conversation; returns the conversation as it is now."""
        ...

    def usage(self) -> ChatUsage:
        """This month's leads against the plan's limit."""
        ...


ClientFactory = Callable[[], StaffClient]


class SessionSource(Protocol):
    """Who holds this workplace's one ``DeviceSession`` (``ui.workers.sync_runner.SyncController``)."""

    def device_session(self) -> Any:
        """The shared session (reads the keyring on first use; ``SyncAuthError`` when not registered)."""
        ...


def shared_client_factory(source: Callable[[], SessionSource | None]) -> ClientFactory:
    """A factory for the real ``ChatClient`` on the sync controller's device session.

    One session per process: a refresh token rotates on every use, so a second session would present a used
    token later and the server would revoke the device. ``source`` is asked at call time (the controller is
    created after the tabs); a new session after a re-registration gets a new client.
    """
    lock = threading.Lock()
    made: dict[str, Any] = {}

    def make() -> StaffClient:
        from sync.chat_client import ChatClient  # the network stack only when the chat is really used
        from sync.errors import SyncUnavailable

        controller = source()
        if controller is None:
            raise SyncUnavailable("Die Verbindung zum CarBot-Server wird noch aufgebaut.")
        session = controller.device_session()
        with lock:
            if made.get("session") is not session:
                if "client" in made:
                    made["client"].close()
                made.update(session=session, client=ChatClient(session.server_url, session))
            client: StaffClient = made["client"]
            return client

    return make


@dataclass(frozen=True)
class StaffResult:
    """What the server answered to one staff action."""

    conversation_id: str
    status: str  # the conversation's status after the action
    conversation: ConversationOut | None = None
    message: ChatMessage | None = None


def set_status(client: StaffClient, conversation_id: str, status: str, reason: str = "") -> StaffResult:
    """Any status change (take over, hand back to the bot, close)."""
    conversation = client.set_status(conversation_id, ChatStatus(status), reason)
    return StaffResult(conversation_id, conversation.status.value, conversation=conversation)


def send_staff_message(
    client: StaffClient, conversation_id: str, status: str, text: str, client_id: uuid.UUID
) -> StaffResult:
    """Send a staff reply (taking the conversation over first unless staff already have it)."""
    new_status, conversation = status, None
    if status != ChatStatus.STAFF:
        conversation = client.set_status(conversation_id, ChatStatus.STAFF)
        new_status = conversation.status.value
    message = client.post_message(conversation_id, text, author="staff", client_id=client_id)
    return StaffResult(conversation_id, new_status, conversation=conversation, message=message)


@dataclass
class Overlay:
    """Server answers not yet pulled through sync: statuses and sent messages per conversation."""

    statuses: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict)
    messages: dict[str, list[ChatMessageDTO]] = field(default_factory=dict)

    def record(self, result: StaffResult) -> None:
        """Remember what the server answered."""
        if result.conversation is not None:
            conv = result.conversation
            self.statuses[conv.id] = (conv.status.value, _aware(conv.updated_at))
        if result.message is not None:
            m = result.message
            dto = ChatMessageDTO(m.id, m.conversation_id, m.seq, m.author.value, m.text, _aware(m.created_at),
                                 tuple(m.quick_replies))  # fmt: skip
            self.messages.setdefault(m.conversation_id, []).append(dto)

    def apply(self, summary: ConversationSummary) -> ConversationSummary:
        """The summary with a newer status from the server (dropped once the pulled data caught up)."""
        entry = self.statuses.get(summary.id)
        if entry is None:
            return summary
        status, updated = entry
        if summary.updated_at >= updated:  # the pulled conversation is as new as the server's answer (or newer)
            del self.statuses[summary.id]
            return summary
        return replace(summary, status=status)

    def merge(self, conversation_id: str, messages: list[ChatMessageDTO]) -> list[ChatMessageDTO]:
        """Pulled messages plus the sent ones not yet pulled (oldest first)."""
        pending = self.messages.get(conversation_id)
        if not pending:
            return messages
        known = {m.id for m in messages}
        pending = [m for m in pending if m.id not in known]
        if pending:
            self.messages[conversation_id] = pending
        else:
            del self.messages[conversation_id]
        return sorted([*messages, *pending], key=lambda m: m.seq)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
