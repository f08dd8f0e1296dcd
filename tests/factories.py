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
