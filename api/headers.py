"""Security headers, set once for every answer (`SecurityHeadersMiddleware`).

The docs page's Content-Security-Policy is `DOCS_CONTENT_SECURITY_POLICY`, the one place
to change when the docs UI changes.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class SecurityHeadersMiddleware:
    """nosniff, no framing, a Content-Security-Policy, and `Cache-Control: no-store` on
    every `/v1` answer: each is about one signed-in caller (their account, tokens,
    addresses, deals) or is a sign-in, and none may be kept by a shared cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        docs = path == DOCS_PATH or path.startswith(DOCS_PATH + "/")
        policy = DOCS_CONTENT_SECURITY_POLICY if docs else API_CONTENT_SECURITY_POLICY
        added = [*_COMMON, (b"content-security-policy", policy.encode())]
        private = path.startswith("/v1/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in added if h[0] not in present)
                if private and b"cache-control" not in present:
                    headers.append(_NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
