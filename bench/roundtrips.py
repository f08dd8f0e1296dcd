"""Round trips to PostgreSQL per request, counted on the wire by a loopback TCP proxy.

A round trip is a burst of bytes from the client to the server after the server last
spoke (asyncpg sends Parse/Bind/Execute/Sync of a statement in one burst; a statement
prepared for the first time takes two). The application runs in-process with its
DATABASE_URL pointed at the proxy; connections are opened and statements prepared in a
warm-up, then the counter is reset and requests are sent one at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import make_url


class CountingProxy:
    """Forwards loopback connections to PostgreSQL and counts client bursts."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.bursts = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> CountingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def listen_port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        last = ["server"]

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, side: str) -> None:
            try:
                while data := await src.read(65536):
                    if side == "client" and last[0] != "client":
                        self.bursts += 1
                    last[0] = side
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(reader, up_writer, "client"), pump(up_reader, writer, "server"))


def via_proxy(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


async def per_request(
    make_app: Any, url: str, requests: Sequence[Any], *, warmup: int = 30, count: int = 60
) -> float:
    """Mean round trips per request of the app `make_app(database_url)` builds."""
    from bench.profile import _call, _lifespan

    # As ASGI has them: the path without its query, the body as bytes (the workloads
    # hold request lines and text, as wrk's request files do).
    requests = [
        (r[0], r[1].partition("?")[0], r[2], r[3].encode(), r[1].partition("?")[2])
        for r in requests
    ]
    parsed = make_url(url)
    async with CountingProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
        app = make_app(via_proxy(url, proxy.listen_port))
        stop = await _lifespan(app)
        try:
            for request in requests[:warmup]:
                await _call(app, request)
            measured = requests[warmup : warmup + count]
            # Each measured caller seen once (`GET /v1/me`), as in the wrk runs, where every
            # token recurs: the API's workers cache callers (`api.services.access_cache`).
            for token in dict.fromkeys(r[2] for r in measured):
                await _call(app, ("GET", "/v1/me", token, b"", ""))
            proxy.bursts = 0
            for request in measured:
                await _call(app, request)
            return proxy.bursts / len(measured)
        finally:
            await stop()
