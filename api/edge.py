"""What every answer gets on its way out, in one middleware: a 304 for a GET whose `ETag`
the client holds (`api.etags.not_modified`), gzip above ~1 KB (`api.compression`), then
the security headers (`api.headers`), applied in that order as three nested middlewares
did. Each rule lives in its module; this only runs them, one layer instead of three.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.compression import accepts_gzip, compressed
from api.etags import conditional, not_modified
from api.headers import with_security_headers


class EdgeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if_none_match = conditional(scope)
        wanted = accepts_gzip(Headers(scope=scope).get("accept-encoding", ""))
        start: Message | None = None
        passing = False  # streamed, small or not text: the rest goes as it comes
        done = False  # a 304 was sent: what the route sends after it is dropped

        async def edge_send(message: Message) -> None:
            nonlocal start, passing, done
            if done:
                return
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                if if_none_match is not None:
                    empty = not_modified(if_none_match, message)
                    if empty is not None:
                        done = True
                        await send(with_security_headers(path, empty))
                        await send({"type": "http.response.body", "body": b""})
                        return
                start = message  # held until the body says whether to compress
                return
            assert start is not None
            body: bytes = message.get("body", b"")
            shrunk = None
            if not message.get("more_body", False):
                shrunk = compressed(start, body, wanted)
            if shrunk is None:
                passing = True
                await send(with_security_headers(path, start))
                await send(message)
                return
            start, body = shrunk
            await send(with_security_headers(path, start))
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, edge_send)
