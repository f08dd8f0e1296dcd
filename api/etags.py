"""Entity tags: `ETag` on reads, `If-Match` on writes (RFC 9110), for briefs and deal terms."""

from __future__ import annotations

from typing import Any

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
