"""Idempotency keys: the first response to a POST, replayed for retries with the same key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import timestamp_field


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    # The caller (`user:<id>` or `token:<digest>`) and the client's key.
    scope: str = SQLField(sa_type=String(80), primary_key=True)
    key: str = SQLField(sa_type=String(255), primary_key=True)
    fingerprint: str = SQLField(sa_type=String(64))
    # The first answer, stored in the transaction of its effect (api/idempotency.py).
    response_status: int = SQLField(sa_type=Integer)
    response_headers: dict[str, Any] | None = SQLField(default=None, sa_type=JSONB)
    response_body: bytes | None = SQLField(default=None, sa_type=LargeBinary)
    created_at: datetime = timestamp_field()
