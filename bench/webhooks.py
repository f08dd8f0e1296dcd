"""Webhook dispatcher throughput and delivery lag to a local receiver.

    .venv/bin/python -m bench.webhooks --database-url postgresql+asyncpg://.../scratch

Not a test. The `public` schema of the given (scratch) database is dropped and migrated.
A receiver (uvicorn, in its own process, on 127.0.0.1:--port) answers 204 and notes when
each event arrived. Two runs:

- backlog: `--events` events are written at once, then `--dispatchers` dispatchers drain
  them; reports events delivered per second.
- steady: events are written at `--rate` per second for `--seconds` while the dispatchers
  run as in the API (polling every `--interval` s when idle); reports the delivery lag
  (arrival minus the event's commit time) p50/p99/max.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from api.db import create_engine, create_sessionmaker
from api.services import webhook_signing
from api.services.webhook_dispatch import Dispatcher
from api.settings import Settings

RECEIVER = """
import time
arrivals = {}

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "POST":
        headers = dict(scope["headers"])
        arrivals[headers[b"webhook-id"].decode()] = time.time()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    import json
    body = json.dumps(arrivals).encode()
    arrivals.clear()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
"""


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _prepare(url: str, settings: Settings, receiver_url: str) -> uuid.UUID:
    conn = await asyncpg.connect(_libpq(url))
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    from alembic import command

    from api.migrations_state import alembic_config

    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    brand_id = uuid.uuid4()
    conn = await asyncpg.connect(_libpq(url))
    try:
        await conn.execute("INSERT INTO brands (id, name) VALUES ($1, 'Bench')", brand_id)
        await conn.execute(
            "INSERT INTO webhook_subscriptions (id, brand_id, url, enabled, secret_encrypted)"
            " VALUES ($1, $2, $3, true, $4)",
            uuid.uuid4(),
            brand_id,
            receiver_url,
            webhook_signing.encrypt(settings, webhook_signing.new_secret()),
        )
    finally:
        await conn.close()
    return brand_id


async def _emit(conn: asyncpg.Connection, brand_id: uuid.UUID, count: int) -> None:
    payload = json.dumps({"id": str(uuid.uuid4()), "status": "paid", "note": "x" * 400})
    await conn.executemany(
        "INSERT INTO outbox_events (id, type, brand_id, payload, occurred_at)"
        " VALUES ($1, 'deal.paid', $2, $3::jsonb, clock_timestamp())",
        [(uuid.uuid4(), brand_id, payload) for _ in range(count)],
    )


async def _arrivals(client: httpx.AsyncClient, port: int) -> dict[str, float]:
    r = await client.get(f"http://127.0.0.1:{port}/stats")
    arrivals: dict[str, float] = r.json()
    return arrivals


async def _occurred(url: str) -> dict[str, float]:
    conn = await asyncpg.connect(_libpq(url))
    try:
        rows = await conn.fetch("SELECT id, occurred_at FROM outbox_events")
    finally:
        await conn.close()
    return {str(r["id"]): r["occurred_at"].timestamp() for r in rows}


async def run(args: argparse.Namespace) -> None:
    settings = Settings(
        database_url=args.database_url,
        webhooks_allow_private_targets=True,
        webhooks_dispatch_interval_seconds=args.interval,
        webhooks_dispatch_batch=args.batch,
        webhooks_dispatch_concurrency=args.concurrency,
    )
    receiver_url = f"http://127.0.0.1:{args.port}/hooks"
    brand_id = await _prepare(args.database_url, settings, receiver_url)
    engine = create_engine(args.database_url, settings)
    sessionmaker = create_sessionmaker(engine)
    dispatchers = [Dispatcher(sessionmaker, settings) for _ in range(args.dispatchers)]
    conn = await asyncpg.connect(_libpq(args.database_url))
    async with httpx.AsyncClient() as client:
        # --- backlog --------------------------------------------------------------------
        await _emit(conn, brand_id, args.events)
        started = time.perf_counter()
        while sum(await asyncio.gather(*(d.run_once() for d in dispatchers))):
            pass
        elapsed = time.perf_counter() - started
        arrived = await _arrivals(client, args.port)
        print(
            f"backlog: {len(arrived)}/{args.events} events in {elapsed:.2f} s = "
            f"{len(arrived) / elapsed:.0f} events/s "
            f"({args.dispatchers} dispatcher(s), batch {args.batch}, "
            f"concurrency {args.concurrency})"
        )
        await conn.execute("DELETE FROM outbox_events")

        # --- steady load ----------------------------------------------------------------
        loops = [asyncio.create_task(_loop(d, args.interval)) for d in dispatchers]
        tick = 0.1
        per_tick = max(1, round(args.rate * tick))
        deadline = time.perf_counter() + args.seconds
        sent = 0
        while time.perf_counter() < deadline:
            await _emit(conn, brand_id, per_tick)
            sent += per_tick
            await asyncio.sleep(tick)
        await asyncio.sleep(args.interval + 2)
        for task in loops:
            task.cancel()
        arrived = await _arrivals(client, args.port)
    await conn.close()
    occurred = await _occurred(args.database_url)
    lags = sorted(arrived[i] - occurred[i] for i in arrived if i in occurred)
    if not lags:
        print("steady: nothing arrived")
        return
    q = statistics.quantiles(lags, n=100)
    print(
        f"steady: {len(lags)}/{sent} events at ~{args.rate}/s for {args.seconds} s, poll "
        f"interval {args.interval} s: lag p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms,"
        f" max {lags[-1] * 1000:.0f} ms"
    )
    await engine.dispose()


async def _loop(dispatcher: Dispatcher, interval: float) -> None:
    while True:
        if not await dispatcher.run_once():
            await asyncio.sleep(interval)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, default=8106)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--dispatchers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    with open(os.devnull, "w") as devnull:
        receiver = subprocess.Popen(
            [
                sys.executable,
                "-c",
                RECEIVER
                + "\nimport uvicorn\nuvicorn.run(app, host='127.0.0.1', "
                + f"port={args.port}, log_level='warning', access_log=False)",
            ],
            stdout=devnull,
        )
    try:
        time.sleep(1.5)
        asyncio.run(run(args))
    finally:
        receiver.terminate()
        receiver.wait()
    print(f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
