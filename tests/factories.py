"""Build valid actors and objects through the API in one call."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
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


# --- applications, invitations and deals ------------------------------------------------------


async def applicant(
    client: httpx.AsyncClient, *, profile: dict[str, Any] | None = None, **account: Any
) -> Actor:
    """A creator living in Spain who covers beauty, with one social account (by default an
    Instagram micro account, see `social_account`); its ids are in `extra["account_ids"]`."""
    actor = await creator(
        client,
        profile={"country": "ES", "niches": ["beauty"], **(profile or {})},
        accounts=[account],
    )
    r = await client.get("/v1/creators/me", headers=actor.headers)
    assert r.status_code == 200, r.text
    actor.extra["account_ids"] = [a["id"] for a in r.json()["accounts"]]
    return actor


def application_body(actor: Actor, **overrides: Any) -> dict[str, Any]:
    """An application offering all of `actor`'s accounts, with a fee (for paid briefs)."""
    body: dict[str, Any] = {
        "pitch": "Morning routines are my thing: 48k followers who love skincare.",
        "account_ids": actor.extra["account_ids"],
        "proposed_fee_minor": 30_000,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not OMIT}


async def apply(
    client: httpx.AsyncClient, actor: Actor, brief: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    """`actor` applies to `brief` (no fee unless the brief pays one); returns the application."""
    if brief["compensation_type"] not in ("paid", "hybrid"):
        overrides.setdefault("proposed_fee_minor", OMIT)
    r = await client.post(
        f"/v1/briefs/{brief['id']}/applications",
        json=application_body(actor, **overrides),
        headers=actor.headers,
    )
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def deal(
    client: httpx.AsyncClient, owner: Actor, brief: dict[str, Any], actor: Actor
) -> dict[str, Any]:
    """`actor` applies to `owner`'s open brief and `owner` accepts: returns the deal."""
    application = await apply(client, actor, brief)
    r = await client.post(f"/v1/applications/{application['id']}/accept", headers=owner.headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def db_rows(app: Any, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a read-only SQL query, to check what the database holds."""
    from sqlalchemy import text

    async with app.state.sessionmaker() as session:
        result = await session.execute(text(sql), params)
        return [dict(row._mapping) for row in result]


# --- deal work: terms, deliverables, gifting ----------------------------------------------------

SEEDING = {**GIFTED, "collaboration_type": "product_seeding", "slots": 50}


async def db_execute(app: Any, sql: str, **params: Any) -> None:
    """Change the database directly, as time passing would (move dates into the past)."""
    from sqlalchemy import text

    async with app.state.sessionmaker.begin() as session:
        await session.execute(text(sql), params)


async def accept_terms(
    client: httpx.AsyncClient, actor: Actor, deal: dict[str, Any], version: int | None = None
) -> dict[str, Any]:
    """`actor` accepts the deal's current (or the given) terms version; returns the deal."""
    version = version or deal["current_version"]
    r = await client.post(f"/v1/deals/{deal['id']}/terms/{version}/accept", headers=actor.headers)
    assert r.status_code == 200, r.text
    accepted: dict[str, Any] = r.json()
    return accepted


async def active_deal(
    client: httpx.AsyncClient, owner: Actor, brief: dict[str, Any], actor: Actor
) -> dict[str, Any]:
    """A deal between `owner` and `actor` whose first terms the creator accepted."""
    return await accept_terms(client, actor, await deal(client, owner, brief, actor))


async def deliverables(
    client: httpx.AsyncClient, actor: Actor, deal: dict[str, Any]
) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/deals/{deal['id']}/deliverables", headers=actor.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def draft_body(**overrides: Any) -> dict[str, Any]:
    """A draft that meets the default disclosure checklists (#ad with the label for paid
    work, #gifted for gifts)."""
    body = {
        "draft_url": "https://drive.example/draft.mp4",
        "caption": "Morning glow #ad #gifted @acme",
        "paid_partnership_label": True,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not OMIT}


async def submit_draft(
    client: httpx.AsyncClient,
    actor: Actor,
    deal: dict[str, Any],
    unit: dict[str, Any],
    **overrides: Any,
) -> dict[str, Any]:
    """`actor` submits a draft; returns the deliverable, its newest round last."""
    r = await client.post(
        f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/submissions",
        json=draft_body(**overrides),
        headers=actor.headers,
    )
    assert r.status_code == 201, r.text
    submitted: dict[str, Any] = r.json()
    return submitted


async def approve_draft(
    client: httpx.AsyncClient,
    owner: Actor,
    deal: dict[str, Any],
    unit: dict[str, Any],
    *,
    acknowledge: bool = False,
) -> dict[str, Any]:
    """`owner` approves the deliverable's newest draft (`acknowledge`: despite the gaps
    its disclosure check found); returns the deliverable."""
    submission = unit["submissions"][-1]
    r = await client.post(
        f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/submissions/{submission['id']}/approve",
        json={"acknowledge_disclosure_gaps": True} if acknowledge else {},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    approved: dict[str, Any] = r.json()
    return approved


def publish_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "live_url": "https://instagram.com/reel/abc",
        "caption": "Morning glow with @acme #ad",
        "paid_partnership_label": True,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not OMIT}


PLATFORM_HOSTS = {"instagram": "instagram.com", "tiktok": "tiktok.com", "youtube": "youtube.com"}


async def publish_unit(
    client: httpx.AsyncClient,
    creator: Actor,
    owner: Actor,
    deal: dict[str, Any],
    unit: dict[str, Any],
    **overrides: Any,
) -> dict[str, Any]:
    """Draft, approval and publication of one deliverable; returns it published. The draft
    carries the caption and label to be published; the brand approves it, acknowledging
    the gaps when its disclosure check failed."""
    # A live post's link is on its own platform's domain.
    live_url = f"https://{PLATFORM_HOSTS.get(unit['platform'], 'instagram.com')}/p/abc"
    body = publish_body(**{"live_url": live_url, **overrides})
    draft = {
        "caption": body["caption"],
        "paid_partnership_label": body.get("paid_partnership_label", False),
    }
    unit = await submit_draft(client, creator, deal, unit, **draft)
    check = unit["submissions"][-1]["disclosure_check"]
    unit = await approve_draft(client, owner, deal, unit, acknowledge=not check["compliant"])
    r = await client.post(
        f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/publish",
        json=body,
        headers=creator.headers,
    )
    assert r.status_code == 200, r.text
    published: dict[str, Any] = r.json()
    return published


async def deal_events(app: Any, deal_id: str, event_type: str) -> list[dict[str, Any]]:
    """Outbox events of one type that concern a deal (by the payload's deal id)."""
    rows = await db_rows(
        app,
        "SELECT type, brand_id, creator_id, payload FROM outbox_events WHERE type = :type"
        " AND (payload->>'deal_id' = :id OR payload->>'id' = :id) ORDER BY occurred_at",
        type=event_type,
        id=deal_id,
    )
    return rows


ADDRESS = {
    "recipient_name": "Ana García",
    "line1": "Calle Mayor 5",
    "city": "Madrid",
    "postal_code": "28013",
    "country": "ES",
}


async def put_address(client: httpx.AsyncClient, actor: Actor) -> None:
    r = await client.put("/v1/creators/me/shipping-address", json=ADDRESS, headers=actor.headers)
    assert r.status_code == 200, r.text


# --- matching ----------------------------------------------------------------------------------


async def match_creator(
    client: httpx.AsyncClient,
    *,
    niches: tuple[str, ...] | list[str] = ("beauty",),
    country: str | None = "ES",
    accounts: list[dict[str, Any]] | None = None,
    **profile: Any,
) -> Actor:
    """A creator to match: these niches and country (and any other profile fields), and
    one default Instagram micro account (see `social_account`) unless `accounts` lists
    others (overrides of it). The accounts' ids are in `extra["account_ids"]`."""
    body: dict[str, Any] = {"niches": list(niches), **profile}
    if country is not None:
        body["country"] = country
    actor = await creator(client, profile=body, accounts=[{}] if accounts is None else accounts)
    r = await client.get("/v1/creators/me", headers=actor.headers)
    assert r.status_code == 200, r.text
    actor.extra["account_ids"] = [a["id"] for a in r.json()["accounts"]]
    return actor


async def all_pages(
    client: httpx.AsyncClient, actor: Actor, path: str, **params: Any
) -> list[dict[str, Any]]:
    """Every item of a cursor-paginated list, following `next_cursor` to the end."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(path, params=query, headers=actor.headers)
        assert r.status_code == 200, r.text
        page = r.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination never ended")


async def published_deliverable(
    client: httpx.AsyncClient,
    app: Any,
    owner: Actor,
    brief: dict[str, Any],
    actor: Actor,
    *,
    late: bool = False,
) -> dict[str, Any]:
    """`actor` gets a deal on `owner`'s open brief and publishes its first deliverable
    through the API: on time, or (`late`) after a due date moved to yesterday."""
    from datetime import UTC, datetime, timedelta

    agreed = await active_deal(client, owner, brief, actor)
    unit = (await deliverables(client, actor, agreed))[0]
    if late:
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
        await db_execute(
            app,
            "UPDATE deal_deliverables SET due_date = :d WHERE id = :id",
            d=yesterday,
            id=unit["id"],
        )
    published = await publish_unit(client, actor, owner, agreed, unit)
    assert published["late"] is late
    return published


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait for `condition()` to hold (a background task's doing), at most `seconds`."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")


# --- brand teams ----------------------------------------------------------------------------


async def brand_invitation(
    client: httpx.AsyncClient, owner: Actor, email: str, role: str = "manager"
) -> dict[str, Any]:
    """`owner` invites `email` to its brand; the answer holds the secret under `token`."""
    r = await client.post(
        f"/v1/brands/{owner.brand_id}/invitations",
        json={"email": email, "role": role},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def member(client: httpx.AsyncClient, owner: Actor, role: str = "manager") -> Actor:
    """A new user who joined `owner`'s brand in `role` by registering with an invitation."""
    email = unique_email(role)
    invitation = await brand_invitation(client, owner, email, role)
    actor = await _register(
        client,
        {
            "email": email,
            "password": PASSWORD,
            "role": "brand",
            "invitation_token": invitation["token"],
        },
    )
    assert actor.brand_id == owner.brand_id
    return actor


async def join(
    client: httpx.AsyncClient, owner: Actor, actor: Actor, role: str = "manager"
) -> None:
    """`actor`, already signed up, joins `owner`'s brand as well (an agency)."""
    invitation = await brand_invitation(client, owner, actor.email, role)
    r = await client.post(
        "/v1/brand-invitations/accept", json={"token": invitation["token"]}, headers=actor.headers
    )
    assert r.status_code == 200, r.text
