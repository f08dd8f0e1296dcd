"""Synthetic marketplace rows for the benchmarks, reproducible from a seed, loaded with COPY.

Shared by `bench.brief_search` (briefs only) and `bench.perf` (the whole marketplace).
Every id comes from the seeded generator, so the same seed gives the same rows.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from alembic import command
from sqlalchemy.engine import make_url

from api.migrations_state import alembic_config
from api.models.briefs import (
    CollaborationType,
    CompensationType,
    Product,
    TargetAudience,
    default_disclosure,
    default_usage_rights,
)
from api.models.common import DeliverableFormat, Niche, Platform, Tier


def _words(text: str) -> list[str]:
    return text.split()


WORDS = _words(
    "morning routine serum glow skin hydration vegan protein bar trail run ride coffee "
    "brew keyboard mechanical headset stream setup desk gaming console tutorial review "
    "unboxing recipe kitchen healthy snack smoothie travel hotel city beach mountain hike "
    "camp tent yoga mat stretch strength training shoes sneakers jacket summer winter "
    "autumn spring launch limited edition bundle gift family kids parenting budget finance "
    "app savings investing music festival guitar art paint studio design home decor plants "
    "garden pets dog cat food treats car road trip electric bike fashion denim dress style "
    "beauty makeup lipstick sunscreen mineral fragrance candle cozy weekend challenge "
    "giveaway behind scenes "
)
COUNTRIES = _words("US GB DE FR ES IT NL SE AT CH BE IE CA AU PL PT DK NO FI MX BR JP KR IN")
CURRENCIES = ["EUR", "USD", "GBP"]
PLATFORM_WEIGHTS = [30, 25, 20, 6, 4, 4, 4, 3, 2, 2]  # instagram, tiktok, youtube, ...
STATES = [("open", 50), ("closed", 25), ("completed", 10), ("draft", 10), ("cancelled", 5)]
SLOT_CHOICES = [1, 2, 3, 5, 10, 20, 50, 105]

BRIEF_COLUMNS = [
    "id",
    "brand_id",
    "status",
    "version",
    "title",
    "description",
    "collaboration_type",
    "compensation_type",
    "currency",
    "fee_min_minor",
    "fee_max_minor",
    "commission_rate_percent",
    "gifted_product",
    "posting_required",
    "platforms",
    "tiers",
    "min_followers",
    "max_followers",
    "niches",
    "creator_countries",
    "target_audience",
    "publish_start_date",
    "publish_end_date",
    "application_deadline",
    "slots",
    "accepted_count",
    "disclosure",
    "usage_rights",
    "closed_reason",
    "published_at",
    "closed_at",
    "created_at",
    "updated_at",
]
BRIEF_PLATFORMS = BRIEF_COLUMNS.index("platforms")
DELIVERABLE_COLUMNS = ["id", "brief_id", "position", "platform", "format", "quantity"]
_EMPTY_AUDIENCE = json.dumps(TargetAudience().model_dump(mode="json"))


def new_id(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID drawn from `rng`: reproducible, unlike `uuid.uuid4()`."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def sample(rng: random.Random, values: Sequence[str], k_max: int, weights: Any = None) -> list[str]:
    k = rng.randint(1, k_max)
    picked = rng.choices(values, weights=weights, k=k * 2)
    return list(dict.fromkeys(picked))[:k]


def brief_row(
    rng: random.Random,
    brand_id: uuid.UUID,
    now: datetime,
    *,
    states: Sequence[tuple[str, int]] = STATES,
    permissive: bool = False,
    full: bool = False,
) -> tuple[Any, ...]:
    """One brief in BRIEF_COLUMNS order.

    `permissive`: an open, paid Instagram brief any creator with an Instagram account may
    apply to (no tier, country or engagement requirement). `full`: closed, every slot taken.
    """
    state = rng.choices([s for s, _ in states], weights=[w for _, w in states])[0]
    if permissive:
        state = "open"
    if full:
        state = "closed"
    collab = rng.choice(list(CollaborationType))
    comp = rng.choices(list(CompensationType), weights=[30, 45, 10, 15])[0]
    if collab == CollaborationType.product_seeding:
        comp = CompensationType.gifted
    if permissive:
        collab, comp = CollaborationType.sponsored_post, CompensationType.paid
    currency = rng.choice(CURRENCIES)
    fee_min = fee_max = commission = gifted = None
    if comp in (CompensationType.paid, CompensationType.hybrid):
        fee_min = rng.randrange(5_000, 200_000, 500)
        fee_max = fee_min + rng.randrange(0, 300_000, 500)
    if comp in (CompensationType.affiliate, CompensationType.hybrid):
        commission = Decimal(rng.choice(["5", "8", "10", "12.5", "15", "20"]))
    if comp in (CompensationType.gifted, CompensationType.hybrid):
        product = Product(name="Sample box", retail_value_minor=4_900)
        gifted = json.dumps(product.model_dump(mode="json"))
    platforms = sample(rng, [p.value for p in Platform], 3, PLATFORM_WEIGHTS)
    tiers = sample(rng, [t.value for t in Tier], 2) if rng.random() < 0.7 else []
    min_f = max_f = None
    if rng.random() < 0.2:
        min_f = rng.choice([1_000, 5_000, 10_000, 50_000, 100_000, 500_000])
        max_f = min_f * rng.choice([5, 10, 20]) if rng.random() < 0.6 else None
    niches = sample(rng, [n.value for n in Niche], 3)
    countries = sample(rng, COUNTRIES, 4) if rng.random() < 0.5 else []
    if permissive:
        platforms, tiers, min_f, max_f, countries = [Platform.instagram.value], [], None, None, []
    words = rng.sample(WORDS, 30)
    title = " ".join(words[:5]).capitalize()
    description = " ".join(words[5 : 5 + rng.randint(12, 25)]) + "."

    created = now - timedelta(days=rng.uniform(0, 365))
    if state == "open":
        if rng.random() < 0.02 and not permissive:  # past the deadline, not swept yet
            deadline = now - timedelta(hours=rng.uniform(1, 48))
        else:
            deadline = now + timedelta(days=rng.uniform(1, 60))
        published = min(now, created + timedelta(days=rng.uniform(0, 10)))
    else:
        deadline = created + timedelta(days=rng.uniform(5, 60))
        published = created + timedelta(days=1)
    start = deadline.date() + timedelta(days=rng.randint(1, 30))
    end = start + timedelta(days=rng.randint(1, 60)) if rng.random() < 0.3 else None
    is_draft = state == "draft"
    closed = state in ("closed", "completed")
    slots = None if is_draft else rng.choice(SLOT_CHOICES)
    if permissive:
        slots = 1000
    return (
        new_id(rng),
        brand_id,
        state,
        2,
        title,
        description,
        collab.value,
        comp.value,
        currency,
        fee_min,
        fee_max,
        commission,
        gifted,
        True,
        platforms,
        tiers,
        min_f,
        max_f,
        niches,
        countries,
        _EMPTY_AUDIENCE,
        None if is_draft else start,
        None if is_draft else end,
        None if is_draft else deadline,
        slots,
        slots if full else 0,
        json.dumps(default_disclosure(comp).model_dump(mode="json")),
        json.dumps(default_usage_rights(comp).model_dump(mode="json")),
        ("slots_filled" if full else "deadline") if closed else None,
        None if is_draft or state == "cancelled" else published,
        deadline if closed else None,
        created,
        created,
    )


def deliverable_rows(
    rng: random.Random, brief_id: uuid.UUID, platforms: list[str]
) -> list[tuple[Any, ...]]:
    formats = [f.value for f in DeliverableFormat]
    pairs = list(dict.fromkeys((rng.choice(platforms), rng.choice(formats)) for _ in range(3)))
    return [(new_id(rng), brief_id, i, p, f, rng.randint(1, 4)) for i, (p, f) in enumerate(pairs)]


def libpq(url: str) -> str:
    """The SQLAlchemy URL as asyncpg/libpq take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def ensure_database(url: str) -> None:
    """Create the database named in `url` if it does not exist yet."""
    parsed = make_url(url)
    admin = await asyncpg.connect(libpq(str(parsed.set(database="postgres"))))
    try:
        if not await admin.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", parsed.database
        ):
            await admin.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await admin.close()


async def has_rows(url: str, table: str) -> bool:
    conn = await asyncpg.connect(libpq(url))
    try:
        if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"public.{table}"):
            return False
        return bool(await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"))  # noqa: S608
    finally:
        await conn.close()


async def prepare(url: str, reset: bool) -> None:
    """Migrate to head; with `reset`, drop and rebuild schema public first.

    Without `reset` a database holding brands is refused: load into scratch databases only.
    """
    if reset:
        conn = await asyncpg.connect(libpq(url))
        try:
            await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()
    elif await has_rows(url, "brands"):
        raise SystemExit("the database holds data; use a scratch database with --reset")
    await migrate(url)


async def migrate(url: str) -> None:
    """Upgrade to the latest migration (a dataset loaded earlier keeps up with the code)."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")


async def copy_tables(
    url: str, tables: Sequence[tuple[str, list[str], list[tuple[Any, ...]]]]
) -> None:
    """COPY each (table, columns, records) in order, rebuild the match tables, VACUUM ANALYZE.

    The rows are copied with triggers off (`session_replication_role = replica`: no
    per-row match-table upkeep, no foreign-key checks on generated data), so the match
    tables are then filled from the views their triggers use.
    """
    conn = await asyncpg.connect(libpq(url))
    try:
        await conn.execute("SET session_replication_role = replica")
        for table, columns, records in tables:
            await conn.copy_records_to_table(table, records=records, columns=columns)
    finally:
        await conn.close()
    await rebuild_match_tables(url)
    conn = await asyncpg.connect(libpq(url))
    try:
        for table in [t for t, _, _ in tables] + list(MATCH_TABLES):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()


# Each match table: the view it is kept from (migrations 0006/0007), the rows it keeps
# (slot 0: 0009, 0011), and the key that splits it in two halves.
MATCH_TABLES = {
    "match_accounts": ("match_account_source", "slot = 0", "creator_id"),
    "match_briefs": ("match_brief_source", "status = 'open' AND slot = 0", "brief_id"),
}


async def rebuild_match_tables(url: str) -> None:
    """Refill the match tables from their views, as their triggers would have row by row:
    emptied, filled in two parallel halves with the indexes dropped, indexes built after."""
    for table, (source, where, key) in MATCH_TABLES.items():
        conn = await asyncpg.connect(libpq(url))
        try:
            names = await conn.fetch(
                "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass"
                " AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                table,
            )
            columns = ", ".join(f'"{r["attname"]}"' for r in names)
            indexes = await conn.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1"
                " AND indexname NOT LIKE 'pk_%'",
                table,
            )
            await conn.execute(f"TRUNCATE {table}")
            for index in indexes:
                await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        finally:
            await conn.close()

        async def run(*statements: str) -> None:
            c = await asyncpg.connect(libpq(url))
            try:
                for statement in statements:
                    await c.execute(statement)
            finally:
                await c.close()

        middle = "'80000000-0000-0000-0000-000000000000'"
        fill = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {source} WHERE {where}"  # noqa: S608
        await asyncio.gather(
            *(
                run("SET session_replication_role = replica", f"{fill} AND {key} {half}")
                for half in (f"< {middle}", f">= {middle}")
            )
        )
        await asyncio.gather(
            *(run("SET maintenance_work_mem = '512MB'", i["indexdef"]) for i in indexes)
        )
