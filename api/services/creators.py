"""Creator profiles, social accounts (with derived tier and engagement) and addresses."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Conflict, Forbidden, NotFound
from api.models.account_figures import engagement_rate, tier_for
from api.models.base import utcnow
from api.models.common import sent_values
from api.models.creators import (
    AudienceDemographics,
    Creator,
    CreatorPublic,
    CreatorRead,
    CreatorUpdate,
    MetricsSource,
    RateCardEntry,
    ShippingAddress,
    ShippingAddressWrite,
    SocialAccount,
    SocialAccountCreate,
    SocialAccountFigures,
    SocialAccountRead,
    SocialAccountUpdate,
)
from api.services import hot_sql
from api.settings import Settings

# Built once: every creator request looks the profile up.
CREATOR_OF_USER = select(Creator).where(col(Creator.user_id) == bindparam("user_id"))


def _profile(creator: Any) -> Any:
    if creator is None:  # every creator account has a profile; this guards data repair only
        raise Forbidden("no creator profile for this account", code="creator_only")
    return creator


async def creator_of(session: AsyncSession, user_id: uuid.UUID) -> Creator:
    """The account's creator profile, as an ORM object (for changes); 403 if none."""
    creator: Creator = _profile(await session.scalar(CREATOR_OF_USER, {"user_id": user_id}))
    return creator


async def creator_row_of(session: AsyncSession, user_id: uuid.UUID) -> hot_sql.Values:
    """The account's creator profile as plain values (they read like a `Creator`), for hot
    paths (`hot_sql.CREATOR_OF_USER`); 403 if none."""
    connection = await session.connection()
    row = await hot_sql.fetchrow(connection, hot_sql.CREATOR_OF_USER, user_id)
    values: hot_sql.Values = _profile(hot_sql.values(row) if row is not None else None)
    return values


def account_read(account: SocialAccount, settings: Settings) -> SocialAccountRead:
    return SocialAccountRead(
        id=account.id,
        platform=account.platform,
        handle=account.handle,
        followers=account.followers,
        avg_likes=account.avg_likes,
        avg_comments=account.avg_comments,
        avg_views=account.avg_views,
        reach=account.reach,
        impressions=account.impressions,
        tier=tier_for(account.followers, settings.tiers),
        engagement_rate=engagement_rate(account.followers, account.avg_likes, account.avg_comments),
        audience=AudienceDemographics(
            countries=account.audience_countries,
            genders=account.audience_genders,
            ages=account.audience_ages,
        ),
        source=account.source,
        as_of=account.as_of,
        updated_at=account.updated_at,
    )


async def accounts_of(session: AsyncSession, creator_id: uuid.UUID) -> list[SocialAccount]:
    stmt = (
        select(SocialAccount)
        .where(col(SocialAccount.creator_id) == creator_id)
        .order_by(SocialAccount.platform)
    )
    return list((await session.scalars(stmt)).all())


def _public_fields(creator: Creator, accounts: list[SocialAccountRead]) -> dict[str, Any]:
    return {
        "id": creator.id,
        "display_name": creator.display_name,
        "handle": creator.handle,
        "bio": creator.bio,
        "country": creator.country,
        "languages": creator.languages,
        "niches": creator.niches,
        "content_styles": creator.content_styles,
        "accepts_gifting": creator.accepts_gifting,
        "accounts": accounts,
        "created_at": creator.created_at,
    }


async def public_profile(
    session: AsyncSession, settings: Settings, creator_id: uuid.UUID
) -> CreatorPublic:
    creator = await session.get(Creator, creator_id)
    if creator is None:
        raise NotFound("creator not found")
    accounts = [account_read(a, settings) for a in await accounts_of(session, creator.id)]
    return CreatorPublic(**_public_fields(creator, accounts))


async def own_profile(session: AsyncSession, settings: Settings, creator: Creator) -> CreatorRead:
    accounts = [account_read(a, settings) for a in await accounts_of(session, creator.id)]
    has_address = await session.scalar(
        select(exists().where(col(ShippingAddress.creator_id) == creator.id))
    )
    return CreatorRead(
        **_public_fields(creator, accounts),
        rate_card_currency=creator.rate_card_currency,
        rate_card=[RateCardEntry.model_validate(e) for e in creator.rate_card],
        has_shipping_address=bool(has_address),
        updated_at=creator.updated_at,
    )


async def _handle_taken(session: AsyncSession, handle: str, creator_id: uuid.UUID) -> bool:
    stmt = select(col(Creator.id)).where(
        func.lower(Creator.handle) == handle.lower(), col(Creator.id) != creator_id
    )
    return (await session.scalar(stmt)) is not None


async def update_profile(session: AsyncSession, creator: Creator, data: CreatorUpdate) -> Creator:
    changes = sent_values(data, mode="json")
    handle = changes.get("handle")
    if handle is not None and await _handle_taken(session, handle, creator.id):
        raise Conflict("this handle is taken", code="handle_taken")
    rate_card = changes.get("rate_card")
    currency = changes.get("rate_card_currency", creator.rate_card_currency)
    if rate_card and currency is None:
        raise Conflict("set `rate_card_currency` with the rate card", code="currency_required")
    creator.sqlmodel_update(changes)
    creator.updated_at = utcnow()
    session.add(creator)
    await session.flush()
    return creator


_FIGURES = {*SocialAccountFigures.model_fields, "audience_countries"}


def _account_columns(data: SocialAccountCreate | SocialAccountUpdate) -> dict[str, Any]:
    # A create stores every field, its documented defaults included (`source` is
    # self_reported when not sent); an update only what was sent.
    if isinstance(data, SocialAccountCreate):
        values = data.model_dump(exclude={"audience"})
    else:
        values = sent_values(data, exclude={"audience"})
    creating = isinstance(data, SocialAccountCreate)
    if data.audience is not None and (creating or "audience" in data.model_fields_set):
        values["audience_countries"] = data.audience.countries
        values["audience_genders"] = data.audience.genders
        values["audience_ages"] = data.audience.ages
    return values


async def add_account(
    session: AsyncSession, creator: Creator, data: SocialAccountCreate
) -> SocialAccount:
    duplicate = await session.scalar(
        select(col(SocialAccount.id)).where(
            col(SocialAccount.creator_id) == creator.id,
            col(SocialAccount.platform) == data.platform,
        )
    )
    if duplicate is not None:
        raise Conflict(f"you already have a {data.platform} account", code="account_exists")
    account = SocialAccount(creator_id=creator.id, **_account_columns(data))
    session.add(account)
    await session.flush()
    return account


async def own_account(
    session: AsyncSession, creator: Creator, account_id: uuid.UUID
) -> SocialAccount:
    account = await session.scalar(
        select(SocialAccount).where(
            col(SocialAccount.id) == account_id, col(SocialAccount.creator_id) == creator.id
        )
    )
    if account is None:
        raise NotFound("social account not found")
    return account


async def update_account(
    session: AsyncSession, account: SocialAccount, data: SocialAccountUpdate
) -> SocialAccount:
    changes = _account_columns(data)
    if changes.keys() & _FIGURES:
        # Figures the creator enters are theirs: whatever verified the old ones does not
        # vouch for these.
        changes["source"] = MetricsSource.self_reported
    account.sqlmodel_update(changes)
    account.updated_at = utcnow()
    session.add(account)
    await session.flush()
    return account


async def delete_account(session: AsyncSession, account: SocialAccount) -> None:
    await session.delete(account)
    await session.flush()


async def put_shipping_address(
    session: AsyncSession, creator: Creator, data: ShippingAddressWrite
) -> ShippingAddress:
    address = await session.get(ShippingAddress, creator.id)
    if address is None:
        address = ShippingAddress(creator_id=creator.id, **data.model_dump())
    else:
        address.sqlmodel_update(data.model_dump())
        address.updated_at = utcnow()
    session.add(address)
    await session.flush()
    return address


async def get_shipping_address(session: AsyncSession, creator: Creator) -> ShippingAddress:
    address = await session.get(ShippingAddress, creator.id)
    if address is None:
        raise NotFound("no shipping address on file", code="no_shipping_address")
    return address
