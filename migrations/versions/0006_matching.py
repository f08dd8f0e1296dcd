"""Matching: denormalized match tables kept by triggers, with covering indexes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 23:57:55.786329

`match_accounts` (one row per social account and slot: 0, and each niche of its creator)
and `match_briefs` (one row per open brief, slot and platform) hold the settings-free facts
the scoring model needs, in compact codes (see `api.models.matching`). Two views compute
them from the source tables (`match_account_source`, `match_brief_source`); triggers on
creators, social accounts, deals, briefs and brief deliverables rewrite the affected rows
in the same transaction as every write, so the tables are never stale, whichever worker
or service wrote. Each table has one covering b-tree whose key is the candidate scan
(slot, platform[, followers]) and whose included columns are everything the hard filters
and the score read, so matching runs as index-only scans over the candidate ranges.
"""

# The SQL below is assembled from this module's own constants, never from input.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Code tables, as of this revision (api.models.matching uses the same order).
PLATFORMS = (
    "'instagram', 'tiktok', 'youtube', 'facebook', 'x', 'twitch', 'pinterest', 'snapchat', "
    "'linkedin', 'blog'"
)
NICHES = (
    "'beauty', 'fashion', 'fitness', 'food', 'travel', 'tech', 'gaming', 'parenting', "
    "'finance', 'home', 'pets', 'health', 'sports', 'music', 'art', 'education', 'lifestyle', "
    "'automotive', 'business', 'entertainment'"
)
FORMATS = (
    "'post', 'carousel', 'story', 'reel', 'short_video', 'long_video', 'live', 'blog_post', "
    "'ugc_video', 'ugc_photo'"
)
TIERS = "'nano', 'micro', 'macro', 'mega'"
AGE_BUCKETS = [
    ("13-17", 13, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, 100),
]
NO_NICHE_SLOT = 21

HELPERS = f"""
CREATE FUNCTION match_platform_code(p text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT array_position(ARRAY[{PLATFORMS}]::text[], p)::smallint $$;

CREATE FUNCTION match_niche_code(n text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT array_position(ARRAY[{NICHES}]::text[], n)::smallint $$;

CREATE FUNCTION match_format_index(f text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (array_position(ARRAY[{FORMATS}]::text[], f) - 1)::smallint $$;

CREATE FUNCTION match_tier_bit(t text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT 1 << (array_position(ARRAY[{TIERS}]::text[], t) - 1) $$;

CREATE FUNCTION match_country_code(c text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN c ~ '^[A-Z]{{2}}$'
    THEN ((ascii(substr(c, 1, 1)) - 65) * 26 + ascii(substr(c, 2, 1)) - 65)::smallint END $$;

CREATE FUNCTION match_currency_code(c text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN c ~ '^[A-Z]{{3}}$'
    THEN (((ascii(substr(c, 1, 1)) - 65) * 26 + ascii(substr(c, 2, 1)) - 65) * 26
          + ascii(substr(c, 3, 1)) - 65)::smallint END $$;

-- A share in percent (a JSON number) as permille; absent: 0.
CREATE FUNCTION match_permille(v jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT coalesce(least(1000, greatest(0, round(v::numeric * 10))), 0)::integer $$;
"""

_AUD = ",\n       ".join(f"coalesce(aud.slots[{i}], 0) AS aud_{i}" for i in range(1, 7))
_AGES = ",\n       ".join(
    f"match_permille(a.audience_ages -> '{name}')::smallint AS age_{i}"
    for i, (name, _, _) in enumerate(AGE_BUCKETS, start=1)
)
_FEES = ", ".join(f"max(r.fee) FILTER (WHERE r.fmt = {fmt.strip()})" for fmt in FORMATS.split(","))

ACCOUNT_SOURCE = f"""
CREATE VIEW match_account_source AS
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
       coalesce(d.completed, 0) AS deals_completed
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
) d ON true
"""

_WEIGHTS = ",\n       ".join(
    f"CASE WHEN ag.has_age THEN round(1000.0 * greatest(0, least({hi}, ag.hi) "
    f"- greatest({lo}, ag.lo) + 1) / {hi - lo + 1}) ELSE 0 END::smallint AS age_w{i}"
    for i, (_, lo, hi) in enumerate(AGE_BUCKETS, start=1)
)

BRIEF_SOURCE = f"""
CREATE VIEW match_brief_source AS
SELECT b.id AS brief_id,
       s.slot,
       pl.platform,
       tr.tier,
       b.status,
       b.application_deadline AS deadline,
       pm.mask AS platform_mask,
       CASE WHEN b.min_followers IS NULL AND b.max_followers IS NULL
            THEN tm.mask ELSE 0 END::smallint AS tier_mask,
       b.min_followers AS size_min,
       b.max_followers AS size_max,
       coalesce(b.min_engagement_rate::float8, 0) AS min_er,
       cc.codes AS creator_countries,
       cc.mask AS creator_mask,
       b.compensation_type = 'gifted' AS requires_gifting,
       n.mask AS niche_mask,
       n.count AS niche_count,
       tc.codes AS target_countries,
       tc.mask AS target_mask,
       gm.mask AS gender_mask,
       ag.has_age,
       {_WEIGHTS},
       bg.budget,
       coalesce(match_currency_code(b.currency), -1)::smallint AS currency,
       u.units || u.platform_units AS units,
       u.units_total,
       ru.packed AS row_units,
       ru.total AS row_units_total,
       CASE WHEN u.units_total > 0 THEN (bg.budget * ru.total)::float8 / u.units_total END
         AS row_budget
FROM briefs b
CROSS JOIN LATERAL (
    SELECT coalesce(bit_or(1 << (t.code - 1)), 0) AS mask,
           array_agg(DISTINCT t.code) AS codes
    FROM (SELECT match_platform_code(x) AS code FROM unnest(b.platforms) x) t
    WHERE t.code IS NOT NULL
) pm
CROSS JOIN LATERAL (
    SELECT coalesce(bit_or(match_tier_bit(x)), 0) AS mask FROM unnest(b.tiers) x
) tm
CROSS JOIN LATERAL (
    SELECT coalesce(bit_or(1 << (t.code - 1)), 0) AS mask,
           count(DISTINCT t.code)::smallint AS count,
           coalesce(array_agg(DISTINCT t.code), '{{}}') AS codes
    FROM (SELECT match_niche_code(x) AS code FROM unnest(b.niches) x) t
    WHERE t.code IS NOT NULL
) n
CROSS JOIN LATERAL (
    SELECT coalesce(array_agg(DISTINCT match_country_code(x)), '{{}}')::smallint[] AS codes,
           coalesce(bit_or(1::bigint << (match_country_code(x) % 63)), 0) AS mask
    FROM unnest(b.creator_countries) x WHERE match_country_code(x) IS NOT NULL
) cc
CROSS JOIN LATERAL (
    SELECT coalesce(array_agg(DISTINCT match_country_code(x)), '{{}}')::smallint[] AS codes,
           coalesce(bit_or(1::bigint << (match_country_code(x) % 63)), 0) AS mask
    FROM jsonb_array_elements_text(coalesce(b.target_audience -> 'countries', '[]')) x
    WHERE match_country_code(x) IS NOT NULL
) tc
CROSS JOIN LATERAL (
    SELECT coalesce(bit_or(CASE x WHEN 'female' THEN 1 WHEN 'male' THEN 2
                                   WHEN 'other' THEN 4 ELSE 0 END), 0)::smallint AS mask
    FROM jsonb_array_elements_text(coalesce(b.target_audience -> 'genders', '[]')) x
) gm
CROSS JOIN LATERAL (
    SELECT (b.target_audience ->> 'age_min') IS NOT NULL
             OR (b.target_audience ->> 'age_max') IS NOT NULL AS has_age,
           coalesce((b.target_audience ->> 'age_min')::integer, 13) AS lo,
           coalesce((b.target_audience ->> 'age_max')::integer, 100) AS hi
) ag
CROSS JOIN LATERAL (
    SELECT array_agg(coalesce(q.units, 0)::smallint ORDER BY k.i) AS units,
           (SELECT array_agg(coalesce(p.units, 0)::smallint ORDER BY k2.i)
            FROM generate_series(1, 10) k2(i)
            LEFT JOIN (SELECT match_platform_code(d.platform) AS i, sum(d.quantity) AS units
                       FROM brief_deliverables d WHERE d.brief_id = b.id GROUP BY 1) p
              ON p.i = k2.i) AS platform_units,
           coalesce(sum(q.units), 0)::integer AS units_total
    FROM generate_series(1, 100) k(i)
    LEFT JOIN (SELECT (match_platform_code(d.platform) - 1) * 10
                        + match_format_index(d.format) + 1 AS i,
                      sum(d.quantity) AS units
               FROM brief_deliverables d WHERE d.brief_id = b.id GROUP BY 1) q ON q.i = k.i
) u
CROSS JOIN LATERAL unnest(
    ARRAY[0]::smallint[]
    || CASE WHEN n.count = 0 THEN ARRAY[{NO_NICHE_SLOT}]::smallint[] ELSE n.codes END
) s(slot)
CROSS JOIN LATERAL (
    SELECT CASE WHEN b.compensation_type IN ('paid', 'hybrid') AND b.fee_max_minor IS NOT NULL
                THEN b.fee_max_minor::float8
                WHEN b.compensation_type IN ('gifted', 'hybrid')
                THEN (b.gifted_product ->> 'retail_value_minor')::float8 END AS budget
) bg
CROSS JOIN LATERAL unnest(coalesce(pm.codes, ARRAY[0]::smallint[])) pl(platform)
CROSS JOIN LATERAL (
    -- The row's own platform: units per format packed 6 bits each, and their sum.
    SELECT coalesce(sum(q.units << (6 * q.fmt)), 0)::bigint AS packed,
           coalesce(sum(q.units), 0)::smallint AS total
    FROM (SELECT match_format_index(d.format) AS fmt, sum(d.quantity)::bigint AS units
          FROM brief_deliverables d
          WHERE d.brief_id = b.id AND match_platform_code(d.platform) = pl.platform
          GROUP BY 1) q
) ru
CROSS JOIN LATERAL unnest(
    CASE WHEN b.min_followers IS NOT NULL OR b.max_followers IS NOT NULL OR tm.mask = 0
         THEN ARRAY[0]::smallint[]
         ELSE ARRAY(SELECT (1 << i)::smallint FROM generate_series(0, 3) i
                    WHERE tm.mask & (1 << i) <> 0) END
) tr(tier)
"""

ACCOUNT_COLUMNS = (
    "account_id, slot, creator_id, platform, country, followers, er, accepts_gifting, "
    "niche_mask, niche_count, genders, age_1, age_2, age_3, age_4, age_5, age_6, age_7, "
    "deals_completed, aud_1, aud_2, aud_3, aud_4, aud_5, aud_6, fee_currency, fees"
)
BRIEF_COLUMNS = (
    "brief_id, slot, platform, tier, deadline, platform_mask, tier_mask, requires_gifting, "
    "niche_mask, niche_count, creator_mask, target_mask, gender_mask, has_age, "
    "age_w1, age_w2, age_w3, age_w4, age_w5, age_w6, age_w7, units_total, min_er, currency, "
    "row_units, row_units_total, creator_countries, target_countries, units, budget, "
    "row_budget, size_min, size_max"
)

TRIGGERS = f"""
CREATE FUNCTION match_refresh_account(p_account uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM match_accounts WHERE account_id = p_account;
    INSERT INTO match_accounts ({ACCOUNT_COLUMNS})
    SELECT {ACCOUNT_COLUMNS} FROM match_account_source WHERE account_id = p_account;
END $$;

CREATE FUNCTION match_refresh_creator(p_creator uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM match_accounts WHERE creator_id = p_creator;
    INSERT INTO match_accounts ({ACCOUNT_COLUMNS})
    SELECT {ACCOUNT_COLUMNS} FROM match_account_source WHERE creator_id = p_creator;
END $$;

CREATE FUNCTION match_recount_deals(p_creator uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE match_accounts m SET deals_completed = d.completed
    FROM (SELECT count(*)::integer AS completed FROM deals
          WHERE creator_id = p_creator AND status = 'completed') d
    WHERE m.creator_id = p_creator AND m.deals_completed <> d.completed;
END $$;

CREATE FUNCTION match_refresh_brief(p_brief uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM match_briefs WHERE brief_id = p_brief;
    INSERT INTO match_briefs ({BRIEF_COLUMNS})
    SELECT {BRIEF_COLUMNS} FROM match_brief_source
    WHERE brief_id = p_brief AND status = 'open';
END $$;

CREATE FUNCTION match_on_social_account() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM match_accounts WHERE account_id = OLD.id;
    ELSE
        PERFORM match_refresh_account(NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION match_on_creator() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM match_refresh_creator(NEW.id);
    RETURN NULL;
END $$;

CREATE FUNCTION match_on_deal() RETURNS trigger
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

CREATE FUNCTION match_on_brief() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM match_refresh_brief(NEW.id);
    RETURN NULL;
END $$;

CREATE FUNCTION match_on_brief_deliverable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM match_refresh_brief(OLD.brief_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.brief_id <> OLD.brief_id) THEN
        PERFORM match_refresh_brief(NEW.brief_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER match_social_accounts
AFTER INSERT OR UPDATE OR DELETE ON social_accounts
FOR EACH ROW EXECUTE FUNCTION match_on_social_account();

CREATE TRIGGER match_creators
AFTER UPDATE OF niches, country, accepts_gifting, rate_card, rate_card_currency ON creators
FOR EACH ROW
WHEN (OLD.niches IS DISTINCT FROM NEW.niches
      OR OLD.country IS DISTINCT FROM NEW.country
      OR OLD.accepts_gifting IS DISTINCT FROM NEW.accepts_gifting
      OR OLD.rate_card IS DISTINCT FROM NEW.rate_card
      OR OLD.rate_card_currency IS DISTINCT FROM NEW.rate_card_currency)
EXECUTE FUNCTION match_on_creator();

CREATE TRIGGER match_deals
AFTER INSERT OR UPDATE OF status, creator_id OR DELETE ON deals
FOR EACH ROW EXECUTE FUNCTION match_on_deal();

CREATE TRIGGER match_briefs_insert
AFTER INSERT ON briefs
FOR EACH ROW EXECUTE FUNCTION match_on_brief();

CREATE TRIGGER match_briefs_update
AFTER UPDATE OF status, application_deadline, platforms, tiers, min_followers,
    max_followers, min_engagement_rate, creator_countries, compensation_type, niches,
    target_audience, fee_max_minor, gifted_product, currency ON briefs
FOR EACH ROW EXECUTE FUNCTION match_on_brief();

CREATE TRIGGER match_brief_deliverables
AFTER INSERT OR UPDATE OR DELETE ON brief_deliverables
FOR EACH ROW EXECUTE FUNCTION match_on_brief_deliverable();
"""

BACKFILL = f"""
INSERT INTO match_accounts ({ACCOUNT_COLUMNS})
SELECT {ACCOUNT_COLUMNS} FROM match_account_source;

INSERT INTO match_briefs ({BRIEF_COLUMNS})
SELECT {BRIEF_COLUMNS} FROM match_brief_source WHERE status = 'open';
"""

DROP = """
DROP TRIGGER match_brief_deliverables ON brief_deliverables;
DROP TRIGGER match_briefs_update ON briefs;
DROP TRIGGER match_briefs_insert ON briefs;
DROP TRIGGER match_deals ON deals;
DROP TRIGGER match_creators ON creators;
DROP TRIGGER match_social_accounts ON social_accounts;
DROP FUNCTION match_on_brief_deliverable();
DROP FUNCTION match_on_brief();
DROP FUNCTION match_on_deal();
DROP FUNCTION match_on_creator();
DROP FUNCTION match_on_social_account();
DROP FUNCTION match_refresh_brief(uuid);
DROP FUNCTION match_recount_deals(uuid);
DROP FUNCTION match_refresh_creator(uuid);
DROP FUNCTION match_refresh_account(uuid);
DROP VIEW match_brief_source;
DROP VIEW match_account_source;
DROP FUNCTION match_permille(jsonb);
DROP FUNCTION match_currency_code(text);
DROP FUNCTION match_country_code(text);
DROP FUNCTION match_tier_bit(text);
DROP FUNCTION match_format_index(text);
DROP FUNCTION match_niche_code(text);
DROP FUNCTION match_platform_code(text);
"""


def _statements(*scripts: str) -> list[str]:
    """One statement per blank-line separated block (asyncpg runs one at a time)."""
    return [block.strip() for script in scripts for block in script.split("\n\n") if block.strip()]


def upgrade() -> None:
    op.create_table(
        "match_briefs",
        sa.Column("brief_id", sa.UUID(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("platform", sa.SmallInteger(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("platform_mask", sa.Integer(), nullable=False),
        sa.Column("tier_mask", sa.SmallInteger(), nullable=False),
        sa.Column("requires_gifting", sa.Boolean(), nullable=False),
        sa.Column("niche_mask", sa.Integer(), nullable=False),
        sa.Column("niche_count", sa.SmallInteger(), nullable=False),
        sa.Column("creator_mask", sa.BigInteger(), nullable=False),
        sa.Column("target_mask", sa.BigInteger(), nullable=False),
        sa.Column("gender_mask", sa.SmallInteger(), nullable=False),
        sa.Column("has_age", sa.Boolean(), nullable=False),
        sa.Column("age_w1", sa.SmallInteger(), nullable=False),
        sa.Column("age_w2", sa.SmallInteger(), nullable=False),
        sa.Column("age_w3", sa.SmallInteger(), nullable=False),
        sa.Column("age_w4", sa.SmallInteger(), nullable=False),
        sa.Column("age_w5", sa.SmallInteger(), nullable=False),
        sa.Column("age_w6", sa.SmallInteger(), nullable=False),
        sa.Column("age_w7", sa.SmallInteger(), nullable=False),
        sa.Column("units_total", sa.Integer(), nullable=False),
        sa.Column("min_er", sa.Float(), nullable=False),
        sa.Column("currency", sa.SmallInteger(), nullable=False),
        sa.Column("row_units", sa.BigInteger(), nullable=False),
        sa.Column("row_units_total", sa.SmallInteger(), nullable=False),
        sa.Column("creator_countries", postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("target_countries", postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("units", postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("budget", sa.Float(), nullable=True),
        sa.Column("row_budget", sa.Float(), nullable=True),
        sa.Column("size_min", sa.BigInteger(), nullable=True),
        sa.Column("size_max", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["brief_id"],
            ["briefs.id"],
            name=op.f("fk_match_briefs_brief_id_briefs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "brief_id", "slot", "platform", "tier", name=op.f("pk_match_briefs")
        ),
    )
    op.create_index(
        "ix_match_briefs_candidates",
        "match_briefs",
        ["slot", "platform", "tier"],
        unique=False,
        postgresql_include=[
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
        ],
    )
    op.create_table(
        "match_accounts",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("creator_id", sa.UUID(), nullable=False),
        sa.Column("platform", sa.SmallInteger(), nullable=False),
        sa.Column("country", sa.SmallInteger(), nullable=True),
        sa.Column("followers", sa.BigInteger(), nullable=False),
        sa.Column("er", sa.Float(), nullable=False),
        sa.Column("accepts_gifting", sa.Boolean(), nullable=False),
        sa.Column("niche_mask", sa.Integer(), nullable=False),
        sa.Column("niche_count", sa.SmallInteger(), nullable=False),
        sa.Column("genders", sa.Integer(), nullable=False),
        sa.Column("age_1", sa.SmallInteger(), nullable=False),
        sa.Column("age_2", sa.SmallInteger(), nullable=False),
        sa.Column("age_3", sa.SmallInteger(), nullable=False),
        sa.Column("age_4", sa.SmallInteger(), nullable=False),
        sa.Column("age_5", sa.SmallInteger(), nullable=False),
        sa.Column("age_6", sa.SmallInteger(), nullable=False),
        sa.Column("age_7", sa.SmallInteger(), nullable=False),
        sa.Column("deals_completed", sa.Integer(), nullable=False),
        sa.Column("aud_1", sa.Integer(), nullable=False),
        sa.Column("aud_2", sa.Integer(), nullable=False),
        sa.Column("aud_3", sa.Integer(), nullable=False),
        sa.Column("aud_4", sa.Integer(), nullable=False),
        sa.Column("aud_5", sa.Integer(), nullable=False),
        sa.Column("aud_6", sa.Integer(), nullable=False),
        sa.Column("fee_currency", sa.SmallInteger(), nullable=True),
        sa.Column("fees", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["social_accounts.id"],
            name=op.f("fk_match_accounts_account_id_social_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_match_accounts_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "slot", name=op.f("pk_match_accounts")),
    )
    op.create_index(
        "ix_match_accounts_candidates",
        "match_accounts",
        ["slot", "platform", "country", "followers"],
        unique=False,
        postgresql_include=[
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
        ],
    )
    op.create_index(
        "ix_match_accounts_creator_id_slot", "match_accounts", ["creator_id", "slot"], unique=False
    )
    op.create_index(
        "ix_match_accounts_deals_completed",
        "match_accounts",
        ["deals_completed"],
        unique=False,
        postgresql_where=sa.text("deals_completed > 0"),
    )
    op.create_index(
        "ix_match_accounts_slot_followers", "match_accounts", ["slot", "followers"], unique=False
    )
    for statement in _statements(HELPERS, ACCOUNT_SOURCE, BRIEF_SOURCE, TRIGGERS, BACKFILL):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP.split(";\n"):
        if statement.strip():
            op.execute(statement)
    op.drop_index("ix_match_accounts_slot_followers", table_name="match_accounts")
    op.drop_index(
        "ix_match_accounts_deals_completed",
        table_name="match_accounts",
        postgresql_where=sa.text("deals_completed > 0"),
    )
    op.drop_index("ix_match_accounts_creator_id_slot", table_name="match_accounts")
    op.drop_index(
        "ix_match_accounts_candidates",
        table_name="match_accounts",
        postgresql_include=[
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
        ],
    )
    op.drop_table("match_accounts")
    op.drop_index(
        "ix_match_briefs_candidates",
        table_name="match_briefs",
        postgresql_include=[
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
        ],
    )
    op.drop_table("match_briefs")
