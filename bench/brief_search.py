"""Brief search at scale: COPY-load synthetic briefs, then time searches through the service.

    .venv/bin/python -m bench.brief_search --database-url postgresql+asyncpg://.../scratch --reset

Not a test. `--reset` drops and rebuilds the `public` schema of the given database (use a
scratch database only); without it the script refuses a database that holds any brand.
Each scenario runs through `brief_search.search_briefs` and `briefs.to_reads` (the work of
`GET /v1/briefs` minus HTTP and JSON), `--runs` times after a warm-up, and reports
p50/p95/p99/max in milliseconds; `--explain` prints each scenario's query plan.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.db import create_engine, create_sessionmaker
from api.migrations_state import alembic_config
from api.models.briefs import (
    BriefSearch,
    CollaborationType,
    CompensationType,
    default_disclosure,
    default_usage_rights,
)
from api.models.common import DeliverableFormat, Niche, Platform, Tier
from api.pagination import PageParams
from api.services import brief_search, briefs
from api.settings import Settings


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
    "disclosure",
    "usage_rights",
    "closed_reason",
    "published_at",
    "closed_at",
    "created_at",
    "updated_at",
]


def _sample(
    rng: random.Random, values: Sequence[str], k_max: int, weights: Any = None
) -> list[str]:
    k = rng.randint(1, k_max)
    picked = rng.choices(values, weights=weights, k=k * 2)
    return list(dict.fromkeys(picked))[:k]


def _brief_row(rng: random.Random, brand_id: uuid.UUID, now: datetime) -> tuple[Any, ...]:
    state = rng.choices([s for s, _ in STATES], weights=[w for _, w in STATES])[0]
    collab = rng.choice(list(CollaborationType))
    comp = rng.choices(list(CompensationType), weights=[30, 45, 10, 15])[0]
    if collab == CollaborationType.product_seeding:
        comp = CompensationType.gifted
    currency = rng.choice(CURRENCIES)
    fee_min = fee_max = commission = gifted = None
    if comp in (CompensationType.paid, CompensationType.hybrid):
        fee_min = rng.randrange(5_000, 200_000, 500)
        fee_max = fee_min + rng.randrange(0, 300_000, 500)
    if comp in (CompensationType.affiliate, CompensationType.hybrid):
        commission = Decimal(rng.choice(["5", "8", "10", "12.5", "15", "20"]))
    if comp in (CompensationType.gifted, CompensationType.hybrid):
        gifted = json.dumps({"name": "Sample box", "url": None, "retail_value_minor": 4_900})
    platforms = _sample(rng, [p.value for p in Platform], 3, PLATFORM_WEIGHTS)
    tiers = _sample(rng, [t.value for t in Tier], 2) if rng.random() < 0.7 else []
    min_f = max_f = None
    if rng.random() < 0.2:
        min_f = rng.choice([1_000, 5_000, 10_000, 50_000, 100_000, 500_000])
        max_f = min_f * rng.choice([5, 10, 20]) if rng.random() < 0.6 else None
    niches = _sample(rng, [n.value for n in Niche], 3)
    countries = _sample(rng, COUNTRIES, 4) if rng.random() < 0.5 else []
    words = rng.sample(WORDS, 30)
    title = " ".join(words[:5]).capitalize()
    description = " ".join(words[5 : 5 + rng.randint(12, 25)]) + "."

    created = now - timedelta(days=rng.uniform(0, 365))
    if state == "open":
        if rng.random() < 0.02:  # past the deadline, not swept yet: search must hide them
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
    return (
        uuid.uuid4(),
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
        "{}",
        None if is_draft else start,
        None if is_draft else end,
        None if is_draft else deadline,
        None if is_draft else rng.choice([1, 2, 3, 5, 10, 20, 50, 105]),
        json.dumps(default_disclosure(comp).model_dump(mode="json")),
        json.dumps(default_usage_rights(comp).model_dump(mode="json")),
        "deadline" if closed else None,
        None if is_draft or state == "cancelled" else published,
        deadline if closed else None,
        created,
        created,
    )


def _deliverable_rows(
    rng: random.Random, brief_id: uuid.UUID, platforms: list[str]
) -> list[tuple[Any, ...]]:
    formats = [f.value for f in DeliverableFormat]
    pairs = list(dict.fromkeys((rng.choice(platforms), rng.choice(formats)) for _ in range(3)))
    return [(uuid.uuid4(), brief_id, i, p, f, rng.randint(1, 4)) for i, (p, f) in enumerate(pairs)]


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def prepare(url: str, reset: bool) -> None:
    conn = await asyncpg.connect(_libpq(url))
    try:
        if reset:
            await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
        else:
            has_brands = await conn.fetchval("SELECT to_regclass('public.brands') IS NOT NULL")
            if has_brands and await conn.fetchval("SELECT EXISTS (SELECT 1 FROM brands)"):
                raise SystemExit("the database holds data; use a scratch database with --reset")
    finally:
        await conn.close()
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")


async def load(url: str, count: int, brands: int, seed: int) -> dict[str, int]:
    """COPY `count` briefs (and their deliverables) from `brands` brands."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    brand_ids = [uuid.uuid4() for _ in range(brands)]
    rows = [_brief_row(rng, rng.choice(brand_ids), now) for _ in range(count)]
    deliverables = [d for r in rows for d in _deliverable_rows(rng, r[0], r[14])]
    conn = await asyncpg.connect(_libpq(url))
    try:
        started = time.perf_counter()
        await conn.copy_records_to_table(
            "brands",
            records=[(b, f"Bench brand {i}", now, now) for i, b in enumerate(brand_ids)],
            columns=["id", "name", "created_at", "updated_at"],
        )
        await conn.copy_records_to_table("briefs", records=rows, columns=BRIEF_COLUMNS)
        await conn.copy_records_to_table(
            "brief_deliverables",
            records=deliverables,
            columns=["id", "brief_id", "position", "platform", "format", "quantity"],
        )
        for table in ("brands", "briefs", "brief_deliverables"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        print(f"loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        counts = await conn.fetch("SELECT status, count(*) FROM briefs GROUP BY status")
        return {r["status"]: r["count"] for r in counts}
    finally:
        await conn.close()


@dataclass
class Scenario:
    name: str
    params: dict[str, Any]
    pages: int = 1  # time the n-th page, reached by following cursors
    mine: bool = False
    results: list[float] = field(default_factory=list)
    found: int = 0


def scenarios(now: datetime) -> list[Scenario]:
    today = now.date()
    return [
        Scenario("newest, no filter", {}),
        Scenario(
            "platform+tier, by deadline",
            {"platform": ["instagram"], "tier": ["micro"], "sort": "deadline"},
        ),
        Scenario(
            "niche+creator country, by publish date",
            {"niche": ["beauty"], "creator_country": ["DE"], "sort": "publish_date"},
        ),
        Scenario(
            "paid, EUR fee 200-800, by fee",
            {
                "compensation_type": ["paid"],
                "currency": "EUR",
                "fee_min": 20_000,
                "fee_max": 80_000,
                "sort": "fee",
            },
        ),
        Scenario("text 'vegan protein', by relevance", {"q": "vegan protein"}),
        Scenario(
            "text 'serum' + tiktok + beauty, newest",
            {"q": "serum", "platform": ["tiktok"], "niche": ["beauty"], "sort": "newest"},
        ),
        Scenario(
            "rare: takeover+snapchat+automotive+mega",
            {
                "collaboration_type": ["takeover"],
                "platform": ["snapchat"],
                "niche": ["automotive"],
                "tier": ["mega"],
            },
        ),
        Scenario(
            "publish in 14 days, deadline within 7",
            {
                "publish_from": today.isoformat(),
                "publish_to": (today + timedelta(days=14)).isoformat(),
                "deadline_before": (now + timedelta(days=7)).isoformat(),
                "sort": "deadline",
            },
        ),
        Scenario("newest, page 10 by cursor", {}, pages=10),
        Scenario("a brand's own briefs (mine)", {"mine": True}, mine=True),
    ]


async def _page(
    session: AsyncSession,
    settings: Settings,
    scenario: Scenario,
    brand_id: uuid.UUID | None,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    params = BriefSearch.model_validate(scenario.params)
    page = PageParams(limit=settings.default_page_size, cursor=cursor)
    rows, next_cursor = await brief_search.search_briefs(
        session, settings, params, page, brand_id=brand_id
    )
    return await briefs.to_reads(session, rows), next_cursor


async def run(url: str, runs: int, explain: bool, settings: Settings) -> list[Scenario]:
    engine = create_engine(url, settings, pool_size=2, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    out = scenarios(datetime.now(UTC))
    try:
        async with sessionmaker() as session:
            brand_id = await session.scalar(
                text("SELECT brand_id FROM briefs GROUP BY brand_id ORDER BY count(*) DESC LIMIT 1")
            )
        for scenario in out:
            owner = brand_id if scenario.mine else None
            cursor = None
            async with sessionmaker() as session:
                for _ in range(scenario.pages - 1):
                    _, cursor = await _page(session, settings, scenario, owner, cursor)
            for i in range(runs + 10):
                async with sessionmaker() as session:
                    started = time.perf_counter()
                    items, _ = await _page(session, settings, scenario, owner, cursor)
                    elapsed = (time.perf_counter() - started) * 1000
                if i >= 10:  # warm-up runs are not counted
                    scenario.results.append(elapsed)
                scenario.found = len(items)
            if explain:
                await _explain(sessionmaker, settings, scenario, owner, cursor)
    finally:
        await engine.dispose()
    return out


async def _explain(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    scenario: Scenario,
    brand_id: uuid.UUID | None,
    cursor: str | None,
) -> None:
    """Print the plan of the search query, captured as the service sends it."""
    captured: list[Any] = []
    async with sessionmaker() as session:
        original = session.execute

        async def capture(statement: Any, *args: Any, **kwargs: Any) -> Any:
            captured.append(statement)
            return await original(statement, *args, **kwargs)

        session.execute = capture  # type: ignore[method-assign]
        await _page(session, settings, scenario, brand_id, cursor)
        search = next(s for s in captured if getattr(s, "is_select", False))
        # Same SQL and parameters as the app sends, so the server types them the same way.
        connection = await session.connection()
        compiled = search.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        values = compiled.construct_params()
        args = [values[name] for name in compiled.positiontup or []]
        raw = (await connection.get_raw_connection()).driver_connection
        plan = await raw.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", *args)
        print(f"\n--- {scenario.name}", file=sys.stderr)
        for row in plan:
            print(row[0], file=sys.stderr)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(results: list[Scenario], counts: dict[str, int], runs: int) -> None:
    total = sum(counts.values())
    print(f"\n{total:,} briefs ({', '.join(f'{k} {v:,}' for k, v in sorted(counts.items()))})")
    print(f"{runs} timed runs per scenario, page size 20, deliverables loaded\n")
    print("| scenario | rows | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for s in results:
        r = s.results
        print(
            f"| {s.name} | {s.found} | {statistics.median(r):.1f} | {_pct(r, 0.95):.1f} "
            f"| {_pct(r, 0.99):.1f} | {max(r):.1f} |"
        )


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--briefs", type=int, default=100_000)
    parser.add_argument("--brands", type=int, default=500)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reset", action="store_true", help="drop and rebuild schema public")
    parser.add_argument("--explain", action="store_true", help="print each query plan")
    args = parser.parse_args(argv)

    settings = Settings(database_url=args.database_url, maintenance_interval_seconds=0)
    await prepare(args.database_url, args.reset)
    counts = await load(args.database_url, args.briefs, args.brands, args.seed)
    results = await run(args.database_url, args.runs, args.explain, settings)
    report(results, counts, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
