"""Build valid actors and objects through the API in one call."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@dataclass
class Actor:
    email: str
    user_id: uuid.UUID
    role: str
    access_token: str
    refresh_token: str
    brand_id: uuid.UUID | None = None
    creator_id: uuid.UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def unique_email(prefix: str) -> str:
    return f"{prefix}{next(_counter)}-{uuid.uuid4().hex[:6]}@example.com"


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(
        "/v1/auth/token", data={"grant_type": "password", "username": email, "password": password}
    )


async def _register(client: httpx.AsyncClient, body: dict[str, Any]) -> Actor:
    response = await client.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    me = response.json()
    tokens = await login(client, body["email"])
    assert tokens.status_code == 200, tokens.text
    return Actor(
        email=body["email"],
        user_id=uuid.UUID(me["id"]),
        role=me["role"],
        access_token=tokens.json()["access_token"],
        refresh_token=tokens.json()["refresh_token"],
        brand_id=uuid.UUID(me["brand_id"]) if me["brand_id"] else None,
        creator_id=uuid.UUID(me["creator_id"]) if me["creator_id"] else None,
    )


async def brand(client: httpx.AsyncClient, name: str = "Acme Skincare") -> Actor:
    return await _register(
        client,
        {
            "email": unique_email("brand"),
            "password": PASSWORD,
            "role": "brand",
            "brand": {"name": name},
        },
    )


async def creator(
    client: httpx.AsyncClient,
    *,
    profile: dict[str, Any] | None = None,
    accounts: list[dict[str, Any]] | None = None,
) -> Actor:
    actor = await _register(
        client, {"email": unique_email("creator"), "password": PASSWORD, "role": "creator"}
    )
    if profile:
        r = await client.patch("/v1/creators/me", json=profile, headers=actor.headers)
        assert r.status_code == 200, r.text
    for account in accounts or []:
        r = await client.post(
            "/v1/creators/me/accounts", json=social_account(**account), headers=actor.headers
        )
        assert r.status_code == 201, r.text
    return actor


def social_account(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "platform": "instagram",
        "handle": "@someone",
        "followers": 48_200,
        "avg_likes": 2_150,
        "avg_comments": 96,
        "audience": {
            "countries": {"US": 40.0, "GB": 20.0},
            "genders": {"female": 70.0, "male": 29.0},
            "ages": {"18-24": 40.0, "25-34": 45.0},
        },
        "source": "self_reported",
        "as_of": "2026-11-01",
    }
    body.update(overrides)
    return body


async def admin(client: httpx.AsyncClient, app: Any) -> Actor:
    """An admin, made the way the CLI makes one (there is no endpoint for it)."""
    from api.services.accounts import create_admin
    from api.settings import get_settings

    email = unique_email("admin")
    async with app.state.sessionmaker.begin() as session:
        user = await create_admin(session, get_settings(), email, PASSWORD)
    tokens = await login(client, email)
    assert tokens.status_code == 200, tokens.text
    return Actor(
        email=email,
        user_id=user.id,
        role="admin",
        access_token=tokens.json()["access_token"],
        refresh_token=tokens.json()["refresh_token"],
    )


# --- helpers for assertions and credentials -------------------------------------------------

PROBLEM_FIELDS = ("type", "title", "status", "detail", "code")


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and code), and a request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    assert response.headers.get("x-request-id"), response.headers
    body: dict[str, Any] = response.json()
    for name in PROBLEM_FIELDS:
        assert name in body, f"problem lacks {name!r}: {body}"
    assert body["status"] == status
    assert body["type"].endswith("/" + body["code"])
    if code is not None:
        assert body["code"] == code, body
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def api_token(
    client: httpx.AsyncClient, actor: Actor, scopes: list[str], name: str = "Agency dashboard"
) -> dict[str, Any]:
    """Create a scoped API token for `actor`; the answer holds the secret under `token`."""
    r = await client.post(
        "/v1/me/api-tokens", json={"name": name, "scopes": scopes}, headers=actor.headers
    )
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def client_at(app: Any, address: str) -> httpx.AsyncClient:
    """A client whose requests come from `address` (for per-address rules)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


# --- briefs ----------------------------------------------------------------------------------

OMIT: Any = object()  # pass as an override to leave a field out of the body


def brief_body(**overrides: Any) -> dict[str, Any]:
    """A paid sponsored-post brief that publishes as it is: dates relative to now."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "title": "Summer glow: serum reels",
        "description": "Show your morning routine with our vitamin C serum.",
        "collaboration_type": "sponsored_post",
        "compensation_type": "paid",
        "currency": "EUR",
        "fee_min_minor": 20_000,
        "fee_max_minor": 50_000,
        "product": {"name": "Hydra Glow Serum", "retail_value_minor": 3_900},
        "platforms": ["instagram"],
        "deliverables": [{"platform": "instagram", "format": "reel", "quantity": 1}],
        "tiers": ["micro"],
        "niches": ["beauty"],
        "publish_start_date": (now.date() + timedelta(days=30)).isoformat(),
        "application_deadline": (now + timedelta(days=14)).isoformat(),
        "slots": 5,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not OMIT}


GIFTED = {
    "compensation_type": "gifted",
    "fee_min_minor": OMIT,
    "fee_max_minor": OMIT,
    "gifted_product": {"name": "Serum trio", "retail_value_minor": 7_500},
}


async def brief(client: httpx.AsyncClient, owner: Actor, **overrides: Any) -> dict[str, Any]:
    """A draft brief of `owner`'s brand (complete enough to publish unless overridden)."""
    r = await client.post("/v1/briefs", json=brief_body(**overrides), headers=owner.headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def open_brief(client: httpx.AsyncClient, owner: Actor, **overrides: Any) -> dict[str, Any]:
    """A published (open) brief of `owner`'s brand."""
    draft = await brief(client, owner, **overrides)
    r = await client.post(f"/v1/briefs/{draft['id']}/publish", headers=owner.headers)
    assert r.status_code == 200, r.text
    published: dict[str, Any] = r.json()
    return published


def problem_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is a problem document with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def error_fields(problem: dict[str, Any]) -> set[str]:
    """The fields a 422 names: the last name in each error's location."""
    return {
        next(str(part) for part in reversed(e["loc"]) if isinstance(part, str))
        for e in problem.get("errors", [])
    }


async def expire_deadline(app: Any, brief_id: str) -> None:
    """Move an open brief's application deadline into the past, as time passing would."""
    from sqlalchemy import text

    async with app.state.sessionmaker.begin() as session:
        await session.execute(
            text(
                "UPDATE briefs SET application_deadline = now() - interval '1 minute'"
                " WHERE id = :id"
            ),
            {"id": brief_id},
        )
