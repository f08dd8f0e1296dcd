"""Webhook subscriptions: create, read, change, delete; their secrets and their deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Conflict, FieldError, InvalidState, NotFound, Unprocessable
from api.models.base import utcnow
from api.models.events import OutboxEvent
from api.models.webhooks import (
    MAX_SUBSCRIPTIONS_PER_OWNER,
    AttemptRead,
    DeliveryRead,
    DeliveryStatus,
    DisabledReason,
    WebhookAttempt,
    WebhookCreate,
    WebhookDelivery,
    WebhookSecret,
    WebhookSubscription,
    WebhookUpdate,
)
from api.pagination import PageParams, keyset, make_page, parse_datetime
from api.services import webhook_signing
from api.services.audience import Party
from api.services.event_catalog import unknown_types
from api.services.webhook_targets import TargetRefused, resolve_target
from api.settings import Settings

# Retries of a delivery go on this long (from the event, or from a manual retry).
RETRY_WINDOW = timedelta(days=3)
# During a rotation the old secret keeps signing this long, so receivers can switch over.
ROTATION_OVERLAP = timedelta(hours=24)


def _owned_by(party: Party) -> list[ColumnElement[bool]]:
    if party.brand_id is not None:
        return [col(WebhookSubscription.brand_id) == party.brand_id]
    return [col(WebhookSubscription.creator_id) == party.creator_id]


async def _check_target(settings: Settings, url: str) -> None:
    """Refuse a URL the dispatcher would refuse. A host that does not resolve (yet) is
    accepted: its deliveries fail and retry until it does."""
    try:
        await resolve_target(url, allow_private=settings.webhooks_allow_private_targets)
    except TargetRefused as exc:
        if exc.reason == "unresolvable":
            return
        raise Unprocessable(
            f"the webhook URL is refused: {exc.detail}",
            code="webhook_url_refused",
            errors=[FieldError(loc=["body", "url"], msg=exc.detail, type=exc.reason)],
        ) from exc


def check_types(event_types: list[str], *, loc: str = "body") -> None:
    """422 naming each event type or wildcard that matches nothing in the catalog."""
    unknown = unknown_types(event_types)
    if unknown:
        raise Unprocessable(
            "unknown event types: " + ", ".join(unknown),
            code="unknown_event_type",
            errors=[
                FieldError(
                    loc=[loc, "event_types" if loc == "body" else "type", i],
                    msg="no such event type",
                    type="enum",
                )
                for i, name in enumerate(event_types)
                if name in unknown
            ],
        )


async def create(
    session: AsyncSession, settings: Settings, party: Party, data: WebhookCreate
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (returned only here, stored encrypted)."""
    check_types(data.event_types)
    await _check_target(settings, data.url)
    count = await session.scalar(
        select(func.count(col(WebhookSubscription.id))).where(*_owned_by(party))
    )
    if (count or 0) >= MAX_SUBSCRIPTIONS_PER_OWNER:
        raise Conflict(
            f"at most {MAX_SUBSCRIPTIONS_PER_OWNER} webhook subscriptions",
            code="too_many_webhooks",
        )
    secret = webhook_signing.new_secret()
    subscription = WebhookSubscription.model_validate(
        data.model_dump(),
        update={
            "brand_id": party.brand_id,
            "creator_id": party.creator_id,
            "secret_encrypted": webhook_signing.encrypt(settings, secret),
            "disabled_reason": None if data.enabled else DisabledReason.owner,
        },
    )
    session.add(subscription)
    await session.flush()
    return subscription, secret


async def get(
    session: AsyncSession, party: Party, subscription_id: uuid.UUID, *, lock: bool = False
) -> WebhookSubscription:
    """The party's subscription; anyone else's answers 404 like an unknown one."""
    stmt = select(WebhookSubscription).where(
        col(WebhookSubscription.id) == subscription_id, *_owned_by(party)
    )
    if lock:
        stmt = stmt.with_for_update()
    subscription = await session.scalar(stmt)
    if subscription is None:
        raise NotFound("webhook subscription not found")
    return subscription


async def list_for(
    session: AsyncSession, party: Party, page: PageParams
) -> tuple[list[WebhookSubscription], str | None]:
    stmt = select(WebhookSubscription).where(*_owned_by(party))
    columns = [col(WebhookSubscription.created_at), col(WebhookSubscription.id)]
    stmt = keyset(stmt, page, columns, [parse_datetime, uuid.UUID], [True, True])
    rows = (await session.scalars(stmt)).all()
    return make_page(rows, page, lambda s: (s.created_at, s.id))


async def change(
    session: AsyncSession,
    settings: Settings,
    subscription: WebhookSubscription,
    data: WebhookUpdate,
) -> WebhookSubscription:
    """Change the fields sent; enabling again clears the failure history."""
    changes = data.model_dump(exclude_unset=True)
    if "event_types" in changes:
        check_types(changes["event_types"])
    if "url" in changes:
        await _check_target(settings, changes["url"])
    if "enabled" in changes:
        if changes["enabled"]:
            changes.update(disabled_reason=None, failing_since=None)
        elif subscription.enabled:
            changes["disabled_reason"] = DisabledReason.owner
    subscription.sqlmodel_update(changes)
    subscription.updated_at = utcnow()
    session.add(subscription)
    await session.flush()
    return subscription


async def delete(session: AsyncSession, subscription: WebhookSubscription) -> None:
    await session.delete(subscription)
    await session.flush()


async def rotate_secret(
    session: AsyncSession, settings: Settings, subscription: WebhookSubscription
) -> WebhookSecret:
    """A new secret; the current one keeps signing alongside it for 24 hours."""
    secret = webhook_signing.new_secret()
    now = utcnow()
    subscription.previous_secret_encrypted = subscription.secret_encrypted
    subscription.previous_secret_expires_at = now + ROTATION_OVERLAP
    subscription.secret_encrypted = webhook_signing.encrypt(settings, secret)
    subscription.updated_at = now
    session.add(subscription)
    await session.flush()
    return WebhookSecret(secret=secret, previous_secret_expires_at=now + ROTATION_OVERLAP)


def signing_secrets(
    settings: Settings,
    secret_encrypted: str,
    previous_encrypted: str | None,
    previous_expires_at: datetime | None,
    now: datetime,
) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous one
    while its rotation overlap lasts."""
    out = [webhook_signing.decrypt(settings, secret_encrypted)]
    if previous_encrypted and previous_expires_at and now < previous_expires_at:
        out.append(webhook_signing.decrypt(settings, previous_encrypted))
    return out


# --- deliveries ------------------------------------------------------------------------------


_DELIVERIES = select(WebhookDelivery, col(OutboxEvent.type)).join(
    OutboxEvent, col(OutboxEvent.id) == col(WebhookDelivery.event_id)
)


async def _delivery_reads(session: AsyncSession, rows: Sequence[Any]) -> list[DeliveryRead]:
    attempts: dict[uuid.UUID, list[AttemptRead]] = {}
    if rows:
        found = await session.scalars(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_([r[0].id for r in rows]))
            .order_by(col(WebhookAttempt.attempted_at), col(WebhookAttempt.id))
        )
        for attempt in found:
            attempts.setdefault(attempt.delivery_id, []).append(AttemptRead.model_validate(attempt))
    return [
        DeliveryRead(
            id=delivery.id,
            event_id=delivery.event_id,
            event_type=event_type,
            status=DeliveryStatus(delivery.status),
            attempt_count=delivery.attempt_count,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
            created_at=delivery.created_at,
            attempts=attempts.get(delivery.id, []),
        )
        for delivery, event_type in rows
    ]


async def list_deliveries(
    session: AsyncSession, subscription: WebhookSubscription, page: PageParams
) -> tuple[list[DeliveryRead], str | None]:
    """The subscription's deliveries, newest first, each with all its attempts."""
    stmt = _DELIVERIES.where(col(WebhookDelivery.subscription_id) == subscription.id)
    columns = [col(WebhookDelivery.created_at), col(WebhookDelivery.id)]
    stmt = keyset(stmt, page, columns, [parse_datetime, uuid.UUID], [True, True])
    rows, cursor = make_page(
        (await session.execute(stmt)).all(), page, lambda r: (r[0].created_at, r[0].id)
    )
    return await _delivery_reads(session, rows), cursor


async def get_delivery(
    session: AsyncSession, subscription: WebhookSubscription, delivery_id: uuid.UUID
) -> DeliveryRead:
    row = (
        await session.execute(
            _DELIVERIES.where(
                col(WebhookDelivery.id) == delivery_id,
                col(WebhookDelivery.subscription_id) == subscription.id,
            )
        )
    ).first()
    if row is None:
        raise NotFound("delivery not found")
    return (await _delivery_reads(session, [row]))[0]


async def retry(
    session: AsyncSession, subscription: WebhookSubscription, delivery_id: uuid.UUID
) -> uuid.UUID:
    """Make a delivery due now again (a failed one gets a fresh retry window)."""
    if not subscription.enabled:
        raise InvalidState("enable the subscription first", code="webhook_disabled")
    now = utcnow()
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.subscription_id) == subscription.id,
        )
        .values(status=DeliveryStatus.pending, next_attempt_at=now, give_up_at=now + RETRY_WINDOW)
        .returning(col(WebhookDelivery.id))
    )
    found: uuid.UUID | None = result.scalar_one_or_none()
    if found is None:
        raise NotFound("delivery not found")
    return found


async def send_test(session: AsyncSession, subscription: WebhookSubscription) -> uuid.UUID:
    """A `webhook.test` event owed to this subscription only, due now; its delivery id."""
    if not subscription.enabled:
        raise InvalidState("enable the subscription first", code="webhook_disabled")
    now = utcnow()
    event_id = uuid.uuid4()
    session.add(
        OutboxEvent(
            id=event_id,
            type="webhook.test",
            brand_id=subscription.brand_id,
            creator_id=subscription.creator_id,
            payload={"webhook_id": str(subscription.id)},
            occurred_at=now,
            # Fanned out here, to this subscription alone.
            dispatched_at=now,
        )
    )
    await session.flush()
    delivery = WebhookDelivery(
        subscription_id=subscription.id,
        event_id=event_id,
        next_attempt_at=now,
        give_up_at=now + RETRY_WINDOW,
        created_at=now,
    )
    session.add(delivery)
    await session.flush()
    return delivery.id
