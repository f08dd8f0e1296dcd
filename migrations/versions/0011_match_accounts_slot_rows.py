"""Matching: `match_accounts` keeps only its slot-0 rows; its SQL-ranking indexes go.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00.000000

Creators for a brief and the creator directory are served from each worker's creator
index (0010), which reads only the slot-0 rows (one per social account). The niche-slot
copies of each row served the SQL ranking and directory that this replaced, and so did
four indexes: the covering `ix_match_accounts_candidates` (about the table's size),
`ix_match_accounts_slot_followers` (the directory's order) and the two partial indexes
that bounded reliability for pruning. All were written with every account change and
read by nothing. The refresh functions now write slot 0 only; the other rows are deleted
(the account-change log is not written for them: no worker's copy holds them).
"""

# The SQL below is assembled from this module's own constants, never from input.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of 0007's column and index lists.
ACCOUNT_COLUMNS = (
    "account_id, slot, creator_id, platform, country, followers, er, accepts_gifting, "
    "niche_mask, niche_count, genders, age_1, age_2, age_3, age_4, age_5, age_6, age_7, "
    "deals_completed, aud_1, aud_2, aud_3, aud_4, aud_5, aud_6, fee_currency, fees, "
    "published_on_time, published_late"
)
CANDIDATES_KEY = ["slot", "platform", "country", "followers"]
CANDIDATES_INCLUDE = [
    "creator_id",
    "account_id",
    "er",
    "accepts_gifting",
    "niche_mask",
    "niche_count",
    "genders",
    "age_1",
    "age_2",
    "age_3",
    "age_4",
    "age_5",
    "age_6",
    "age_7",
    "deals_completed",
    "published_on_time",
    "published_late",
    "aud_1",
    "aud_2",
    "aud_3",
    "aud_4",
    "aud_5",
    "aud_6",
    "fee_currency",
    "fees",
]
PARTIAL = {
    "ix_match_accounts_deals_completed": "deals_completed",
    "ix_match_accounts_published_on_time": "published_on_time",
}


def _refresh(function: str, key: str, slots: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {function}(p_key uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM match_accounts WHERE {key} = p_key;
    INSERT INTO match_accounts ({ACCOUNT_COLUMNS})
    SELECT {ACCOUNT_COLUMNS} FROM match_account_source WHERE {key} = p_key{slots};
END $$"""


def _refreshers(slots: str) -> None:
    # The argument names of 0006 (p_account, p_creator) are kept by CREATE OR REPLACE
    # only if unchanged: replace each with its own name.
    for function, key, arg in (
        ("match_refresh_account", "account_id", "p_account"),
        ("match_refresh_creator", "creator_id", "p_creator"),
    ):
        op.execute(_refresh(function, key, slots).replace("p_key", arg))


def upgrade() -> None:
    _refreshers(" AND slot = 0")
    op.drop_index("ix_match_accounts_candidates", table_name="match_accounts")
    op.drop_index("ix_match_accounts_slot_followers", table_name="match_accounts")
    for name, column in PARTIAL.items():
        op.drop_index(name, table_name="match_accounts", postgresql_where=sa.text(f"{column} > 0"))
    op.execute("ALTER TABLE match_accounts DISABLE TRIGGER match_accounts_log_delete")
    op.execute("DELETE FROM match_accounts WHERE slot <> 0")
    op.execute("ALTER TABLE match_accounts ENABLE ALWAYS TRIGGER match_accounts_log_delete")


def downgrade() -> None:
    _refreshers("")
    op.execute("ALTER TABLE match_accounts DISABLE TRIGGER match_accounts_log_insert")
    op.execute(
        f"INSERT INTO match_accounts ({ACCOUNT_COLUMNS}) SELECT {ACCOUNT_COLUMNS}"
        " FROM match_account_source WHERE slot <> 0"
    )
    op.execute("ALTER TABLE match_accounts ENABLE ALWAYS TRIGGER match_accounts_log_insert")
    for name, column in PARTIAL.items():
        op.create_index(
            name,
            "match_accounts",
            [column],
            unique=False,
            postgresql_where=sa.text(f"{column} > 0"),
        )
    op.create_index(
        "ix_match_accounts_slot_followers", "match_accounts", ["slot", "followers"], unique=False
    )
    op.create_index(
        "ix_match_accounts_candidates",
        "match_accounts",
        CANDIDATES_KEY,
        unique=False,
        postgresql_include=CANDIDATES_INCLUDE,
    )
