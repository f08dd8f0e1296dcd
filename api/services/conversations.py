"""Conversations on an application or a deal: who may read and write them (the same rule
as the object they are about), messages, tombstones, read marks and unread counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Forbidden, InvalidState, NotFound
from api.models.applications import ApplicationStatus
from api.models.base import utcnow
from api.models.conversations import (
    Attachment,
    Conversation,
    ConversationRead,
    ConversationSummary,
    MessageCreate,
    MessageOut,
)
from api.models.conversations import Message as MessageRow
from api.models.creators import Creator
from api.models.deals import Party
from api.models.memberships import BrandRole
from api.models.users import Role
from api.pagination import PageParams, decode_cursor, keyset, make_page, parse_datetime
from api.pagination import after as later_than
from api.services import applications, deals, events, memberships
from api.services.tokens import Principal

DELETE_WINDOW = timedelta(minutes=15)
_CLOSED_APPLICATION = (ApplicationStatus.declined, ApplicationStatus.withdrawn)


@dataclass(frozen=True)
class Thread:
    """The subject of a conversation as the caller reaches it."""

    application_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    brand_id: uuid.UUID
    creator_id: uuid.UUID
    party: Party | None  # None: an admin reading
    closed_reason: str | None = None

    def subject(self) -> ColumnElement[bool]:
        if self.application_id is not None:
            return col(Conversation.application_id) == self.application_id
        return col(Conversation.deal_id) == self.deal_id


def _writer(principal: Principal) -> None:
    if principal.role not in (Role.brand, Role.creator):
        raise Forbidden("only the creator and the brand may write here", code="party_only")


async def application_thread(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, *, write: bool
) -> Thread:
    """The application's thread: its creator and the brief's brand members (writing: owners
    and managers). Read-only once the application is declined or withdrawn."""
    if write:
        _writer(principal)
    need = BrandRole.manager if write else BrandRole.viewer
    application, brief = await applications.get_for_party(
        session, principal, application_id, need=need
    )
    closed = (
        f"the application is {application.status}"
        if application.status in _CLOSED_APPLICATION
        else None
    )
    return Thread(
        application_id=application.id,
        deal_id=None,
        brand_id=brief.brand_id,
        creator_id=application.creator_id,
        party=deals.party_of(principal),
        closed_reason=closed,
    )


async def deal_thread(
    session: AsyncSession, principal: Principal, deal_id: uuid.UUID, *, write: bool
) -> Thread:
    """The deal's thread: its creator and the brand's members (writing: owners, managers)."""
    if write:
        _writer(principal)
    need = BrandRole.manager if write else BrandRole.viewer
    access = await deals.load(session, principal, deal_id, need=need)
    deal = access.deal
    return Thread(None, deal.id, deal.brand_id, deal.creator_id, access.party)


async def _conversation(session: AsyncSession, thread: Thread) -> Conversation | None:
    return await session.scalar(select(Conversation).where(thread.subject()))


async def _open_conversation(session: AsyncSession, thread: Thread) -> Conversation:
    """The thread's conversation, created on the first message (two first messages at once
    both land in the one conversation)."""
    stmt = (
        insert(Conversation)
        .values(
            id=uuid.uuid4(),
            application_id=thread.application_id,
            deal_id=thread.deal_id,
            brand_id=thread.brand_id,
            creator_id=thread.creator_id,
        )
        .on_conflict_do_nothing()
    )
    await session.execute(stmt)
    conversation = await _conversation(session, thread)
    assert conversation is not None
    return conversation


def to_out(message: MessageRow) -> MessageOut:
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        author_user_id=message.author_user_id,
        author_party=Party(message.author_party),
        body=message.body,
        attachments=[Attachment.model_validate(a) for a in message.attachments],
        created_at=message.created_at,
        deleted_at=message.deleted_at,
    )


# A page of messages is keyed by (created_at, id).
_MESSAGE_KEY = (parse_datetime, uuid.UUID)


async def list_messages(
    session: AsyncSession, thread: Thread, page: PageParams, after: uuid.UUID | None = None
) -> tuple[list[MessageOut], str | None]:
    """Newest first, older pages by cursor; or, with `after` (a message id), the messages
    that came after it, oldest first (for polling: pass the newest id you hold)."""
    if page.cursor:
        # Checked before anything else, so a cursor the server did not issue is refused
        # (422) even on a thread that has no message yet.
        decode_cursor(page.cursor, _MESSAGE_KEY)
    conversation = await _conversation(session, thread)
    if conversation is None:
        if after is not None:
            raise NotFound("message not found")
        return [], None
    stmt = select(MessageRow).where(col(MessageRow.conversation_id) == conversation.id)
    if after is not None:
        anchor = await _message_in(session, conversation.id, after)
        rows = (
            await session.scalars(
                stmt.where(
                    later_than(
                        [col(MessageRow.created_at), col(MessageRow.id)],
                        [anchor.created_at, anchor.id],
                        [False, False],
                    )
                )
                .order_by(col(MessageRow.created_at), col(MessageRow.id))
                .limit(page.limit)
            )
        ).all()
        return [to_out(m) for m in rows], None
    stmt = keyset(
        stmt,
        page,
        [col(MessageRow.created_at), col(MessageRow.id)],
        _MESSAGE_KEY,
        [True, True],
    )
    rows = (await session.scalars(stmt)).all()
    items, cursor = make_page(rows, page, lambda m: (m.created_at, m.id))
    return [to_out(m) for m in items], cursor


async def _message_in(
    session: AsyncSession, conversation_id: uuid.UUID, message_id: uuid.UUID, *, lock: bool = False
) -> MessageRow:
    stmt = select(MessageRow).where(
        col(MessageRow.id) == message_id, col(MessageRow.conversation_id) == conversation_id
    )
    if lock:
        stmt = stmt.with_for_update()
    message = await session.scalar(stmt)
    if message is None:
        raise NotFound("message not found")
    return message


def _event_payload(thread: Thread, message: MessageOut) -> dict[str, Any]:
    body = message.model_dump(mode="json")
    body["application_id"] = str(thread.application_id) if thread.application_id else None
    body["deal_id"] = str(thread.deal_id) if thread.deal_id else None
    return body


async def post(
    session: AsyncSession, thread: Thread, user_id: uuid.UUID, data: MessageCreate
) -> MessageOut:
    """Add a message (409 `conversation_closed` on a read-only thread)."""
    if thread.closed_reason is not None:
        raise InvalidState(
            f"this conversation is read-only: {thread.closed_reason}", code="conversation_closed"
        )
    assert thread.party is not None  # writers are parties
    conversation = await _open_conversation(session, thread)
    now = utcnow()
    message = MessageRow(
        conversation_id=conversation.id,
        author_user_id=user_id,
        author_party=thread.party,
        body=data.body,
        attachments=[a.model_dump(mode="json") for a in data.attachments],
        created_at=now,
    )
    session.add(message)
    await session.execute(
        update(Conversation)
        .where(col(Conversation.id) == conversation.id)
        .values(last_message_at=func.greatest(col(Conversation.last_message_at), now))
    )
    await session.flush()
    out = to_out(message)
    await events.record(
        session,
        "message.created",
        _event_payload(thread, out),
        brand_id=thread.brand_id,
        creator_id=thread.creator_id,
    )
    return out


async def delete(
    session: AsyncSession, thread: Thread, user_id: uuid.UUID, message_id: uuid.UUID
) -> MessageOut:
    """Delete your own message within 15 minutes; a tombstone (who and when) remains."""
    conversation = await _conversation(session, thread)
    if conversation is None:
        raise NotFound("message not found")
    message = await _message_in(session, conversation.id, message_id, lock=True)
    if message.author_user_id != user_id:
        raise Forbidden("only its author may delete a message", code="not_the_author")
    if message.deleted_at is None:
        if utcnow() - message.created_at > DELETE_WINDOW:
            raise InvalidState(
                "a message can be deleted only within 15 minutes", code="delete_window_passed"
            )
        message.body = None
        message.attachments = []
        message.deleted_at = utcnow()
        session.add(message)
        await session.flush()
        await events.record(
            session,
            "message.deleted",
            _event_payload(thread, to_out(message)),
            brand_id=thread.brand_id,
            creator_id=thread.creator_id,
        )
    return to_out(message)


async def mark_read(
    session: AsyncSession, thread: Thread, user_id: uuid.UUID, message_id: uuid.UUID
) -> None:
    """Everything up to the message counts as read for this user; a mark never moves back."""
    conversation = await _conversation(session, thread)
    if conversation is None:
        raise NotFound("message not found")
    message = await _message_in(session, conversation.id, message_id)
    stmt = insert(ConversationRead).values(
        conversation_id=conversation.id,
        user_id=user_id,
        last_read_at=message.created_at,
        last_read_message_id=message.id,
    )
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["conversation_id", "user_id"],
        set_={
            "last_read_at": excluded.last_read_at,
            "last_read_message_id": excluded.last_read_message_id,
        },
        where=tuple_(col(ConversationRead.last_read_at), col(ConversationRead.last_read_message_id))
        < tuple_(excluded.last_read_at, excluded.last_read_message_id),
    )
    await session.execute(stmt)


def _unread(user_id: uuid.UUID) -> Any:
    last_at = (
        select(col(ConversationRead.last_read_at))
        .where(
            col(ConversationRead.conversation_id) == col(Conversation.id),
            col(ConversationRead.user_id) == user_id,
        )
        .correlate(Conversation)
        .scalar_subquery()
    )
    last_id = (
        select(col(ConversationRead.last_read_message_id))
        .where(
            col(ConversationRead.conversation_id) == col(Conversation.id),
            col(ConversationRead.user_id) == user_id,
        )
        .correlate(Conversation)
        .scalar_subquery()
    )
    unread_after = tuple_(col(MessageRow.created_at), col(MessageRow.id)) > tuple_(last_at, last_id)
    return (
        select(func.count())
        .select_from(MessageRow)
        .where(
            col(MessageRow.conversation_id) == col(Conversation.id),
            col(MessageRow.deleted_at).is_(None),
            col(MessageRow.author_user_id).is_distinct_from(user_id),
            (last_at.is_(None)) | unread_after,
        )
        .correlate(Conversation)
        .scalar_subquery()
    )


async def my_conversations(
    session: AsyncSession, principal: Principal, page: PageParams, brand_id: uuid.UUID | None
) -> tuple[list[ConversationSummary], str | None]:
    """The caller's conversations, newest activity first, with unread counts: a creator's
    own, or those of the caller's brands (`brand_id`: one of them)."""
    if principal.role == Role.creator:
        mine = select(col(Creator.id)).where(col(Creator.user_id) == principal.user.id)
        scope = col(Conversation.creator_id).in_(mine.scalar_subquery())
    elif principal.role == Role.brand:
        scope = col(Conversation.brand_id).in_(memberships.brand_scope(principal, brand_id))
    else:
        raise Forbidden("only creators and brand members have conversations", code="party_only")
    stmt = select(Conversation, _unread(principal.user.id).label("unread")).where(scope)
    stmt = keyset(
        stmt,
        page,
        [col(Conversation.last_message_at), col(Conversation.id)],
        [parse_datetime, uuid.UUID],
        [True, True],
    )
    rows = (await session.execute(stmt)).all()
    items, cursor = make_page(rows, page, lambda r: (r[0].last_message_at, r[0].id))
    return [
        ConversationSummary(
            id=c.id,
            application_id=c.application_id,
            deal_id=c.deal_id,
            brand_id=c.brand_id,
            creator_id=c.creator_id,
            last_message_at=c.last_message_at,
            unread_count=unread,
        )
        for c, unread in items
    ], cursor
