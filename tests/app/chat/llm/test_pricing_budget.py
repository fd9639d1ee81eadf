"""Cost from the versioned price table, estimated usage, the monthly budget and the LLM configuration."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from app.chat.llm.budget import MonthlyBudget, month_bounds, month_spent, record_usage
from app.chat.llm.config import ApiKeyStore, LlmConfig, LlmConfigStore, make_provider
from app.chat.llm.errors import BudgetExceeded, LlmConfigError
from app.chat.llm.openai import OpenAIProvider
from app.chat.llm.pricing import PRICE_TABLE, PRICE_TABLE_VERSION, Usage, cost, estimate_usage, price_for
from app.db import Database
from app.errors import ValidationError


def test_cost_of_cached_input_and_output() -> None:
    # gpt-4o-mini: 0.129 € input, 0.0645 € cached input, 0.516 € output per 1M tokens
    usage = Usage(input_tokens=10_000, cached_input_tokens=4_000, output_tokens=1_000)
    expected = (
        Decimal(6_000) * Decimal("0.129") + Decimal(4_000) * Decimal("0.0645") + Decimal(1_000) * Decimal("0.516")
    )
    assert cost(usage, "gpt-4o-mini") == (expected / 1_000_000).quantize(Decimal("0.000001")) == Decimal("0.001548")


def test_reasoning_tokens_bill_as_output() -> None:
    plain = Usage(input_tokens=0, output_tokens=1_000_000)
    with_reasoning = Usage(input_tokens=0, output_tokens=1_000_000, reasoning_tokens=900_000)
    assert cost(plain, "gpt-5-mini") == cost(with_reasoning, "gpt-5-mini") == Decimal("1.72")
    # A provider counting reasoning outside the output still pays for it.
    assert cost(Usage(output_tokens=0, reasoning_tokens=1_000_000), "gpt-5-mini") == Decimal("1.72")


def test_model_lookup_snapshots_and_default() -> None:
    assert price_for("claude-sonnet-4-5-20250929") == PRICE_TABLE["claude-sonnet-4-5"]
    assert price_for("gpt-4o-mini-2024-07-18") == PRICE_TABLE["gpt-4o-mini"]
    assert price_for("llama3.1:8b") == PRICE_TABLE["default"]
    assert cost(Usage(input_tokens=1_000_000, model="claude-haiku-4-5")) == Decimal("0.86")
    assert PRICE_TABLE_VERSION == "2026-11"


def test_estimated_usage_and_sum() -> None:
    estimate = estimate_usage(4001, 10, provider="openai", model="gpt-4.1-mini")
    assert (estimate.input_tokens, estimate.output_tokens, estimate.estimated) == (1001, 3, True)
    total = Usage(input_tokens=5, output_tokens=1) + estimate
    assert total.input_tokens == 1006 and total.estimated and total.model == "gpt-4.1-mini"
    with pytest.raises(ValueError):
        Usage(input_tokens=-1)


def test_month_bounds_follow_the_berlin_calendar() -> None:
    start, end = month_bounds(dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC))
    assert start == dt.datetime(2026, 10, 31, 23, 0)  # 1 Nov 00:00 CET, as naive UTC
    assert end == dt.datetime(2026, 11, 30, 23, 0)
    assert month_bounds(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC))[0] == dt.datetime(2026, 12, 31, 23, 0)


def test_record_usage_and_month_spent(db: Database) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, provider="anthropic", model="claude-haiku-4-5")
    inside = dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.UTC)  # already November in Berlin
    before = dt.datetime(2026, 10, 31, 22, 30, tzinfo=dt.UTC)  # still October in Berlin
    record = record_usage(db, conversation_id="c1", message_client_id="m1", usage=usage, now=inside)
    assert record.cost_eur == Decimal("1.29") and record.price_table_version == "2026-11"
    record_usage(db, conversation_id="c1", message_client_id="m0", usage=usage, now=before)
    estimated = estimate_usage(400, 40)
    record_usage(
        db,
        conversation_id="c2",
        message_client_id="m2",
        usage=estimated,
        provider="openai",
        model="gpt-4.1-mini",
        now=inside,
    )
    november = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    assert month_spent(db, november) == Decimal("1.29") + cost(estimated, "gpt-4.1-mini")
    assert month_spent(db, dt.datetime(2026, 10, 10, tzinfo=dt.UTC)) == Decimal("1.29")
    assert month_spent(db, dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)) == Decimal("0")
    with db.unit() as session:
        from app.models.chat import ChatLlmUsage

        rows = session.query(ChatLlmUsage).order_by(ChatLlmUsage.id).all()
        assert [(r.provider, r.model, r.estimated, r.input_tokens) for r in rows] == [
            ("anthropic", "claude-haiku-4-5", False, 1_000_000),
            ("anthropic", "claude-haiku-4-5", False, 1_000_000),
            ("openai", "gpt-4.1-mini", True, 100),
        ]


def test_budget_check(db: Database) -> None:
    now = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    budget = MonthlyBudget(db, Decimal("2.00"), clock=lambda: now)
    budget.check()
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, model="claude-haiku-4-5")  # 1,29 €
    record_usage(db, conversation_id="c", message_client_id="1", usage=usage, provider="anthropic", now=now)
    budget.check()
    assert budget.remaining() == Decimal("0.71")
    record_usage(db, conversation_id="c", message_client_id="2", usage=usage, provider="anthropic", now=now)
    with pytest.raises(BudgetExceeded) as err:
        budget.check()
    assert str(err.value) == (
        "Das KI-Budget für diesen Monat ist aufgebraucht (2,58\xa0€ von 2,00\xa0€); bis zum Monatsende antwortet der "
        "eingebaute Assistent."
    )
    with pytest.raises(BudgetExceeded):  # a budget of 0 never asks the LLM
        MonthlyBudget(db, Decimal("0"), clock=lambda: dt.datetime(2027, 1, 5, tzinfo=dt.UTC)).check()


class MemoryKeyring:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.items[(service, username)]


def test_config_file_never_holds_the_key(tmp_path: Path) -> None:
    store = LlmConfigStore(tmp_path / "chat-llm.json")
    assert store.load() == LlmConfig()  # no file: provider none
    config = LlmConfig.from_dict(
        {"provider": "openai", "model": "gpt-4.1-mini", "monthly_budget_eur": "25,50", "first_token_timeout": "15"}
    )
    store.save(config)
    assert store.load() == config and config.monthly_budget_eur == Decimal("25.50")
    keys = ApiKeyStore(MemoryKeyring())
    keys.set("openai", "  sk-secret  ")
    assert keys.get("openai") == "sk-secret"
    assert "sk-secret" not in (tmp_path / "chat-llm.json").read_text()
    assert json.loads((tmp_path / "chat-llm.json").read_text())["provider"] == "openai"
    provider = make_provider(config, keys.get("openai"))
    assert isinstance(provider, OpenAIProvider) and provider.api_key == "sk-secret"
    assert config.timeouts().first_token == 15.0
    keys.clear("openai")
    keys.clear("openai")
    assert keys.get("openai") is None


def test_config_validation_in_german() -> None:
    with pytest.raises(ValidationError, match="Unbekannter KI-Anbieter „gemini“"):
        LlmConfig.from_dict({"provider": "gemini"})
    with pytest.raises(ValidationError, match="muss mit https:// beginnen") as err:
        LlmConfig.from_dict({"provider": "openai", "base_url": "http://api.example.com/v1"})
    assert err.value.field == "base_url"
    assert LlmConfig.from_dict({"base_url": "http://localhost:11434/v1/"}).base_url == "http://localhost:11434/v1"
    with pytest.raises(ValidationError, match="KI-Monatsbudget"):
        LlmConfig.from_dict({"monthly_budget_eur": "-5"})
    with pytest.raises(ValidationError, match="Unbekannte KI-Einstellung"):
        LlmConfig.from_dict({"api_key": "sk"})


def test_missing_key_or_provider_is_a_config_error() -> None:
    with pytest.raises(LlmConfigError, match="kein KI-Anbieter eingerichtet"):
        make_provider(LlmConfig(), None)
    with pytest.raises(LlmConfigError, match="kein API-Schlüssel"):
        make_provider(LlmConfig(provider="anthropic"), None)
    local = make_provider(LlmConfig(provider="openai", base_url="http://127.0.0.1:8080/v1", model="qwen"), None)
    assert local.model == "qwen"
