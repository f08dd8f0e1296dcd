"""Reading request bodies: duplicate JSON keys refused, a slow body cut off (issue #13, 20/21)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.request_body import duplicate_key
from api.settings import Settings
from tests import factories
from tests.factories import PASSWORD, assert_problem, unique_email

JSON = {"Content-Type": "application/json"}

# The port a helper's live server may use (see the project notes); override if it is taken.
PORT = int(os.environ.get("BRIEFBOARD_TEST_PORT", "8103"))


# --- 20: duplicate keys ---------------------------------------------------------------------


def test_duplicate_keys_are_found_at_any_depth() -> None:
    assert duplicate_key(b'{"a": 1, "a": 2}') == "a"
    assert duplicate_key(b'{"a": {"b": 1, "c": [{"d": 1, "d": 1}]}}') == "d"
    assert duplicate_key(b'{"a": 1, "b": {"a": 2}}') is None
    assert duplicate_key(b"not json") is None


async def test_a_body_with_a_duplicate_key_is_422_and_changes_nothing(
    client: httpx.AsyncClient, app: object
) -> None:
    email = unique_email("dup")
    body = (
        f'{{"email": "{email}", "password": "{PASSWORD}", "role": "creator", "role": "brand",'
        ' "brand": {"name": "Twice"}}'
    )
    r = await client.post("/v1/auth/register", content=body, headers=JSON)
    problem = assert_problem(r, 422, "duplicate_key")
    assert "role" in problem["detail"]
    assert problem["errors"][0]["type"] == "duplicate_key"
    assert await factories.db_rows(app, "SELECT id FROM users WHERE email = :e", e=email) == []


async def test_a_nested_duplicate_key_is_422(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    body = json.dumps(factories.brief_body()).replace(
        '"slots": 5', '"slots": 5, "target_audience": {"age_min": 18, "age_min": 65}'
    )
    r = await client.post("/v1/briefs", content=body, headers={**JSON, **owner.headers})
    assert_problem(r, 422, "duplicate_key")
    r = await client.post(
        "/v1/briefs",
        content=body.replace('"age_min": 65', '"age_max": 65'),
        headers={**JSON, **owner.headers},
    )
    assert r.status_code == 201, r.text


async def test_invalid_json_is_a_400_malformed_json(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/auth/register", content=b'{"email": ', headers=JSON)
    assert_problem(r, 400, "malformed_json")


# --- 21: a body that never arrives ----------------------------------------------------------


def test_the_default_body_time_limit_is_well_under_a_minute() -> None:
    assert Settings.model_fields["body_read_timeout_seconds"].default <= 30


@pytest.fixture
def live_server(database_url: str) -> Iterator[str]:
    """`briefboard serve` (uvicorn) on the test database, with a 2 s body time limit."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BODY_READ_TIMEOUT_SECONDS": "2",
        "MAINTENANCE_INTERVAL_SECONDS": "0",
        "BRIEFBOARD_CONFIGURE_LOGGING": "0",
    }
    command = [
        str(Path(sys.executable).with_name("briefboard")),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(PORT),
    ]
    server = subprocess.Popen(  # noqa: S603 - our own command line
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{PORT}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "the server stopped"
            time.sleep(0.1)
        else:
            raise AssertionError("the server never answered")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, bool]:
    """What the server sends until it closes the connection (or `limit` seconds pass)."""
    sock.settimeout(limit)
    received = b""
    try:
        while chunk := sock.recv(65_536):
            received += chunk
    except TimeoutError:
        return received, False
    return received, True


def test_a_body_shorter_than_its_content_length_gets_408_and_the_connection_closes(
    live_server: str,
) -> None:
    head = (
        "POST /v1/auth/register HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{PORT}\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 100\r\n"
        "\r\n"
    )
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", PORT)) as sock:
        sock.sendall(head.encode() + b'{"email": "slow')
        received, closed = _read_until_closed(sock, limit=30)
    elapsed = time.monotonic() - started
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout", received[:300]
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in headers.lower()
    assert json.loads(body)["code"] == "request_timeout"
    assert closed, "the server kept the connection open"
    assert 1.5 < elapsed < 20


def test_a_body_sent_in_time_is_served_on_the_live_server(live_server: str) -> None:
    body = json.dumps(
        {"email": unique_email("live"), "password": PASSWORD, "role": "creator"}
    ).encode()
    head = (
        "POST /v1/auth/register HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{PORT}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n"
        "\r\n"
    )
    with socket.create_connection(("127.0.0.1", PORT)) as sock:
        sock.sendall(head.encode() + body[:10])
        time.sleep(0.5)  # slow, but within the limit
        sock.sendall(body[10:])
        received, closed = _read_until_closed(sock, limit=30)
    assert received.startswith(b"HTTP/1.1 201"), received[:300]
    assert closed
