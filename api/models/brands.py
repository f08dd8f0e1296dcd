"""Brands: organisations that run campaigns."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import String, Text
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import id_field, timestamp_field
from api.models.common import CountryCode, LongText, Name, Url, reject_explicit_null


class Brand(SQLModel, table=True):
    __tablename__ = "brands"

    id: uuid.UUID = id_field()
    name: str = SQLField(sa_type=String(120))
    website: str | None = SQLField(default=None, sa_type=String(2000))
    description: str | None = SQLField(default=None, sa_type=Text)
    country: str | None = SQLField(default=None, sa_type=String(2))
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class BrandUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    website: Url | None = Field(default=None, examples=["https://glowlabs.example"])
    description: LongText | None = None
    country: CountryCode | None = Field(default=None, examples=["DE"])

    _name_not_null = field_validator("name")(reject_explicit_null)


class BrandRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    website: str | None
    description: str | None
    country: str | None
    created_at: datetime
