"""Webhook subscriptions of the caller's brand or creator profile, and their deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from api.deps import SessionDep, SettingsDep
from api.errors import problem_responses
from api.idempotency import shows_secret
from api.models.webhooks import (
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookSecret,
    WebhookSubscription,
    WebhookUpdate,
)
from api.pagination import Page, PageDep
from api.routers.party import WebhooksParty
from api.services import webhooks

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


async def owned_webhook(
    webhook_id: uuid.UUID, party: WebhooksParty, session: SessionDep
) -> WebhookSubscription:
    """The caller's subscription; anyone else's is a 404."""
    return await webhooks.get(session, party, webhook_id, lock=True)


OwnedWebhook = Annotated[WebhookSubscription, Depends(owned_webhook)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="createWebhook",
    summary="Subscribe an endpoint to events (the secret is shown only here)",
    description="Events of your own objects are POSTed to `url`, signed per the Standard "
    "Webhooks specification with the returned `secret`. The URL must be https and resolve "
    "to public addresses only (422 `webhook_url_refused`), and is checked again at every "
    "delivery. `event_types` takes exact names or `resource.*` wildcards; empty means all.",
    responses=problem_responses(401, 403, 409, 422),
)
@shows_secret
async def create_webhook(
    data: WebhookCreate,
    party: WebhooksParty,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> WebhookCreated:
    subscription, secret = await webhooks.create(session, settings, party, data)
    response.headers["Cache-Control"] = "no-store"  # it holds the secret
    return WebhookCreated.model_validate(
        {**WebhookRead.model_validate(subscription).model_dump(), "secret": secret}
    )


@router.get(
    "",
    operation_id="listWebhooks",
    description=(
        "Your subscriptions (the brand's, or your creator profile's), newest first, without "
        "their secrets."
    ),
    summary="Your webhook subscriptions, newest first",
    responses=problem_responses(401, 403, 422),
)
async def list_webhooks(
    party: WebhooksParty, session: SessionDep, page: PageDep
) -> Page[WebhookRead]:
    items, cursor = await webhooks.list_for(session, party, page)
    return Page(items=[WebhookRead.model_validate(s) for s in items], next_cursor=cursor)


@router.get(
    "/{webhook_id}",
    operation_id="getWebhook",
    description=(
        "One subscription: its URL, event types, whether it is enabled and why not "
        "(`disabled_reason`)."
    ),
    summary="One webhook subscription",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_webhook(subscription: OwnedWebhook) -> WebhookRead:
    return WebhookRead.model_validate(subscription)


@router.patch(
    "/{webhook_id}",
    operation_id="updateWebhook",
    summary="Change a subscription: url, event types, description, enabled",
    description="Enabling a disabled subscription clears its failure history; deliveries "
    "still pending are then retried.",
    responses=problem_responses(401, 403, 404, 422),
)
async def update_webhook(
    data: WebhookUpdate, subscription: OwnedWebhook, session: SessionDep, settings: SettingsDep
) -> WebhookRead:
    return WebhookRead.model_validate(await webhooks.change(session, settings, subscription, data))


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteWebhook",
    description=("Removes the subscription and its delivery history; nothing more is sent to it."),
    summary="Delete a subscription and its delivery history",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_webhook(subscription: OwnedWebhook, session: SessionDep) -> Response:
    await webhooks.delete(session, subscription)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret",
    operation_id="rotateWebhookSecret",
    summary="A new signing secret (shown only here); the old one keeps signing for 24 h",
    description="Until `previous_secret_expires_at`, every delivery carries two signatures "
    "in `webhook-signature`, one per secret, so a receiver can switch without losing any.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
@shows_secret
async def rotate_webhook_secret(
    subscription: OwnedWebhook, session: SessionDep, settings: SettingsDep, response: Response
) -> WebhookSecret:
    response.headers["Cache-Control"] = "no-store"  # it holds the secret
    return await webhooks.rotate_secret(session, settings, subscription)


@router.post(
    "/{webhook_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="testWebhook",
    summary="Send a `webhook.test` ping to this subscription",
    description="Delivered like any event, within seconds; follow it in the deliveries. "
    "A disabled subscription answers 409 `webhook_disabled`.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def test_webhook(subscription: OwnedWebhook, session: SessionDep) -> DeliveryRead:
    delivery_id = await webhooks.send_test(session, subscription)
    return await webhooks.get_delivery(session, subscription, delivery_id)


@router.get(
    "/{webhook_id}/deliveries",
    operation_id="listWebhookDeliveries",
    summary="The subscription's deliveries, newest first, with every attempt",
    description="Each attempt shows the receiver's status (or why there was none), its "
    "duration and the first 1 KB of the response; `next_attempt_at` says when the next "
    "retry is due.",
    responses=problem_responses(401, 403, 404, 422),
)
async def list_webhook_deliveries(
    subscription: OwnedWebhook, session: SessionDep, page: PageDep
) -> Page[DeliveryRead]:
    items, cursor = await webhooks.list_deliveries(session, subscription, page)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="retryWebhookDelivery",
    description=(
        "Makes a delivery due now (a failed one gets a fresh attempt); the answer is the "
        "delivery as listed."
    ),
    summary="Attempt a delivery again now (a failed one gets a fresh three-day window)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def retry_webhook_delivery(
    delivery_id: uuid.UUID, subscription: OwnedWebhook, session: SessionDep
) -> DeliveryRead:
    await webhooks.retry(session, subscription, delivery_id)
    return await webhooks.get_delivery(session, subscription, delivery_id)
