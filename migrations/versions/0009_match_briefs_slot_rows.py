"""Matching: `match_briefs` keeps only its slot-0 rows; the candidate index goes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 06:00:00.000000

Briefs for a creator are ranked in each worker's memory (0008), which reads only the
slot-0 rows (one per open brief, platform and wanted tier). The niche-slot copies of each
row and the covering index `ix_match_briefs_candidates` served the SQL ranking that this
replaced: two thirds of the table's rows and an index of about its size, written with
every brief change and read by nothing. The refresh function now writes slot 0 only; the
other rows are deleted (the brief-change log is not written for them: no worker's copy
holds them).
"""

# The SQL below is assembled from this module's own constants, never from input.
# ruff: noqa: S608

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of 0006's column list.
BRIEF_COLUMNS = (
    "brief_id, slot, platform, tier, deadline, platform_mask, tier_mask, requires_gifting, "
    "niche_mask, niche_count, creator_mask, target_mask, gender_mask, has_age, "
    "age_w1, age_w2, age_w3, age_w4, age_w5, age_w6, age_w7, units_total, min_er, currency, "
    "row_units, row_units_total, creator_countries, target_countries, units, budget, "
    "row_budget, size_min, size_max"
)


def _refresh(slots: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION match_refresh_brief(p_brief uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM match_briefs WHERE brief_id = p_brief;
    INSERT INTO match_briefs ({BRIEF_COLUMNS})
    SELECT {BRIEF_COLUMNS} FROM match_brief_source
    WHERE brief_id = p_brief AND status = 'open'{slots};
END $$"""


INDEX_INCLUDE = [
    "brief_id",
    "deadline",
    "platform_mask",
    "tier_mask",
    "requires_gifting",
    "niche_mask",
    "niche_count",
    "creator_mask",
    "target_mask",
    "gender_mask",
    "has_age",
    "age_w1",
    "age_w2",
    "age_w3",
    "age_w4",
    "age_w5",
    "age_w6",
    "age_w7",
    "min_er",
    "currency",
    "row_units",
    "row_units_total",
    "creator_countries",
    "target_countries",
    "row_budget",
    "size_min",
    "size_max",
]


def upgrade() -> None:
    op.execute(_refresh(" AND slot = 0"))
    op.drop_index("ix_match_briefs_candidates", table_name="match_briefs")
    op.execute("ALTER TABLE match_briefs DISABLE TRIGGER match_briefs_log_delete")
    op.execute("DELETE FROM match_briefs WHERE slot <> 0")
    op.execute("ALTER TABLE match_briefs ENABLE ALWAYS TRIGGER match_briefs_log_delete")


def downgrade() -> None:
    op.execute(_refresh(""))
    op.execute("ALTER TABLE match_briefs DISABLE TRIGGER match_briefs_log_insert")
    op.execute(
        f"INSERT INTO match_briefs ({BRIEF_COLUMNS}) SELECT {BRIEF_COLUMNS}"
        " FROM match_brief_source WHERE status = 'open' AND slot <> 0"
    )
    op.execute("ALTER TABLE match_briefs ENABLE ALWAYS TRIGGER match_briefs_log_insert")
    op.create_index(
        "ix_match_briefs_candidates",
        "match_briefs",
        ["slot", "platform", "tier"],
        unique=False,
        postgresql_include=INDEX_INCLUDE,
    )
