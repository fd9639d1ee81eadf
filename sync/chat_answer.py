"""Which assistant answers a web chat on this desktop, and one answer with the built-in fallback.

- ``ConfiguredAssistants(db)``: the assistant factory of the agent and ``carbot chat ask``: the cloud LLM
  (``app.chat.llm``) when a provider is configured, its API key is in the keyring and this month's budget is
  not spent; otherwise the built-in assistant (``last_reason`` says why, in German). Asked per answer, so
  a changed setting applies to the next message.
- ``answer_with_fallback``: asks the assistant; when a cloud LLM fails (any error, e.g. timeout, refused
  key, budget) the built-in assistant answers that message instead, with a fresh tool executor (the LLM
  assistant raises only before any tool acted or any text reached the visitor).
- ``ask_once``: ``carbot chat ask``: one question against the local profile, nothing booked or sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from app.calendar_rules import WORKSHOP_TZ
from app.chat import (
    Assistant,
    AssistantReply,
    BookingRequest,
    BuiltinAssistant,
    ConversationView,
    PublicProfile,
    ToolExecutor,
    Turn,
    build_profile,
)
from app.chat.llm.budget import MonthlyBudget, record_usage
from app.chat.llm.config import ApiKeyStore, LlmConfig, LlmConfigStore
from app.chat.llm.errors import LlmError
from app.chat.llm.pricing import Usage
from app.chat.llm.transport import LlmTransport
from app.db import Database
from app.errors import WorkshopError
from app.i18n import _
from app.services.registry import Services

log = logging.getLogger(__name__)
_NAMESPACE = uuid.UUID("7b0c6a4e-8f0e-4d3c-9f54-1f2d3c4b5a69")
Delta = Callable[[str], None]


def stable_id(*parts: object) -> uuid.UUID:
    """A UUID derived from the parts (the same task always gets the same ``client_id``)."""
    return uuid.uuid5(_NAMESPACE, "\x1f".join(str(p) for p in parts))


def provider_of(assistant: Assistant) -> str:
    """ "builtin" or the cloud provider's name (``LlmAssistant.provider.name``)."""
    if isinstance(assistant, BuiltinAssistant):
        return "builtin"
    provider = getattr(assistant, "provider", None)
    name = getattr(provider, "name", None)
    return str(name) if name else type(assistant).__name__


def local_now(now: dt.datetime) -> dt.datetime:
    """Naive Europe/Berlin wall-clock time of an aware ``now`` (the calendar's time)."""
    return now.astimezone(WORKSHOP_TZ).replace(tzinfo=None) if now.tzinfo else now


class ConfiguredAssistants:
    """The assistant factory: the configured cloud LLM when usable, else the built-in assistant."""

    def __init__(
        self,
        db: Database,
        *,
        config_store: LlmConfigStore | None = None,
        keys: ApiKeyStore | None = None,
        transport: LlmTransport | None = None,
    ) -> None:
        self.db = db
        self.config_store = config_store or LlmConfigStore()
        self.keys = keys or ApiKeyStore()
        self.transport = transport
        self.last_reason = ""
        self._http: httpx.Client | None = None

    def _transport(self, config: LlmConfig) -> LlmTransport:
        """The given transport, else one over a single long-lived httpx client with the configured time limits.

        Not a fresh client per answer (what ``llm_assistant_from_config`` would make): creating an
        ``httpx.Client`` loads the CA bundle (~20 ms) and a new client cannot reuse the provider's kept-alive
        TLS connection — time the visitor waits for the first token (``python -m bench chat_proxy``).
        """
        if self.transport is not None:
            return self.transport
        if self._http is None:
            self._http = httpx.Client(follow_redirects=False, trust_env=True)  # as LlmTransport's own client
        return LlmTransport(self._http, timeouts=config.timeouts())

    def __call__(self, profile: PublicProfile) -> Assistant:
        """The assistant for the next answer."""
        from app.chat.llm.assistant import llm_assistant_from_config  # the LLM stack only when configured

        self.last_reason = ""
        config = self.config_store.load()
        if not config.enabled:
            return BuiltinAssistant(profile)
        budget = MonthlyBudget(self.db, config.monthly_budget_eur)
        try:
            budget.check()
            return llm_assistant_from_config(config, profile, keys=self.keys, budget=budget,
                                             transport=self._transport(config))  # fmt: skip
        except LlmError as exc:  # no key, keyring locked, budget spent: the built-in assistant answers
            self.last_reason = exc.message
            log.info("cloud LLM not used: %s", exc.message)
            return BuiltinAssistant(profile)


@dataclass(frozen=True)
class Answer:
    """An assistant's answer and who gave it."""

    reply: AssistantReply
    provider: str  # "builtin", "openai", "anthropic"
    fallback_reason: str = ""  # why the built-in assistant answered although a cloud LLM is configured
    failed_usage: Usage | None = None  # tokens a failed LLM attempt spent (to be recorded all the same)


def answer_with_fallback(
    assistant: Assistant,
    profile: PublicProfile,
    view: ConversationView,
    executor: Callable[[], ToolExecutor],
    on_delta: Delta | None = None,
) -> Answer:
    """The assistant's answer; a failing (or empty) cloud answer is replaced by the built-in assistant's."""
    provider = provider_of(assistant)
    try:
        reply = assistant.reply(view, executor(), on_delta=on_delta)
        if reply.text.strip():
            return Answer(reply, provider)
        if isinstance(assistant, BuiltinAssistant):
            raise ValueError("the built-in assistant gave no answer")
        reason, usage = _("Die KI hat keine Antwort geliefert."), reply.usage
    except Exception as exc:
        if isinstance(assistant, BuiltinAssistant):
            raise
        log.warning("cloud LLM answer failed (%s); the built-in assistant answers", exc)
        reason = exc.message if isinstance(exc, WorkshopError) else f"{type(exc).__name__}: {exc}"
        usage = getattr(exc, "usage", None)
    fallback = BuiltinAssistant(profile).reply(view, executor(), on_delta=on_delta)
    return Answer(fallback, "builtin", reason, usage if isinstance(usage, Usage) else None)


def record_cost(db: Database, conversation_id: str, message_client_id: str, answer: Answer) -> None:
    """Store the cloud usage of an answer (and of a failed attempt before it) for the monthly budget."""
    for usage in (answer.failed_usage, answer.reply.usage):
        if isinstance(usage, Usage):
            record_usage(db, conversation_id=conversation_id, message_client_id=message_client_id, usage=usage)


class DrySink:
    """A booking sink that books nothing: ``carbot chat ask`` only reports what would be requested."""

    def __init__(self) -> None:
        self.booking: dict[str, Any] | None = None
        self.handoff_reason: str | None = None

    def request_appointment(self, conversation_id: str, request: BookingRequest) -> str:  # noqa: ARG002
        """Remember the request; the reference says it was a dry run."""
        self.booking = {
            "service_code": request.service_code,
            "start": request.start.isoformat(),
            "end": request.end.isoformat(),
            "contact": asdict(request.contact),
            "note": request.note,
        }
        return "TEST"

    def handoff(self, conversation_id: str, reason: str) -> None:  # noqa: ARG002
        """Remember the handoff."""
        self.handoff_reason = reason or "handoff"


@dataclass(frozen=True)
class AskResult:
    """What ``ask_once`` returns."""

    reply: AssistantReply
    provider: str
    fallback_reason: str
    booking: dict[str, Any] | None


def ask_once(
    db: Database,
    text: str,
    *,
    language: str = "de",
    now: dt.datetime,
    assistants: Callable[[PublicProfile], Assistant] | None = None,
) -> AskResult:
    """Ask the configured assistant once, as a visitor would, against this database's public profile."""
    profile = build_profile(Services.for_database(db), now=now)
    factory = assistants or ConfiguredAssistants(db)
    assistant = factory(profile)
    view = ConversationView(id=f"cli-{uuid.uuid4().hex[:12]}", language=language, turns=(Turn("visitor", text),))
    sink = DrySink()

    def executor() -> ToolExecutor:
        return ToolExecutor(profile, sink, conversation_id=view.id, language=language, now_local=local_now(now))

    answer = answer_with_fallback(assistant, profile, view, executor)
    record_cost(db, view.id, str(uuid.uuid4()), answer)
    reason = answer.fallback_reason or str(getattr(factory, "last_reason", "") or "")
    return AskResult(answer.reply, answer.provider, reason, sink.booking)
