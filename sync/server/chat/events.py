"""Live events of the web chat over the ``KeyValueStore``: widget SSE fan-out and desktop-agent wake-ups.

Works the same with Redis (several uvicorn workers and hosts) and with the in-process store (one
worker): every writer, in whichever worker, publishes through the store; every listener waits on it.

**Channels.** A location has ``CHANNELS`` conversation channels (a conversation hashes onto one) and one
agent channel. A channel's version comes from ``incr`` on its counter key and is announced with
``notify``; listeners ``wait`` for a version above the one they saw. Bucketing keeps the number of store
keys bounded per location (no key per conversation that would never expire) while a wake-up reaches
only about 1/256 of the location's listeners (each wake-up costs a thread-safe loop call, so waking many
listeners for nothing is what makes a busy server slow).

**State, not a log.** What a listener needs is state it can re-read at any time, so a missed or
reordered wake-up loses nothing:

- ``chat:mark:<conversation>``: the version of the conversation's last stored change (a message, the
  status; expires after an hour); a listener re-reads the database only when it differs from the one it
  saw (or at its heartbeat); typing and drafts wake it without moving the mark;
- ``chat:typing:<conversation>``: present while the bot is writing; it expires after ``TYPING_SECONDS``,
  so typing switches itself off even if a worker died (Chatwoot #9015);
- ``chat:delta:<conversation>``: the bot's answer so far (cumulative text) and the visitor message it
  answers; deleted when the answer is stored;
- messages and the status come from the database (``fetch``), after the listener's last seq.

Publishing is best effort (a store failure is logged; the widget refetches after every reconnect and
the desktop polls). A listener whose ``wait`` fails ends its stream, so the browser reconnects.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from sync.protocol_chat import ChatMessage, ChatStatus, WidgetEvent, sse_frame
from sync.server.store import KeyValueStore, StoreUnavailable

log = logging.getLogger(__name__)

CHANNELS = 256
TYPING_SECONDS = 30
DELTA_SECONDS = 60
MARK_SECONDS = 3600
COUNTER_SECONDS = 10 * 365 * 24 * 3600
"""Counters must never restart while listeners hold a version (the store's windows are fixed)."""
TYPING_RECHECK_SECONDS = 5.0


def conversation_channel(location_id: str, conversation_id: str) -> str:
    """The channel of a conversation's widget listeners."""
    return f"chat:{location_id}:{zlib.crc32(conversation_id.encode()) % CHANNELS}"


def agent_channel(location_id: str) -> str:
    """The channel that wakes the location's desktop agent (new bot tasks)."""
    return f"chat:{location_id}:agent"


@dataclass(frozen=True)
class LiveState:
    """The volatile part of a conversation (not stored in the database)."""

    mark: str | None
    typing: bool
    delta_seq: int | None
    delta_text: str | None


class ChatEvents:
    """Publishes and reads the live state of conversations in the key-value store."""

    def __init__(self, store: KeyValueStore) -> None:
        self.store = store

    def _bump(self, channel: str) -> int:
        version = self.store.incr(f"{channel}:n", COUNTER_SECONDS)
        return version

    def touch(self, location_id: str, conversation_id: str, *, stored: bool = True) -> None:
        """Announce a change of the conversation (after its commit); ``stored`` False: typing or draft only."""
        try:
            channel = conversation_channel(location_id, conversation_id)
            version = self._bump(channel)
            if stored:  # listeners re-read the database only when this mark moves
                self.store.set(f"chat:mark:{conversation_id}", str(version), MARK_SECONDS)
            self.store.notify(channel, version)
        except StoreUnavailable:
            log.warning("chat event not published (store unavailable)")

    def wake_agent(self, location_id: str) -> None:
        """Wake the location's long-polling desktop agent (a bot task is waiting)."""
        try:
            channel = agent_channel(location_id)
            self.store.notify(channel, self._bump(channel))
        except StoreUnavailable:
            log.warning("agent wake-up not published (store unavailable)")

    def agent_version(self, location_id: str) -> int:
        """The agent channel's current version (read it before looking for tasks, then wait above it)."""
        return int(self.store.get(f"{agent_channel(location_id)}:n") or 0)

    async def wait_agent(self, location_id: str, after: int, timeout: float) -> int | None:
        """Wait for a wake-up of the location's agent channel."""
        return await self.store.wait(agent_channel(location_id), after, timeout)

    def typing(self, location_id: str, conversation_id: str, on: bool) -> None:
        """Switch the bot's typing indicator (expires by itself after ``TYPING_SECONDS``)."""
        try:
            if on:
                self.store.set(f"chat:typing:{conversation_id}", "1", TYPING_SECONDS)
            else:
                self.store.delete(f"chat:typing:{conversation_id}")
                self.store.delete(f"chat:delta:{conversation_id}")
        except StoreUnavailable:
            log.warning("typing state not published (store unavailable)")
            return
        self.touch(location_id, conversation_id, stored=False)

    def delta(self, location_id: str, conversation_id: str, reply_to_seq: int, text: str) -> None:
        """The bot's answer so far (cumulative); switches typing on."""
        try:
            payload = json.dumps({"seq": reply_to_seq, "text": text})
            self.store.set(f"chat:delta:{conversation_id}", payload, DELTA_SECONDS)
            self.store.set(f"chat:typing:{conversation_id}", "1", TYPING_SECONDS)
        except StoreUnavailable:
            log.warning("draft not published (store unavailable)")
            return
        self.touch(location_id, conversation_id, stored=False)

    def live(self, conversation_id: str) -> LiveState:
        """The conversation's mark, typing flag and draft (StoreUnavailable propagates)."""
        raw = self.store.get(f"chat:delta:{conversation_id}")
        delta = json.loads(raw) if raw else None
        return LiveState(
            mark=self.store.get(f"chat:mark:{conversation_id}"),
            typing=self.store.get(f"chat:typing:{conversation_id}") is not None,
            delta_seq=int(delta["seq"]) if delta else None,
            delta_text=str(delta["text"]) if delta else None,
        )

    def version(self, location_id: str, conversation_id: str) -> int:
        """The conversation channel's current version."""
        return int(self.store.get(f"{conversation_channel(location_id, conversation_id)}:n") or 0)

    async def wait(self, location_id: str, conversation_id: str, after: int, timeout: float) -> int | None:
        """Wait for a version of the conversation's channel above ``after``."""
        return await self.store.wait(conversation_channel(location_id, conversation_id), after, timeout)


Fetch = Callable[[int], Awaitable[tuple[ChatStatus, list[ChatMessage]]]]
"""Reads the conversation's status and its messages after a seq (from the database, off the event loop)."""


def _frame(event: WidgetEvent) -> bytes:
    return sse_frame(event, event.model_dump_json(exclude_none=True))


class _Listener:
    """What one widget stream has sent so far; turns fresh state into the missing events."""

    def __init__(self, last_seq: int) -> None:
        self.last_seq = last_seq
        self.status: ChatStatus | None = None
        self.typing = False
        self.delta: tuple[int, str] | None = None
        self.mark: str | None = None

    def stored(self, status: ChatStatus, messages: list[ChatMessage]) -> list[bytes]:
        frames = []
        for message in messages:
            if message.seq > self.last_seq:
                self.last_seq = message.seq
                frames.append(_frame(WidgetEvent(type="message", message=message)))
        if status != self.status:
            self.status = status
            frames.append(_frame(WidgetEvent(type="status", status=status)))
        return frames

    def volatile(self, live: LiveState) -> list[bytes]:
        frames = []
        if live.delta_seq is not None and live.delta_text is not None:
            delta = (live.delta_seq, live.delta_text)
            if delta != self.delta and live.delta_seq > 0:
                self.delta = delta
                frames.append(_frame(WidgetEvent(type="delta", text=delta[1], reply_to_seq=delta[0])))
        if live.typing != self.typing:
            self.typing = live.typing
            frames.append(_frame(WidgetEvent(type="typing", typing=live.typing)))
        return frames


async def widget_stream(
    events: ChatEvents,
    location_id: str,
    conversation_id: str,
    *,
    fetch: Fetch,
    after_seq: int | None,
    current_seq: int,
    heartbeat: float,
    max_seconds: float,
) -> AsyncIterator[bytes]:
    """The SSE body of one widget: backlog after ``after_seq``, then live events, heartbeats, an end.

    Without ``after_seq`` the stream starts at ``current_seq`` (the widget has just loaded the messages).
    """
    yield b"retry: 3000\n\n"
    listener = _Listener(current_seq if after_seq is None else after_seq)
    deadline = time.monotonic() + max_seconds
    quiet_since = time.monotonic()
    try:
        version = events.version(location_id, conversation_id)
        refresh = True
        while True:
            frames: list[bytes] = []
            live = events.live(conversation_id)
            if refresh or live.mark != listener.mark:
                listener.mark = live.mark
                frames += listener.stored(*await fetch(listener.last_seq))
            frames += listener.volatile(live)
            for frame in frames:
                yield frame
            now = time.monotonic()
            if frames:
                quiet_since = now
            elif now - quiet_since >= heartbeat:
                quiet_since = now
                yield b": heartbeat\n\n"
            if now >= deadline:
                return
            timeout = min(heartbeat - (now - quiet_since), deadline - now)
            if listener.typing:
                timeout = min(timeout, TYPING_RECHECK_SECONDS)
            woken = await events.wait(location_id, conversation_id, version, max(timeout, 0.05))
            refresh = woken is None  # a quiet period: re-read the database as a safety net
            if woken is not None:
                version = woken
    except StoreUnavailable:
        yield b": store unavailable\n\n"
