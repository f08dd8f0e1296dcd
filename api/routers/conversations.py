"""Conversations on an application and on a deal, and the caller's inbox."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, Security, status

from api.deps import SessionDep, get_principal
from api.errors import problem_responses
from api.models.conversations import ConversationSummary, MarkRead, MessageCreate, MessageOut
from api.pagination import Page, PageDep
from api.security import Scope
from api.services import conversations
from api.services.tokens import Principal

router = APIRouter(prefix="/v1", tags=["conversations"])

ApplicationReader = Annotated[Principal, Security(get_principal, scopes=[Scope.applications_read])]
ApplicationWriter = Annotated[Principal, Security(get_principal, scopes=[Scope.applications_write])]
DealReader = Annotated[Principal, Security(get_principal, scopes=[Scope.deals_read])]
DealWriter = Annotated[Principal, Security(get_principal, scopes=[Scope.deals_write])]
InboxReader = Annotated[
    Principal, Security(get_principal, scopes=[Scope.applications_read, Scope.deals_read])
]
After = Annotated[
    uuid.UUID | None,
    Query(
        description="For polling: the newest message id you hold; returns the messages "
        "after it, oldest first (at most `limit`; ask again with the last one)."
    ),
]

_LIST = "Newest first; pass `next_cursor` back as `cursor` for older ones, or poll with `after`."
_READ_ONLY = (
    "A declined or withdrawn application's thread is read-only (409 `conversation_closed`)."
)


@router.get(
    "/applications/{application_id}/messages",
    operation_id="listApplicationMessages",
    summary="The application's conversation (its creator and the brand's members)",
    description=_LIST,
    responses=problem_responses(401, 403, 404, 422),
)
async def list_application_messages(
    application_id: uuid.UUID,
    principal: ApplicationReader,
    session: SessionDep,
    page: PageDep,
    after: After = None,
) -> Page[MessageOut]:
    thread = await conversations.application_thread(session, principal, application_id, write=False)
    items, cursor = await conversations.list_messages(session, thread, page, after)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/applications/{application_id}/messages",
    status_code=status.HTTP_201_CREATED,
    operation_id="postApplicationMessage",
    summary="Write in the application's conversation (creator, brand owners and managers)",
    description="Text up to 5,000 characters and up to 5 links (never fetched). " + _READ_ONLY,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def post_application_message(
    application_id: uuid.UUID,
    data: MessageCreate,
    principal: ApplicationWriter,
    session: SessionDep,
) -> MessageOut:
    thread = await conversations.application_thread(session, principal, application_id, write=True)
    return await conversations.post(session, thread, principal.user.id, data)


@router.post(
    "/applications/{application_id}/messages/read",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="markApplicationMessagesRead",
    description=(
        "Marks the thread read for you up to `message_id` (a mark never moves back); unread "
        "counts in `GET /v1/me/conversations` follow it."
    ),
    summary="Mark the application's conversation read up to a message",
    responses=problem_responses(401, 403, 404, 422),
)
async def mark_application_read(
    application_id: uuid.UUID, data: MarkRead, principal: ApplicationReader, session: SessionDep
) -> Response:
    thread = await conversations.application_thread(session, principal, application_id, write=False)
    await conversations.mark_read(session, thread, principal.user.id, data.message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/applications/{application_id}/messages/{message_id:uuid}",
    operation_id="deleteApplicationMessage",
    description=(
        "The author may delete a message within 15 minutes of sending it; a tombstone (`body: "
        "null`, `deleted_at`) stays in the thread."
    ),
    summary="Delete your message within 15 minutes (a tombstone remains)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_application_message(
    application_id: uuid.UUID,
    message_id: uuid.UUID,
    principal: ApplicationWriter,
    session: SessionDep,
) -> MessageOut:
    thread = await conversations.application_thread(session, principal, application_id, write=True)
    return await conversations.delete(session, thread, principal.user.id, message_id)


@router.get(
    "/deals/{deal_id}/messages",
    operation_id="listDealMessages",
    summary="The deal's conversation (its creator and the brand's members)",
    description=_LIST,
    responses=problem_responses(401, 403, 404, 422),
)
async def list_deal_messages(
    deal_id: uuid.UUID,
    principal: DealReader,
    session: SessionDep,
    page: PageDep,
    after: After = None,
) -> Page[MessageOut]:
    thread = await conversations.deal_thread(session, principal, deal_id, write=False)
    items, cursor = await conversations.list_messages(session, thread, page, after)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/deals/{deal_id}/messages",
    status_code=status.HTTP_201_CREATED,
    operation_id="postDealMessage",
    summary="Write in the deal's conversation (creator, brand owners and managers)",
    description="Text up to 5,000 characters and up to 5 links (never fetched).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def post_deal_message(
    deal_id: uuid.UUID, data: MessageCreate, principal: DealWriter, session: SessionDep
) -> MessageOut:
    thread = await conversations.deal_thread(session, principal, deal_id, write=True)
    return await conversations.post(session, thread, principal.user.id, data)


@router.post(
    "/deals/{deal_id}/messages/read",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="markDealMessagesRead",
    description=(
        "Marks the thread read for you up to `message_id` (a mark never moves back); unread "
        "counts in `GET /v1/me/conversations` follow it."
    ),
    summary="Mark the deal's conversation read up to a message",
    responses=problem_responses(401, 403, 404, 422),
)
async def mark_deal_read(
    deal_id: uuid.UUID, data: MarkRead, principal: DealReader, session: SessionDep
) -> Response:
    thread = await conversations.deal_thread(session, principal, deal_id, write=False)
    await conversations.mark_read(session, thread, principal.user.id, data.message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/deals/{deal_id}/messages/{message_id:uuid}",
    operation_id="deleteDealMessage",
    description=(
        "The author may delete a message within 15 minutes of sending it; a tombstone (`body: "
        "null`, `deleted_at`) stays in the thread."
    ),
    summary="Delete your message within 15 minutes (a tombstone remains)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_deal_message(
    deal_id: uuid.UUID, message_id: uuid.UUID, principal: DealWriter, session: SessionDep
) -> MessageOut:
    thread = await conversations.deal_thread(session, principal, deal_id, write=True)
    return await conversations.delete(session, thread, principal.user.id, message_id)


@router.get(
    "/me/conversations",
    operation_id="listMyConversations",
    summary="Your conversations, newest activity first, with unread counts",
    description="A creator's own; a brand member's across their brands (`brand_id`: one).",
    responses=problem_responses(401, 403, 422),
)
async def list_my_conversations(
    principal: InboxReader,
    session: SessionDep,
    page: PageDep,
    brand_id: Annotated[uuid.UUID | None, Query(description="One of your brands.")] = None,
) -> Page[ConversationSummary]:
    items, cursor = await conversations.my_conversations(session, principal, page, brand_id)
    return Page(items=items, next_cursor=cursor)
