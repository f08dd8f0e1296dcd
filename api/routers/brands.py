"""Brand profiles."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Security

from api.deps import SessionDep, get_principal, require_brand
from api.errors import Forbidden, problem_responses
from api.models.brands import BrandRead, BrandUpdate
from api.models.memberships import BrandRole
from api.security import Scope
from api.services import brands, memberships
from api.services.tokens import Principal

router = APIRouter(prefix="/v1/brands", tags=["brands"])


@router.get(
    "/{brand_id}",
    operation_id="getBrand",
    summary="A brand's public profile",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_brand(
    brand_id: uuid.UUID,
    _: Annotated[Principal, Security(get_principal, scopes=[Scope.profile_read])],
    session: SessionDep,
) -> BrandRead:
    """Any signed-in user may read a brand's public profile."""
    return BrandRead.model_validate(await brands.get_brand(session, brand_id))


@router.patch(
    "/{brand_id}",
    operation_id="updateBrand",
    summary="Update your brand's profile (its owners only)",
    responses=problem_responses(401, 403, 404, 422),
)
async def update_brand(
    brand_id: uuid.UUID,
    data: BrandUpdate,
    principal: Annotated[Principal, Security(require_brand, scopes=[Scope.profile_write])],
    session: SessionDep,
) -> BrandRead:
    """Only members of the brand may change it. Send only the fields to change."""
    brand = await brands.get_brand(session, brand_id)
    if not memberships.is_member(principal, brand.id):
        raise Forbidden("only the brand's members may change it", code="not_a_member")
    memberships.require_role(principal, brand.id, BrandRole.owner, noun="brand")
    return BrandRead.model_validate(await brands.update_brand(session, brand, data))
