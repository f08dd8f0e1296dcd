"""`Idempotency-Key` on POST: a retry replays the first response instead of acting twice.

Scoped to the caller (the signed-in user, or the API token) and kept for
`IDEMPOTENCY_TTL_HOURS` (at least 24 h). The same key with another request body is a 422;
a retry while the first request still runs is a 409. Responses of 5xx are not kept (and
what the request did is rolled back), so a failed request can be retried.

One transaction, on one connection, holds the whole exchange: it takes a transaction-level
advisory lock on the key (a retry that cannot take it gets 409 at once, without waiting),
looks for the stored answer, runs the request in a savepoint of it (the session dependency
joins it: `api.db.get_session`), stores the answer and commits, and only then sends the
answer. So the effect and its stored answer are committed together or not at all, a retry
right after the answer replays it, and a worker that dies mid-request leaves nothing
behind (its transaction, and with it the lock, ends with its connection).

A replay first authenticates the caller in full (token revoked or deleted, account
suspended: 401, not the stored answer). An answer that shows a secret once (a new API
token) is never stored: its replay is a 409 `secret_shown_once` naming what was created.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.db import SHARED_CONNECTION, WriteSlots
from api.errors import AppError, PayloadTooLarge, app_error_response, problem_response
from api.security import API_TOKEN_PREFIX, InvalidToken, decode_access_token, token_digest
from api.services.tokens import resolve_bearer
from api.settings import Settings

HEADER = b"idempotency-key"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_KEPT_HEADERS = ("content-type", "etag", "location")
_MAX_STORED_BODY = 1_048_576
# Held until the transaction ends; a 64-bit hash of the caller and key (a collision only
# makes an unrelated retry wait for a 409, never replays a wrong answer: rows are by key).
LOCK_KEY = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:lock, 0))")
_STORED = text(
    """
    SELECT fingerprint, response_status, response_headers, response_body
    FROM idempotency_keys
    WHERE scope = :scope AND key = :key AND created_at >= :expired_before
    """
)
_STORE = text(
    """
    INSERT INTO idempotency_keys AS k (scope, key, fingerprint, response_status,
        response_headers, response_body, created_at)
    VALUES (:scope, :key, :fingerprint, :status, CAST(:headers AS jsonb), :body, :now)
    ON CONFLICT (scope, key) DO UPDATE
      SET fingerprint = EXCLUDED.fingerprint, response_status = EXCLUDED.response_status,
          response_headers = EXCLUDED.response_headers, response_body = EXCLUDED.response_body,
          created_at = EXCLUDED.created_at
    """
)

EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])


def shows_secret(endpoint: EndpointT) -> EndpointT:
    """Mark a route whose success shows a secret once: its answer is never stored for
    replay (a retry with the same key gets 409 `secret_shown_once` instead)."""
    endpoint.shows_secret = True  # type: ignore[attr-defined]
    return endpoint


def lock_name(caller: str, key: str) -> str:
    """What the advisory lock of a caller's key is taken on (see `LOCK_KEY`)."""
    return f"{caller}\n{key}"


def caller_scope(settings: Settings, authorization: str) -> str | None:
    """Who is calling, without touching the database; None for anonymous or bad tokens
    (those requests fail authentication anyway and are not remembered)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    if token.startswith(API_TOKEN_PREFIX):
        return f"token:{token_digest(token)[:32]}"
    try:
        return f"user:{decode_access_token(settings, token).user_id}"
    except InvalidToken:
        return None


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(HEADER)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        key = raw_key.decode("latin-1")
        if not _VALID_KEY.match(key):
            await problem_response(
                request, 422, "invalid_idempotency_key", "use 1 to 255 printable ASCII characters"
            )(scope, receive, send)
            return
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        caller = caller_scope(self.settings, authorization)
        if caller is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except HTTPException as exc:
            await problem_response(request, exc.status_code, PayloadTooLarge.code, exc.detail)(
                scope, receive, send
            )
            return
        fingerprint = hashlib.sha256(
            b"\n".join([scope["path"].encode(), scope.get("query_string", b""), body])
        ).hexdigest()
        engine: AsyncEngine = scope["app"].state.engine
        exchange = _Exchange(self, scope, body, caller, key, fingerprint)
        slots: WriteSlots = scope["app"].state.write_slots
        async with slots.held(), engine.connect() as conn:
            transaction = await conn.begin()
            try:
                answer = await exchange.run(conn, authorization.partition(" ")[2])
            except BaseException:
                await transaction.rollback()
                raise
            if answer.status >= 500:
                await transaction.rollback()
            else:
                await transaction.commit()
        # Sent only now: whatever the caller sees is committed.
        await answer.send(send)


class _Answer:
    """A response held back until its transaction ends."""

    def __init__(self) -> None:
        self.status = 500
        self.messages: list[Message] = []

    async def capture(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        self.messages.append(message)

    @property
    def headers(self) -> dict[str, str]:
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        out = {}
        for name, value in start.get("headers", []):
            lowered = name.decode("latin-1").lower()
            if lowered in _KEPT_HEADERS:
                out[lowered] = value.decode("latin-1")
        return out

    @property
    def body(self) -> bytes:
        return b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )

    @classmethod
    async def of(cls, response: Response, scope: Scope) -> _Answer:
        answer = cls()

        async def no_body() -> Message:
            return {"type": "http.disconnect"}

        await response(scope, no_body, answer.capture)
        return answer

    async def send(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


class _Exchange:
    """One POST with an Idempotency-Key, inside the transaction its middleware opened."""

    def __init__(
        self,
        middleware: IdempotencyMiddleware,
        scope: Scope,
        body: bytes,
        caller: str,
        key: str,
        fingerprint: str,
    ) -> None:
        self.app = middleware.app
        self.settings = middleware.settings
        self.scope = scope
        self.body = body
        self.caller = caller
        self.key = key
        self.fingerprint = fingerprint
        self.request = Request(scope)

    async def run(self, conn: AsyncConnection, token: str) -> _Answer:
        now = datetime.now(UTC)
        locked = await conn.scalar(LOCK_KEY, {"lock": lock_name(self.caller, self.key)})
        if not locked:
            return await self._problem(
                409,
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still running",
            )
        expired_before = now - timedelta(hours=self.settings.idempotency_ttl_hours)
        stored = (
            await conn.execute(
                _STORED, {"scope": self.caller, "key": self.key, "expired_before": expired_before}
            )
        ).first()
        if stored is not None:
            return await self._replay(conn, token, stored)
        answer = await self._run_request(conn)
        if answer.status < 500:
            await self._store(conn, answer, now)
        return answer

    async def _problem(self, status: int, code: str, detail: str) -> _Answer:
        return await _Answer.of(problem_response(self.request, status, code, detail), self.scope)

    async def _replay(self, conn: AsyncConnection, token: str, stored: Any) -> _Answer:
        if stored.fingerprint != self.fingerprint:
            return await self._problem(
                422, "idempotency_key_reused", "this Idempotency-Key was used with another request"
            )
        # Only a caller who may act now gets the answer: the token may have been revoked,
        # the account suspended, since the first request.
        try:
            await resolve_bearer(conn, self.settings, token)
        except AppError as exc:
            return await _Answer.of(app_error_response(self.request, exc), self.scope)
        body: bytes = stored.response_body or b""
        headers = [
            (name.encode("latin-1"), str(value).encode("latin-1"))
            for name, value in (stored.response_headers or {}).items()
        ]
        headers.append((b"content-length", str(len(body)).encode()))
        headers.append((b"idempotent-replayed", b"true"))
        answer = _Answer()
        await answer.capture(
            {"type": "http.response.start", "status": stored.response_status, "headers": headers}
        )
        await answer.capture({"type": "http.response.body", "body": body})
        return answer

    async def _run_request(self, conn: AsyncConnection) -> _Answer:
        sent = False

        async def replay_receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": self.body, "more_body": False}
            return {"type": "http.disconnect"}

        self.scope.setdefault("state", {})[SHARED_CONNECTION] = conn
        answer = _Answer()
        try:
            await self.app(self.scope, replay_receive, answer.capture)
        finally:
            del self.scope["state"][SHARED_CONNECTION]
        return answer

    async def _store(self, conn: AsyncConnection, answer: _Answer, now: datetime) -> None:
        status, headers, body = answer.status, answer.headers, answer.body
        endpoint = getattr(self.scope.get("route"), "endpoint", None)
        if getattr(endpoint, "shows_secret", False) and status < 300:
            created = json.loads(body).get("id")
            shown = f"already created {created}" if created else "already answered"
            kept = await self._problem(
                409,
                "secret_shown_once",
                f"this key {shown}; its secret was shown once and is not kept for replay",
            )
            status, headers, body = kept.status, kept.headers, kept.body
        if len(body) > _MAX_STORED_BODY:
            return
        await conn.execute(
            _STORE,
            {
                "scope": self.caller,
                "key": self.key,
                "fingerprint": self.fingerprint,
                "status": status,
                "headers": json.dumps(headers),
                "body": body,
                "now": now,
            },
        )


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            return b"".join(chunks)
