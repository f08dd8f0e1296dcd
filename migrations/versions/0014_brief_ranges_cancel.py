"""Briefs: a cancelled draft may keep the ranges it had, so every draft can be cancelled.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-07 11:30:00.000000

The fee range and follower bounds were checked for every brief that is not a draft, so
cancelling a draft stored with `fee_min_minor > fee_max_minor` (or min followers above
max) broke the constraint and the draft could not be cancelled. Drafts now get their ranges
checked when written; cancelled briefs are exempt like drafts, as `published_complete`
already treats them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RANGES = {
    "ck_briefs_fee_range": "(fee_min_minor <= fee_max_minor) IS NOT FALSE",
    "ck_briefs_follower_bounds": "(min_followers <= max_followers) IS NOT FALSE",
}


def _recreate(exempt: str) -> None:
    for name, condition in RANGES.items():
        op.drop_constraint(op.f(name), "briefs", type_="check")
        op.create_check_constraint(op.f(name), "briefs", f"{exempt} OR {condition}")


def upgrade() -> None:
    _recreate("status IN ('draft', 'cancelled')")


def downgrade() -> None:
    _recreate("status = 'draft'")
