"""Conversations: one thread per application and per deal, between the creator and the
brand's members."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import enum_check, id_field, timestamp_field
from api.models.common import ShortText, Url, _no_nul
from api.models.deals import Party

MESSAGE_MAX_LENGTH = 5_000
MAX_ATTACHMENTS = 5


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (
        # A thread is about exactly one application or one deal.
        CheckConstraint("(application_id IS NULL) <> (deal_id IS NULL)", name="one_subject"),
        Index("ix_conversations_brand_id_last_message_at", "brand_id", "last_message_at"),
        Index("ix_conversations_creator_id_last_message_at", "creator_id", "last_message_at"),
    )

    id: uuid.UUID = id_field()
    application_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="applications.id", ondelete="CASCADE", unique=True
    )
    deal_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="deals.id", ondelete="CASCADE", unique=True
    )
    brand_id: uuid.UUID = SQLField(foreign_key="brands.id", ondelete="CASCADE")
    creator_id: uuid.UUID = SQLField(foreign_key="creators.id", ondelete="CASCADE")
    created_at: datetime = timestamp_field()
    last_message_at: datetime = timestamp_field()


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_id_created_at", "conversation_id", "created_at", "id"),
        enum_check("author_party", Party),
    )

    id: uuid.UUID = id_field()
    conversation_id: uuid.UUID = SQLField(foreign_key="conversations.id", ondelete="CASCADE")
    author_user_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    author_party: str = SQLField(sa_type=String(16))
    # NULL once deleted: the tombstone keeps who and when, not what.
    body: str | None = SQLField(default=None, sa_type=Text)
    attachments: list[dict[str, Any]] = SQLField(default_factory=list, sa_type=JSONB)
    created_at: datetime = timestamp_field()
    deleted_at: datetime | None = timestamp_field(nullable=True)


class ConversationRead(SQLModel, table=True):
    """How far one user has read one conversation."""

    __tablename__ = "conversation_reads"

    conversation_id: uuid.UUID = SQLField(
        foreign_key="conversations.id", ondelete="CASCADE", primary_key=True
    )
    user_id: uuid.UUID = SQLField(foreign_key="users.id", ondelete="CASCADE", primary_key=True)
    last_read_at: datetime = timestamp_field(server_default=False)
    last_read_message_id: uuid.UUID


# --- API schemas ----------------------------------------------------------------------------

MessageText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MESSAGE_MAX_LENGTH),
    AfterValidator(_no_nul),
]


class Attachment(BaseModel):
    """A link (never fetched by the API)."""

    model_config = ConfigDict(extra="forbid")
    url: Url = Field(examples=["https://drive.example/brief-moodboard"])
    label: ShortText = Field(examples=["Moodboard"])


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: MessageText = Field(examples=["Could the reel go live a week later?"])
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class MessageOut(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    author_user_id: uuid.UUID | None
    author_party: Party
    body: str | None = Field(description="Absent (null) once the author deleted the message.")
    attachments: list[Attachment]
    created_at: datetime
    deleted_at: datetime | None


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: uuid.UUID = Field(description="Everything up to this message counts as read.")


class ConversationSummary(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    brand_id: uuid.UUID
    creator_id: uuid.UUID
    last_message_at: datetime
    unread_count: int = Field(description="Messages from others you have not read.")
