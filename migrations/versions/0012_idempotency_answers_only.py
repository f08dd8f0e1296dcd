"""Idempotency keys hold answers only: no claim rows, no claim expiry.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 11:30:00.000000

A key is no longer claimed in a transaction of its own before its request runs: the
request's transaction takes an advisory lock on it and stores the answer with the effect
(api/idempotency.py). So a row always holds an answer, and `locked_until` (how long a
claim kept retries out) has no use. Claim rows left by the old scheme (a request that was
running or died mid-way) are deleted: their requests either committed nothing, or were
stored, under the old scheme, as answers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_keys WHERE response_status IS NULL")
    op.alter_column("idempotency_keys", "response_status", nullable=False)
    op.drop_column("idempotency_keys", "locked_until")


def downgrade() -> None:
    op.add_column(
        "idempotency_keys",
        sa.Column(
            "locked_until",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.alter_column("idempotency_keys", "locked_until", server_default=None)
    op.alter_column("idempotency_keys", "response_status", nullable=True)
