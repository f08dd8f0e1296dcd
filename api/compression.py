"""gzip for answers above ~1 KB when the client accepts it (`CompressionMiddleware`).

A page of 20 briefs is ~40 KB of JSON and compresses about tenfold; an answer under
`MIN_BYTES` is sent as it is (the header and CPU cost more than the bytes saved). Only
answers sent in one piece are compressed (every JSON answer); streamed ones pass through.
The `ETag` stays as it is: it names the object's version, whatever the coding (and
`If-Match`/`If-None-Match` compare versions); caches tell codings apart by
`Vary: Accept-Encoding`.
"""

from __future__ import annotations

import gzip

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_BYTES = 1024
# Level 6: within a few percent of level 9's size at about half its CPU.
LEVEL = 6
_COMPRESSIBLE = ("application/json", "application/problem+json", "text/")


def accepts_gzip(accept_encoding: str) -> bool:
    """The client lists gzip (or `*`) without `q=0` (RFC 9110 12.5.3)."""
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() not in ("gzip", "x-gzip", "*"):
            continue
        quality = params.strip().removeprefix("q=").strip() if "q=" in params else "1"
        try:
            return float(quality) > 0
        except ValueError:
            return False
    return False


def _compressible(headers: Headers) -> bool:
    content_type = headers.get("content-type", "")
    return "content-encoding" not in headers and content_type.startswith(_COMPRESSIBLE)


class CompressionMiddleware:
    def __init__(self, app: ASGIApp, *, min_bytes: int = MIN_BYTES, level: int = LEVEL) -> None:
        self.app = app
        self.min_bytes = min_bytes
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = accepts_gzip(Headers(scope=scope).get("accept-encoding", ""))
        start: Message | None = None
        passing = False

        async def compressing_send(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                return
            assert start is not None
            body: bytes = message.get("body", b"")
            headers = MutableHeaders(raw=list(start["headers"]))
            big = len(body) >= self.min_bytes and _compressible(headers)
            if message.get("more_body", False) or not big:
                passing = True  # streamed, small or not text: as it is
                await send(start)
                await send(message)
                return
            headers.add_vary_header("Accept-Encoding")
            if wanted:
                body = gzip.compress(body, compresslevel=self.level, mtime=0)
                headers["content-encoding"] = "gzip"
                headers["content-length"] = str(len(body))
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, compressing_send)
