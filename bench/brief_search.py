"""Brief search at scale: COPY-load synthetic briefs, then time searches through the service.

    .venv/bin/python -m bench.brief_search --database-url postgresql+asyncpg://.../scratch --reset

Not a test. `--reset` drops and rebuilds the `public` schema of the given database (use a
scratch database only); without it the script refuses a database that holds any brand.
Each scenario runs through `brief_search.search_briefs` (the work of
`GET /v1/briefs` minus HTTP and JSON), `--runs` times after a warm-up, and reports
p50/p95/p99/max in milliseconds; `--explain` prints each scenario's query plan.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.db import create_engine, create_sessionmaker
from api.models.briefs import BriefSearch
from api.pagination import PageParams
from api.services import brief_search
from api.settings import Settings
from bench.dataset import (
    BRIEF_COLUMNS,
    BRIEF_PLATFORMS,
    DELIVERABLE_COLUMNS,
    brief_row,
    copy_tables,
    deliverable_rows,
    libpq,
    new_id,
    prepare,
)


def load(url: str, count: int, brands: int, seed: int) -> dict[str, int]:
    """COPY `count` briefs (and their deliverables) from `brands` brands."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    brand_ids = [new_id(rng) for _ in range(brands)]
    rows = [brief_row(rng, rng.choice(brand_ids), now) for _ in range(count)]
    deliverables = [d for r in rows for d in deliverable_rows(rng, r[0], r[BRIEF_PLATFORMS])]
    started = time.perf_counter()
    await copy_tables(
        url,
        [
            (
                "brands",
                ["id", "name", "created_at", "updated_at"],
                [(b, f"Bench brand {i}", now, now) for i, b in enumerate(brand_ids)],
            ),
            ("briefs", BRIEF_COLUMNS, rows),
            ("brief_deliverables", DELIVERABLE_COLUMNS, deliverables),
        ],
    )
    print(f"loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    conn = await asyncpg.connect(libpq(url))
    try:
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
    brand_ids = [brand_id] if brand_id is not None else None
    connection = await session.connection()
    items, cursor, _ = await brief_search.search_briefs(
        connection, settings, params, page, brand_ids=brand_ids
    )
    return items, cursor


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
