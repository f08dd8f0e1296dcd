"""Where a request's time goes: the API or the baseline driven in-process, one at a time.

    python -m bench.profile --workload by_id [--target app|baseline] [--profile out.html]

Not a benchmark of throughput (that is `make bench`): it sends the same requests straight
to the ASGI application, with no server or network in between, one after the other, and
prints the mean time per request, so the two applications' own costs compare directly.
With `--profile` it records the app under pyinstrument and writes an HTML (or, ending in
.txt, a text) report. It needs the dataset `make bench` loads (BENCH_DATABASE_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from api.settings import Settings
from bench.dataset import libpq
from bench.perf import (
    DEFAULT_URL,
    JWT_SECRET,
    SELECT_PERMISSIVE_BRIEFS,
    SELECT_VISIBLE_BRIEFS,
    WEBHOOKS_KEY,
    Tokens,
    _db_now,
    check_and_undo_applications,
)

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def _requests(url: str, settings: Settings, workload: str, count: int) -> list[Any]:
    rng = random.Random(11)
    tokens = Tokens(settings)
    conn = await asyncpg.connect(libpq(url))
    try:
        readers = [r["id"] for r in await conn.fetch("SELECT id FROM users LIMIT 2000")]
        creators = await conn.fetch(
            "SELECT c.user_id, s.id AS account_id FROM creators c JOIN social_accounts s"
            " ON s.creator_id = c.id AND s.platform = 'instagram' ORDER BY random() LIMIT $1",
            count,
        )
        briefs = [r["id"] for r in await conn.fetch(SELECT_VISIBLE_BRIEFS, 5000)]
        permissive = [r["id"] for r in await conn.fetch(SELECT_PERMISSIVE_BRIEFS)]
    finally:
        await conn.close()
    out = []
    for k in range(count):
        if workload == "by_id":
            out.append(
                ("GET", f"/v1/briefs/{rng.choice(briefs)}", tokens(rng.choice(readers)), b"")
            )
        elif workload == "listing":
            query = "platform=instagram&tier=micro&sort=deadline"
            out.append(("GET", "/v1/briefs", tokens(rng.choice(readers)), b"", query))
        elif workload == "apply":
            creator = creators[k % len(creators)]
            body = (
                f'{{"pitch": "Profiling run {k}", "account_ids": ["{creator["account_id"]}"],'
                ' "proposed_fee_minor": 25000}'
            )
            path = f"/v1/briefs/{rng.choice(permissive)}/applications"
            out.append(("POST", path, tokens(creator["user_id"]), body.encode()))
        else:
            raise SystemExit(f"unknown workload {workload}")
    return out


async def _call(app: Asgi, request: tuple[Any, ...]) -> int:
    method, path, token, body = request[:4]
    query = request[4] if len(request) > 4 else ""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _lifespan(app: Asgi) -> Callable[[], Awaitable[None]]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def receive() -> dict[str, Any]:
        return await queue.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set_result(None)
        elif message["type"] == "lifespan.shutdown.complete":
            stopped.set_result(None)

    task = asyncio.create_task(app({"type": "lifespan", "state": {}}, receive, send))
    await queue.put({"type": "lifespan.startup"})
    await started

    async def stop() -> None:
        await queue.put({"type": "lifespan.shutdown"})
        await stopped
        await task

    return stop


async def _run(app: Asgi, requests: list[Any]) -> tuple[float, float, dict[int, int]]:
    """Send the requests one after the other: (wall seconds, CPU seconds, statuses)."""
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    cpu = time.process_time()
    for request in requests:
        status = await _call(app, request)
        statuses[status] = statuses.get(status, 0) + 1
    return time.perf_counter() - started, time.process_time() - cpu, statuses


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--workload", default="by_id", choices=["by_id", "listing", "apply"])
    parser.add_argument("--count", type=int, default=2000, help="requests per application")
    parser.add_argument("--rounds", type=int, default=5, help="alternations of app and baseline")
    parser.add_argument("--profile", type=Path, help="profile the app alone; write the report here")
    args = parser.parse_args(argv)
    os.environ.update(
        DATABASE_URL=args.database_url,
        ENVIRONMENT="production",
        JWT_SECRET=JWT_SECRET,
        WEBHOOKS_ENCRYPTION_KEY=WEBHOOKS_KEY,
        MAINTENANCE_INTERVAL_SECONDS="0",
    )
    settings = Settings(
        environment="production",
        jwt_secret=JWT_SECRET,
        database_url=args.database_url,
        webhooks_encryption_key=WEBHOOKS_KEY,
    )
    from api.main import create_app
    from bench.baseline import create_app as create_baseline

    # Each application gets requests of its own (applying twice to a brief is a 409).
    every = await _requests(args.database_url, settings, args.workload, 2 * (args.count + 200))
    apps: dict[str, Asgi] = {"app": create_app(settings)}  # type: ignore[dict-item]
    if not args.profile:
        apps["baseline"] = create_baseline(settings)  # type: ignore[assignment]
    stops = [await _lifespan(app) for app in apps.values()]
    since = await _db_now(args.database_url)
    try:
        for k, app in enumerate(apps.values()):  # warm-up: connections, statement caches
            await _run(app, every[k::2][:200])
        measured = {name: every[k::2][200:] for k, name in enumerate(apps)}
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002, async_mode="enabled")
            with profiler:
                await _run(apps["app"], measured["app"])
            text = args.profile.suffix == ".txt"
            args.profile.write_text(
                profiler.output_text(unicode=True, show_all=False)
                if text
                else profiler.output_html()
            )
            return 0
        # Alternate in slices so both see the same machine; CPU time is this process's.
        cpu: dict[str, list[float]] = {name: [] for name in apps}
        wall: dict[str, list[float]] = {name: [] for name in apps}
        statuses: dict[str, dict[int, int]] = {name: {} for name in apps}
        size = max(1, args.count // args.rounds)
        for k in range(args.rounds):
            for name, app in apps.items():
                chunk = measured[name][k * size : (k + 1) * size]
                w, c, s = await _run(app, chunk)
                wall[name].append(w / len(chunk))
                cpu[name].append(c / len(chunk))
                for status, n in s.items():
                    statuses[name][status] = statuses[name].get(status, 0) + n
        for name in apps:
            print(
                f"{name:8} {args.workload}: {statistics.median(wall[name]) * 1000:.3f} ms wall, "
                f"{statistics.median(cpu[name]) * 1000:.3f} ms CPU per request; {statuses[name]}",
                file=sys.stderr,
            )
        ratios = [b / a for a, b in zip(cpu["app"], cpu["baseline"], strict=True)]
        print(
            f"CPU ratio baseline/app (median of {args.rounds}): {statistics.median(ratios):.2f}",
            file=sys.stderr,
        )
    finally:
        for stop in reversed(stops):
            await stop()
        if args.workload == "apply":  # leave the dataset as it was
            await check_and_undo_applications(args.database_url, since)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
