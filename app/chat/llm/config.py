"""The cloud LLM's configuration: provider, endpoint, model, monthly budget, time limits — and its API key.

Where it is kept:

- the settings (``LlmConfig``, no secret in it) in a small JSON file, by default ``<data dir>/chat-llm.json``
  (``app.paths.data_dir``). The workshop's settings table (``workshop``) has one column per setting and no
  free-form/JSON column, and there is no key-value table in the desktop database, so nothing there fits
  without a migration;
- the API key ONLY in the OS keyring (service ``carbot-werkstatt-llm``, account = the provider name), never in
  a file, the database or a log. ``keyring`` is imported on first use; tests pass an in-memory backend.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol, cast
from urllib.parse import urlsplit

from app import paths
from app.chat.llm import anthropic, openai
from app.chat.llm.errors import LlmConfigError
from app.chat.llm.transport import ChatProvider, Timeouts
from app.errors import ValidationError
from app.i18n import N_
from app.money import decimal_places, parse_decimal

Provider = Literal["openai", "anthropic", "none"]
PROVIDERS: tuple[Provider, ...] = ("openai", "anthropic", "none")
KEYRING_SERVICE = "carbot-werkstatt-llm"
CONFIG_FILE = "chat-llm.json"
DEFAULT_MODELS: dict[str, str] = {"openai": "gpt-4.1-mini", "anthropic": "claude-haiku-4-5", "none": ""}
DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": openai.DEFAULT_BASE_URL,
    "anthropic": anthropic.DEFAULT_BASE_URL,
    "none": "",
}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class LlmConfig:
    """Which cloud LLM answers the web chat, and its limits (``provider="none"``: the built-in assistant)."""

    provider: Provider = "none"
    base_url: str = ""  # "" = the provider's public endpoint
    model: str = ""  # "" = DEFAULT_MODELS[provider]
    monthly_budget_eur: Decimal = Decimal("20.00")  # 0 = the LLM is never used (fail closed)
    connect_timeout: float = 5.0
    first_token_timeout: float = 20.0
    stall_timeout: float = 30.0
    total_timeout: float = 90.0
    max_output_tokens: int = 800

    @property
    def enabled(self) -> bool:
        """True when a cloud provider is chosen."""
        return self.provider != "none"

    @property
    def effective_base_url(self) -> str:
        """The endpoint actually used."""
        return (self.base_url or DEFAULT_BASE_URLS[self.provider]).rstrip("/")

    @property
    def effective_model(self) -> str:
        """The model actually asked."""
        return self.model or DEFAULT_MODELS[self.provider]

    def timeouts(self) -> Timeouts:
        """The transport's time limits."""
        return Timeouts(self.connect_timeout, self.first_token_timeout, self.stall_timeout, self.total_timeout)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (Decimal as string)."""
        return {key: (str(value) if isinstance(value, Decimal) else value) for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LlmConfig:
        """Validated config from (partial) settings; raises ``ValidationError`` with a German message."""
        return cls().updated(**data)

    def updated(self, **changes: Any) -> LlmConfig:
        """A copy with ``changes`` validated (unknown keys are an error)."""
        known = {f.name for f in fields(self)}
        cleaned: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in known:
                raise ValidationError(N_("Unbekannte KI-Einstellung „{key}“."), field=key, key=key)
            cleaned[key] = _clean(key, value)
        return replace(self, **cleaned)


def _clean(key: str, value: Any) -> Any:
    if key == "provider":
        text = str(value or "none").strip().lower()
        if text not in PROVIDERS:
            raise ValidationError(
                N_("Unbekannter KI-Anbieter „{value}“ – erlaubt sind openai, anthropic oder none."),
                field=key,
                value=value,
            )
        return text
    if key == "base_url":
        return _base_url(str(value or "").strip())
    if key == "model":
        return str(value or "").strip()[:80]
    if key == "monthly_budget_eur":
        return _budget(value)
    if key == "max_output_tokens":
        return _int_between(value, key, 50, 8000)
    return _seconds(value, key)


def _base_url(url: str) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    # The API key travels with every request: only over TLS, except to a model server on this computer.
    local = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
    if not parts.hostname or not (parts.scheme == "https" or local):
        raise ValidationError(
            N_("Die Adresse des KI-Anbieters muss mit https:// beginnen (http:// nur für localhost): „{value}“."),
            field="base_url",
            value=url,
        )
    return url.rstrip("/")


def _budget(value: Any) -> Decimal:
    try:
        amount = parse_decimal(value)
    except ValueError as exc:
        raise ValidationError(
            N_("Das KI-Monatsbudget „{value}“ ist keine Zahl."), field="monthly_budget_eur", value=value
        ) from exc
    if amount < 0 or amount > Decimal("100000") or decimal_places(amount) > 2:
        raise ValidationError(
            N_("Das KI-Monatsbudget muss zwischen 0 und 100.000 € liegen (höchstens 2 Nachkommastellen)."),
            field="monthly_budget_eur",
        )
    return amount


def _seconds(value: Any, key: str) -> float:
    try:
        seconds = float(parse_decimal(value))
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 600:
        raise ValidationError(N_("Die Zeitgrenze „{key}“ muss zwischen 0 und 600 Sekunden liegen."), field=key, key=key)
    return seconds


def _int_between(value: Any, key: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise ValidationError(
            N_("„{key}“ muss zwischen {low} und {high} liegen."), field=key, key=key, low=low, high=high
        )
    return number


def default_config_path() -> Path:
    """``$CARBOT_LLM_CONFIG`` or ``<data dir>/chat-llm.json``."""
    env = os.environ.get("CARBOT_LLM_CONFIG")
    return Path(env) if env else paths.data_dir() / CONFIG_FILE


class LlmConfigStore:
    """Reads and writes ``LlmConfig`` as JSON (never the key)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_config_path()

    def load(self) -> LlmConfig:
        """The stored config; defaults (provider ``none``) when there is none or it is unreadable."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return LlmConfig()
        if not isinstance(data, dict):
            return LlmConfig()
        known = {f.name for f in fields(LlmConfig)}
        try:
            return LlmConfig.from_dict({k: v for k, v in data.items() if k in known})
        except ValidationError:
            return LlmConfig()

    def save(self, config: LlmConfig) -> None:
        """Store the config (atomically: a crash never leaves half a file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(config.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


class KeyringLike(Protocol):
    """The part of a ``keyring`` backend we use (tests pass an in-memory backend)."""

    def get_password(self, service: str, username: str) -> str | None:
        """The stored secret or None."""

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store a secret."""

    def delete_password(self, service: str, username: str) -> None:
        """Remove a secret."""


def _system_keyring() -> KeyringLike:
    import keyring  # the desktop extra; imported late so the server and the CLI load without it

    return cast(KeyringLike, keyring.get_keyring())


class ApiKeyStore:
    """The provider API keys in the OS keyring (service ``carbot-werkstatt-llm``, account = provider)."""

    def __init__(self, backend: KeyringLike | None = None, *, service: str = KEYRING_SERVICE) -> None:
        self.service = service
        self._backend = backend

    @property
    def backend(self) -> KeyringLike:
        """The keyring backend (the OS keyring unless one was given)."""
        if self._backend is None:
            self._backend = _system_keyring()
        return self._backend

    def get(self, provider: str) -> str | None:
        """The key for ``provider`` or None."""
        try:
            return self.backend.get_password(self.service, provider) or None
        except Exception as exc:  # keyring raises backend-specific errors (locked, no backend, D-Bus)
            raise LlmConfigError(
                N_("Der Schlüsselbund des Systems ist nicht verfügbar ({reason})."), reason=type(exc).__name__
            ) from exc

    def set(self, provider: str, api_key: str) -> None:
        """Store (replace) the key for ``provider``."""
        key = api_key.strip()
        if not key:
            raise ValidationError(N_("Bitte einen API-Schlüssel eingeben."), field="api_key")
        try:
            self.backend.set_password(self.service, provider, key)
        except Exception as exc:
            raise LlmConfigError(
                N_("Der API-Schlüssel konnte nicht im Schlüsselbund gespeichert werden ({reason})."),
                reason=type(exc).__name__,
            ) from exc

    def clear(self, provider: str) -> None:
        """Forget the key for ``provider`` (nothing stored is fine)."""
        try:
            self.backend.delete_password(self.service, provider)
        except Exception:
            return


def make_provider(config: LlmConfig, api_key: str | None) -> ChatProvider:
    """The provider adapter for ``config``; raises ``LlmConfigError`` when none is configured or the key is missing.

    An OpenAI-compatible server on this computer (``http://localhost``) may run without a key.
    """
    if not config.enabled:
        raise LlmConfigError(N_("Es ist kein KI-Anbieter eingerichtet; es antwortet der eingebaute Assistent."))
    local = urlsplit(config.effective_base_url).hostname in LOCAL_HOSTS
    if not api_key and not (config.provider == "openai" and local):
        raise LlmConfigError(
            N_("Für den KI-Anbieter {provider} ist kein API-Schlüssel im Schlüsselbund hinterlegt."),
            provider=config.provider,
        )
    if config.provider == "openai":
        return openai.OpenAIProvider(
            config.effective_model, api_key or "", config.effective_base_url, config.max_output_tokens
        )
    return anthropic.AnthropicProvider(
        config.effective_model, api_key or "", config.effective_base_url, config.max_output_tokens
    )
