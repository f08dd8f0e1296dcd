"""Matching: a change log of the brief match rows, for the in-memory brief index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 05:00:00.000000

Briefs for a creator are ranked in each worker's memory (`api.matching.brief_index`),
which copies the open briefs' match rows once and then follows their changes:

- `match_brief_changes`: one row per brief whose `match_briefs` rows a transaction
  inserted, updated or deleted, with that transaction's id (`xid`, as a bigint). Written by
  statement triggers on `match_briefs`, in the same transaction as the change; enabled
  ALWAYS, so that writes made with triggers off (`session_replication_role = replica`,
  as bulk loaders and logical replication do) are logged too.
- `match_index_state`: one row. `generation` is raised by a TRUNCATE of `match_briefs`
  (which the insert, update and delete triggers do not see; by an always-enabled trigger),
  and may be raised by hand; a worker holding an older generation copies everything again.
  `pruned_below`: change rows of transactions below it may have been deleted (by the
  maintenance task, an hour after a later cut-off was recorded), so a worker whose last
  sync is older copies everything again; `next_prune` and `next_prune_at` hold the next
  cut-off and when it applies.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = """
CREATE FUNCTION match_log_brief_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO match_brief_changes (brief_id) SELECT DISTINCT brief_id FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO match_brief_changes (brief_id) SELECT DISTINCT brief_id FROM old_rows;
    ELSE
        INSERT INTO match_brief_changes (brief_id)
        SELECT brief_id FROM new_rows UNION SELECT brief_id FROM old_rows;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION match_bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE match_index_state SET generation = generation + 1;
    RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER match_briefs_log_insert AFTER INSERT ON match_briefs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION match_log_brief_changes();

CREATE TRIGGER match_briefs_log_update AFTER UPDATE ON match_briefs
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION match_log_brief_changes();

CREATE TRIGGER match_briefs_log_delete AFTER DELETE ON match_briefs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION match_log_brief_changes();

CREATE TRIGGER match_briefs_truncated AFTER TRUNCATE ON match_briefs
    FOR EACH STATEMENT EXECUTE FUNCTION match_bump_generation();

ALTER TABLE match_briefs ENABLE ALWAYS TRIGGER match_briefs_truncated;

ALTER TABLE match_briefs ENABLE ALWAYS TRIGGER match_briefs_log_insert;

ALTER TABLE match_briefs ENABLE ALWAYS TRIGGER match_briefs_log_update;

ALTER TABLE match_briefs ENABLE ALWAYS TRIGGER match_briefs_log_delete;
"""


def _statements(*scripts: str) -> list[str]:
    return [block.strip() for script in scripts for block in script.split("\n\n") if block.strip()]


def upgrade() -> None:
    op.create_table(
        "match_brief_changes",
        sa.Column(
            "xid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id())::text::bigint"),
            nullable=False,
        ),
        sa.Column("brief_id", sa.Uuid(), nullable=False),
    )
    op.create_index("ix_match_brief_changes_xid", "match_brief_changes", ["xid"], unique=False)
    op.create_table(
        "match_index_state",
        sa.Column("id", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("generation", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("pruned_below", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_prune", sa.BigInteger(), nullable=True),
        sa.Column("next_prune_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id", name=op.f("ck_match_index_state_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_index_state")),
    )
    op.execute("INSERT INTO match_index_state DEFAULT VALUES")
    for statement in _statements(FUNCTIONS, TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    for name in ("log_insert", "log_update", "log_delete", "truncated"):
        op.execute(f"DROP TRIGGER match_briefs_{name} ON match_briefs")
    op.execute("DROP FUNCTION match_bump_generation()")
    op.execute("DROP FUNCTION match_log_brief_changes()")
    op.drop_table("match_index_state")
    op.drop_index("ix_match_brief_changes_xid", table_name="match_brief_changes")
    op.drop_table("match_brief_changes")
