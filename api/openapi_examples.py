"""An example for every request body, by schema name (or operation id for form bodies).

They show up pre-filled in /docs and in generated clients' docs. tests/test_openapi.py
validates each one against its schema, so they cannot drift from what the API accepts.
"""

from __future__ import annotations

from typing import Any

_USAGE_RIGHTS = {
    "channels": ["organic_social", "website"],
    "duration_days": 365,
    "worldwide": True,
    "ad_permission": "none",
}

REQUEST_EXAMPLES: dict[str, Any] = {
    "RegisterRequest": {
        "email": "ana@example.com",
        "password": "correct horse battery staple",
        "role": "creator",
        "display_name": "Ana Cooks",
    },
    "issueToken": {
        "grant_type": "password",
        "username": "ana@example.com",
        "password": "correct horse battery staple",
    },
    "RevokeRequest": {"refresh_token": "rt_3q2+7w..."},
    "ApiTokenCreate": {
        "name": "Agency dashboard",
        "scopes": ["briefs:read", "applications:read"],
        "expires_in_days": 90,
    },
    "BrandUpdate": {
        "description": "Clean skincare made in Lisbon.",
        "website": "https://glowlabs.example",
        "country": "PT",
    },
    "CreatorUpdate": {
        "display_name": "Ana Cooks",
        "bio": "Weeknight dinners in 20 minutes.",
        "country": "ES",
        "languages": ["es", "en"],
        "niches": ["food", "lifestyle"],
        "accepts_gifting": True,
    },
    "SocialAccountCreate": {
        "platform": "instagram",
        "handle": "@ana.cooks",
        "followers": 48200,
        "avg_likes": 2150,
        "avg_comments": 96,
        "as_of": "2026-12-01",
        "audience": {"countries": {"ES": 61.0, "MX": 9.5}, "genders": {"female": 72.0}},
    },
    "SocialAccountUpdate": {"followers": 51000, "avg_likes": 2300, "as_of": "2026-12-05"},
    "ShippingAddressWrite": {
        "recipient_name": "Ana García",
        "line1": "Calle Mayor 12, 3º B",
        "city": "Madrid",
        "postal_code": "28013",
        "country": "ES",
    },
    "BriefCreate": {
        "title": "Summer glow: serum reels",
        "description": "Show your morning routine with the Hydra Glow Serum.",
        "collaboration_type": "sponsored_post",
        "compensation_type": "paid",
        "currency": "EUR",
        "fee_min_minor": 30000,
        "fee_max_minor": 80000,
        "product": {"name": "Hydra Glow Serum 30 ml", "retail_value_minor": 3900},
        "platforms": ["instagram"],
        "deliverables": [{"platform": "instagram", "format": "reel", "quantity": 1}],
        "tiers": ["micro"],
        "niches": ["beauty"],
        "creator_countries": ["ES", "PT"],
        "publish_start_date": "2027-03-01",
        "publish_end_date": "2027-03-15",
        "application_deadline": "2027-02-10T18:00:00Z",
        "slots": 5,
        "disclosure": {"hashtags": ["#ad"], "mentions": ["@glowlabs"]},
        "usage_rights": _USAGE_RIGHTS,
    },
    "BriefUpdate": {"description": "Now with the SPF version too.", "slots": 8},
    "ApplicationCreate": {
        "pitch": "I cook weeknight dinners for 48k followers in Spain; my audience asks "
        "about skincare every week.",
        "account_ids": ["0b7e6f6e-5a4c-4c61-9d0e-6f1f3b2a9c11"],
        "proposed_fee_minor": 50000,
    },
    "InvitationCreate": {
        "creator_id": "8c4f2b1a-3d5e-4f60-9a7b-1c2d3e4f5a6b",
        "message": "We love your routines; would you apply?",
    },
    "DealCancel": {"reason": "The product launch moved to next year."},
    "TermsProposal": {
        "fee_minor": 60000,
        "deliverables": [
            {"platform": "instagram", "format": "reel", "quantity": 2, "due_date": "2027-03-10"}
        ],
        "usage_rights": {**_USAGE_RIGHTS, "duration_days": 180},
    },
    "SubmissionCreate": {
        "draft_url": "https://drive.example/ana/serum-reel-v1.mp4",
        "caption": "My 7am routine #ad @glowlabs",
    },
    "ApproveDraft": {"comment": "Lovely, go ahead."},
    "RequestChanges": {"comments": ["Please show the bottle in the first 3 seconds."]},
    "PublishDeliverable": {
        "live_url": "https://instagram.com/reel/Cx123",
        "caption": "My 7am routine #ad @glowlabs",
        "paid_partnership_label": True,
    },
    "MetricsCreate": {"reach": 31000, "impressions": 45000, "likes": 2400, "comments": 130},
    "ShipmentCreate": {
        "carrier": "DHL",
        "tracking_number": "JD014600006281230704",
        "shipped_at": "2027-02-15T09:30:00Z",
    },
    "ShipmentUpdate": {"delivered_at": "2027-02-17T14:05:00Z"},
    "ApplicationAccept": {
        "deliverable_choices": [{"deliverable": 0, "platform": "tiktok", "format": "short_video"}],
        "allow_over_budget": False,
    },
    "BrandInvitationCreate": {"email": "sam@agency.example", "role": "manager"},
    "BrandInvitationAccept": {"token": "bbi_4kq7Zr0mTQ..."},
    "MemberUpdate": {"role": "viewer"},
    "MessageCreate": {
        "body": "Could the reel go live a week later?",
        "attachments": [{"url": "https://drive.example/brief-moodboard", "label": "Moodboard"}],
    },
    "MarkRead": {"message_id": "5b0f6a52-6c1e-4f2b-9d3a-2e7c8b1d4f90"},
    "BulkApplicationDecision": {
        "action": "accept",
        "application_ids": [
            "0c6a1f9e-2b7d-4e3a-8f5c-9d1e2a3b4c5d",
            "7e2d4b1c-9a8f-4c3e-b5d6-1a2b3c4d5e6f",
        ],
    },
    "BulkShipmentCreate": {
        "shipments": [
            {
                "deal_id": "3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b",
                "carrier": "DHL",
                "tracking_number": "JD014600006281230704",
            }
        ]
    },
    "BudgetSet": {"amount_minor": 1500000, "currency": "EUR"},
    "WebhookCreate": {
        "url": "https://hooks.agency.example/briefboard",
        "event_types": ["application.created", "deal.*"],
        "description": "Agency dashboard",
    },
    "WebhookUpdate": {"event_types": ["deal.*"], "enabled": True},
}
