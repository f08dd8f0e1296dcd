"""Administration: read users, suspend and reinstate them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Security

from api.deps import SessionDep, require_admin
from api.errors import problem_responses
from api.models.users import Role, UserRead
from api.pagination import Page, PageDep
from api.security import Scope
from api.services import users
from api.services.tokens import Principal

router = APIRouter(prefix="/v1/admin", tags=["admin"])

Admin = Annotated[Principal, Security(require_admin, scopes=[Scope.admin])]


@router.get(
    "/users",
    operation_id="adminListUsers",
    summary="Every user (admins only)",
    responses=problem_responses(401, 403, 422),
)
async def list_users(
    _: Admin, session: SessionDep, page: PageDep, role: Annotated[Role | None, Query()] = None
) -> Page[UserRead]:
    """Every user, optionally filtered by role; admins only."""
    rows, cursor = await users.list_users(session, page, role)
    return Page(items=[UserRead.model_validate(u) for u in rows], next_cursor=cursor)


@router.post(
    "/users/{user_id}/suspend",
    operation_id="adminSuspendUser",
    summary="Suspend a user: their tokens stop working at once",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def suspend_user(user_id: uuid.UUID, _: Admin, session: SessionDep) -> UserRead:
    """The user's access and refresh tokens and API tokens stop working at once; 409 if already
    suspended."""
    user = await users.suspend(session, await users.get_user(session, user_id))
    return UserRead.model_validate(user)


@router.post(
    "/users/{user_id}/unsuspend",
    operation_id="adminUnsuspendUser",
    summary="Lift a suspension",
    responses=problem_responses(401, 403, 404, 422),
)
async def unsuspend_user(user_id: uuid.UUID, _: Admin, session: SessionDep) -> UserRead:
    """Lifts a suspension. Tokens issued before the suspension stay invalid; the user signs in
    again."""
    user = await users.unsuspend(session, await users.get_user(session, user_id))
    return UserRead.model_validate(user)
