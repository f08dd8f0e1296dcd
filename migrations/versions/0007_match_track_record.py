"""Matching: the creator's track record counts on-time publishing, not only completed deals.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 10:12:00.000000

`match_accounts` gains `published_on_time` and `published_late`: the creator's published
deliverables (over all their deals) by the `late` flag set at publishing. The reliability
part of the score (`api.matching.model.reliability`) reads them with
`deals_completed`. The account view computes them too; a trigger on `deal_deliverables`
recounts the creator's figures whenever a deliverable is published or unpublished (or its
late flag changes), as the deals trigger does for completed deals, in the same transaction.
The covering candidate index is rebuilt to include them (matching stays index-only), and
a partial index bounds the most on-time posts anyone has, as for completed deals.
"""

# The SQL below is assembled from this module's own constants, never from input.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of 0006's definitions (and their successors), so that this revision
# neither changes nor depends on another one's text.
PLATFORMS = (
    "'instagram', 'tiktok', 'youtube', 'facebook', 'x', 'twitch', 'pinterest', 'snapchat', "
    "'linkedin', 'blog'"
)
FORMATS = (
    "'post', 'carousel', 'story', 'reel', 'short_video', 'long_video', 'live', 'blog_post', "
    "'ugc_video', 'ugc_photo'"
)
AGE_BUCKETS = ["13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]

_AUD = ",\n       ".join(f"coalesce(aud.slots[{i}], 0) AS aud_{i}" for i in range(1, 7))
_AGES = ",\n       ".join(
    f"match_permille(a.audience_ages -> '{name}')::smallint AS age_{i}"
    for i, name in enumerate(AGE_BUCKETS, start=1)
)
_FEES = ", ".join(f"max(r.fee) FILTER (WHERE r.fmt = {fmt.strip()})" for fmt in FORMATS.split(","))

_PUBLISHED_COLUMNS = """,
       coalesce(p.on_time, 0) AS published_on_time,
       coalesce(p.late, 0) AS published_late"""

_PUBLISHED_JOIN = """
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE NOT coalesce(dd.late, false))::integer AS on_time,
           count(*) FILTER (WHERE dd.late)::integer AS late
    FROM deals dl JOIN deal_deliverables dd ON dd.deal_id = dl.id
    WHERE dl.creator_id = a.creator_id AND dd.status = 'published'
) p ON true"""


def _account_source(track_record: bool) -> str:
    """The account view: as in 0006, with the publishing record when `track_record`."""
    return f"""
CREATE OR REPLACE VIEW match_account_source AS
SELECT a.id AS account_id,
       s.slot,
       a.creator_id,
       match_platform_code(a.platform) AS platform,
       a.followers,
       CASE WHEN a.followers > 0
            THEN round((a.avg_likes + a.avg_comments)::numeric / a.followers, 6)::float8
            ELSE 0::float8 END AS er,
       match_country_code(c.country) AS country,
       c.accepts_gifting,
       n.mask AS niche_mask,
       n.count AS niche_count,
       {_AUD},
       match_permille(a.audience_genders -> 'female')
         | (match_permille(a.audience_genders -> 'male') << 10)
         | (match_permille(a.audience_genders -> 'other') << 20) AS genders,
       {_AGES},
       fee.fees,
       match_currency_code(c.rate_card_currency) AS fee_currency,
       coalesce(d.completed, 0) AS deals_completed{_PUBLISHED_COLUMNS if track_record else ""}
FROM social_accounts a
JOIN creators c ON c.id = a.creator_id
CROSS JOIN LATERAL (
    SELECT coalesce(bit_or(1 << (t.code - 1)), 0) AS mask,
           count(DISTINCT t.code)::smallint AS count,
           coalesce(array_agg(DISTINCT t.code), '{{}}') AS codes
    FROM (SELECT match_niche_code(x) AS code FROM unnest(c.niches) x) t
    WHERE t.code IS NOT NULL
) n
CROSS JOIN LATERAL (
    SELECT array_agg((match_country_code(t.key)::integer << 10) | match_permille(t.value)
                     ORDER BY t.value::numeric DESC, t.key) AS slots
    FROM (SELECT e.key, e.value FROM jsonb_each(a.audience_countries) e
          WHERE match_country_code(e.key) IS NOT NULL
          ORDER BY e.value::numeric DESC, e.key LIMIT 6) t
) aud
CROSS JOIN LATERAL (
    SELECT CASE WHEN count(*) > 0 THEN ARRAY[{_FEES}]::bigint[] END AS fees
    FROM (SELECT x ->> 'format' AS fmt, (x ->> 'fee_minor')::bigint AS fee
          FROM jsonb_array_elements(c.rate_card) x
          WHERE x ->> 'platform' = a.platform) r
) fee
CROSS JOIN LATERAL unnest(ARRAY[0]::smallint[] || n.codes) s(slot)
LEFT JOIN LATERAL (
    SELECT count(*)::integer AS completed FROM deals dl
    WHERE dl.creator_id = a.creator_id AND dl.status = 'completed'
) d ON true{_PUBLISHED_JOIN if track_record else ""}
"""


ACCOUNT_COLUMNS_0006 = (
    "account_id, slot, creator_id, platform, country, followers, er, accepts_gifting, "
    "niche_mask, niche_count, genders, age_1, age_2, age_3, age_4, age_5, age_6, age_7, "
    "deals_completed, aud_1, aud_2, aud_3, aud_4, aud_5, aud_6, fee_currency, fees"
)
ACCOUNT_COLUMNS = ACCOUNT_COLUMNS_0006 + ", published_on_time, published_late"


def _refreshers(columns: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION match_refresh_account(p_account uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM match_accounts WHERE account_id = p_account;
    INSERT INTO match_accounts ({columns})
    SELECT {columns} FROM match_account_source WHERE account_id = p_account;
END $$;

CREATE OR REPLACE FUNCTION match_refresh_creator(p_creator uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM match_accounts WHERE creator_id = p_creator;
    INSERT INTO match_accounts ({columns})
    SELECT {columns} FROM match_account_source WHERE creator_id = p_creator;
END $$;
"""


TRACK_RECORD = """
CREATE FUNCTION match_recount_track_record(p_creator uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE match_accounts m
    SET deals_completed = d.completed, published_on_time = p.on_time, published_late = p.late
    FROM (SELECT count(*)::integer AS completed FROM deals
          WHERE creator_id = p_creator AND status = 'completed') d,
         (SELECT count(*) FILTER (WHERE NOT coalesce(dd.late, false))::integer AS on_time,
                 count(*) FILTER (WHERE dd.late)::integer AS late
          FROM deals dl JOIN deal_deliverables dd ON dd.deal_id = dl.id
          WHERE dl.creator_id = p_creator AND dd.status = 'published') p
    WHERE m.creator_id = p_creator
      AND (m.deals_completed, m.published_on_time, m.published_late)
          IS DISTINCT FROM (d.completed, p.on_time, p.late);
END $$;

CREATE OR REPLACE FUNCTION match_on_deal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM match_recount_track_record(OLD.creator_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.creator_id <> OLD.creator_id) THEN
        PERFORM match_recount_track_record(NEW.creator_id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION match_on_deal_deliverable() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    was_published boolean := TG_OP <> 'INSERT' AND OLD.status = 'published';
    is_published boolean := TG_OP <> 'DELETE' AND NEW.status = 'published';
BEGIN
    -- Only published deliverables count: other rows and other changes leave the record.
    IF TG_OP = 'UPDATE' AND was_published = is_published AND NOT is_published THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND was_published AND is_published
       AND OLD.late IS NOT DISTINCT FROM NEW.late AND OLD.deal_id = NEW.deal_id THEN
        RETURN NULL;
    END IF;
    IF was_published THEN
        PERFORM match_recount_track_record(dl.creator_id) FROM deals dl WHERE dl.id = OLD.deal_id;
    END IF;
    IF is_published AND NOT (was_published AND OLD.deal_id = NEW.deal_id) THEN
        PERFORM match_recount_track_record(dl.creator_id) FROM deals dl WHERE dl.id = NEW.deal_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER match_deal_deliverables
AFTER INSERT OR UPDATE OF status, late, deal_id OR DELETE ON deal_deliverables
FOR EACH ROW EXECUTE FUNCTION match_on_deal_deliverable();

DROP FUNCTION match_recount_deals(uuid);
"""

UNDO_TRACK_RECORD = """
DROP TRIGGER match_deal_deliverables ON deal_deliverables;

DROP FUNCTION match_on_deal_deliverable();

CREATE FUNCTION match_recount_deals(p_creator uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE match_accounts m SET deals_completed = d.completed
    FROM (SELECT count(*)::integer AS completed FROM deals
          WHERE creator_id = p_creator AND status = 'completed') d
    WHERE m.creator_id = p_creator AND m.deals_completed <> d.completed;
END $$;

CREATE OR REPLACE FUNCTION match_on_deal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM match_recount_deals(OLD.creator_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.creator_id <> OLD.creator_id) THEN
        PERFORM match_recount_deals(NEW.creator_id);
    END IF;
    RETURN NULL;
END $$;

DROP FUNCTION match_recount_track_record(uuid);
"""

BACKFILL = """
UPDATE match_accounts m SET published_on_time = p.on_time, published_late = p.late
FROM (SELECT dl.creator_id,
             count(*) FILTER (WHERE NOT coalesce(dd.late, false))::integer AS on_time,
             count(*) FILTER (WHERE dd.late)::integer AS late
      FROM deals dl JOIN deal_deliverables dd ON dd.deal_id = dl.id
      WHERE dd.status = 'published'
      GROUP BY dl.creator_id) p
WHERE m.creator_id = p.creator_id
"""

CANDIDATES_INCLUDE_0006 = [
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
    "aud_1",
    "aud_2",
    "aud_3",
    "aud_4",
    "aud_5",
    "aud_6",
    "fee_currency",
    "fees",
]
# Fixed-width, never null: right after `deals_completed`, before the arrays and nullables.
_AT = CANDIDATES_INCLUDE_0006.index("deals_completed") + 1
CANDIDATES_INCLUDE = [
    *CANDIDATES_INCLUDE_0006[:_AT],
    "published_on_time",
    "published_late",
    *CANDIDATES_INCLUDE_0006[_AT:],
]
CANDIDATES_KEY = ["slot", "platform", "country", "followers"]


def _statements(*scripts: str) -> list[str]:
    """One statement per blank-line separated block (asyncpg runs one at a time)."""
    return [block.strip() for script in scripts for block in script.split("\n\n") if block.strip()]


def upgrade() -> None:
    for column in ("published_on_time", "published_late"):
        op.add_column(
            "match_accounts",
            sa.Column(column, sa.Integer(), nullable=False, server_default=sa.text("0")),
        )
        op.alter_column("match_accounts", column, server_default=None)
    op.execute(BACKFILL)
    op.drop_index("ix_match_accounts_candidates", table_name="match_accounts")
    op.create_index(
        "ix_match_accounts_candidates",
        "match_accounts",
        CANDIDATES_KEY,
        unique=False,
        postgresql_include=CANDIDATES_INCLUDE,
    )
    op.create_index(
        "ix_match_accounts_published_on_time",
        "match_accounts",
        ["published_on_time"],
        unique=False,
        postgresql_where=sa.text("published_on_time > 0"),
    )
    for statement in _statements(
        _account_source(track_record=True), _refreshers(ACCOUNT_COLUMNS), TRACK_RECORD
    ):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(UNDO_TRACK_RECORD, _refreshers(ACCOUNT_COLUMNS_0006)):
        op.execute(statement)
    # A view cannot lose columns in place.
    op.execute("DROP VIEW match_account_source")
    op.execute(_account_source(track_record=False).strip())
    op.drop_index(
        "ix_match_accounts_published_on_time",
        table_name="match_accounts",
        postgresql_where=sa.text("published_on_time > 0"),
    )
    op.drop_index("ix_match_accounts_candidates", table_name="match_accounts")
    op.create_index(
        "ix_match_accounts_candidates",
        "match_accounts",
        CANDIDATES_KEY,
        unique=False,
        postgresql_include=CANDIDATES_INCLUDE_0006,
    )
    op.drop_column("match_accounts", "published_late")
    op.drop_column("match_accounts", "published_on_time")
