"""A deal's own timeline: what a party reports or agrees to happens while the deal exists.

Times a party reports (a post going live, a parcel shipped or delivered) lie between the
deal's creation and now; dates a party proposes (publish dates, due dates, an ad window)
are not before the day the deal was made. A client's clock may be a little off either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from api.errors import FieldError
from api.models.base import CLOCK_SKEW
from api.models.deals import Deal

Loc = Sequence[str | int]


def moment_errors(
    deal: Deal, moments: Mapping[str, datetime | None], now: datetime
) -> list[FieldError]:
    """One error per reported time before the deal existed or in the future."""
    errors = []
    for name, value in moments.items():
        if value is None:
            continue
        if value > now + CLOCK_SKEW:
            errors.append(FieldError(loc=["body", name], msg="is in the future", type="range"))
        elif value < deal.created_at - CLOCK_SKEW:
            errors.append(
                FieldError(
                    loc=["body", name], msg="is before the deal was made", type="before_deal"
                )
            )
    return errors


def date_errors(deal: Deal, dates: Sequence[tuple[Loc, date | None]]) -> list[FieldError]:
    """One error per proposed date before the day the deal was made (UTC)."""
    first_day = (deal.created_at - CLOCK_SKEW).date()
    return [
        FieldError(
            loc=["body", *loc],
            msg=f"is before the deal was made ({first_day.isoformat()})",
            type="before_deal",
        )
        for loc, value in dates
        if value is not None and value < first_day
    ]
