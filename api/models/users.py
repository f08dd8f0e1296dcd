"""Users: who signs in, and in which role."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from sqlalchemy import CheckConstraint, Index, String
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import enum_check, id_field, timestamp_field
from api.models.common import EMAIL_PATTERN, Name, _no_nul


class Role(StrEnum):
    brand = "brand"
    creator = "creator"
    admin = "admin"


def _email(value: str) -> str:
    value = value.strip().lower()
    if not EMAIL_PATTERN.match(value):
        raise ValueError("is not a valid email address")
    return value


def _secret_no_nul(value: SecretStr) -> SecretStr:
    # Checked here so a NUL is a field error (422), not a ValueError in the service (500).
    _no_nul(value.get_secret_value())
    return value


Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(_email)]
Password = Annotated[
    SecretStr,
    Field(min_length=10, max_length=256, examples=["correct horse battery staple"]),
    AfterValidator(_secret_no_nul),
]


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        enum_check("role", Role),
        # A brand member belongs to a brand; nobody else does.
        CheckConstraint("(role = 'brand') = (brand_id IS NOT NULL)", name="brand_membership"),
        Index("ix_users_brand_id", "brand_id"),
    )

    id: uuid.UUID = id_field()
    # Stored lower-cased, so the unique constraint is case-insensitive.
    email: str = SQLField(sa_type=String(320), unique=True)
    password_hash: str = SQLField(sa_type=String(255))
    role: str = SQLField(sa_type=String(16))
    brand_id: uuid.UUID | None = SQLField(default=None, foreign_key="brands.id", ondelete="CASCADE")
    suspended_at: datetime | None = timestamp_field(nullable=True)
    # Carried in access tokens (`gen`); bumping it on suspension kills every token issued
    # before, so lifting a suspension does not bring old tokens back.
    token_generation: int = SQLField(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = timestamp_field()


class BrandSignup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name = Field(examples=["Glow Labs"])


# The fields each role may send (True: required). The validator below enforces it; the
# OpenAPI document shows it as a union of `BrandRegistration` and `CreatorRegistration`.
REGISTRATION_FIELDS: dict[str, dict[str, bool]] = {
    "brand": {"brand": True},
    "creator": {"display_name": False},
}


class RegisterRequest(BaseModel):
    """Create an account. A brand account creates its brand; a creator one an empty profile."""

    model_config = ConfigDict(extra="forbid")
    email: Email = Field(examples=["ana@example.com"])
    password: Password
    role: Literal["brand", "creator"]
    brand: BrandSignup | None = Field(
        default=None,
        validate_default=True,
        description="Required for role `brand`: the brand to create.",
    )
    display_name: Name | None = Field(
        default=None,
        validate_default=True,
        description="For role `creator`: the profile's display name.",
    )

    @field_validator("brand", "display_name")
    @classmethod
    def _belongs_to_the_role(cls, value: object, info: ValidationInfo) -> object:
        role = info.data.get("role")
        if role is None:  # an invalid role is reported on its own
            return value
        fields = REGISTRATION_FIELDS[role]
        if value is None and fields.get(str(info.field_name)):
            raise ValueError(f"required for role `{role}`")
        if value is not None and info.field_name not in fields:
            raise ValueError(f"not for role `{role}`")
        return value

    def password_value(self) -> str:
        value = self.password.get_secret_value()
        _no_nul(value)
        return value


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str
    role: Role
    brand_id: uuid.UUID | None
    suspended_at: datetime | None
    created_at: datetime


class MeRead(BaseModel):
    """The caller: role, and the brand or creator profile the account acts as."""

    id: uuid.UUID
    email: str
    role: Role
    brand_id: uuid.UUID | None = None
    creator_id: uuid.UUID | None = None
    scopes: list[str] = Field(description="Scopes the presented credential carries.")
    created_at: datetime
