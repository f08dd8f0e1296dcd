"""Every event type a client can subscribe to or read on the feed: what it means and the
schema of its `data` (the object as the API returns it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from api.models.applications import ApplicationRead, InvitationRead
from api.models.briefs import BriefRead
from api.models.deals import DealRead, DealTermsRead
from api.models.deliverables import DeliverableRead, MetricsRead, SubmissionRead
from api.models.shipments import ShipmentRead
from api.models.webhooks import WebhookRead


class DraftEventData(BaseModel):
    """A draft round of a deliverable, and (for reviews) the decision."""

    deal_id: uuid.UUID
    deliverable_id: uuid.UUID
    deliverable_status: str
    submission: SubmissionRead
    decision: Literal["approved", "changes_requested"] | None = Field(
        default=None, description="`deliverable.reviewed` only."
    )
    automatic: bool | None = Field(
        default=None,
        description="`deliverable.reviewed` only: approved because the review window passed.",
    )


class UsageRightsExpiringData(BaseModel):
    deal_id: uuid.UUID
    terms_version: int
    rights_start_date: date
    expires_on: date
    days_left: int


class WebhookTestData(BaseModel):
    webhook_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class EventType:
    description: str
    data: type[BaseModel]


_CATALOG: list[tuple[str, type[BaseModel], str]] = [
    ("brief.created", BriefRead, "A brand created a draft brief."),
    (
        "brief.updated",
        BriefRead,
        "A brief's fields were changed (a draft, or an open brief's safe edits).",
    ),
    ("brief.published", BriefRead, "A brief opened to applications."),
    (
        "brief.closed",
        BriefRead,
        "A brief stopped taking applications: its deadline passed, its slots filled, or the "
        "brand closed it (`closed_reason`).",
    ),
    ("brief.cancelled", BriefRead, "A draft or open brief was cancelled."),
    ("brief.completed", BriefRead, "A closed brief was marked completed."),
    ("application.created", ApplicationRead, "A creator applied to a brief."),
    (
        "application.updated",
        ApplicationRead,
        "An application was shortlisted, declined, withdrawn or accepted (`status`).",
    ),
    ("invitation.created", InvitationRead, "A brand invited a creator to apply."),
    ("invitation.expired", InvitationRead, "An invitation passed its expiry unanswered."),
    ("deal.created", DealRead, "An application was accepted: the deal, with its first terms."),
    ("deal.terms_proposed", DealRead, "A party proposed a terms version."),
    ("deal.terms_accepted", DealRead, "The other party accepted a terms version."),
    (
        "deal.terms_withdrawn",
        DealTermsRead,
        "The proposer withdrew a pending amendment; the deal goes on under its accepted terms.",
    ),
    ("deal.cancelled", DealRead, "A party cancelled the deal."),
    ("deal.paid", DealRead, "The brand marked the deal paid."),
    (
        "deal.completed",
        DealRead,
        "Every deliverable is published (and, if paid, the deal is paid).",
    ),
    ("deliverable.submitted", DraftEventData, "The creator submitted a draft."),
    (
        "deliverable.reviewed",
        DraftEventData,
        "The brand approved a draft or asked for changes (`decision`), or the review window "
        "passed and it was approved automatically (`automatic`).",
    ),
    ("deliverable.published", DeliverableRead, "The creator recorded the live post."),
    ("deliverable.metrics_recorded", MetricsRead, "A party recorded performance figures."),
    ("shipment.created", ShipmentRead, "The brand recorded a shipment to the creator."),
    ("shipment.updated", ShipmentRead, "A shipment's carrier, tracking or times changed."),
    (
        "usage_rights.expiring",
        UsageRightsExpiringData,
        "The brand's usage rights for a deal's content end in 14 days.",
    ),
    (
        "webhook.disabled",
        WebhookRead,
        "One of your subscriptions was disabled: its receiver answered 410 Gone, or every "
        "attempt failed for 5 days (`disabled_reason`).",
    ),
    (
        "webhook.test",
        WebhookTestData,
        "A ping sent with `POST /v1/webhooks/{id}/test`, to that subscription only (not on "
        "the feed).",
    ),
]

EVENT_TYPES: dict[str, EventType] = {
    name: EventType(description=description, data=data) for name, data, description in _CATALOG
}

RESOURCES = frozenset(name.split(".")[0] for name in EVENT_TYPES)


def unknown_types(patterns: list[str]) -> list[str]:
    """The names or `resource.*` wildcards among `patterns` that match no event type."""
    return [
        p
        for p in patterns
        if (p[:-2] not in RESOURCES if p.endswith(".*") else p not in EVENT_TYPES)
    ]
