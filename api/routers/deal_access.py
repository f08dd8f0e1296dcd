"""Who may reach a deal, as dependencies shared by the deal routers: no route can forget
the ownership check. Wrong role: 403; not a party to the deal: 404, as if it did not exist.
The brand party is any member of the deal's brand; writes need a manager or owner (a
viewer gets 403, `api.services.memberships`). Writes lock the deal row for the rest of the
request."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Security

from api import etags
from api.deps import (
    SessionDep,
    get_principal,
    require_brand,
    require_creator,
    require_party,
)
from api.models.memberships import BrandRole
from api.security import Scope
from api.services import deals
from api.services.deals import DealAccess
from api.services.tokens import Principal

DealReader = Annotated[Principal, Security(get_principal, scopes=[Scope.deals_read])]
PartyWriter = Annotated[Principal, Security(require_party, scopes=[Scope.deals_write])]
BrandReader = Annotated[Principal, Security(require_brand, scopes=[Scope.deals_read])]
BrandWriter = Annotated[Principal, Security(require_brand, scopes=[Scope.deals_write])]
CreatorWriter = Annotated[Principal, Security(require_creator, scopes=[Scope.deals_write])]


async def readable_deal(
    deal_id: uuid.UUID, principal: DealReader, session: SessionDep
) -> DealAccess:
    return await deals.load(session, principal, deal_id)


async def party_deal(deal_id: uuid.UUID, principal: PartyWriter, session: SessionDep) -> DealAccess:
    return await deals.load(session, principal, deal_id, lock=True, need=BrandRole.manager)


async def brand_read_deal(
    deal_id: uuid.UUID, principal: BrandReader, session: SessionDep
) -> DealAccess:
    return await deals.load(session, principal, deal_id)


async def brand_deal(deal_id: uuid.UUID, principal: BrandWriter, session: SessionDep) -> DealAccess:
    return await deals.load(session, principal, deal_id, lock=True, need=BrandRole.manager)


async def creator_deal(
    deal_id: uuid.UUID, principal: CreatorWriter, session: SessionDep
) -> DealAccess:
    return await deals.load(session, principal, deal_id, lock=True)


ReadableDeal = Annotated[DealAccess, Depends(readable_deal)]
PartyDeal = Annotated[DealAccess, Depends(party_deal)]
BrandReadDeal = Annotated[DealAccess, Depends(brand_read_deal)]
BrandDeal = Annotated[DealAccess, Depends(brand_deal)]
CreatorDeal = Annotated[DealAccess, Depends(creator_deal)]

IfMatch = Annotated[
    str | None,
    Header(
        max_length=1000,
        description="The deal's `ETag` as you last read it; stale: 412.",
        examples=['"2.1"'],
    ),
]

ETAG_HEADER = {
    "ETag": {
        "description": 'The deal\'s terms tag, `"<current version>.<accepted version or 0>"`; '
        "send it back in `If-Match` to propose terms.",
        "schema": {"type": "string", "examples": ['"2.1"']},
    }
}


def with_etag(*statuses: int, success: int = 200) -> dict[int | str, dict[str, Any]]:
    return etags.responses_with_etag(ETAG_HEADER, *statuses, success=success)
