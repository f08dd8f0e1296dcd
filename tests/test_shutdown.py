"""Graceful shutdown: at SIGTERM a server stops accepting, finishes what is in flight within
`GRACEFUL_SHUTDOWN_SECONDS`, and exits."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from api import cli
from api.settings import get_settings
from tests import factories

GRACE_SECONDS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(database_url: str, workers: int) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`briefboard serve` in a process of its own, on a free port, until it answers."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GRACEFUL_SHUTDOWN_SECONDS": str(GRACE_SECONDS),
        "MAINTENANCE_INTERVAL_SECONDS": "0",
    }
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the server died at start-up"
            assert time.monotonic() < deadline, "the server never answered"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        break
            except OSError:
                pass
            time.sleep(0.2)
        yield server, port
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _start_request(port: int, body: bytes) -> socket.socket:
    """A sign-up whose body is still on its way: a request in flight (on a connection a
    worker has already served, so it is surely accepted)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    served = b""
    while not served.endswith(b'{"status":"ok"}'):
        chunk = s.recv(4096)
        assert chunk, "the connection closed"
        served += chunk
    head = (
        "POST /v1/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    s.sendall(head.encode() + body[:10])
    return s


def _signup_body() -> bytes:
    email = factories.unique_email("drain")
    return json.dumps({"email": email, "password": factories.PASSWORD, "role": "creator"}).encode()


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_finishes_requests_in_flight_refuses_new_ones_and_exits_in_time(
    database_url: str, workers: int
) -> None:
    with serving(database_url, workers) as (server, port):
        body = _signup_body()
        in_flight = _start_request(port, body)
        # A client that never finishes its request may not hold the server up.
        stuck = _start_request(port, _signup_body())
        time.sleep(0.2)  # both partial bodies reached their worker
        server.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        # New connections are refused at once, not queued and reset later.
        deadline = time.monotonic() + 3
        while not _refused(port):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.1)
        in_flight.sendall(body[10:])
        answer = in_flight.recv(65536)
        assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
        server.wait(timeout=GRACE_SECONDS + 15)
        # Generous bound: the drain lasted the grace period, not until the stuck client left.
        assert time.monotonic() - stopped_at < GRACE_SECONDS + 15
        in_flight.close()
        stuck.close()


def test_serve_passes_the_graceful_shutdown_setting_to_uvicorn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    previous = signal.getsignal(signal.SIGTERM)
    try:
        cli.serve(argparse.Namespace(host="127.0.0.1", port=0, workers=1), "unused")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen["timeout_graceful_shutdown"] == get_settings().graceful_shutdown_seconds
