"""The match features, each stated once: what matching knows of a brief and of an account.

A feature is a column of a match table (`match_briefs`, `match_accounts`): its name, the SQL
expression that computes it from the source tables (in the table's source view), its type,
whether it may be null, the source columns whose change must refresh it, how an in-memory
index holds it, and the values it typically takes. Everything else is derived from here:

- the match tables' columns (`api.models.matching`);
- the source views (`view_sql`), the refresh functions' column lists (`refresher_sql`) and
  the change triggers' `AFTER UPDATE OF` lists (`trigger_columns`, `trigger_sql`).
  Migrations are frozen text: a migration that changes a feature adds or drops its column
  and freezes what `install_sql()` prints, and `tests/test_matching_registry.py` checks
  the migrated database against this module (the tables, the views, the source columns
  they read, the refresh functions, the triggers' column lists, the code functions);
- the creator index's COPY select and its binary wire format (`api.matching.creator_rows`),
  the brief index's select and columns (`api.matching.brief_index`);
- the random rows of the tests (`tests/match_rows.py`).

Codes are compact integers, stable: platform `position in Platform + 1` (0 = any platform,
briefs only), niche `position in Niche + 1` with mask bit `1 << (code - 1)`, deliverable
format `position in DeliverableFormat` (0-9), tier bits `1 << position in Tier`, country
`(A - 65) * 26 + (B - 65)` of its two letters (currency likewise with three), gender bits
female 1, male 2, other 4. The SQL functions `match_*_code` (migration 0006) use the same;
the registry test compares them with these enums.
"""

# The SQL here is built from this module's constants and the enums, never from input.
# ruff: noqa: S608

from __future__ import annotations

import random
import textwrap
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Float, Integer, SmallInteger, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.types import TypeEngine

from api.models.briefs import BriefStatus, CompensationType
from api.models.common import DeliverableFormat, Platform, Tier
from api.models.creators import GenderBucket
from api.models.deals import DealStatus
from api.models.deliverables import DeliverableStatus

_EUR = (4 * 26 + 20) * 26 + 17  # the currency code of EUR (see below)
GENDER_BITS: dict[str, int] = {g: 1 << i for i, g in enumerate(get_args(GenderBucket))}
AGE_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("13-17", 13, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, 100),
)
AUDIENCE_SLOTS = 6
FORMATS = len(DeliverableFormat)
PLATFORMS = len(Platform)


# --- types -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A feature's type: in PostgreSQL (as `format_type` names it), in SQLAlchemy, and on a
    binary COPY's wire (a numpy dtype; None: not fixed-width)."""

    sql: str
    column: TypeEngine[Any]
    wire: str | None

    @property
    def cast(self) -> str:
        short = {"smallint": "int2", "integer": "int4", "bigint": "int8"}
        short |= {"double precision": "float8", "boolean": "bool"}
        return short.get(self.sql, self.sql)


UUID = Kind("uuid", PG_UUID(as_uuid=True), None)
TEXT = Kind("text", Text(), None)
INT2 = Kind("smallint", SmallInteger(), ">i2")
INT4 = Kind("integer", Integer(), ">i4")
INT8 = Kind("bigint", BigInteger(), ">i8")
FLOAT8 = Kind("double precision", Float(), ">f8")
BOOL = Kind("boolean", Boolean(), "?")
TIMESTAMPTZ = Kind("timestamp with time zone", DateTime(timezone=True), None)
INT2_ARRAY = Kind("smallint[]", ARRAY(SmallInteger()), None)
INT8_ARRAY = Kind("bigint[]", ARRAY(BigInteger()), None)


@dataclass(frozen=True)
class Values:
    """The values a feature typically takes, for random rows: one of `choices`, or a number
    in [low, high] (an int when both are ints; `log`: log-uniform), or a `country` code;
    for an array, `size` of them (of countries, up to `size` distinct ones). A nullable
    feature is None with probability `nulls`."""

    choices: tuple[Any, ...] = ()
    low: float = 0
    high: float = 1
    log: bool = False
    size: int = 0
    country: bool = False
    nulls: float = 0.2

    def draw(self, rng: random.Random, countries: Sequence[int]) -> Any:
        """A value; country codes are drawn from `countries`."""
        if self.country and self.size:
            return sorted(rng.sample(list(countries), rng.randint(0, self.size)))
        if self.size:
            return [self._one(rng, countries) for _ in range(self.size)]
        return self._one(rng, countries)

    def _one(self, rng: random.Random, countries: Sequence[int]) -> Any:
        if self.country:
            return rng.choice(countries)
        if self.choices:
            return rng.choice(self.choices)
        if self.log:
            value = self.low * (self.high / self.low) ** rng.random()
            return int(value) if isinstance(self.low, int) else value
        if isinstance(self.low, int) and isinstance(self.high, int):
            return rng.randint(self.low, self.high)
        return rng.uniform(self.low, self.high)


# How an in-memory index holds a feature (`Feature.held`): a numpy dtype; "uuid" as two
# 64-bit halves, "codes" as a bitset of country codes.


@dataclass(frozen=True)
class Feature:
    """One column of a match table (or, `stored=False`, of its view only)."""

    name: str
    kind: Kind
    sql: str
    reads: tuple[str, ...] = ()
    nullable: bool = False
    held: str | None = None
    values: Values = field(default_factory=Values)
    stored: bool = True
    doc: str = ""

    def column(self, *constraints: Any) -> Column[Any]:
        """Its column in the match table (`constraints`: a foreign key of a row key)."""
        return Column(self.name, self.kind.column, *constraints, nullable=self.nullable)


# --- accounts ---------------------------------------------------------------------------------

_AUDIENCE = ("social_accounts.audience_countries",)
# The creator's track record: their deals and those deals' published deliverables.
_TRACK = (
    "deals.creator_id",
    "deal_deliverables.status",
    "deal_deliverables.late",
    "deal_deliverables.deal_id",
)

ACCOUNT: tuple[Feature, ...] = (
    Feature("account_id", UUID, "a.id", held="uuid"),
    Feature("slot", INT2, "s.slot", values=Values((0,))),
    Feature("creator_id", UUID, "a.creator_id", ("social_accounts.creator_id",), held="uuid"),
    Feature(
        "platform",
        INT2,
        "match_platform_code(a.platform)",
        ("social_accounts.platform",),
        held="int8",
        values=Values((1, 2)),
    ),
    Feature(
        "followers",
        INT8,
        "a.followers",
        ("social_accounts.followers",),
        held="int64",
        values=Values(low=1_000, high=5_000_000, log=True),
    ),
    Feature(
        "er",
        FLOAT8,
        "CASE WHEN a.followers > 0"
        " THEN round((a.avg_likes + a.avg_comments)::numeric / a.followers, 6)::float8"
        " ELSE 0::float8 END",
        ("social_accounts.followers", "social_accounts.avg_likes", "social_accounts.avg_comments"),
        held="float64",
        values=Values(low=0.0, high=0.1),
        doc="Engagement rate: (likes + comments) per follower.",
    ),
    Feature(
        "country",
        INT2,
        "match_country_code(c.country)",
        ("creators.country",),
        nullable=True,
        held="float32",
        values=Values(country=True),
    ),
    Feature(
        "accepts_gifting",
        BOOL,
        "c.accepts_gifting",
        ("creators.accepts_gifting",),
        held="bool",
        values=Values((True, True, False)),
    ),
    Feature(
        "niche_mask",
        INT4,
        "n.mask",
        ("creators.niches",),
        held="int32",
        values=Values((0, 1, 2, 5)),
    ),
    Feature("niche_count", INT2, "n.count", ("creators.niches",), values=Values((0, 1, 2))),
    *[
        Feature(
            f"aud_{i}",
            INT4,
            f"coalesce(aud.slots[{i}], 0)",
            _AUDIENCE,
            held="int32",
            values=Values(low=0, high=400),
            doc="An audience slot: country code << 10 | share in permille (0: none).",
        )
        for i in range(1, AUDIENCE_SLOTS + 1)
    ],
    Feature(
        "genders",
        INT4,
        " | ".join(
            f"(match_permille(a.audience_genders -> '{g}') << {10 * k})"
            if k
            else f"match_permille(a.audience_genders -> '{g}')"
            for k, g in enumerate(GENDER_BITS)
        ),
        ("social_accounts.audience_genders",),
        held="int32",
        values=Values(low=0, high=500 | 500 << 10 | 40 << 20),
        doc="Female, male and other permille, 10 bits each.",
    ),
    *[
        Feature(
            f"age_{i}",
            INT2,
            f"match_permille(a.audience_ages -> '{name}')::smallint",
            ("social_accounts.audience_ages",),
            held="int16",
            values=Values(low=0, high=300),
        )
        for i, (name, _, _) in enumerate(AGE_BUCKETS, start=1)
    ],
    Feature(
        "fees",
        INT8_ARRAY,
        "fee.fees",
        ("creators.rate_card", "social_accounts.platform"),
        nullable=True,
        held="int64",
        values=Values((None, 20_000, 150_000), size=FORMATS, nulls=0.5),
        doc="The rate card for the account's platform by format index (+1); null: none.",
    ),
    Feature(
        "fee_currency",
        INT2,
        "match_currency_code(c.rate_card_currency)",
        ("creators.rate_card_currency",),
        nullable=True,
        held="float32",
        values=Values((_EUR,), nulls=0.5),
    ),
    Feature(
        "deals_completed",
        INT4,
        "coalesce(d.completed, 0)",
        ("deals.creator_id", "deals.status"),
        held="int32",
        values=Values(low=0, high=3),
    ),
    Feature(
        "published_on_time",
        INT4,
        "coalesce(p.on_time, 0)",
        _TRACK,
        held="int32",
        values=Values(low=0, high=3),
    ),
    Feature(
        "published_late",
        INT4,
        "coalesce(p.late, 0)",
        _TRACK,
        held="int32",
        values=Values(low=0, high=2),
    ),
)

_FORMAT_LIST = ", ".join(f"'{f.value}'" for f in DeliverableFormat)
_FEES = ", ".join(f"max(r.fee) FILTER (WHERE r.fmt = '{f.value}')" for f in DeliverableFormat)

ACCOUNT_FROM = f"""FROM social_accounts a
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
          ORDER BY e.value::numeric DESC, e.key LIMIT {AUDIENCE_SLOTS}) t
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
    WHERE dl.creator_id = a.creator_id AND dl.status = '{DealStatus.completed.value}'
) d ON true
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE NOT coalesce(dd.late, false))::integer AS on_time,
           count(*) FILTER (WHERE dd.late)::integer AS late
    FROM deals dl JOIN deal_deliverables dd ON dd.deal_id = dl.id
    WHERE dl.creator_id = a.creator_id AND dd.status = '{DeliverableStatus.published.value}'
) p ON true"""


# --- briefs -----------------------------------------------------------------------------------

_DELIVERABLES = ("brief_deliverables.*",)
_BUDGET = ("briefs.compensation_type", "briefs.fee_max_minor", "briefs.gifted_product")
_TARGET = ("briefs.target_audience",)
_SIZE = ("briefs.min_followers", "briefs.max_followers")


def _age_weight(lo: int, hi: int) -> str:
    return (
        f"CASE WHEN ag.has_age THEN round(1000.0 * greatest(0, least({hi}, ag.hi)"
        f" - greatest({lo}, ag.lo) + 1) / {hi - lo + 1}) ELSE 0 END::smallint"
    )


BRIEF: tuple[Feature, ...] = (
    Feature("brief_id", UUID, "b.id", held="uuid"),
    Feature("slot", INT2, "s.slot", values=Values((0,))),
    Feature(
        "platform",
        INT2,
        "pl.platform",
        ("briefs.platforms",),
        held="int64",
        values=Values((1, 2)),
        doc="A platform the brief names (its code), or 0: any platform.",
    ),
    Feature(
        "tier",
        INT2,
        "tr.tier",
        ("briefs.tiers", *_SIZE),
        held="int64",
        values=Values((0,)),
        doc="A tier the brief wants (its bit), or 0: any size.",
    ),
    Feature("status", TEXT, "b.status", ("briefs.status",), stored=False),
    Feature(
        "deadline",
        TIMESTAMPTZ,
        "b.application_deadline",
        ("briefs.application_deadline",),
        nullable=True,
        held="float64",
        values=Values((1e12,)),
        doc="Held in seconds since the epoch.",
    ),
    Feature(
        "platform_mask",
        INT4,
        "pm.mask",
        ("briefs.platforms",),
        held="int64",
        values=Values((0, 1, 2, 3)),
    ),
    Feature(
        "tier_mask",
        INT2,
        "CASE WHEN b.min_followers IS NULL AND b.max_followers IS NULL"
        " THEN tm.mask ELSE 0 END::smallint",
        ("briefs.tiers", *_SIZE),
        held="int64",
        values=Values((0, 1, 2, 6, 15)),
    ),
    Feature(
        "size_min",
        INT8,
        "b.min_followers",
        ("briefs.min_followers",),
        nullable=True,
        held="float64",
        values=Values((1_000, 20_000), nulls=0.85),
    ),
    Feature(
        "size_max",
        INT8,
        "b.max_followers",
        ("briefs.max_followers",),
        nullable=True,
        held="float64",
        values=Values((100_000, 2_000_000), nulls=0.85),
    ),
    Feature(
        "min_er",
        FLOAT8,
        "coalesce(b.min_engagement_rate::float8, 0)",
        ("briefs.min_engagement_rate",),
        held="float64",
        values=Values((0.0, 0.01, 0.03)),
        doc="0 when the brief sets no minimum.",
    ),
    Feature(
        "creator_countries",
        INT2_ARRAY,
        "cc.codes",
        ("briefs.creator_countries",),
        held="codes",
        values=Values(size=3, country=True),
    ),
    Feature(
        "creator_mask",
        INT8,
        "cc.mask",
        ("briefs.creator_countries",),
        values=Values((0,)),
        doc="Read by nothing since the SQL ranking went (bit `code % 63` per country).",
    ),
    Feature(
        "requires_gifting",
        BOOL,
        f"b.compensation_type = '{CompensationType.gifted.value}'",
        ("briefs.compensation_type",),
        held="bool",
        values=Values((False, False, False, False, True)),
    ),
    Feature(
        "niche_mask",
        INT4,
        "n.mask",
        ("briefs.niches",),
        held="int64",
        values=Values((0, 1, 3, 6, 1 << 19)),
    ),
    Feature("niche_count", INT2, "n.count", ("briefs.niches",), held="int64"),
    Feature(
        "target_countries",
        INT2_ARRAY,
        "tc.codes",
        _TARGET,
        held="codes",
        values=Values(size=4, country=True),
    ),
    Feature(
        "target_mask",
        INT8,
        "tc.mask",
        _TARGET,
        values=Values((0,)),
        doc="Read by nothing since the SQL ranking went (bit `code % 63` per country).",
    ),
    Feature("gender_mask", INT2, "gm.mask", _TARGET, held="int64", values=Values(low=0, high=7)),
    Feature("has_age", BOOL, "ag.has_age", _TARGET, held="bool"),
    *[
        Feature(
            f"age_w{i}",
            INT2,
            _age_weight(lo, hi),
            _TARGET,
            held="int64",
            values=Values((0, 0, 500, 1000)),
            doc="The share of the bucket's years inside the brief's age range, in permille.",
        )
        for i, (_, lo, hi) in enumerate(AGE_BUCKETS, start=1)
    ],
    Feature(
        "budget",
        FLOAT8,
        "bg.budget",
        _BUDGET,
        nullable=True,
        values=Values((60_000.0, 900_000.0), nulls=0.33),
    ),
    Feature(
        "currency",
        INT2,
        "coalesce(match_currency_code(b.currency), -1)::smallint",
        ("briefs.currency",),
        held="int64",
        values=Values((_EUR, -1)),
        doc="-1 when the brief names no currency.",
    ),
    Feature(
        "units",
        INT2_ARRAY,
        "u.units || u.platform_units",
        _DELIVERABLES,
        doc="Deliverable units by platform code * 10 + format index + 1 (1-100), then"
        " their sum per platform at 100 + platform code (101-110).",
    ),
    Feature("units_total", INT4, "u.units_total", _DELIVERABLES),
    Feature(
        "row_units",
        INT8,
        "ru.packed",
        ("briefs.platforms", *_DELIVERABLES),
        held="int64",
        doc="This row's platform: its units per format index, 6 bits each.",
    ),
    Feature(
        "row_units_total",
        INT2,
        "ru.total",
        ("briefs.platforms", *_DELIVERABLES),
        held="int64",
    ),
    Feature(
        "row_budget",
        FLOAT8,
        "CASE WHEN u.units_total > 0 THEN (bg.budget * ru.total)::float8 / u.units_total END",
        ("briefs.platforms", *_BUDGET, *_DELIVERABLES),
        nullable=True,
        held="float64",
        doc="This row's platform's pro-rata share of the budget (null when unknown).",
    ),
)

_PLATFORM_UNITS = PLATFORMS * FORMATS
_GENDER_CASE = " ".join(f"WHEN '{g}' THEN {bit}" for g, bit in GENDER_BITS.items())
_PAID = ", ".join(f"'{c.value}'" for c in (CompensationType.paid, CompensationType.hybrid))
_GIFTED = ", ".join(f"'{c.value}'" for c in (CompensationType.gifted, CompensationType.hybrid))
# Deliverables counted on each of their options' platforms (migration 0019).
_OPTIONS = "match_brief_deliverable_options"
NO_NICHE_SLOT = 21

BRIEF_FROM = f"""FROM briefs b
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
    SELECT coalesce(bit_or(CASE x {_GENDER_CASE} ELSE 0 END), 0)::smallint AS mask
    FROM jsonb_array_elements_text(coalesce(b.target_audience -> 'genders', '[]')) x
) gm
CROSS JOIN LATERAL (
    SELECT (b.target_audience ->> 'age_min') IS NOT NULL
             OR (b.target_audience ->> 'age_max') IS NOT NULL AS has_age,
           coalesce((b.target_audience ->> 'age_min')::integer, {AGE_BUCKETS[0][1]}) AS lo,
           coalesce((b.target_audience ->> 'age_max')::integer, {AGE_BUCKETS[-1][2]}) AS hi
) ag
CROSS JOIN LATERAL (
    SELECT array_agg(coalesce(q.units, 0)::smallint ORDER BY k.i) AS units,
           (SELECT array_agg(coalesce(p.units, 0)::smallint ORDER BY k2.i)
            FROM generate_series(1, {PLATFORMS}) k2(i)
            LEFT JOIN (SELECT match_platform_code(d.platform) AS i, sum(d.quantity) AS units
                       FROM {_OPTIONS} d WHERE d.brief_id = b.id GROUP BY 1) p
              ON p.i = k2.i) AS platform_units,
           (SELECT coalesce(sum(d0.quantity), 0)::integer FROM brief_deliverables d0
            WHERE d0.brief_id = b.id) AS units_total
    FROM generate_series(1, {_PLATFORM_UNITS}) k(i)
    LEFT JOIN (SELECT (match_platform_code(d.platform) - 1) * {FORMATS}
                        + match_format_index(d.format) + 1 AS i,
                      sum(d.quantity) AS units
               FROM {_OPTIONS} d WHERE d.brief_id = b.id GROUP BY 1) q ON q.i = k.i
) u
CROSS JOIN LATERAL unnest(
    ARRAY[0]::smallint[]
    || CASE WHEN n.count = 0 THEN ARRAY[{NO_NICHE_SLOT}]::smallint[] ELSE n.codes END
) s(slot)
CROSS JOIN LATERAL (
    SELECT CASE WHEN b.compensation_type IN ({_PAID}) AND b.fee_max_minor IS NOT NULL
                THEN b.fee_max_minor::float8
                WHEN b.compensation_type IN ({_GIFTED})
                THEN (b.gifted_product ->> 'retail_value_minor')::float8 END AS budget
) bg
CROSS JOIN LATERAL unnest(coalesce(pm.codes, ARRAY[0]::smallint[])) pl(platform)
CROSS JOIN LATERAL (
    SELECT coalesce(sum(q.units << (6 * q.fmt)), 0)::bigint AS packed,
           coalesce(sum(q.units), 0)::smallint AS total
    FROM (SELECT match_format_index(d.format) AS fmt, sum(d.quantity)::bigint AS units
          FROM {_OPTIONS} d
          WHERE d.brief_id = b.id AND match_platform_code(d.platform) = pl.platform
          GROUP BY 1) q
) ru
CROSS JOIN LATERAL unnest(
    CASE WHEN b.min_followers IS NOT NULL OR b.max_followers IS NOT NULL OR tm.mask = 0
         THEN ARRAY[0]::smallint[]
         ELSE ARRAY(SELECT (1 << i)::smallint FROM generate_series(0, {len(Tier) - 1}) i
                    WHERE tm.mask & (1 << i) <> 0) END
) tr(tier)"""


# --- what is derived ---------------------------------------------------------------------------

SIDES: dict[str, tuple[tuple[Feature, ...], str, str]] = {
    "match_accounts": (ACCOUNT, "match_account_source", ACCOUNT_FROM),
    "match_briefs": (BRIEF, "match_brief_source", BRIEF_FROM),
}


def stored(features: Sequence[Feature]) -> list[Feature]:
    """The features a match table stores, in its column order."""
    return [f for f in features if f.stored]


def names(features: Sequence[Feature]) -> list[str]:
    return [f.name for f in stored(features)]


def view_sql(table: str) -> str:
    """The SELECT of a match table's source view: each feature's expression AS its name."""
    features, _, frame = SIDES[table]
    selected = ",\n       ".join(f"{f.sql} AS {f.name}" for f in features)
    return f"SELECT {selected}\n{frame}"


def trigger_columns() -> dict[str, list[str]]:
    """By source table, the columns whose change must refresh a match row: what the change
    triggers' `AFTER UPDATE OF` lists hold (`*`: any column, a trigger with no list)."""
    out: dict[str, set[str]] = {}
    for features, _, _ in SIDES.values():
        for feature in features:
            for read in feature.reads:
                table, column = read.split(".")
                out.setdefault(table, set()).add(column)
    return {table: sorted(columns) for table, columns in sorted(out.items())}


def sample(
    features: Sequence[Feature], rng: random.Random, countries: Sequence[int]
) -> dict[str, Any]:
    """A random row of `features` (stored ones), drawn from their `values` (country codes
    from `countries`)."""
    row: dict[str, Any] = {}
    for f in stored(features):
        if f.kind is UUID:
            row[f.name] = uuid.UUID(int=rng.getrandbits(128), version=4)
        elif f.nullable and rng.random() < f.values.nulls:
            row[f.name] = None
        else:
            value = f.values.draw(rng, countries)
            cast = {BOOL: bool, FLOAT8: float, INT2: int, INT4: int, INT8: int}.get(f.kind)
            row[f.name] = cast(value) if cast and not isinstance(value, list) else value
    return row


@dataclass(frozen=True)
class Trigger:
    """A change trigger on a source table whose `AFTER UPDATE OF` list is derived
    (`trigger_columns`); `also`: the other events it fires on; `when_changed`: it fires only
    when one of the listed columns' values changed."""

    name: str
    function: str
    also: tuple[str, ...] = ()
    when_changed: bool = False


# Social accounts and brief deliverables fire on any update: no list to keep.
TRIGGERS: dict[str, Trigger] = {
    "briefs": Trigger("match_briefs_update", "match_on_brief"),
    "creators": Trigger("match_creators", "match_on_creator", when_changed=True),
    "deals": Trigger("match_deals", "match_on_deal", also=("INSERT", "DELETE")),
    "deal_deliverables": Trigger(
        "match_deal_deliverables", "match_on_deal_deliverable", also=("INSERT", "DELETE")
    ),
}


def _wrapped(columns: Sequence[str]) -> str:
    """A column list, in lines that fit a migration's width."""
    return textwrap.fill(", ".join(columns), width=88, subsequent_indent="        ")


def trigger_sql(table: str) -> str:
    """The CREATE TRIGGER of a source table's change trigger, its list from the registry."""
    t = TRIGGERS[table]
    columns = trigger_columns()[table]
    events = [f"UPDATE OF {_wrapped(columns)}"]
    if t.also:
        events = [t.also[0], *events, *t.also[1:]]
    when = ""
    if t.when_changed:
        changed = "\n    OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        when = f"\nWHEN ({changed})"
    return (
        f"CREATE TRIGGER {t.name}\nAFTER {' OR '.join(events)} ON {table}\n"
        f"FOR EACH ROW{when}\nEXECUTE FUNCTION {t.function}()"
    )


# The functions that rewrite a key's match rows from the source view (slot 0 only).
REFRESHERS: dict[str, tuple[str, str, str]] = {
    "match_refresh_account": ("match_accounts", "account_id", "p_account"),
    "match_refresh_creator": ("match_accounts", "creator_id", "p_creator"),
    "match_refresh_brief": ("match_briefs", "brief_id", "p_brief"),
}


def refresher_sql(function: str) -> str:
    table, key, arg = REFRESHERS[function]
    features, view, _ = SIDES[table]
    columns = _wrapped(names(features))
    only_open = f" AND status = '{BriefStatus.open.value}'" if table == "match_briefs" else ""
    return f"""CREATE OR REPLACE FUNCTION {function}({arg} uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {table} WHERE {key} = {arg};
    INSERT INTO {table} (
        {columns})
    SELECT
        {columns}
    FROM {view}
    WHERE {key} = {arg}{only_open} AND slot = 0;
END $$"""


def install_sql() -> list[str]:
    """The statements that install the registry's views, refresh functions and change
    triggers, for a migration to freeze (as text) when a feature changes, after it adds or
    drops the table column. A view keeps its columns' order, so a new feature goes at the
    end of its side's tuple."""
    statements = [
        f"CREATE OR REPLACE VIEW {view} AS\n{view_sql(table)}"
        for table, (_, view, _) in SIDES.items()
    ]
    statements += [refresher_sql(function) for function in REFRESHERS]
    for table, t in TRIGGERS.items():
        statements += [f"DROP TRIGGER {t.name} ON {table}", trigger_sql(table)]
    return statements
