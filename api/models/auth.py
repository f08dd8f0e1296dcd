"""Credentials: refresh-token families, failed-login counters, scoped API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import id_field, metadata, timestamp_field
from api.models.common import Name, StrictInt
from api.security import Scope


class RefreshToken(SQLModel, table=True):
    """One issued refresh token. Tokens issued by rotating each other share a family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_family_id", "family_id"),
        Index("ix_refresh_tokens_user_id", "user_id"),
    )

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = SQLField(foreign_key="users.id", ondelete="CASCADE")
    family_id: uuid.UUID
    token_hash: str = SQLField(sa_type=String(64), unique=True)
    created_at: datetime = timestamp_field()
    expires_at: datetime = timestamp_field(server_default=False)
    # Set when the token was exchanged for a new one; presenting it again is reuse.
    rotated_at: datetime | None = timestamp_field(nullable=True)
    revoked_at: datetime | None = timestamp_field(nullable=True)


class LoginThrottle(SQLModel, table=True):
    """Attempts counted per key, shared by all workers: sign-ins per `account:<email>` and
    `address:<ip>` (failures, and attempts still being checked), sign-ups per
    `register:<ip>`."""

    __tablename__ = "login_throttles"

    key: str = SQLField(sa_type=String(400), primary_key=True)
    failures: int = SQLField(sa_type=Integer)
    window_started_at: datetime = timestamp_field(server_default=False)
    blocked_until: datetime | None = timestamp_field(nullable=True)


class ApiToken(SQLModel, table=True):
    """A named, scoped token a user hands to a third-party client."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = SQLField(foreign_key="users.id", ondelete="CASCADE")
    name: str = SQLField(sa_type=String(120))
    scopes: list[str] = SQLField(sa_type=ARRAY(String(40)))
    token_hash: str = SQLField(sa_type=String(64), unique=True)
    token_prefix: str = SQLField(sa_type=String(12))
    # Limits the token to one of the user's brands; it stops working there when the user
    # leaves that brand.
    brand_id: uuid.UUID | None = SQLField(default=None, foreign_key="brands.id", ondelete="CASCADE")
    created_at: datetime = timestamp_field()
    expires_at: datetime | None = timestamp_field(nullable=True)
    last_used_at: datetime | None = timestamp_field(nullable=True)
    revoked_at: datetime | None = timestamp_field(nullable=True)


# One row: `version` is raised at the commit of every change to who may do what (accounts,
# brand memberships, API tokens; by the triggers of migration 0021, which also announce
# each change on the `access_changed` channel). See `api.services.access_cache`.
access_state = Table(
    "access_state",
    metadata,
    Column("id", Boolean, nullable=False, server_default=text("true")),
    Column("version", BigInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("id"),
    CheckConstraint("id", name="one_row"),
)


# --- API schemas ----------------------------------------------------------------------------


class TokenRequest(BaseModel):
    """The token endpoint's form fields (RFC 6749 sections 4.3 and 6).

    `grant_type` is any string here: an unknown one is `unsupported_grant_type`, not a
    malformed request. `client_id`, `client_secret` and `scope` are accepted and ignored.
    """

    model_config = ConfigDict(extra="ignore")

    # A form has no null: an absent field reads as empty.
    grant_type: str = Field(max_length=64, examples=["password"])
    username: str = Field(default="", max_length=320, description="The email (password grant).")
    password: str = Field(default="", max_length=256, description="(password grant)")
    refresh_token: str = Field(default="", max_length=200, description="(refresh_token grant)")


class TokenResponse(BaseModel):
    """OAuth2 token response (RFC 6749 section 5.1)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Opaque; single use: each use returns a new one.")


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=200)


class ApiTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name = Field(examples=["Agency dashboard"])
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    expires_in_days: StrictInt | None = Field(default=None, ge=1, le=365)
    brand_id: uuid.UUID | None = Field(
        default=None,
        description="Limit the token to one of your brands: it sees and acts for no other.",
    )


class ApiTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    scopes: list[str]
    token_prefix: str = Field(description="The first characters, to recognise the token.")
    brand_id: uuid.UUID | None = Field(description="The one brand the token is limited to.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenRead):
    token: str = Field(description="The secret. Shown once, never again.")
