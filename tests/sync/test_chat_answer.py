"""Choosing the assistant, the built-in fallback, cost records, drafts and ``ask_once`` (no hosted API needed).

The cloud LLM is the real ``LlmAssistant`` talking the OpenAI Chat Completions streaming wire format to a
scripted HTTP handler (httpx.MockTransport): text chunks, a finish chunk, the usage chunk, ``[DONE]``.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.chat import BuiltinAssistant, ConversationView, ToolExecutor
from app.chat.llm.config import ApiKeyStore, LlmConfig, LlmConfigStore
from app.chat.llm.transport import LlmTransport, RetryPolicy
from app.db import Database
from app.demo import setup_workshop
from app.models import ChatLlmUsage
from app.services.registry import Services
from sync.chat_agent import DraftRelay
from sync.chat_answer import ConfiguredAssistants, ask_once
from sync.errors import BotMuted, SyncUnavailable
from tests.sync.sync_support import MemoryKeyring

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)  # a Wednesday morning


def _chunk(delta: dict[str, Any] | None, *, finish: str | None = None, usage: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4.1-mini",
    }
    body["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    if usage is not None:
        body["usage"] = usage
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class FakeOpenAI:
    """Answers every completion with ``text`` as a stream, or fails with ``status``."""

    def __init__(self, text: str = "Ein Ölwechsel kostet bei uns ab 70,21 €.", status: int = 200) -> None:
        self.text = text
        self.status = status
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        if self.status != 200:
            return httpx.Response(self.status, json={"error": {"message": "kaputt", "type": "server_error"}})
        half = len(self.text) // 2
        stream = b"".join((
            _chunk({"role": "assistant", "content": self.text[:half]}),
            _chunk({"content": self.text[half:]}),
            _chunk({}, finish="stop"),
            _chunk(None, usage={"prompt_tokens": 1800, "completion_tokens": 40, "total_tokens": 1840,
                                "prompt_tokens_details": {"cached_tokens": 0}}),
            b"data: [DONE]\n\n",
        ))  # fmt: skip
        return httpx.Response(200, content=stream, headers={"Content-Type": "text/event-stream"})


@pytest.fixture
def workshop(db: Database) -> Database:
    services = Services.for_database(db)
    setup_workshop(services)
    services.catalog.load_defaults()
    return db


def _assistants(
    db: Database, tmp_path: Path, fake: FakeOpenAI, *, budget: str = "20.00", key: bool = True,
    base_url: str = "http://localhost:9/v1",
) -> Any:  # fmt: skip
    store = LlmConfigStore(tmp_path / "chat-llm.json")
    store.save(LlmConfig.from_dict({"provider": "openai", "base_url": base_url, "monthly_budget_eur": budget}))
    keys = ApiKeyStore(MemoryKeyring())
    if key:
        keys.set("openai", "sk-test-123")
    client = httpx.Client(transport=httpx.MockTransport(fake))
    transport = LlmTransport(client, retry=RetryPolicy(attempts=1))
    return ConfiguredAssistants(db, config_store=store, keys=keys, transport=transport)


def _usage_rows(db: Database) -> list[ChatLlmUsage]:
    with db.unit() as s:
        return list(s.scalars(select(ChatLlmUsage)))


def test_configured_llm_answers_and_its_cost_is_recorded(workshop: Database, tmp_path: Path) -> None:
    fake = FakeOpenAI()
    result = ask_once(workshop, "Was kostet ein Ölwechsel?", now=NOW, assistants=_assistants(workshop, tmp_path, fake))
    assert (result.provider, result.fallback_reason) == ("openai", "")
    assert result.reply.text == fake.text
    assert fake.requests and fake.requests[0]["stream"] is True
    rows = _usage_rows(workshop)
    assert len(rows) == 1 and (rows[0].input_tokens, rows[0].output_tokens) == (1800, 40)
    assert rows[0].provider == "openai" and rows[0].cost_eur > Decimal("0")


def test_failing_llm_falls_back_to_the_builtin_assistant(workshop: Database, tmp_path: Path) -> None:
    fake = FakeOpenAI(status=500)
    result = ask_once(workshop, "Was kostet ein Ölwechsel?", now=NOW, assistants=_assistants(workshop, tmp_path, fake))
    assert result.provider == "builtin" and result.fallback_reason
    assert "€" in result.reply.text and len(fake.requests) == 1


@pytest.mark.parametrize(("budget", "key", "reason"), [("0", True, "Budget"), ("20", False, "API-Schlüssel")])
def test_spent_budget_or_missing_key_means_builtin(
    workshop: Database, tmp_path: Path, budget: str, key: bool, reason: str
) -> None:
    fake = FakeOpenAI()
    # a model server on localhost may run without a key, a cloud endpoint may not
    factory = _assistants(workshop, tmp_path, fake, budget=budget, key=key, base_url="https://llm.example.test/v1")
    result = ask_once(workshop, "Was kostet ein Ölwechsel?", now=NOW, assistants=factory)
    assert result.provider == "builtin" and reason in result.fallback_reason
    assert fake.requests == [] and _usage_rows(workshop) == []


def test_unconfigured_means_builtin(workshop: Database, tmp_path: Path) -> None:
    factory = ConfiguredAssistants(workshop, config_store=LlmConfigStore(tmp_path / "fehlt.json"))
    result = ask_once(workshop, "Wann haben Sie geöffnet?", now=NOW, assistants=factory)
    assert (result.provider, result.fallback_reason) == ("builtin", "")


class Booker:
    """Books the first free Ölwechsel slot through the tools (what an LLM may do)."""

    def reply(self, conversation: ConversationView, executor: ToolExecutor, **_kw: Any) -> Any:
        from app.chat import AssistantReply

        code = executor.execute("search_services", {"query": "Ölwechsel"}).content["services"][0]["code"]
        start = executor.execute("find_free_slots", {"service_code": code, "date_from": None}).content["slots"][0]
        done = executor.execute("request_appointment", {
            "service_code": code, "start": start["start"], "note": None,
            "contact": {"name": "Eva Berg", "phone": "0171 2345678", "email": None, "vehicle": None},
        })  # fmt: skip
        return AssistantReply(text=f"Notiert: {done.content['reference']}")


def test_ask_once_reports_a_booking_but_books_nothing(workshop: Database) -> None:
    result = ask_once(workshop, "Termin bitte", now=NOW, assistants=lambda _profile: Booker())
    assert result.booking is not None and result.booking["contact"]["name"] == "Eva Berg"
    assert result.reply.text == "Notiert: TEST"
    services = Services.for_database(workshop)
    assert services.appointments.between(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1)) == []


class DraftSink:
    """Records drafts; raises ``error`` instead when set."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.error: Exception | None = None

    def draft(self, _conversation_id: str, _reply_to_seq: int, text: str) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(text)


def test_drafts_first_at_once_then_throttled_and_stop_when_muted() -> None:
    sink = DraftSink()
    drafts = DraftRelay(sink, "c-1", 3, interval=0.2)  # type: ignore[arg-type]
    drafts("Hal")
    drafts("Hallo")  # too soon
    assert sink.sent == ["Hal"]
    drafts.last_sent -= 1.0
    drafts("Hallo, gern")
    assert sink.sent == ["Hal", "Hallo, gern"]
    sink.error = SyncUnavailable("offline")
    drafts.last_sent -= 1.0
    drafts("Hallo, gern helfe")  # a lost draft is no error
    sink.error = BotMuted("stumm", status=409)
    drafts.last_sent -= 1.0
    drafts("Hallo, gern helfe ich")
    sink.error = None
    drafts.last_sent -= 1.0
    drafts("Hallo, gern helfe ich Ihnen")
    assert drafts.muted and sink.sent == ["Hal", "Hallo, gern"]


def test_builtin_default_factory_is_the_builtin_assistant(workshop: Database) -> None:
    result = ask_once(workshop, "Was kostet ein Ölwechsel?", now=NOW, assistants=BuiltinAssistant)
    assert result.provider == "builtin" and "ab " in result.reply.text
