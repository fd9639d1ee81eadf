"""The in-app chat agent's thread (Qt-free): ``ChatAgent.run_forever`` with the app's one device session.

``AgentWorker`` runs the answering loop in a daemon thread with the configured assistant. Its
``ChatClient`` asks the SyncController for the ``DeviceSession`` on every request (``SharedSession``: a
second session on the same keyring entry would present a spent refresh token and get the device revoked)
and uses an ``InterruptibleTransport``, so ``stop()`` cuts the 20 s long poll off at once. A failed start
(offline, no credentials, plan) is retried with back-off (1 s … 60 s, jitter); inside ``run_forever`` the
agent backs off by itself. ``describe_assistant`` says who answers the next message.

``ChatAgentRunner`` (ui/workers/chat_agent_runner.py) owns it on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Callable
from typing import Any

import httpx

from app.db import Database
from app.i18n import _
from ui.workers.interruptible_http import InterruptibleTransport

log = logging.getLogger(__name__)
POLL_WAIT_SECONDS = 20.0
MAX_RESTART_SECONDS = 60.0
PROVIDER_LABELS = {"openai": "OpenAI", "anthropic": "Anthropic"}
AssistantFactory = Callable[[Any], Any]  # PublicProfile -> app.chat.Assistant


def describe_assistant(db: Database) -> tuple[str, str]:
    """("eingebaut" or "OpenAI: gpt-4o-mini", why not the cloud LLM) – the choice the next answer gets.

    Asks ``ConfiguredAssistants`` itself (config, API key in the keyring, monthly budget), with an empty
    profile: nothing is sent anywhere (worker thread: keyring and database).
    """
    from app.chat import PublicProfile
    from sync.chat_answer import ConfiguredAssistants, provider_of

    assistants = ConfiguredAssistants(db)
    empty = PublicProfile(workshop_name="", phone="", email="", address="", opening_hours=(), services=(),
                          free_intervals=(), slot_minutes=15, generated_at=dt.datetime.now(dt.UTC))  # fmt: skip
    provider = provider_of(assistants(empty))
    if provider == "builtin":
        return _("eingebaut"), assistants.last_reason
    config = assistants.config_store.load()
    return f"{PROVIDER_LABELS.get(provider, provider)}: {config.effective_model}", ""


class SharedSession:
    """A ``CredentialsProvider`` that asks the sync controller for its one ``DeviceSession`` on every use."""

    def __init__(self, sessions: Callable[[], Any]) -> None:
        self._sessions = sessions

    @property
    def device_id(self) -> str:
        """The registered device's id."""
        return str(self._sessions().device_id)

    @property
    def location_id(self) -> str:
        """The location the device belongs to."""
        return str(self._sessions().location_id)

    def access_token(self, http: httpx.Client, *, force_refresh: bool = False) -> str:
        """A valid access token of the shared session."""
        return str(self._sessions().access_token(http, force_refresh=force_refresh))


class AgentWorker:
    """``ChatAgent.run_forever`` in a daemon thread (Qt-free; the callbacks run in that thread)."""

    def __init__(
        self,
        db: Database,
        sessions: Callable[[], Any],
        assistants: AssistantFactory,
        *,
        poll_wait: float = POLL_WAIT_SECONDS,
        on_connected: Callable[[], None] = lambda: None,
        on_report: Callable[[Any], None] = lambda _report: None,
        on_error: Callable[[str, bool], None] = lambda _message, _refused: None,
    ) -> None:
        self.db = db
        self.sessions = sessions
        self.assistants = assistants
        self.poll_wait = poll_wait
        self.on_connected = on_connected
        self.on_report = on_report
        self.on_error = on_error
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._transport: InterruptibleTransport | None = None
        self.thread = threading.Thread(target=self._run, name="carbot-chat-agent", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self.thread.start()

    def stop(self) -> None:
        """Ask the thread to end and cut a running request off (returns at once; any thread)."""
        self.stop_event.set()
        with self._lock:
            if self._transport is not None:
                self._transport.interrupt()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the thread; True when it has ended."""
        if self.thread.ident is not None:
            self.thread.join(timeout)
        return not self.thread.is_alive()

    def _new_transport(self) -> InterruptibleTransport:
        transport = InterruptibleTransport()
        with self._lock:
            self._transport = transport
            if self.stop_event.is_set():  # stopped while we were building: never block on it
                transport.interrupt()
        return transport

    def _run(self) -> None:
        from sync.chat_agent import ChatAgent  # the chat stack only when the agent really runs here
        from sync.chat_client import ChatClient
        from sync.errors import PlanRequired, SyncAuthError, SyncError

        backoff = 0.0
        while not self.stop_event.is_set():
            client: ChatClient | None = None
            try:
                server_url = self.sessions().server_url  # SyncAuthError while nothing is in the keyring
                client = ChatClient(server_url, SharedSession(self.sessions), transport=self._new_transport())
                agent = ChatAgent(
                    self.db, client, self.assistants, poll_wait=self.poll_wait,
                    on_report=self.on_report, on_error=lambda message: self.on_error(message, False),
                )  # fmt: skip
                agent.push_profile(force=True)  # the server is reachable and the plan has the chat
                backoff = 0.0
                self.on_connected()
                agent.run_forever(self.stop_event)  # returns only when stopped
            except (SyncAuthError, PlanRequired) as exc:
                backoff = MAX_RESTART_SECONDS  # nothing changes soon: ask again only now and then
                self._failed(exc.message, refused=True)
            except SyncError as exc:
                backoff = min(MAX_RESTART_SECONDS, max(1.0, backoff * 2))
                self._failed(exc.message, refused=False)
            except Exception as exc:  # a bug must not end the chat for the whole session
                log.exception("chat agent failed; restarting")
                backoff = min(MAX_RESTART_SECONDS, max(1.0, backoff * 2))
                self._failed(f"{type(exc).__name__}: {exc}", refused=False)
            finally:
                if client is not None:
                    client.close()
            self.stop_event.wait(backoff * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not security

    def _failed(self, message: str, *, refused: bool) -> None:
        if not self.stop_event.is_set():  # a request cut off on purpose is no error
            self.on_error(message, refused)
