"""``LlmAssistant``: the web chat answered by a cloud LLM, with the strict tool allow-list of ``app.chat.tools``.

One answer = a small tool loop: the model streams text (passed on as ``on_delta(text_so_far)``) and/or tool
calls; every call goes through ``ToolExecutor.execute`` — the only way the model can act — and the results go
back to the model in the provider's format; at most ``MAX_TOOL_CALLS_PER_TURN`` calls per answer (the executor
refuses more) and a few rounds. A forged or unknown call (another customer's id, ``read_customers`` …) is
refused by the executor; the model only sees the error result and nothing happens.

Failures: before anything reached the visitor and before any tool acted, the ``LlmError`` is raised (with the
usage spent so far in ``error.usage``) so the caller answers with the built-in assistant (``FallbackAssistant``
does exactly that). Once text was shown or a booking/handoff happened, the answer ends gracefully with an
apology in the visitor's language and the usage of the broken stream is estimated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import secrets
from collections.abc import Callable
from typing import Protocol

from app.calendar_rules import WORKSHOP_TZ
from app.chat.assistant import Assistant, AssistantReply
from app.chat.conversation import ConversationView
from app.chat.intents import extract_contact
from app.chat.llm import prompt
from app.chat.llm.config import ApiKeyStore, LlmConfig, make_provider
from app.chat.llm.errors import LlmError
from app.chat.llm.events import (
    AssistantMessage,
    Message,
    TextDelta,
    ToolCall,
    ToolOutcome,
    ToolResultMessage,
    ToolSpec,
)
from app.chat.llm.pricing import Usage, estimate_usage
from app.chat.llm.transport import ChatProvider, LlmTransport, RetryPolicy
from app.chat.profile import PublicProfile
from app.chat.tools import MAX_TOOL_CALLS_PER_TURN, ToolExecutor, tool_definitions

log = logging.getLogger(__name__)

MAX_ROUNDS = MAX_TOOL_CALLS_PER_TURN + 2  # every call in its own round, plus the answer, plus one for errors
APOLOGY = {
    "de": "Entschuldigung, meine Antwort wurde unterbrochen. Bitte versuchen Sie es gleich noch einmal – oder "
    "hinterlassen Sie Ihre Telefonnummer, dann melden wir uns.",
    "en": "Sorry, my answer was interrupted. Please try again in a moment – or leave your phone number and we will "
    "get back to you.",
    "tr": "Özür dileriz, cevabım yarıda kesildi. Lütfen birazdan tekrar deneyin – ya da telefon numaranızı bırakın, "
    "size geri dönelim.",
    "pl": "Przepraszamy, odpowiedź została przerwana. Proszę spróbować ponownie za chwilę – albo zostawić numer "
    "telefonu, oddzwonimy.",
}


class BudgetCheck(Protocol):
    """What the assistant needs of the monthly budget (``budget.MonthlyBudget``)."""

    def check(self) -> None:
        """Raise ``BudgetExceeded`` when the month's budget is used up."""


def tool_specs(profile: PublicProfile | None = None) -> tuple[ToolSpec, ...]:
    """The allow-listed tools as offered to the model (service codes as an enum when the catalogue is small)."""
    return tuple(ToolSpec(d.name, d.description, d.parameters, d.strict) for d in tool_definitions(profile))


def _local_now() -> dt.datetime:
    return dt.datetime.now(WORKSHOP_TZ).replace(tzinfo=None)


def _join(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)


class LlmAssistant:
    """Answers a conversation through a cloud LLM; implements ``app.chat.assistant.Assistant``."""

    def __init__(
        self,
        provider: ChatProvider,
        transport: LlmTransport,
        profile: PublicProfile,
        *,
        budget: BudgetCheck | None = None,
        now_local: Callable[[], dt.datetime] = _local_now,
        nonce: Callable[[], str] = lambda: secrets.token_hex(6),
    ) -> None:
        self.provider = provider
        self.transport = transport
        self.profile = profile
        self._budget = budget
        self._now_local = now_local
        self._nonce = nonce
        self._tools = tool_specs(profile)

    def reply(
        self, conversation: ConversationView, executor: ToolExecutor, *, on_delta: Callable[[str], None] | None = None
    ) -> AssistantReply:
        """The answer to the conversation's last visitor message (see the module docstring)."""
        if self._budget is not None:
            self._budget.check()
        nonce = self._nonce()
        system = prompt.system_prompt(
            self.profile,
            language=conversation.language,
            now_local=self._now_local(),
            nonce=nonce,
            contact=conversation.contact,
        )
        messages: list[Message] = prompt.history(conversation, nonce)
        turn = _Turn(self.provider.name, self.provider.model, executor)
        for round_no in range(1, MAX_ROUNDS + 1):
            calls = self._round(system, messages, turn, on_delta, conversation.language)
            if turn.failed or not calls or round_no == MAX_ROUNDS:
                break  # calls of the last round are not run: nobody would tell the visitor their outcome
            messages.append(AssistantMessage(turn.parts[-1], tuple(calls)))
            messages.append(ToolResultMessage(tuple(self._execute(executor, call) for call in calls)))
        text = turn.shown() or APOLOGY.get(conversation.language, APOLOGY["de"])
        # Contact details in the visitor's message make the conversation a lead, as with the built-in assistant.
        found = extract_contact(conversation.last_visitor_text)
        return AssistantReply(
            text=text,
            handoff=executor.handed_off,
            booking_ref=executor.booking_ref,
            usage=turn.usage,
            contact=found if found.reachable else None,
        )

    def _round(
        self,
        system: str,
        messages: list[Message],
        turn: _Turn,
        on_delta: Callable[[str], None] | None,
        language: str,
    ) -> list[ToolCall]:
        request = self.provider.build_request(system, messages, self._tools)
        before = turn.shown()
        text = ""
        calls: list[ToolCall] = []
        usage: Usage | None = None
        try:
            # Retrying is only allowed while the visitor has seen nothing of this answer.
            for event in self.transport.stream(request, self.provider.decoder, retry=not before):
                if isinstance(event, TextDelta):
                    text += event.text
                    if on_delta is not None:
                        on_delta(_join(before, text))
                elif isinstance(event, ToolCall):
                    calls.append(event)
                elif isinstance(event, Usage):
                    usage = event
        except LlmError as exc:
            if text or calls:  # the provider produced output, so it charges for it: estimate
                turn.add(self._estimate(system, messages, text, calls))
            if not _join(before, text) and not turn.acted:
                exc.usage = turn.usage
                raise
            log.warning("KI-Antwort abgebrochen: %s", exc)
            turn.failed = True
            turn.parts.append(text)
            turn.parts.append(APOLOGY.get(language, APOLOGY["de"]))
            if on_delta is not None:
                on_delta(turn.shown())
            return []
        turn.add(usage if usage is not None else self._estimate(system, messages, text, calls))
        turn.parts.append(text)
        return calls

    def _estimate(self, system: str, messages: list[Message], text: str, calls: list[ToolCall]) -> Usage:
        output = len(text) + sum(len(c.name) + len(c.arguments_json) for c in calls)
        return estimate_usage(prompt.prompt_chars(system, messages), output)

    @staticmethod
    def _execute(executor: ToolExecutor, call: ToolCall) -> ToolOutcome:
        result = executor.execute(call.name, call.arguments_json)
        if not result.ok:
            log.info("KI-Werkzeugaufruf abgelehnt: %s", call.name[:60])
        content = json.dumps(result.content, ensure_ascii=False, default=str)
        return ToolOutcome(call.id, call.name, content, is_error=not result.ok)


class _Turn:
    """What one answer accumulated over its rounds."""

    def __init__(self, provider: str, model: str, executor: ToolExecutor) -> None:
        self.parts: list[str] = []
        self.usage: Usage | None = None
        self.failed = False
        self._provider = provider
        self._model = model
        self._executor = executor

    @property
    def acted(self) -> bool:
        """A tool changed something (a booking request or a handoff)."""
        return self._executor.handed_off or self._executor.booking_ref is not None

    def shown(self) -> str:
        """The text so far, rounds separated by a blank line."""
        return _join(*self.parts)

    def add(self, usage: Usage) -> None:
        """Add one round's usage (stamped with provider and model)."""
        stamped = dataclasses.replace(usage, provider=self._provider, model=self._model)
        self.usage = stamped if self.usage is None else self.usage + stamped


class FallbackAssistant:
    """Asks ``primary`` (the LLM); on an ``LlmError`` (including ``BudgetExceeded``) answers with ``fallback``.

    The fallback's reply carries the usage the failed LLM attempt already spent, so its cost is still recorded.
    ``on_error`` (e.g. the desktop log or a status line) hears about every failure.
    """

    def __init__(
        self, primary: Assistant, fallback: Assistant, *, on_error: Callable[[LlmError], None] | None = None
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self._on_error = on_error

    def reply(
        self, conversation: ConversationView, executor: ToolExecutor, *, on_delta: Callable[[str], None] | None = None
    ) -> AssistantReply:
        """The primary's answer, or the fallback's when the primary failed before showing anything."""
        try:
            return self.primary.reply(conversation, executor, on_delta=on_delta)
        except LlmError as exc:
            log.warning("KI-Assistent nicht verfügbar, der eingebaute antwortet: %s", exc)
            if self._on_error is not None:
                self._on_error(exc)
            answer = self.fallback.reply(conversation, executor, on_delta=on_delta)
            return dataclasses.replace(answer, usage=exc.usage) if exc.usage is not None else answer


def llm_assistant_from_config(
    config: LlmConfig,
    profile: PublicProfile,
    *,
    keys: ApiKeyStore,
    budget: BudgetCheck | None = None,
    transport: LlmTransport | None = None,
    retry: RetryPolicy | None = None,
) -> LlmAssistant:
    """The ``LlmAssistant`` for the stored configuration (key from the keyring); ``LlmConfigError`` when the
    provider is ``none`` or the key is missing."""
    provider = make_provider(config, keys.get(config.provider) if config.enabled else None)
    return LlmAssistant(
        provider,
        transport or LlmTransport(timeouts=config.timeouts(), retry=retry),
        profile,
        budget=budget,
    )
