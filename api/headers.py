"""Security headers, set once for every answer (`with_security_headers`, applied by
`api.edge`).

The docs page's Content-Security-Policy is `DOCS_CONTENT_SECURITY_POLICY`, the one place
to change when the docs UI changes.
"""

from __future__ import annotations

from starlette.types import Message

# Swagger UI, served by the app itself under /docs: its own scripts, styles and fonts, the
# inline <script> that starts it and the inline styles it sets, images as data: URIs (its
# icons), and the spec fetched from this origin. Nothing from anywhere else: the page
# works offline, and an injected reference to another host would not load.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'none'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_PATH = "/docs"

# Everything else is JSON (or Prometheus text): a browser that renders it may load nothing.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_NO_STORE = (b"cache-control", b"no-store")
_DOCS_CSP = (b"content-security-policy", DOCS_CONTENT_SECURITY_POLICY.encode())
_API_CSP = (b"content-security-policy", API_CONTENT_SECURITY_POLICY.encode())


def with_security_headers(path: str, start: Message) -> Message:
    """The start of an answer to `path` with nosniff, no framing, a Content-Security-Policy,
    and `Cache-Control: no-store` on every `/v1` answer: each is about one signed-in caller
    (their account, tokens, addresses, deals) or is a sign-in, and none may be kept by a
    shared cache. Headers the route set itself are kept."""
    docs = path == DOCS_PATH or path.startswith(DOCS_PATH + "/")
    headers = list(start.get("headers", []))
    present = {name.lower() for name, _ in headers}
    headers.extend(h for h in _COMMON if h[0] not in present)
    if b"content-security-policy" not in present:
        headers.append(_DOCS_CSP if docs else _API_CSP)
    if b"cache-control" not in present and path.startswith("/v1/"):
        headers.append(_NO_STORE)
    return {**start, "headers": headers}
