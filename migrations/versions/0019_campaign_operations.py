"""Campaign operations (#18): withdrawable amendments, drafts checked for disclosure.

Revision ID: 0019
Revises: 0011
Create Date: 2026-12-07 11:30:00.000000

A terms proposal on an active deal (an amendment) can be withdrawn by its proposer: the
version keeps its place in the history, marked withdrawn (never together with accepted).
A draft records the paid-partnership label its creator intends, the disclosure check of its
caption, and whether the brand approved it knowing the check failed. A brief may have a
campaign budget (private to its brand, so a table of its own rather than a brief column).
A metrics reading records the date its figures were true (`as_of`; existing readings: the
day they were recorded).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deal_terms", sa.Column("withdrawn_by_user_id", sa.Uuid(), nullable=True))
    op.add_column(
        "deal_terms", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_deal_terms_withdrawn_by_user_id_users"),
        "deal_terms",
        "users",
        ["withdrawn_by_user_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_check_constraint(
        op.f("ck_deal_terms_accepted_or_withdrawn"),
        "deal_terms",
        "accepted_at IS NULL OR withdrawn_at IS NULL",
    )

    op.add_column(
        "deliverable_submissions",
        sa.Column("paid_partnership_label", sa.Boolean(), server_default="false", nullable=False),
    )
    op.add_column(
        "deliverable_submissions",
        sa.Column("disclosure_check", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column(
        "deliverable_submissions",
        sa.Column(
            "disclosure_gaps_acknowledged", sa.Boolean(), server_default="false", nullable=False
        ),
    )

    op.create_table(
        "brief_budgets",
        sa.Column("brief_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("updated_by_user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["brief_id"],
            ["briefs.id"],
            name=op.f("fk_brief_budgets_brief_id_briefs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["users.id"],
            name=op.f("fk_brief_budgets_updated_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("brief_id", name=op.f("pk_brief_budgets")),
    )

    op.add_column("deliverable_metrics", sa.Column("as_of", sa.Date(), nullable=True))
    op.execute("UPDATE deliverable_metrics SET as_of = (recorded_at AT TIME ZONE 'UTC')::date")
    op.alter_column("deliverable_metrics", "as_of", nullable=False)


def downgrade() -> None:
    op.drop_column("deliverable_metrics", "as_of")
    op.drop_table("brief_budgets")
    op.drop_column("deliverable_submissions", "disclosure_gaps_acknowledged")
    op.drop_column("deliverable_submissions", "disclosure_check")
    op.drop_column("deliverable_submissions", "paid_partnership_label")
    op.drop_constraint(op.f("ck_deal_terms_accepted_or_withdrawn"), "deal_terms", type_="check")
    op.drop_constraint(
        op.f("fk_deal_terms_withdrawn_by_user_id_users"), "deal_terms", type_="foreignkey"
    )
    op.drop_column("deal_terms", "withdrawn_at")
    op.drop_column("deal_terms", "withdrawn_by_user_id")
