"""Every event type a client can subscribe to or read on the feed, with what it means."""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {
    "brief.published": "A brief opened to applications.",
    "brief.closed": "A brief stopped taking applications (deadline, slots filled, or the brand).",
    "brief.cancelled": "A draft or open brief was cancelled.",
    "brief.completed": "A closed brief was marked completed.",
    "application.created": "A creator applied to a brief.",
    "application.updated": "An application was shortlisted, declined, withdrawn or accepted.",
    "invitation.created": "A brand invited a creator to apply.",
    "invitation.expired": "An invitation passed its expiry unanswered.",
    "deal.created": "An application was accepted: the deal, with its first terms.",
    "deal.terms_proposed": "A party proposed a terms version.",
    "deal.terms_accepted": "The other party accepted a terms version.",
    "deal.cancelled": "A party cancelled the deal.",
    "deal.paid": "The brand marked the deal paid.",
    "deal.completed": "Every deliverable is published (and, if paid, the deal is paid).",
    "deliverable.submitted": "The creator submitted a draft.",
    "deliverable.reviewed": "The brand approved a draft or asked for changes, or the review "
    "window passed and it was approved automatically (`decision`, `automatic`).",
    "deliverable.published": "The creator recorded the live post.",
    "deliverable.metrics_recorded": "A party recorded performance figures.",
    "shipment.created": "The brand recorded a shipment to the creator.",
    "shipment.updated": "A shipment's carrier, tracking or times changed.",
    "usage_rights.expiring": "The brand's usage rights for a deal end in 14 days.",
    "webhook.disabled": "One of your webhook subscriptions was disabled (410 Gone, or failing "
    "for 5 days).",
    "webhook.test": "A test ping sent with POST /v1/webhooks/{id}/test (not on the feed).",
}

RESOURCES = frozenset(name.split(".")[0] for name in EVENT_TYPES)


def unknown_types(patterns: list[str]) -> list[str]:
    """The names or `resource.*` wildcards among `patterns` that match no event type."""
    return [
        p
        for p in patterns
        if (p[:-2] not in RESOURCES if p.endswith(".*") else p not in EVENT_TYPES)
    ]
