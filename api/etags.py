"""Entity tags: `ETag` on reads, `If-Match` on writes, `If-None-Match` on reads (RFC 9110),
for briefs and deal terms."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.types import Message, Scope

from api.errors import PreconditionFailed, PreconditionRequired, problem_responses


def quoted(value: str | int) -> str:
    """A strong entity tag for an opaque value: `"3"`."""
    return f'"{value}"'


def matches(if_match: str, current: str) -> bool:
    """`*` or a comma-separated list of tags; a `W/` prefix is ignored, as proxies add one."""
    return any(
        tag == "*" or tag.removeprefix("W/") == current
        for tag in (t.strip() for t in if_match.split(","))
    )


def check_if_match(if_match: str | None, current: str, *, required: bool, noun: str) -> None:
    """Missing where required: 428; no tag matches the current one: 412."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                f"send If-Match with the {noun}'s ETag to change it", code="precondition_required"
            )
        return
    if not matches(if_match, current):
        raise PreconditionFailed(
            f"the {noun} changed since you read it; fetch it again", code="precondition_failed"
        )


def responses_with_etag(
    etag_header: dict[str, Any],
    *statuses: int,
    success: int = 200,
    extra_headers: dict[str, Any] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """A route's OpenAPI `responses`: its problem statuses, and the success carrying `ETag`
    (plus any other headers, such as a new resource's `Location`)."""
    responses = problem_responses(*statuses)
    responses[success] = {"headers": {**etag_header, **(extra_headers or {})}}
    return responses


# What a 304 keeps of the 200 it stands for (RFC 9110 15.4.5), and the request id; the
# security headers are added outside.
_KEPT_ON_304 = (
    *(b"etag", b"vary", b"cache-control", b"expires", b"content-location", b"date"),
    b"x-request-id",
)


def conditional(scope: Scope) -> str | None:
    """The `If-None-Match` of a GET or HEAD, which may turn its 200 into a 304."""
    if scope["method"] not in ("GET", "HEAD"):
        return None
    return Headers(scope=scope).get("if-none-match")


def not_modified(if_none_match: str, start: Message) -> Message | None:
    """`If-None-Match` on a GET: when the answer would be a 200 whose `ETag` the client
    already holds (weak comparison, or `*`), the start of a 304 without a body instead.
    Applied to the answer on its way out (`api.edge`), so every route that sets an `ETag`
    on a read gets it, with its own checks (auth, visibility) run first: a 304 is never an
    answer the 200 would not have been."""
    if start["status"] != 200:
        return None
    etag = Headers(raw=start["headers"]).get("etag")
    if etag is None or not matches(if_none_match, etag.removeprefix("W/")):
        return None
    kept = [(k, v) for k, v in start["headers"] if k.lower() in _KEPT_ON_304]
    return {"type": "http.response.start", "status": 304, "headers": kept}
