"""Runtime configuration, read from the environment (and an optional `.env`)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
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
    db_pool_pre_ping: bool = True
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    db_statement_timeout_ms: int = Field(default=15_000, ge=0)

    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "briefboard"
    jwt_audience: str = "briefboard-api"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    refresh_token_ttl_days: int = Field(default=30, ge=1, le=365)

    # argon2id cost; lower only for tests.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65_536, ge=8)
    argon2_parallelism: int = Field(default=2, ge=1)

    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=30, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_lockout_seconds: int = Field(default=900, ge=1)

    cors_allowed_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    default_page_size: int = Field(default=20, ge=1)
    max_page_size: int = Field(default=100, ge=1)
    log_level: str = "INFO"
    # Trust X-Forwarded-For for the client address only behind a known proxy.
    trust_forwarded_for: bool = False

    # How often each worker runs the periodic jobs (api/maintenance.py): closing briefs at
    # their deadline, purging old idempotency keys; 0 turns them off (reads and search still
    # treat expired open briefs as closed).
    maintenance_interval_seconds: float = Field(default=60.0, ge=0, le=86_400)

    # How long a POST's Idempotency-Key is remembered, and how long a first request may run
    # before a retry with the same key may take it over.
    idempotency_ttl_hours: int = Field(default=24, ge=24, le=24 * 30)
    idempotency_lock_seconds: int = Field(default=60, ge=5, le=3600)

    tiers: list[TierBand] = Field(default_factory=_default_tiers)
    engagement_norms: dict[str, dict[str, EngagementNorm]] = Field(
        default_factory=_default_engagement_norms
    )
    # The match score's part weights, e.g. MATCH_WEIGHTS__NICHE_OVERLAP=0.3.
    match_weights: MatchWeights = Field(default_factory=MatchWeights)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != Environment.development and self.jwt_secret == DEFAULT_JWT_SECRET:
            raise ValueError("JWT_SECRET must be set outside development")
        if self.environment != Environment.development and len(self.jwt_secret) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters")
        if self.default_page_size > self.max_page_size:
            raise ValueError("DEFAULT_PAGE_SIZE must not exceed MAX_PAGE_SIZE")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
