"""Brand teams: who belongs to which brand, in which role, and invitations to join."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import enum_check, id_field, timestamp_field
from api.models.users import Email


class BrandRole(StrEnum):
    """`owner`: everything, including the team and the brand profile; `manager`: runs
    briefs, applications and deals; `viewer`: reads only."""

    owner = "owner"
    manager = "manager"
    viewer = "viewer"


class BrandMembership(SQLModel, table=True):
    __tablename__ = "brand_memberships"
    __table_args__ = (
        UniqueConstraint("brand_id", "user_id"),
        Index("ix_brand_memberships_user_id", "user_id"),
        enum_check("role", BrandRole),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = SQLField(foreign_key="brands.id", ondelete="CASCADE")
    user_id: uuid.UUID = SQLField(foreign_key="users.id", ondelete="CASCADE")
    role: str = SQLField(sa_type=String(16))
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class BrandInvitation(SQLModel, table=True):
    """An invitation to join a brand. Only the token's digest is stored; it is single use."""

    __tablename__ = "brand_invitations"
    __table_args__ = (
        Index("ix_brand_invitations_brand_id", "brand_id"),
        enum_check("role", BrandRole),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = SQLField(foreign_key="brands.id", ondelete="CASCADE")
    email: str = SQLField(sa_type=String(320))
    role: str = SQLField(sa_type=String(16))
    token_hash: str = SQLField(sa_type=String(64), unique=True)
    invited_by_user_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    created_at: datetime = timestamp_field()
    expires_at: datetime = timestamp_field(server_default=False)
    accepted_at: datetime | None = timestamp_field(nullable=True)
    accepted_by_user_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    revoked_at: datetime | None = timestamp_field(nullable=True)


# --- API schemas ----------------------------------------------------------------------------


class MemberRead(BaseModel):
    user_id: uuid.UUID
    email: str
    role: BrandRole
    joined_at: datetime


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: BrandRole


class BrandInvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email = Field(examples=["sam@agency.example"])
    role: BrandRole = Field(default=BrandRole.manager)


class BrandInvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    brand_id: uuid.UUID
    email: str
    role: BrandRole
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None


class BrandInvitationCreated(BrandInvitationRead):
    token: str = Field(
        description="The secret to hand to the invitee. Shown once, never again; single use."
    )


class BrandInvitationAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=200)
