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

Either-or deliverables: a brief deliverable may list `alternatives` (other platform and
format options), and an application records the creator's `deliverable_choices`. Matching
counts every option on its own platform: `match_brief_source` (0006) now reads the brief's
units per platform and format from `match_brief_deliverable_options` (each deliverable's
options), while `units_total`, the denominator of each platform's budget share, still counts
each deliverable once. The view is 0006's own text with those two sources replaced (read
from that frozen revision, each replacement checked).
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPTIONS_VIEW = """
CREATE VIEW match_brief_deliverable_options AS
SELECT d.brief_id, d.platform, d.format, d.quantity FROM brief_deliverables d
UNION ALL
SELECT d.brief_id, o ->> 'platform', o ->> 'format', d.quantity
FROM brief_deliverables d
CROSS JOIN LATERAL jsonb_array_elements(d.alternatives) o
"""
_UNITS_TOTAL = "coalesce(sum(q.units), 0)::integer AS units_total"
_UNITS_TOTAL_ONCE = (
    "(SELECT coalesce(sum(d0.quantity), 0)::integer FROM brief_deliverables d0"
    " WHERE d0.brief_id = b.id) AS units_total"
)


def _brief_source_0006() -> str:
    """`match_brief_source` as revision 0006 created it."""
    path = Path(__file__).with_name("0006_matching.py")
    spec = importlib.util.spec_from_file_location("briefboard_migration_0006", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source: str = module.BRIEF_SOURCE
    return source.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1)


def _brief_source_with_options() -> str:
    source = _brief_source_0006()
    assert source.count(_UNITS_TOTAL) == 1
    assert source.count("FROM brief_deliverables d") == 3
    source = source.replace("FROM brief_deliverables d", "FROM match_brief_deliverable_options d")
    # After the sources: this one reads the deliverables themselves, once each.
    return source.replace(_UNITS_TOTAL, _UNITS_TOTAL_ONCE)


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

    op.add_column(
        "brief_deliverables",
        sa.Column(
            "alternatives",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
    )
    op.add_column(
        "applications",
        sa.Column(
            "deliverable_choices",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
    )
    op.execute(OPTIONS_VIEW)
    op.execute(_brief_source_with_options())


def downgrade() -> None:
    op.execute(_brief_source_0006())
    op.execute("DROP VIEW match_brief_deliverable_options")
    op.drop_column("applications", "deliverable_choices")
    op.drop_column("brief_deliverables", "alternatives")
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
