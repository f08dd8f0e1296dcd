"""gzip for answers above ~1 KB when the client accepts it (`compressed`, applied by
`api.edge`).

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
from starlette.types import Message

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


def compressed(
    start: Message, body: bytes, wanted: bool, *, min_bytes: int = MIN_BYTES, level: int = LEVEL
) -> tuple[Message, bytes] | None:
    """An answer sent in one piece, gzipped when the client accepts it (`wanted`) and it is
    big enough and text; None to send it as it is. A compressible answer says
    `Vary: Accept-Encoding` either way."""
    headers = MutableHeaders(raw=list(start["headers"]))
    if len(body) < min_bytes or not _compressible(headers):
        return None
    headers.add_vary_header("Accept-Encoding")
    if wanted:
        body = gzip.compress(body, compresslevel=level, mtime=0)
        headers["content-encoding"] = "gzip"
        headers["content-length"] = str(len(body))
    return {**start, "headers": headers.raw}, body
