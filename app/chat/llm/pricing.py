"""Token usage and its cost in euros, from a versioned price table.

Counts come from the provider's own ``usage`` figures (never a local tokenizer), normalised so that

- ``input_tokens`` are ALL prompt tokens, of which ``cached_input_tokens`` were read from the prompt cache
  (OpenAI ``prompt_tokens`` / ``prompt_tokens_details.cached_tokens``; Anthropic ``input_tokens`` +
  ``cache_read_input_tokens`` + ``cache_creation_input_tokens`` / ``cache_read_input_tokens``);
- ``output_tokens`` are ALL generated tokens including ``reasoning_tokens`` (OpenAI ``completion_tokens``
  already contains them), so reasoning bills as output.

The price table is in EUR per one million tokens. The figures were converted from the providers' published
USD list prices at 1 USD = 0.86 EUR; when the providers or the rate change, add the new prices, bump
``PRICE_TABLE_VERSION`` (stored with every usage row, so old rows keep the price they were charged at).
Unknown models are priced with the deliberately high ``default`` entry, so a missing entry never
undercounts the budget. A stream that broke off without usage figures is estimated (4 characters per
token) and marked ``estimated``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

PRICE_TABLE_VERSION = "2026-11"
MILLION = Decimal(1_000_000)
COST_QUANTUM = Decimal("0.000001")  # chat_llm_usage.cost_eur is Numeric(12, 6)
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class ModelPrice:
    """EUR per one million tokens."""

    input: Decimal
    cached_input: Decimal
    output: Decimal


def _price(input_eur: str, cached_eur: str, output_eur: str) -> ModelPrice:
    return ModelPrice(Decimal(input_eur), Decimal(cached_eur), Decimal(output_eur))


PRICE_TABLE: dict[str, ModelPrice] = {
    # OpenAI
    "gpt-5": _price("1.075", "0.1075", "8.60"),
    "gpt-5-mini": _price("0.215", "0.0215", "1.72"),
    "gpt-5-nano": _price("0.043", "0.0043", "0.344"),
    "gpt-4.1": _price("1.72", "0.43", "6.88"),
    "gpt-4.1-mini": _price("0.344", "0.086", "1.376"),
    "gpt-4.1-nano": _price("0.086", "0.0215", "0.344"),
    "gpt-4o": _price("2.15", "1.075", "8.60"),
    "gpt-4o-mini": _price("0.129", "0.0645", "0.516"),
    # Anthropic
    "claude-opus-4-1": _price("12.90", "1.29", "64.50"),
    "claude-sonnet-4-5": _price("2.58", "0.258", "12.90"),
    "claude-sonnet-4": _price("2.58", "0.258", "12.90"),
    "claude-haiku-4-5": _price("0.86", "0.086", "4.30"),
    "claude-3-5-haiku": _price("0.688", "0.0688", "3.44"),
    # Anything else (local servers, new models): priced high on purpose, see the module docstring.
    "default": _price("2.58", "0.258", "12.90"),
}


@dataclass(frozen=True)
class Usage:
    """Tokens of one answer (all rounds of a tool loop added up), with who produced them.

    ``provider``/``model`` say which price applies; ``estimated`` marks counts guessed from text length
    because the stream ended without the provider's figures.
    """

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: bool = False
    provider: str = ""
    model: str = ""

    def __post_init__(self) -> None:
        counts = (self.input_tokens, self.cached_input_tokens, self.output_tokens, self.reasoning_tokens)
        if min(counts) < 0:
            raise ValueError(f"negative token count: {counts}")

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            estimated=self.estimated or other.estimated,
            provider=self.provider or other.provider,
            model=self.model or other.model,
        )

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens


def price_for(model: str) -> ModelPrice:
    """The price of ``model``: exact name, else the longest table name it starts with (dated snapshots such as
    ``gpt-4o-mini-2024-07-18`` or ``claude-sonnet-4-5-20250929``), else ``default``."""
    name = model.strip().lower()
    if name in PRICE_TABLE:
        return PRICE_TABLE[name]
    matches = [key for key in PRICE_TABLE if key != "default" and name.startswith(key + "-")]
    if matches:
        return PRICE_TABLE[max(matches, key=len)]
    return PRICE_TABLE["default"]


def cost(usage: Usage, model: str | None = None) -> Decimal:
    """Cost in EUR (6 decimals) of ``usage`` priced as ``model`` (default: the model named in ``usage``)."""
    price = price_for(model if model is not None else usage.model)
    cached = min(usage.cached_input_tokens, usage.input_tokens)
    # Reasoning is part of the output; a provider reporting more reasoning than output still pays for it.
    output = max(usage.output_tokens, usage.reasoning_tokens)
    amount = (
        Decimal(usage.input_tokens - cached) * price.input
        + Decimal(cached) * price.cached_input
        + Decimal(output) * price.output
    ) / MILLION
    return amount.quantize(COST_QUANTUM)


def estimate_tokens(chars: int) -> int:
    """Tokens guessed from a text length (4 characters per token, rounded up)."""
    return math.ceil(max(chars, 0) / CHARS_PER_TOKEN)


def estimate_usage(prompt_chars: int, output_chars: int, *, provider: str = "", model: str = "") -> Usage:
    """Usage of a request whose stream ended without usage figures, marked ``estimated``."""
    return Usage(
        input_tokens=estimate_tokens(prompt_chars),
        output_tokens=estimate_tokens(output_chars),
        estimated=True,
        provider=provider,
        model=model,
    )
