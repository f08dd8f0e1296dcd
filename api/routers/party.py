"""Which party (brand or creator profile) a webhook or feed request acts for.

The one ownership lookup of webhook subscriptions and the event feed: when users may act
for several brands, only this changes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Security

from api.deps import SessionDep, get_principal
from api.errors import Forbidden
from api.models.users import Role
from api.security import Scope
from api.services import creators
from api.services.audience import Party
from api.services.tokens import Principal


async def _party(principal: Principal, session: SessionDep) -> Party:
    if principal.role == Role.brand and principal.user.brand_id is not None:
        return Party(brand_id=principal.user.brand_id)
    if principal.role == Role.creator:
        row = await creators.creator_row_of(session, principal.user.id)
        return Party(creator_id=row.id)
    raise Forbidden("only brands and creators have events", code="not_a_party")


async def webhooks_party(
    principal: Annotated[Principal, Security(get_principal, scopes=[Scope.webhooks_manage])],
    session: SessionDep,
) -> Party:
    return await _party(principal, session)


async def events_party(
    principal: Annotated[Principal, Security(get_principal, scopes=[Scope.events_read])],
    session: SessionDep,
) -> Party:
    return await _party(principal, session)


WebhooksParty = Annotated[Party, Depends(webhooks_party)]
EventsParty = Annotated[Party, Depends(events_party)]
