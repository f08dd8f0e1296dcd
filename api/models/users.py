"""Users: who signs in, and in which role."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
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
from sqlalchemy import String
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import enum_check, id_field, timestamp_field
from api.models.common import Name, _no_nul
from api.security import password_weakness


class Role(StrEnum):
    brand = "brand"
    creator = "creator"
    admin = "admin"


# Characters that render as nothing or change how text around them reads: refused anywhere
# in an address rather than normalised away (email-validator refuses most of them too).
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}


def normalize_email(value: str) -> str:
    """The one form an email address is stored, compared and looked up in, or ValueError.

    NFKC first (fullwidth and other compatibility forms become their plain letters, a
    letter with a combining accent becomes the accented letter), then email-validator
    (syntax, IDNA domains, no display names, no trailing dots, special-use domains such
    as .test refused; no DNS lookups), then lower case: addresses are case-insensitive
    here. Look-alike spellings of one address therefore meet the same unique key.
    """
    if any(unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in value):
        raise ValueError("must not contain invisible or control characters")
    folded = unicodedata.normalize("NFKC", value.strip())
    try:
        valid = validate_email(folded, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"is not a valid email address: {error}") from None
    return unicodedata.normalize("NFKC", valid.normalized.lower())


def login_email(value: str) -> str:
    """An email as typed at sign-in, in the form accounts are stored under; never raises
    (an address that could not register is only lower-cased, and may match an account
    stored before addresses were validated)."""
    try:
        return normalize_email(value)
    except ValueError:
        return value.strip().lower()


def _secret_no_nul(value: SecretStr) -> SecretStr:
    # Checked here so a NUL is a field error (422), not a ValueError in the service (500).
    _no_nul(value.get_secret_value())
    return value


# `normalize_email` is the rule; `format: email` says it in the schema.
Email = Annotated[
    str,
    StringConstraints(max_length=320),
    AfterValidator(normalize_email),
    Field(json_schema_extra={"format": "email"}),
]
Password = Annotated[
    SecretStr,
    Field(min_length=10, max_length=256, examples=["correct horse battery staple"]),
    AfterValidator(_secret_no_nul),
]


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (enum_check("role", Role),)

    id: uuid.UUID = id_field()
    # Stored as `normalize_email` makes it, so the unique constraint is case-insensitive
    # and look-alike spellings of one address collide.
    email: str = SQLField(sa_type=String(320), unique=True)
    password_hash: str = SQLField(sa_type=String(255))
    role: str = SQLField(sa_type=String(16))
    # The brands a `brand` user acts for are its memberships (`api.models.memberships`).
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
    "brand": {"invitation_token": False, "brand": True},
    "creator": {"display_name": False},
}
# A required field another may stand in for, exactly one of the two: a brand account
# creates its brand, or joins one by invitation.
REGISTRATION_ALTERNATIVES: dict[str, str] = {"brand": "invitation_token"}


class RegisterRequest(BaseModel):
    """Create an account. A brand account creates its brand; a creator one an empty profile."""

    model_config = ConfigDict(extra="forbid")
    email: Email = Field(examples=["ana@example.com"])
    password: Password
    role: Literal["brand", "creator"]
    invitation_token: str | None = Field(
        default=None,
        validate_default=True,
        min_length=1,
        max_length=200,
        description="For role `brand`: join an existing brand with the invitation sent to "
        "this email, instead of creating one.",
    )
    brand: BrandSignup | None = Field(
        default=None,
        validate_default=True,
        description="For role `brand`: the brand to create (you become its owner). "
        "Give this or `invitation_token`.",
    )
    display_name: Name | None = Field(
        default=None,
        validate_default=True,
        description="For role `creator`: the profile's display name.",
    )

    @field_validator("password")
    @classmethod
    def _strong_password(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        # `email` is declared first: when it is valid it is known here.
        weakness = password_weakness(value.get_secret_value(), info.data.get("email"))
        if weakness:
            raise ValueError(weakness)
        return value

    @field_validator("brand", "invitation_token", "display_name")
    @classmethod
    def _belongs_to_the_role(cls, value: object, info: ValidationInfo) -> object:
        role = info.data.get("role")
        if role is None:  # an invalid role is reported on its own
            return value
        fields, name = REGISTRATION_FIELDS[role], str(info.field_name)
        if value is not None and name not in fields:
            raise ValueError(f"not for role `{role}`")
        alternative = REGISTRATION_ALTERNATIVES.get(name)
        instead = alternative is not None and info.data.get(alternative) is not None
        if value is None and fields.get(name) and not instead:
            also = f" (or `{alternative}`)" if alternative else ""
            raise ValueError(f"required for role `{role}`{also}")
        if value is not None and instead:
            raise ValueError(f"give `{name}` or `{alternative}`, not both")
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
    suspended_at: datetime | None
    created_at: datetime


class MembershipSummary(BaseModel):
    """One brand the caller belongs to, and the caller's role in it."""

    brand_id: uuid.UUID
    brand_name: str
    role: str = Field(description="`owner`, `manager` or `viewer`.", examples=["manager"])


class MeRead(BaseModel):
    """The caller: role, and the brand(s) or creator profile the account acts as."""

    id: uuid.UUID
    email: str
    role: Role
    brand_id: uuid.UUID | None = Field(
        default=None,
        description="The brand, when the account belongs to exactly one (see `memberships`).",
    )
    memberships: list[MembershipSummary] = Field(
        default_factory=list, description="Every brand the account belongs to, with its role."
    )
    creator_id: uuid.UUID | None = None
    scopes: list[str] = Field(description="Scopes the presented credential carries.")
    created_at: datetime
