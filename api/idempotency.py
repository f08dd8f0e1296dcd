"""`Idempotency-Key` on POST: a retry replays the first response instead of acting twice.

Scoped to the caller (the signed-in user, or the API token) and kept for
`IDEMPOTENCY_TTL_HOURS` (at least 24 h). The same key with another request body is a 422;
a retry while the first request still runs is a 409. Responses of 5xx are not kept, so a
failed request can be retried. The key is claimed in a transaction of its own before the
request runs; if a worker dies mid-request, the claim lapses after
`IDEMPOTENCY_LOCK_SECONDS` and a retry may run again.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PayloadTooLarge, problem_response
from api.models.idempotency import IdempotencyKey
from api.security import API_TOKEN_PREFIX, InvalidToken, decode_access_token, token_digest
from api.settings import Settings

HEADER = b"idempotency-key"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_KEPT_HEADERS = ("content-type", "etag", "location")
_MAX_STORED_BODY = 1_048_576

_CLAIM = text(
    """
    INSERT INTO idempotency_keys AS k (scope, key, fingerprint, locked_until, created_at)
    VALUES (:scope, :key, :fingerprint, :locked_until, :now)
    ON CONFLICT (scope, key) DO UPDATE
      SET fingerprint = EXCLUDED.fingerprint, locked_until = EXCLUDED.locked_until,
          created_at = EXCLUDED.created_at, response_status = NULL,
          response_headers = NULL, response_body = NULL
      WHERE k.created_at < :expired_before
         OR (k.response_status IS NULL AND k.locked_until < :now
             AND k.fingerprint = EXCLUDED.fingerprint)
    RETURNING k.scope
    """
)


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
        caller = caller_scope(self.settings, headers.get(b"authorization", b"").decode("latin-1"))
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
        sessionmaker: async_sessionmaker[AsyncSession] = scope["app"].state.sessionmaker
        replay = await self._claim(sessionmaker, caller, key, fingerprint, request)
        if replay is not None:
            await replay(scope, receive, send)
            return
        await self._run_and_keep(scope, body, send, sessionmaker, caller, key)

    async def _claim(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        caller: str,
        key: str,
        fingerprint: str,
        request: Request,
    ) -> Any:
        """Claim the key (None: go ahead) or return the response to send instead."""
        now = datetime.now(UTC)
        async with sessionmaker.begin() as session:
            claimed = (
                await session.execute(
                    _CLAIM,
                    {
                        "scope": caller,
                        "key": key,
                        "fingerprint": fingerprint,
                        "now": now,
                        "locked_until": now
                        + timedelta(seconds=self.settings.idempotency_lock_seconds),
                        "expired_before": now
                        - timedelta(hours=self.settings.idempotency_ttl_hours),
                    },
                )
            ).first()
            if claimed is not None:
                return None
            row = await session.scalar(
                select(IdempotencyKey).where(
                    col(IdempotencyKey.scope) == caller, col(IdempotencyKey.key) == key
                )
            )
        if row is None:  # deleted between the two statements: the first request failed
            return problem_response(
                request, 409, "idempotency_in_progress", "retry: the first request just ended"
            )
        if row.fingerprint != fingerprint:
            return problem_response(
                request,
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was used with another request",
            )
        if row.response_status is None:
            return problem_response(
                request,
                409,
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still running",
            )
        return _Replay(row)

    async def _run_and_keep(
        self,
        scope: Scope,
        body: bytes,
        send: Send,
        sessionmaker: async_sessionmaker[AsyncSession],
        caller: str,
        key: str,
    ) -> None:
        sent = False

        async def replay_receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        status = 500
        kept_headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    lowered = name.decode("latin-1").lower()
                    if lowered in _KEPT_HEADERS:
                        kept_headers[lowered] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        finally:
            stored = b"".join(chunks)
            async with sessionmaker.begin() as session:
                where = (col(IdempotencyKey.scope) == caller, col(IdempotencyKey.key) == key)
                if status >= 500 or len(stored) > _MAX_STORED_BODY:
                    await session.execute(delete(IdempotencyKey).where(*where))
                else:
                    await session.execute(
                        update(IdempotencyKey)
                        .where(*where)
                        .values(
                            response_status=status,
                            response_headers=kept_headers,
                            response_body=stored,
                        )
                    )


class _Replay:
    """Sends a stored response again, marked as a replay."""

    def __init__(self, row: IdempotencyKey) -> None:
        self.row = row

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (name.encode("latin-1"), str(value).encode("latin-1"))
            for name, value in (self.row.response_headers or {}).items()
        ]
        body = self.row.response_body or b""
        headers.append((b"content-length", str(len(body)).encode()))
        headers.append((b"idempotent-replayed", b"true"))
        assert self.row.response_status is not None
        await send(
            {"type": "http.response.start", "status": self.row.response_status, "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})


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
