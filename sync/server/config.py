"""Server configuration from the environment (pydantic-settings), ``CARBOT_*`` variables.

Every variable is optional; the defaults run a single embedded server on a SQLite file in the
platform data folder. Production sets ``CARBOT_SERVER_DB_URL`` (PostgreSQL) and ``CARBOT_REDIS_URL``.
Connection URLs may hold passwords, so they are ``SecretStr`` like every other secret: their
``repr`` shows ``**********`` and nothing logs them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.paths import data_dir
from app.plans import PAST_DUE_GRACE_DAYS


def default_db_url() -> str:
    """SQLite file ``server.db`` in the platform data folder (the embedded default)."""
    return f"sqlite:///{data_dir() / 'server.db'}"


def normalise_db_url(url: str) -> str:
    """Pick the psycopg 3 driver for PostgreSQL URLs (psycopg2 is not a dependency)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    """All server settings; tests build their own instance and hand it to ``create_app``."""

    model_config = SettingsConfigDict(env_prefix="CARBOT_", extra="ignore", frozen=True)

    server_db_url: SecretStr = Field(default_factory=lambda: SecretStr(default_db_url()))
    # None: rate limits, revocation mirror and change pokes live in this process only (one worker).
    redis_url: SecretStr | None = None
    # Every Redis key starts with this (several environments can share one Redis; tests isolate by it).
    redis_key_prefix: str = "carbot:"
    jwt_issuer: str = "carbot-werkstatt"
    jwt_audience: str = "carbot-api"
    # RFC 9700 / our reference: access tokens are short-lived; 15 minutes is the hard ceiling.
    access_token_minutes: int = Field(default=10, ge=1, le=15)
    user_refresh_idle_days: int = Field(default=14, ge=1, le=90)
    user_refresh_absolute_days: int = Field(default=30, ge=1, le=365)
    device_refresh_idle_days: int = Field(default=60, ge=1, le=365)
    device_refresh_absolute_days: int = Field(default=365, ge=1, le=730)
    # Two requests with the same refresh token within this window (a retry after a lost response)
    # both get a child; outside it the second use counts as theft and revokes the family.
    refresh_reuse_grace_seconds: int = Field(default=10, ge=0, le=30)
    # Allowed clock difference between our own hosts when checking exp/nbf/iat.
    clock_skew_seconds: int = Field(default=30, ge=0, le=120)
    # A retired signing key still verifies for this long (covers 14-day entitlement tokens).
    key_overlap_hours: int = Field(default=15 * 24, ge=1)
    # Without this the private keys are stored unencrypted (PEM) in the server database.
    signing_key_passphrase: SecretStr | None = None
    login_max_failures: int = Field(default=5, ge=1)
    lockout_base_seconds: int = Field(default=60, ge=1)
    lockout_max_seconds: int = Field(default=3600, ge=1)
    login_rate_window_seconds: int = Field(default=300, ge=1)
    login_rate_per_ip: int = Field(default=30, ge=1)
    login_rate_per_email: int = Field(default=10, ge=1)
    register_rate_per_ip: int = Field(default=10, ge=1)
    password_min_length: int = Field(default=12, ge=12)
    # argon2id cost (argon2-cffi defaults = RFC 9106 low-memory profile); tests lower them.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8192)
    argon2_parallelism: int = Field(default=4, ge=1)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Reverse proxies whose X-Forwarded-For uvicorn trusts (the client IP feeds the rate limits).
    forwarded_allow_ips: str = "127.0.0.1"
    log_level: str = "INFO"
    # Web chat (docs/chat.md): a present desktop agent gets this long to lease a bot task before the server
    # answers itself; a lease lasts chat_lease_seconds; an agent counts as present this long after its poll.
    chat_agent_claim_seconds: float = Field(default=3.0, ge=0, le=60)
    chat_lease_seconds: int = Field(default=20, ge=1, le=300)
    chat_agent_presence_seconds: int = Field(default=30, ge=5, le=300)
    # Widget rate limits per window: messages and all requests per visitor, requests and new chats per IP.
    chat_rate_window_seconds: int = Field(default=60, ge=1)
    chat_rate_visitor_messages: int = Field(default=20, ge=1)
    chat_rate_visitor_requests: int = Field(default=240, ge=1)
    chat_rate_ip_requests: int = Field(default=600, ge=1)
    chat_rate_ip_sessions: int = Field(default=30, ge=1)
    # Subscriptions (issue 8, docs/billing.md). Without the secret key the billing routes answer 503;
    # both secrets are SecretStr so they never appear in a repr or a log line.
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    # Only for localstripe and test servers; production talks to Stripe's default address.
    stripe_api_base: str | None = None
    # How long past_due keeps the plan's features (app.plans.PAST_DUE_GRACE_DAYS by default).
    billing_grace_days: int = Field(default=PAST_DUE_GRACE_DAYS, ge=0, le=60)
    # Where Stripe Checkout and the customer portal send the owner back (a page of ours).
    billing_return_url: str | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """``CARBOT_CORS_ORIGINS=https://a.example,https://b.example`` (comma separated)."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _explicit_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*" or not origin.startswith(("https://", "http://")):
                raise ValueError(f"CORS origin must be an explicit http(s) origin, not {origin!r}")
        return value

    @field_validator("stripe_api_base", "billing_return_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"expected an http(s) URL, not {value!r}")
        return value

    @field_validator("server_db_url")
    @classmethod
    def _driver(cls, value: SecretStr) -> SecretStr:
        return SecretStr(normalise_db_url(value.get_secret_value()))

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.user_refresh_absolute_days < self.user_refresh_idle_days:
            raise ValueError("user_refresh_absolute_days must be >= user_refresh_idle_days")
        if self.device_refresh_absolute_days < self.device_refresh_idle_days:
            raise ValueError("device_refresh_absolute_days must be >= device_refresh_idle_days")
        if self.lockout_max_seconds < self.lockout_base_seconds:
            raise ValueError("lockout_max_seconds must be >= lockout_base_seconds")
        if self.key_overlap_hours * 60 < self.access_token_minutes:
            raise ValueError("key_overlap_hours must cover the access token lifetime")
        return self

    @property
    def db_url(self) -> str:
        """The database URL in clear text (for the engine only; never log it)."""
        return self.server_db_url.get_secret_value()

    @property
    def uses_sqlite(self) -> bool:
        """True for the embedded SQLite backend."""
        return self.db_url.startswith("sqlite")
