"""Access notifications: every change to who may do what raises `access_state.version` and
is announced on the `access_changed` channel, at the commit of the transaction that made it.

Each worker keeps a cache of callers (`api.services.access_cache`) that forgets an entry
when its notification arrives. A hot read returns the version with its rows (one snapshot):
if the worker has not yet seen that version, the caller is read again, so a cached caller
is never used past a change the database had already committed.

Payloads: `u:<user id>:<version>` (the account: role, email, suspension, token generation;
its brand memberships) and `t:<sha-256 of an API token>:<version>` (the token: revocation,
scopes, brand, expiry). The triggers are deferred constraint triggers: they run at commit,
so the one-row `access_state` is locked only for the end of the transaction (versions
follow commit order, as notifications do), and a rolled-back change announces nothing.

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-07 14:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEXT_VERSION = "UPDATE access_state SET version = version + 1 RETURNING version INTO v;"


def _function(name: str, kind: str, column: str) -> str:
    """A trigger function announcing the object `column` names, in its old and new row."""
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v bigint;
    BEGIN
        {_NEXT_VERSION}
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify('access_changed', '{kind}:' || OLD.{column} || ':' || v);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify('access_changed', '{kind}:' || NEW.{column} || ':' || v);
        END IF;
        RETURN NULL;
    END $$;
    """


def _trigger(table: str, events: str, function: str) -> str:
    return (
        f"CREATE CONSTRAINT TRIGGER {table}_access_changed AFTER {events} ON {table}"
        f" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {function}()"
    )


def upgrade() -> None:
    op.create_table(
        "access_state",
        sa.Column("id", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("id", name=op.f("ck_access_state_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_state")),
    )
    op.execute("INSERT INTO access_state DEFAULT VALUES")
    op.execute(_function("access_changed_account", "u", "id"))
    op.execute(_function("access_changed_membership", "u", "user_id"))
    op.execute(_function("access_changed_api_token", "t", "token_hash"))
    # Only the columns a caller is made of (`tokens.Caller`): a sign-in does not notify.
    op.execute(
        _trigger(
            "users",
            "UPDATE OF id, email, role, created_at, suspended_at, token_generation OR DELETE",
            "access_changed_account",
        )
    )
    op.execute(
        _trigger("brand_memberships", "INSERT OR UPDATE OR DELETE", "access_changed_membership")
    )
    # Not `last_used_at`: every request with the token sets it.
    op.execute(
        _trigger(
            "api_tokens",
            "UPDATE OF token_hash, user_id, scopes, brand_id, expires_at, revoked_at OR DELETE",
            "access_changed_api_token",
        )
    )


def downgrade() -> None:
    for table in ("api_tokens", "brand_memberships", "users"):
        op.execute(f"DROP TRIGGER {table}_access_changed ON {table}")
    for function in ("api_token", "membership", "account"):
        op.execute(f"DROP FUNCTION access_changed_{function}()")
    op.drop_table("access_state")
