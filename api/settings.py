"""Runtime configuration, read from the environment (and an optional `.env`)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_JWT_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused outside development


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class TierBand(BaseModel):
    """A follower range for one tier; `max_followers` None means unbounded."""

    name: str
    min_followers: int
    max_followers: int | None = None


class EngagementNorm(BaseModel):
    """Typical engagement-rate range (fractions, 0.03 = 3 %) for a tier on a platform."""

    low: float
    high: float


def _default_tiers() -> list[TierBand]:
    return [
        TierBand(name="nano", min_followers=1_000, max_followers=9_999),
        TierBand(name="micro", min_followers=10_000, max_followers=99_999),
        TierBand(name="macro", min_followers=100_000, max_followers=999_999),
        TierBand(name="mega", min_followers=1_000_000, max_followers=None),
    ]


def _default_engagement_norms() -> dict[str, dict[str, EngagementNorm]]:
    # Industry rules of thumb; platforms not listed fall back to "default".
    def n(low: float, high: float) -> EngagementNorm:
        return EngagementNorm(low=low, high=high)

    return {
        "instagram": {
            "nano": n(0.04, 0.08),
            "micro": n(0.03, 0.07),
            "macro": n(0.015, 0.04),
            "mega": n(0.01, 0.025),
        },
        "tiktok": {
            "nano": n(0.06, 0.15),
            "micro": n(0.05, 0.10),
            "macro": n(0.03, 0.07),
            "mega": n(0.02, 0.05),
        },
        "youtube": {
            "nano": n(0.03, 0.07),
            "micro": n(0.02, 0.05),
            "macro": n(0.01, 0.03),
            "mega": n(0.005, 0.02),
        },
        "default": {
            "nano": n(0.03, 0.07),
            "micro": n(0.02, 0.05),
            "macro": n(0.01, 0.03),
            "mega": n(0.005, 0.02),
        },
    }


class MatchWeights(BaseModel):
    """How much each part of the match score counts (see `api.matching.model`).

    Relative weights: the score divides by their sum, so it stays in [0, 1] whatever
    they add up to.
    """

    # Chosen on the evaluation set in tests/match_eval.py (README, "Matching"): the
    # measured parts (audience, engagement) outweigh the self-declared niche.
    tier_fit: float = Field(default=0.05, ge=0, le=100)
    niche_overlap: float = Field(default=0.10, ge=0, le=100)
    audience_country: float = Field(default=0.20, ge=0, le=100)
    audience_gender: float = Field(default=0.10, ge=0, le=100)
    audience_age: float = Field(default=0.10, ge=0, le=100)
    engagement: float = Field(default=0.25, ge=0, le=100)
    price_fit: float = Field(default=0.10, ge=0, le=100)
    reliability: float = Field(default=0.10, ge=0, le=100)

    @model_validator(mode="after")
    def _some_weight(self) -> MatchWeights:
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one match weight must be above 0")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_nested_delimiter="__"
    )

    environment: Environment = Environment.development
    # Unset: an embedded PostgreSQL is started under `data_dir`.
    database_url: str | None = None
    data_dir: Path = Path(".data")
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_max_overflow: int = Field(default=5, ge=0, le=100)
    # Off: a lost connection is met on its first statement and a GET is run again
    # (`api.db.RetryLostConnection`) instead of paying a `SELECT 1` on every request.
    db_pool_pre_ping: bool = False
    # The caller cache's listener (`api.services.access_cache`): a silent connection is
    # found within the ping interval; a lost one is reopened after the retry delay.
    access_listener_ping_seconds: float = Field(default=15.0, gt=0)
    access_listener_retry_seconds: float = Field(default=1.0, gt=0)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    db_statement_timeout_ms: int = Field(default=15_000, ge=0)
    # PostgreSQL `lock_timeout`: a statement waiting this long for a row lock fails (409
    # `resource_locked`) instead of holding its pooled connection while others queue for
    # one; kept below the pool timeout (validated) so one locked row cannot empty the pool.
    db_lock_timeout_ms: int = Field(default=3_000, ge=1)
    # Pooled connections kept for requests that only read: writes (which may wait for a
    # locked row) may hold at most the rest, so reads are served whatever writes wait for.
    db_read_reserve: int = Field(default=2, ge=0, le=100)

    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "briefboard"
    jwt_audience: str = "briefboard-api"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    # How far ahead of this server's clock a token's `iat` may be (another worker's clock).
    jwt_clock_skew_seconds: int = Field(default=30, ge=0, le=300)
    refresh_token_ttl_days: int = Field(default=30, ge=1, le=365)

    # argon2id cost; lower only for tests.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65_536, ge=8)
    argon2_parallelism: int = Field(default=2, ge=1)

    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=30, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_lockout_seconds: int = Field(default=900, ge=1)
    # Sign-up attempts per client address (in the database: shared by all workers).
    register_max_per_address: int = Field(default=20, ge=1)
    register_window_seconds: int = Field(default=3600, ge=1)

    cors_allowed_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # The whole body must arrive within this (else 408): a client that declares more than
    # it sends must not hold a connection open.
    body_read_timeout_seconds: float = Field(default=20.0, gt=0, le=60)
    default_page_size: int = Field(default=20, ge=1)
    max_page_size: int = Field(default=100, ge=1)
    log_level: str = "INFO"
    # /metrics on a port of its own (the main port then answers 404 there), and/or behind a
    # bearer token (`Authorization: Bearer <METRICS_TOKEN>`). Unset: open on the main port.
    metrics_port: int | None = Field(default=None, ge=1, le=65_535)
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    # Trust X-Forwarded-For for the client address only behind a known proxy.
    trust_forwarded_for: bool = False

    # How often each worker runs the periodic jobs (api/maintenance.py): closing briefs at
    # their deadline, purging old idempotency keys; 0 turns them off (reads and search still
    # treat expired open briefs as closed).
    maintenance_interval_seconds: float = Field(default=60.0, ge=0, le=86_400)
    # The run directory where one follower per host publishes the match indexes and every
    # worker maps them (api.matching.shared); `briefboard serve` makes one per server. Unset:
    # a private one per process (each process then copies for itself).
    match_index_dir: str | None = None
    # How long a starting worker waits for its match indexes' first copy before it serves
    # anyway (api.main._first_copy); 0: serve at once.
    index_warmup_timeout_seconds: float = Field(default=120.0, ge=0)
    # At SIGTERM `briefboard serve` stops accepting connections and lets the requests in
    # flight finish for at most this long, then cancels what is left and exits.
    graceful_shutdown_seconds: float = Field(default=20.0, ge=0, le=600)

    # How long a POST's Idempotency-Key is remembered.
    idempotency_ttl_hours: int = Field(default=24, ge=24, le=24 * 30)

    # Figures a party entered (account audience figures, metrics readings) whose `as_of`
    # is older than this are flagged `stale` on reads.
    figures_stale_after_days: int = Field(default=90, ge=1, le=3650)

    tiers: list[TierBand] = Field(default_factory=_default_tiers)
    engagement_norms: dict[str, dict[str, EngagementNorm]] = Field(
        default_factory=_default_engagement_norms
    )
    # The match score's part weights, e.g. MATCH_WEIGHTS__NICHE_OVERLAP=0.3.
    match_weights: MatchWeights = Field(default_factory=MatchWeights)

    # Webhooks (api/services/webhook_dispatch.py). http:// and loopback/private targets are
    # refused unless this is on (development and tests only).
    webhooks_allow_private_targets: bool = False
    # Fernet key (urlsafe base64 of 32 bytes) encrypting the signing secrets at rest; unset,
    # one is derived from JWT_SECRET (development and tests; set it in production).
    webhooks_encryption_key: str | None = None
    # How often this process's dispatcher looks for due deliveries when idle; 0 turns it off
    # here (then run `briefboard worker` elsewhere).
    webhooks_dispatch_interval_seconds: float = Field(default=1.0, ge=0, le=3600)
    webhooks_dispatch_batch: int = Field(default=50, ge=1, le=1000)
    webhooks_dispatch_concurrency: int = Field(default=16, ge=1, le=256)
    webhooks_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # GET /v1/events holds back the newest events this long (see api/services/events.py).
    events_feed_settle_seconds: float = Field(default=30.0, ge=0, le=600)

    def secrets_problem(self) -> str | None:
        """Why the secrets cannot sign tokens and webhooks here, or None.

        Checked where tokens are made and read (the app, `briefboard serve`, `worker`), not
        when the settings load: `briefboard migrate` and `seed-demo` need no secret.
        """
        if self.environment != Environment.development and self.jwt_secret == DEFAULT_JWT_SECRET:
            return "JWT_SECRET must be set outside development"
        if self.environment != Environment.development and len(self.jwt_secret) < 32:
            return "JWT_SECRET must be at least 32 characters"
        if self.environment == Environment.production and not self.webhooks_encryption_key:
            return "WEBHOOKS_ENCRYPTION_KEY must be set in production"
        return None

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.db_lock_timeout_ms >= self.db_pool_timeout_seconds * 1000:
            raise ValueError("DB_LOCK_TIMEOUT_MS must be shorter than DB_POOL_TIMEOUT_SECONDS")
        if self.default_page_size > self.max_page_size:
            raise ValueError("DEFAULT_PAGE_SIZE must not exceed MAX_PAGE_SIZE")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
