"""Matching at scale: COPY-load synthetic creators and briefs, then time the match queries.

    .venv/bin/python -m bench.matching --database-url postgresql+asyncpg://.../scratch --reset
    make bench-matching N=1000000

Not a test. `--reset` drops and rebuilds the `public` schema of the given database (use a
scratch database only); without it the script refuses a database that holds any creator.
The generator is reproducible (fixed seed): log-normal followers across the tiers,
engagement around each tier's norm, 1-3 accounts per creator on skewed platforms, 1-3 of
the 20 niches, creators in ~50 countries (skewed), audiences over 3-5 countries, rate
cards for 60 % of creators, and open briefs of every kind. Rows are loaded with the
triggers off and the match tables then rebuilt from their views in bulk, as a data
migration would.

Each case runs the endpoint's service call (`matching.creators_for_brief`, or
`matching.briefs_for_creator` for a different creator each run: ranking, page load,
explanations; no HTTP or JSON) `--runs` times after a warm-up, and prints p50/p95/p99/max
in milliseconds, the size of the in-memory index that ranked it and the plan shape of the
page load (`EXPLAIN ANALYZE`). The gifted brand case and the creator case run twice: alone,
then while accounts (briefs) are edited `--edits` times a second (so that every sync of
the in-memory index has changes to reload).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api.db import create_engine, create_sessionmaker
from api.matching import directory as match_directory
from api.matching import features as match_features
from api.matching import ranking as match_search
from api.matching import service as matching
from api.matching.brief_index import BriefIndex
from api.matching.creator_index import CreatorIndex
from api.migrations_state import alembic_config
from api.models.briefs import Brief, default_disclosure, default_usage_rights
from api.models.briefs import CompensationType as Comp
from api.models.common import Niche, Platform, Tier
from api.models.creators import Creator
from api.models.matching import CreatorDirectoryQuery, CreatorMatchFilters
from api.pagination import PageParams
from api.settings import Settings
from bench.dataset import libpq, rebuild_match_tables

NICHES = [n.value for n in Niche]
PLATFORMS = [p.value for p in Platform]
PLATFORM_WEIGHTS = [35, 25, 15, 6, 5, 4, 4, 3, 2, 1]
COUNTRIES = [
    "US",
    "GB",
    "DE",
    "FR",
    "ES",
    "IT",
    "NL",
    "SE",
    "AT",
    "CH",
    "BE",
    "IE",
    "CA",
    "AU",
    "PL",
    "PT",
    "DK",
    "NO",
    "FI",
    "MX",
    "BR",
    "JP",
    "KR",
    "IN",
    "AR",
    "CL",
    "CO",
    "PE",
    "ZA",
    "NG",
    "EG",
    "TR",
    "GR",
    "CZ",
    "HU",
    "RO",
    "UA",
    "RU",
    "IL",
    "AE",
    "SA",
    "SG",
    "MY",
    "TH",
    "ID",
    "PH",
    "VN",
    "NZ",
    "TW",
    "HK",
]
COUNTRY_WEIGHTS = [1 / (i + 1) ** 0.9 for i in range(len(COUNTRIES))]
CURRENCIES = {"US": "USD", "GB": "GBP", "CA": "USD", "AU": "USD"}
AGE_BUCKETS = ["13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
FORMATS_BY_PLATFORM = {
    "instagram": ["post", "carousel", "story", "reel"],
    "tiktok": ["short_video", "live"],
    "youtube": ["long_video", "short_video"],
    "facebook": ["post", "story", "live"],
    "x": ["post"],
    "twitch": ["live"],
    "pinterest": ["post"],
    "snapchat": ["story"],
    "linkedin": ["post"],
    "blog": ["blog_post"],
}
ER_MID = {"nano": 0.06, "micro": 0.045, "macro": 0.025, "mega": 0.015}


def _tier(followers: int) -> str:
    if followers < 10_000:
        return "nano"
    if followers < 100_000:
        return "micro"
    if followers < 1_000_000:
        return "macro"
    return "mega"


def _shares(rng: random.Random, keys: Sequence[str], total: float) -> dict[str, float]:
    weights = [rng.random() ** 2 + 0.05 for _ in keys]
    scale = total / sum(weights)
    return {k: round(w * scale, 1) for k, w in zip(keys, weights, strict=True)}


def _creator_rows(
    rng: random.Random, i: int, now: datetime
) -> tuple[tuple[Any, ...], tuple[Any, ...], list[tuple[Any, ...]]]:
    user_id, creator_id = uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128))
    country = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
    niches = list(dict.fromkeys(rng.choices(NICHES, k=rng.choice([1, 1, 2, 2, 3]))))
    n_accounts = rng.choices([1, 2, 3], [55, 30, 15])[0]
    platforms: list[str] = []
    while len(platforms) < n_accounts:
        p = rng.choices(PLATFORMS, PLATFORM_WEIGHTS)[0]
        if p not in platforms:
            platforms.append(p)
    base = math.exp(rng.gauss(math.log(12_000), 1.7))
    accounts, rate_card = [], []
    currency = CURRENCIES.get(country, "EUR")
    has_rates = rng.random() < 0.6
    for p in platforms:
        followers = max(200, min(80_000_000, int(base * math.exp(rng.gauss(0, 0.4)))))
        er = ER_MID[_tier(followers)] * math.exp(rng.gauss(0, 0.45))
        engaged = int(followers * er)
        others = rng.sample([c for c in COUNTRIES if c != country], rng.randint(2, 4))
        audience = _shares(rng, [country, *others], rng.uniform(70, 100))
        audience[country] = round(min(95.0, audience[country] + 10), 1)
        if sum(audience.values()) > 100:
            audience[country] = round(audience[country] - (sum(audience.values()) - 100) - 0.1, 1)
        female = rng.uniform(10, 90)
        genders = {"female": round(female, 1), "male": round(97 - female, 1), "other": 3.0}
        ages = _shares(rng, AGE_BUCKETS, 100 - rng.uniform(0.5, 5))
        accounts.append(
            (
                uuid.UUID(int=rng.getrandbits(128)),
                creator_id,
                p,
                f"@c{i}_{p}",
                followers,
                int(engaged * 0.95),
                int(engaged * 0.05),
                json.dumps(audience),
                json.dumps(genders),
                json.dumps(ages),
                "self_reported",
                date(2026, 11, 1),
                now,
                now,
            )
        )
        if has_rates:
            for fmt in FORMATS_BY_PLATFORM[p]:
                fee = int(followers * rng.uniform(0.5, 2.0) * (2.5 if "video" in fmt else 1.0))
                rate_card.append({"platform": p, "format": fmt, "fee_minor": max(2_000, fee)})
    user = (user_id, f"bench{i}@example.com", "!", "creator", now)
    creator = (
        creator_id,
        user_id,
        f"Creator {i}",
        f"c{i}",
        country,
        niches,
        currency if has_rates else None,
        json.dumps(rate_card),
        rng.random() < 0.8,
        now,
        now,
    )
    return user, creator, accounts


@dataclass
class BriefSpec:
    """A brief to publish: the columns that matter to matching, and its deliverables."""

    name: str
    platforms: list[str]
    tiers: list[str] = field(default_factory=list)
    niches: list[str] = field(default_factory=list)
    creator_countries: list[str] = field(default_factory=list)
    min_er: float | None = None
    bounds: tuple[int | None, int | None] = (None, None)
    target: dict[str, Any] = field(default_factory=dict)
    comp: Comp = Comp.paid
    fee: tuple[int, int] | None = (20_000, 80_000)
    currency: str = "EUR"
    deliverables: list[tuple[str, str, int]] = field(default_factory=list)


CASES = [
    BriefSpec(
        "narrow: youtube macro in DE, ER>=2%, tech",
        ["youtube"],
        tiers=["macro"],
        niches=["tech"],
        creator_countries=["DE"],
        min_er=0.02,
        target={"countries": ["DE", "AT", "CH"], "age_min": 18, "age_max": 34},
        fee=(200_000, 600_000),
        deliverables=[("youtube", "long_video", 1)],
    ),
    BriefSpec(
        "medium: instagram micro in US/GB, beauty+fashion",
        ["instagram"],
        tiers=["micro"],
        niches=["beauty", "fashion"],
        creator_countries=["US", "GB"],
        target={"countries": ["US", "GB"], "genders": ["female"], "age_min": 18, "age_max": 34},
        currency="USD",
        deliverables=[("instagram", "reel", 2), ("instagram", "story", 3)],
    ),
    BriefSpec(
        "broad: instagram+tiktok micro+macro, anywhere",
        ["instagram", "tiktok"],
        tiers=["micro", "macro"],
        niches=["lifestyle", "food"],
        target={"countries": ["US"]},
        currency="USD",
        deliverables=[("instagram", "reel", 1), ("tiktok", "short_video", 1)],
    ),
    BriefSpec(
        "broad, gifted, no niche (worst case)",
        ["instagram", "tiktok", "youtube"],
        tiers=["nano", "micro", "macro"],
        comp=Comp.gifted,
        fee=None,
        target={"countries": ["US", "GB", "DE"]},
        deliverables=[("instagram", "post", 1)],
    ),
    BriefSpec(
        "medium, no niche: instagram micro in US/GB",
        ["instagram"],
        tiers=["micro"],
        creator_countries=["US", "GB"],
        target={"countries": ["US", "GB"], "genders": ["female"], "age_min": 18, "age_max": 34},
        currency="USD",
        deliverables=[("instagram", "reel", 2), ("instagram", "story", 3)],
    ),
]


def _brief_row(
    spec: BriefSpec, brand_id: uuid.UUID, now: datetime, rng: random.Random
) -> tuple[Any, ...]:
    deadline = now + timedelta(days=rng.uniform(5, 60))
    start = deadline.date() + timedelta(days=rng.randint(2, 30))
    gifted = (
        json.dumps({"name": "Sample box", "retail_value_minor": 5_000})
        if spec.comp in (Comp.gifted, Comp.hybrid)
        else None
    )
    fee_min, fee_max = spec.fee if spec.fee else (None, None)
    return (
        uuid.UUID(int=rng.getrandbits(128)),
        brand_id,
        "open",
        1,
        spec.name[:200],
        "A benchmark brief.",
        "sponsored_post" if spec.comp != Comp.gifted else "product_seeding",
        spec.comp.value,
        spec.currency,
        fee_min,
        fee_max,
        gifted,
        spec.platforms,
        spec.tiers,
        spec.bounds[0],
        spec.bounds[1],
        spec.niches,
        spec.min_er,
        spec.creator_countries,
        json.dumps(spec.target),
        start,
        deadline,
        rng.choice([1, 5, 20, 105]),
        json.dumps(default_disclosure(spec.comp).model_dump(mode="json")),
        json.dumps(default_usage_rights(spec.comp).model_dump(mode="json")),
        now,
        now,
        now,
    )


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
    "gifted_product",
    "platforms",
    "tiers",
    "min_followers",
    "max_followers",
    "niches",
    "min_engagement_rate",
    "creator_countries",
    "target_audience",
    "publish_start_date",
    "application_deadline",
    "slots",
    "disclosure",
    "usage_rights",
    "published_at",
    "created_at",
    "updated_at",
]


def _random_spec(rng: random.Random) -> BriefSpec:
    platforms = list(dict.fromkeys(rng.choices(PLATFORMS, PLATFORM_WEIGHTS, k=rng.randint(1, 3))))
    comp = rng.choices([Comp.paid, Comp.gifted, Comp.hybrid, Comp.affiliate], [50, 25, 15, 10])[0]
    fee_min = rng.randrange(5_000, 200_000, 500)
    spec = BriefSpec(
        "Open brief",
        platforms,
        tiers=rng.sample(["nano", "micro", "macro", "mega"], rng.randint(1, 2))
        if rng.random() < 0.7
        else [],
        niches=rng.sample(NICHES, rng.randint(1, 3)) if rng.random() < 0.95 else [],
        creator_countries=rng.sample(COUNTRIES[:20], rng.randint(1, 3))
        if rng.random() < 0.4
        else [],
        min_er=rng.choice([0.01, 0.02, 0.03]) if rng.random() < 0.3 else None,
        target={
            "countries": rng.sample(COUNTRIES[:20], rng.randint(1, 3)),
            **({"genders": [rng.choice(["female", "male"])]} if rng.random() < 0.4 else {}),
            **({"age_min": 18, "age_max": rng.choice([24, 34, 44])} if rng.random() < 0.5 else {}),
        },
        comp=comp,
        fee=(fee_min, fee_min + rng.randrange(0, 300_000, 500))
        if comp in (Comp.paid, Comp.hybrid)
        else None,
        currency=rng.choice(["EUR", "USD", "GBP"]),
    )
    if rng.random() < 0.15 and not spec.tiers:
        low = rng.choice([1_000, 5_000, 10_000, 50_000, 100_000])
        spec.bounds = (low, low * rng.choice([5, 10, 20]))
    spec.deliverables = [
        (p, rng.choice(FORMATS_BY_PLATFORM[p]), rng.randint(1, 3)) for p in platforms
    ]
    return spec


async def prepare(url: str, reset: bool) -> None:
    conn = await asyncpg.connect(libpq(url))
    try:
        if reset:
            await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
        else:
            exists = await conn.fetchval("SELECT to_regclass('public.creators') IS NOT NULL")
            if exists and await conn.fetchval("SELECT EXISTS (SELECT 1 FROM creators)"):
                raise SystemExit("the database holds data; use a scratch database with --reset")
    finally:
        await conn.close()
    await upgrade(url)


async def upgrade(url: str) -> None:
    config = alembic_config(url)
    config.attributes["configure_logging"] = False
    await asyncio.to_thread(command.upgrade, config, "head")


async def _copy(
    conn: asyncpg.Connection, table: str, rows: list[tuple[Any, ...]], columns: list[str]
) -> None:
    await conn.copy_records_to_table(table, records=rows, columns=columns)


async def load(url: str, creators: int, open_briefs: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    started = time.perf_counter()
    conn = await asyncpg.connect(libpq(url))
    try:
        await conn.execute("SET session_replication_role = replica")  # no triggers, no FK checks
        brand_id = uuid.UUID(int=rng.getrandbits(128))
        await _copy(
            conn,
            "brands",
            [(brand_id, "Bench brand", now, now)],
            ["id", "name", "created_at", "updated_at"],
        )
        chunk = 100_000
        for start in range(0, creators, chunk):
            users, profiles, accounts = [], [], []
            for i in range(start, min(creators, start + chunk)):
                user, creator, rows = _creator_rows(rng, i, now)
                users.append(user)
                profiles.append(creator)
                accounts.extend(rows)
            await _copy(
                conn, "users", users, ["id", "email", "password_hash", "role", "created_at"]
            )
            await _copy(
                conn,
                "creators",
                profiles,
                [
                    "id",
                    "user_id",
                    "display_name",
                    "handle",
                    "country",
                    "niches",
                    "rate_card_currency",
                    "rate_card",
                    "accepts_gifting",
                    "created_at",
                    "updated_at",
                ],
            )
            await _copy(
                conn,
                "social_accounts",
                accounts,
                [
                    "id",
                    "creator_id",
                    "platform",
                    "handle",
                    "followers",
                    "avg_likes",
                    "avg_comments",
                    "audience_countries",
                    "audience_genders",
                    "audience_ages",
                    "source",
                    "as_of",
                    "created_at",
                    "updated_at",
                ],
            )
            print(f"  creators: {min(creators, start + chunk):,}", file=sys.stderr)
        specs = [*CASES, *(_random_spec(rng) for _ in range(open_briefs))]
        briefs = [_brief_row(s, brand_id, now, rng) for s in specs]
        deliverables = [
            (uuid.UUID(int=rng.getrandbits(128)), row[0], i, p, f, q)
            for row, spec in zip(briefs, specs, strict=True)
            for i, (p, f, q) in enumerate(spec.deliverables)
        ]
        await _copy(conn, "briefs", briefs, BRIEF_COLUMNS)
        await _copy(
            conn,
            "brief_deliverables",
            deliverables,
            ["id", "brief_id", "position", "platform", "format", "quantity"],
        )
        copied = time.perf_counter() - started
        print(f"  copied in {copied:.0f} s; building the match tables", file=sys.stderr)
    finally:
        await conn.close()
    await rebuild_match_tables(url)
    conn = await asyncpg.connect(libpq(url))
    try:
        for table in ("users", "creators", "social_accounts", "briefs", "brief_deliverables"):
            await conn.execute(f"ANALYZE {table}")
        await conn.execute("VACUUM ANALYZE match_accounts")
        await conn.execute("VACUUM ANALYZE match_briefs")
        stats = {
            "creators": await conn.fetchval("SELECT count(*) FROM creators"),
            "accounts": await conn.fetchval("SELECT count(*) FROM social_accounts"),
            "match_accounts rows": await conn.fetchval("SELECT count(*) FROM match_accounts"),
            "open briefs": await conn.fetchval("SELECT count(*) FROM briefs"),
            "match_briefs rows": await conn.fetchval("SELECT count(*) FROM match_briefs"),
            "match_accounts size": await conn.fetchval(
                "SELECT pg_size_pretty(pg_total_relation_size('match_accounts'))"
            ),
            "load seconds": round(time.perf_counter() - started),
        }
    finally:
        await conn.close()
    return stats


@dataclass
class Result:
    name: str
    candidates: int | None = None
    results: list[float] = field(default_factory=list)
    found: int = 0
    plan: list[str] = field(default_factory=list)


class _Capture:
    """Records the page-loading statements sent while it is active, for EXPLAIN."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, dict[str, Any]]] = []
        self._original = match_search.fetch_rows

    def __enter__(self) -> _Capture:
        original = self._original

        async def fetch_rows(
            session: AsyncSession, sql: str, params: dict[str, Any]
        ) -> list[dict[str, Any]]:
            if "WITH ORDINALITY" in sql:
                self.statements.append((sql, dict(params)))
            return await original(session, sql, params)

        match_search.fetch_rows = fetch_rows
        return self

    def __exit__(self, *_: object) -> None:
        match_search.fetch_rows = self._original


async def _plan(
    sessionmaker: async_sessionmaker[AsyncSession], sql: str, params: dict[str, Any]
) -> list[str]:
    async with sessionmaker() as session:
        rows = await match_search.fetch_rows(
            session, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params
        )
        out = []
        for row in rows:
            line = str(next(iter(row.values())))
            # The plan's shape: node lines and counters, not the score expressions.
            stripped = line.strip()
            if (
                stripped.startswith(("Sort Key", "Output", "Filter", "Index Cond", "Join Filter"))
                and len(line) > 110
            ):
                line = line[:110] + " ..."
            elif len(line) > 140:
                line = line[:140] + " ..."
            out.append(line)
        return out


async def run_brand_cases(
    url: str, settings: Settings, runs: int, explain: bool, edits: float
) -> list[Result]:
    """Each brand case through one creator index (as one worker holds it), after its full
    copy; the broad case once more while accounts are edited `edits` times a second."""
    engine = create_engine(url, settings, pool_size=3, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    results = []
    index = CreatorIndex(settings=settings)
    writer = None
    try:
        async with sessionmaker() as session:
            briefs = {
                b.title: b
                for b in await session.scalars(
                    select(Brief).where(col(Brief.title).in_([c.name for c in CASES]))
                )
            }
            t0 = time.perf_counter()
            await index.refresh(session, next(iter(briefs.values())).id)
            copy_seconds = time.perf_counter() - t0
        cases = [(c.name, 1, 0.0) for c in CASES] + [(CASES[2].name, 5, 0.0)]
        if edits:
            cases.append((CASES[3].name, 1, edits))
        for name, pages, edit_rate in cases:
            brief = briefs[name]
            label = name if pages == 1 else f"{name}, page {pages}"
            result = Result(label if not edit_rate else f"{label}, {edit_rate:g} account edits/s")
            page = PageParams(limit=settings.default_page_size, cursor=None)
            async with sessionmaker() as session:
                for _ in range(pages - 1):
                    _, cursor = await matching.creators_for_brief(
                        session, settings, index, brief, CreatorMatchFilters(), page
                    )
                    page = PageParams(limit=page.limit, cursor=cursor)
            if edit_rate:
                writer = asyncio.create_task(_edit_accounts(url, edit_rate, 7))
            for i in range(runs + 5):
                async with sessionmaker() as session:
                    t0 = time.perf_counter()
                    items, _ = await matching.creators_for_brief(
                        session, settings, index, brief, CreatorMatchFilters(), page
                    )
                    elapsed = (time.perf_counter() - t0) * 1000
                if i >= 5:  # warm-up runs are not counted
                    result.results.append(elapsed)
                result.found = len(items)
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer
                writer = None
            if explain and not edit_rate:  # one more run, untimed, to capture the page load
                with _Capture() as capture:
                    async with sessionmaker() as session:
                        await matching.creators_for_brief(
                            session, settings, index, brief, CreatorMatchFilters(), page
                        )
                result.plan = [
                    f"ranked in memory (api/matching/creator_index.py): {index.size:,} account"
                    f" rows, {index.nbytes / 1e6:.0f} MB of arrays; the full copy took"
                    f" {copy_seconds:.1f} s. The page load:",
                    *await _plan(sessionmaker, *capture.statements[-1]),
                ]
            results.append(result)
    finally:
        if writer is not None:
            writer.cancel()
        await engine.dispose()
    return results


DIRECTORY_CASES = {
    "directory: everyone, largest first": CreatorDirectoryQuery(),
    "directory: instagram micro, audience 30 % US, ER >= 4 %": CreatorDirectoryQuery(
        platform=[Platform.instagram],
        tier=[Tier.micro],
        audience_country=["US"],
        min_audience_share=30,
        min_engagement_rate=0.04,
    ),
}


async def run_directory_cases(url: str, settings: Settings, runs: int) -> list[Result]:
    """`GET /v1/creators` (the service call, with the page's public profiles), through one
    creator index after its full copy."""
    engine = create_engine(url, settings, pool_size=2, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    index = CreatorIndex(settings=settings)
    results = []
    try:
        async with sessionmaker() as session:
            await index.sync(session)
        page = PageParams(limit=settings.default_page_size, cursor=None)
        for name, query in DIRECTORY_CASES.items():
            result = Result(name)
            for i in range(runs + 5):
                async with sessionmaker() as session:
                    t0 = time.perf_counter()
                    items, _ = await match_directory.search_creators(
                        session, settings, index, query, page
                    )
                    elapsed = (time.perf_counter() - t0) * 1000
                if i >= 5:
                    result.results.append(elapsed)
                result.found = len(items)
            results.append(result)
    finally:
        await engine.dispose()
    return results


async def _edit_accounts(url: str, per_second: float, seed: int) -> None:
    """Account edits at `per_second` (each changes an account's likes, so its match row), so
    that every creator index sync has changes to reload; runs until cancelled."""
    conn = await asyncpg.connect(libpq(url))
    try:
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM social_accounts LIMIT 5000")]
        rng = random.Random(seed)
        while True:
            await conn.execute(
                "UPDATE social_accounts SET avg_likes = avg_likes + 1 WHERE id = $1",
                rng.choice(ids),
            )
            await asyncio.sleep(1 / per_second)
    finally:
        await conn.close()


async def _edit_briefs(url: str, per_second: float, seed: int) -> None:
    """Brief edits at `per_second` (each moves an open brief's deadline a second later), so
    that every brief index sync has changes to reload; runs until cancelled."""
    conn = await asyncpg.connect(libpq(url))
    try:
        ids = [
            r["id"]
            for r in await conn.fetch("SELECT id FROM briefs WHERE status = 'open' LIMIT 5000")
        ]
        rng = random.Random(seed)
        while True:
            await conn.execute(
                "UPDATE briefs SET application_deadline = application_deadline"
                " + interval '1 second' WHERE id = $1",
                rng.choice(ids),
            )
            await asyncio.sleep(1 / per_second)
    finally:
        await conn.close()


async def run_creator_case(
    url: str, settings: Settings, runs: int, explain: bool, seed: int, edits: float = 0
) -> Result:
    """`/me/matches` for a different creator each run, through one brief index (as one
    worker holds it); the first, untimed, call makes its full copy. With `edits`, briefs
    are edited that many times a second meanwhile (each sync then reloads them)."""
    engine = create_engine(url, settings, pool_size=2, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    name = "GET /v1/me/matches (a different creator each run)"
    result = Result(name if not edits else f"{name}, {edits:g} brief edits/s")
    index = BriefIndex()
    writer = None
    try:
        async with sessionmaker() as session:
            ids = list(
                await session.scalars(
                    text(
                        "SELECT id FROM creators TABLESAMPLE SYSTEM (1) REPEATABLE (:seed) LIMIT :n"
                    ),
                    {"seed": seed, "n": runs + 5},
                )
            )
        found = []
        page = PageParams(limit=settings.default_page_size, cursor=None)
        copy_seconds = 0.0
        for i, creator_id in enumerate(ids):
            if i == 1 and edits:
                writer = asyncio.create_task(_edit_briefs(url, edits, seed))
            async with sessionmaker() as session:
                creator = await session.get(Creator, creator_id)
                assert creator is not None
                t0 = time.perf_counter()
                items, _ = await matching.briefs_for_creator(
                    session, settings, index, creator, page
                )
                elapsed = (time.perf_counter() - t0) * 1000
            if i == 0:
                copy_seconds = elapsed / 1000
            if i >= 5:  # warm-up runs are not counted
                result.results.append(elapsed)
                found.append(len(items))
        result.found = round(statistics.mean(found)) if found else 0
        if explain:
            result.plan = [
                f"ranked in memory (api/matching/brief_index.py): {index.size:,} brief rows;"
                f" the first request's full copy took {copy_seconds:.1f} s"
            ]
    finally:
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        await engine.dispose()
    return result


async def count_candidates(url: str) -> dict[str, int]:
    """How many creators meet each benchmark brief's hard requirements."""
    settings = Settings(database_url=url, maintenance_interval_seconds=0)
    engine = create_engine(url, settings, pool_size=1, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    index = CreatorIndex(settings=settings)
    out = {}
    try:
        async with sessionmaker() as session:
            for spec in CASES:
                brief = await session.scalar(select(Brief).where(col(Brief.title) == spec.name))
                assert brief is not None
                features = await match_features.brief_features(session, brief.id)
                assert features is not None
                await index.refresh(session, brief.id)
                out[spec.name] = index.count(settings, features)
    finally:
        await engine.dispose()
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(stats: dict[str, Any], results: list[Result], runs: int, explain: bool) -> None:
    print(
        "\n"
        + ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in stats.items())
    )
    print(f"{runs} timed runs per case, page size 20, service call (no HTTP)\n")
    print("| case | eligible creators | rows | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        values = r.results
        eligible = f"{r.candidates:,}" if r.candidates is not None else "-"
        print(
            f"| {r.name} | {eligible} | {r.found} | {statistics.median(values):.1f} "
            f"| {_pct(values, 0.95):.1f} | {_pct(values, 0.99):.1f} | {max(values):.1f} |"
        )
    if explain:
        for r in results:
            print(f"\n--- plan: {r.name}")
            for line in r.plan:
                print(line)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--open-briefs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reset", action="store_true", help="drop and rebuild schema public")
    parser.add_argument("--no-explain", action="store_true", help="skip the query plans")
    parser.add_argument("--no-load", action="store_true", help="time the data already loaded")
    parser.add_argument(
        "--edits",
        type=float,
        default=20,
        help="brief (account) edits a second in the last creator (brand) case",
    )
    args = parser.parse_args(argv)

    settings = Settings(database_url=args.database_url, maintenance_interval_seconds=0)
    if args.no_load:
        stats: dict[str, Any] = {}
        await upgrade(args.database_url)
    else:
        await prepare(args.database_url, args.reset)
        stats = await load(args.database_url, args.creators, args.open_briefs, args.seed)
    explain = not args.no_explain
    results = await run_brand_cases(args.database_url, settings, args.runs, explain, args.edits)
    candidates = await count_candidates(args.database_url)
    for r in results:
        case = max((c for c in candidates if r.name.startswith(c)), key=len, default="")
        r.candidates = candidates.get(case)
    results += await run_directory_cases(args.database_url, settings, args.runs)
    results.append(
        await run_creator_case(args.database_url, settings, args.runs, explain, args.seed)
    )
    results.append(
        await run_creator_case(
            args.database_url, settings, args.runs, False, args.seed, edits=args.edits
        )
    )
    report(stats, results, args.runs, explain)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
