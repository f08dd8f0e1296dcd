"""Brand profiles."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import NotFound
from api.models.base import utcnow
from api.models.brands import Brand, BrandUpdate
from api.models.common import sent_values


async def get_brand(session: AsyncSession, brand_id: uuid.UUID) -> Brand:
    brand = await session.get(Brand, brand_id)
    if brand is None:
        raise NotFound("brand not found")
    return brand


async def update_brand(session: AsyncSession, brand: Brand, data: BrandUpdate) -> Brand:
    brand.sqlmodel_update(sent_values(data))
    brand.updated_at = utcnow()
    session.add(brand)
    await session.flush()
    return brand
