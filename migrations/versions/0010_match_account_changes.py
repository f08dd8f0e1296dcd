"""Matching: a change log of the account match rows, for the in-memory creator index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:00:00.000000

Creators for a brief are now ranked in each worker's memory too
(`api.matching.creator_index`), which copies the accounts' match rows once and then
follows their changes, as the brief index follows `match_briefs` (0008):

- `match_account_changes`: one row per account whose `match_accounts` rows a transaction
  inserted, updated or deleted, with that transaction's id. Written by statement
  triggers on `match_accounts`, enabled ALWAYS (bulk writes with triggers off are logged
  too), and pruned with the brief log (same `match_index_state.pruned_below`).
- A TRUNCATE of `match_accounts` raises `match_index_state.generation`, as one of
  `match_briefs` does: every worker copies both tables again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = """
CREATE FUNCTION match_log_account_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO match_account_changes (account_id) SELECT DISTINCT account_id FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO match_account_changes (account_id) SELECT DISTINCT account_id FROM old_rows;
    ELSE
        INSERT INTO match_account_changes (account_id)
        SELECT account_id FROM new_rows UNION SELECT account_id FROM old_rows;
    END IF;
    RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER match_accounts_log_insert AFTER INSERT ON match_accounts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION match_log_account_changes();

CREATE TRIGGER match_accounts_log_update AFTER UPDATE ON match_accounts
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION match_log_account_changes();

CREATE TRIGGER match_accounts_log_delete AFTER DELETE ON match_accounts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION match_log_account_changes();

CREATE TRIGGER match_accounts_truncated AFTER TRUNCATE ON match_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION match_bump_generation();

ALTER TABLE match_accounts ENABLE ALWAYS TRIGGER match_accounts_truncated;

ALTER TABLE match_accounts ENABLE ALWAYS TRIGGER match_accounts_log_insert;

ALTER TABLE match_accounts ENABLE ALWAYS TRIGGER match_accounts_log_update;

ALTER TABLE match_accounts ENABLE ALWAYS TRIGGER match_accounts_log_delete;
"""


def _statements(*scripts: str) -> list[str]:
    return [block.strip() for script in scripts for block in script.split("\n\n") if block.strip()]


def upgrade() -> None:
    op.create_table(
        "match_account_changes",
        sa.Column(
            "xid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id())::text::bigint"),
            nullable=False,
        ),
        sa.Column("account_id", sa.Uuid(), nullable=False),
    )
    op.create_index("ix_match_account_changes_xid", "match_account_changes", ["xid"], unique=False)
    for statement in _statements(FUNCTIONS, TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    for name in ("log_insert", "log_update", "log_delete", "truncated"):
        op.execute(f"DROP TRIGGER match_accounts_{name} ON match_accounts")
    op.execute("DROP FUNCTION match_log_account_changes()")
    op.drop_index("ix_match_account_changes_xid", table_name="match_account_changes")
    op.drop_table("match_account_changes")
