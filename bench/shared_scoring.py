"""Scoring throughput over one shared copy: k processes ranking the worst-case brief at once.

    .venv/bin/python -m bench.shared_scoring --database-url postgresql+asyncpg://.../bench

Not a test. Why the workers map one copy (`api.matching.shared`) rather than ask one matcher
process: ranking a broad brief is CPU work in the ranking process (about 40 ms for the
gifted, niche-less brief at a million creators), so one matcher process would put every
worker's ranking on one core. Here one copy is made and published, then 1, 2, ...
processes each map it and rank that brief for `--seconds`; the total ranks a second show
how scoring scales with the processes that share the copy.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from api.db import create_engine, create_sessionmaker
from api.matching import features as match_features
from api.matching.creator_index import CreatorIndex
from api.matching.creator_rows import CreatorBatch
from api.matching.shared import Host
from api.models.briefs import Brief
from api.models.matching import CreatorMatchFilters
from api.settings import Settings
from bench.matching import CASES

WORST = CASES[3].name  # broad, gifted, no niche


async def _publish(url: str, directory: str) -> dict[str, Any]:
    """One full copy, published in `directory`; the worst-case brief's features."""
    settings = Settings(database_url=url, maintenance_interval_seconds=0)
    engine = create_engine(url, settings, pool_size=1, max_overflow=0)
    host = Host(directory)
    host.following = True  # keep the segment: nobody else follows here
    index = CreatorIndex(settings=settings, host=host)
    try:
        async with create_sessionmaker(engine)() as session:
            brief = (await session.scalars(select(Brief).where(col(Brief.title) == WORST))).one()
            await index.refresh(session, brief.id)
            features = await match_features.brief_features(session, brief.id)
            assert features is not None
            return dict(features)
    finally:
        await engine.dispose()


def _rank(directory: str, features: dict[str, Any], seconds: float, out: Any) -> None:
    settings = Settings(maintenance_interval_seconds=0)
    host = Host(directory)
    pointer = host.latest("creators")
    assert pointer is not None
    opened = host.open(pointer)
    assert opened is not None
    index = CreatorIndex(settings=settings)
    index.hold(CreatorBatch.from_arrays(*opened))
    filters = CreatorMatchFilters()
    index.rank(settings, features, filters, applied=set(), cursor=None, n=21)  # warm-up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        index.rank(settings, features, filters, applied=set(), cursor=None, n=21)
        done += 1
    out.put((done, time.perf_counter() - started))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="briefboard-bench-") as directory:
        features = asyncio.run(_publish(args.database_url, directory))
        context = multiprocessing.get_context("spawn")
        print("| processes | ranks/s (all) | ms per rank | load (1 min) |")
        print("|---:|---:|---:|---:|")
        for k in args.processes:
            out = context.Queue()
            procs = [
                context.Process(target=_rank, args=(directory, features, args.seconds, out))
                for _ in range(k)
            ]
            for p in procs:
                p.start()
            results = [out.get() for _ in procs]
            for p in procs:
                p.join()
            rate = sum(done / took for done, took in results)
            per = sum(took * 1000 / done for done, took in results) / k
            print(f"| {k} | {rate:.1f} | {per:.1f} | {os.getloadavg()[0]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
