"""Who an event reaches: the one rule the event feed and the webhook dispatcher share.

An event is recorded with the parties of its object (`outbox_events.brand_id`, the brand of
the brief, application, invitation or deal; `creator_id`, the creator of the application,
invitation or deal). It reaches a party only if that party is one of them: never another
brand, never an unrelated creator.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Uuid, and_, literal, or_

from api.models.events import OutboxEvent


@dataclass(frozen=True, slots=True)
class Party:
    """A brand or a creator profile (exactly one is set), as subscriptions are owned."""

    brand_id: uuid.UUID | None = None
    creator_id: uuid.UUID | None = None


def reaches(
    party_brand_id: ColumnElement[Any], party_creator_id: ColumnElement[Any]
) -> ColumnElement[bool]:
    """SQL: the `outbox_events` row is about this party (columns or bound values)."""
    event = OutboxEvent.__table__.c  # type: ignore[attr-defined]
    return or_(
        and_(party_brand_id.is_not(None), event.brand_id == party_brand_id),
        and_(party_creator_id.is_not(None), event.creator_id == party_creator_id),
    )


def reaches_party(party: Party) -> ColumnElement[bool]:
    """`reaches` for one known party (the feed's reader)."""
    return reaches(literal(party.brand_id, Uuid()), literal(party.creator_id, Uuid()))
