"""Reading a request body: within a time limit, and refusing JSON with duplicate keys.

A client that declares a `Content-Length` and sends less would otherwise hold its
connection (and a worker's attention) until the server's keep-alive machinery gives up,
which for a request in progress is never: uvicorn has no body timeout. A JSON object with
the same key twice is read by Python as "the last one wins", so `{"slots": 1, "slots": 50}`
would mean something other than what a reviewer or a log shows first.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import FieldError, problem_response

_JSON_SUBTYPE_SUFFIX = "+json"


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(key)
        seen[key] = value
    return seen


def duplicate_key(body: bytes) -> str | None:
    """The first key found twice in one object of a JSON document, if any.

    A document that is not valid JSON has none: parsing it is FastAPI's job (422 there).
    """
    try:
        json.loads(body, object_pairs_hook=_no_duplicates)
    except DuplicateKey as exc:
        return exc.key
    except (ValueError, RecursionError):
        return None
    return None


def _is_json(scope: Scope) -> bool:
    content_type: str = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith(_JSON_SUBTYPE_SUFFIX)
    )


def _has_body(scope: Scope) -> bool:
    headers = dict(scope["headers"])
    return headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers


class RequestBodyMiddleware:
    """Reads the whole body before the app sees it: within `timeout` seconds (else 408 and
    the connection is closed) and, for JSON, with no key twice in one object (else 422).

    Sits inside the body-size limit, so what it holds in memory is bounded. Requests
    without a body (GET, DELETE) pass straight through.
    """

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            body = await asyncio.wait_for(_read_body(receive), self.timeout)
        except TimeoutError:
            response = problem_response(
                request,
                408,
                "request_timeout",
                f"the request body did not arrive within {self.timeout:g} seconds",
                # The rest of the body may still come: the connection cannot be reused.
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        except HTTPException as exc:  # the size limit, raised by the receive it wraps
            code = {413: "payload_too_large"}.get(exc.status_code, "bad_request")
            response = problem_response(request, exc.status_code, code, str(exc.detail))
            await response(scope, receive, send)
            return
        except _Disconnected:
            return
        if _is_json(scope) and (key := duplicate_key(body)) is not None:
            shown = key if len(key) <= 40 else key[:40] + "..."
            response = problem_response(
                request,
                422,
                "duplicate_key",
                f"the JSON body has the key {shown!r} twice in one object",
                errors=[
                    FieldError(loc=["body"], msg=f"duplicate key {shown!r}", type="duplicate_key")
                ],
            )
            await response(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


class _Disconnected(Exception):
    pass


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body in one message, then the connection's own messages (a disconnect)."""
    sent = False

    async def replay_receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay_receive
