"""Which party (brand or creator profile) a webhook or feed request acts for.

The one ownership lookup of webhook subscriptions and the event feed. A brand user acts
for one brand here: their only brand, or the one named by `brand_id` (an agency member of
several brands names it; else 422 `brand_required`). Managing subscriptions needs a
manager or owner of that brand; reading the feed any member.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Security

from api.deps import SessionDep, get_principal
from api.errors import Forbidden
from api.models.memberships import BrandRole
from api.models.users import Role
from api.security import Scope
from api.services import creators, memberships
from api.services.audience import Party
from api.services.tokens import Principal

BrandChoice = Annotated[
    uuid.UUID | None,
    Query(description="The brand you act for, when you belong to several (agencies)."),
]


async def _party(
    principal: Principal, session: SessionDep, brand_id: uuid.UUID | None, need: BrandRole
) -> Party:
    if principal.role == Role.brand:
        return Party(brand_id=memberships.acting_brand(principal, brand_id, need))
    if principal.role == Role.creator:
        row = await creators.creator_row_of(session, principal.user.id)
        return Party(creator_id=row.id)
    raise Forbidden("only brands and creators have events", code="not_a_party")


async def webhooks_party(
    principal: Annotated[Principal, Security(get_principal, scopes=[Scope.webhooks_manage])],
    session: SessionDep,
    brand_id: BrandChoice = None,
) -> Party:
    return await _party(principal, session, brand_id, BrandRole.manager)


async def events_party(
    principal: Annotated[Principal, Security(get_principal, scopes=[Scope.events_read])],
    session: SessionDep,
    brand_id: BrandChoice = None,
) -> Party:
    return await _party(principal, session, brand_id, BrandRole.viewer)


WebhooksParty = Annotated[Party, Depends(webhooks_party)]
EventsParty = Annotated[Party, Depends(events_party)]
