"""A fixed-rate (open-loop) HTTP/1.1 load generator for latency at a given request rate.

wrk only drives a server as fast as it answers; latency must be taken at a fixed rate
below saturation instead. Request k is due at `k / rate` seconds; its latency runs from
when it was due (not when a connection was free), so queueing is not hidden. Loopback
only, bounded by a request count and a deadline.

The generator's own garbage collector is held off while it runs: a full collection of the
benchmark's heap (its tens of thousands of prepared requests) took 50-150 ms, and every
request due meanwhile was counted late, against whichever server was being measured.
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

Request = tuple[str, str, str, str]  # method, path, token, body


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    late: int = 0  # left unsent when the deadline came


def encode(host: str, port: int, request: Request) -> bytes:
    method, path, token, body = request
    payload = body.encode()
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}:{port}",
        f"Authorization: Bearer {token}",
    ]
    if payload:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def run(
    host: str,
    port: int,
    requests: Sequence[Request],
    *,
    rate: float,
    count: int,
    connections: int = 32,
    deadline_s: float = 120.0,
) -> Outcome:
    """Send `count` requests (cycling through `requests`) at `rate` per second."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError("the load generator only targets loopback addresses")
    gc.collect()
    gc.disable()
    try:
        return await _run(host, port, requests, rate, count, connections, deadline_s)
    finally:
        gc.enable()


async def _run(
    host: str,
    port: int,
    requests: Sequence[Request],
    rate: float,
    count: int,
    connections: int,
    deadline_s: float,
) -> Outcome:
    encoded = [encode(host, port, r) for r in requests]
    outcome = Outcome()
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(host, port))
    started = time.perf_counter()
    stop_at = started + min(deadline_s, count / rate + 30)

    async def one(k: int) -> None:
        due = started + k / rate
        reader, writer = await pool.get()
        try:
            writer.write(encoded[k % len(encoded)])
            status = await _read_response(reader)
            outcome.latencies_ms.append((time.perf_counter() - due) * 1000)
            outcome.statuses[status] += 1
            pool.put_nowait((reader, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            outcome.errors += 1
            writer.close()
            pool.put_nowait(await asyncio.open_connection(host, port))

    tasks = []
    for k in range(count):
        delay = started + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if time.perf_counter() > stop_at:
            outcome.late = count - k
            break
        tasks.append(asyncio.create_task(one(k)))
    remaining = max(0.1, stop_at - time.perf_counter())
    _, pending = await asyncio.wait(tasks, timeout=remaining) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    outcome.errors += len(pending)
    while not pool.empty():
        pool.get_nowait()[1].close()
    return outcome


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
