"""Invitations: a brand asks a creator to apply; they last seven days and are used once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests import factories
from tests.factories import Actor, assert_problem, error_fields

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def _invite(
    client: httpx.AsyncClient, actor: Actor | None, brief_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/v1/briefs/{brief_id}/invitations", json=body, headers=actor.headers if actor else {}
    )


async def _invited(
    client: httpx.AsyncClient, owner: Actor, brief: dict[str, Any], creator: Actor
) -> dict[str, Any]:
    r = await _invite(client, owner, brief["id"], {"creator_id": str(creator.creator_id)})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def _expire(app: FastAPI, invitation_id: str) -> None:
    """Age an invitation past its seven days, as time passing would."""
    async with app.state.sessionmaker.begin() as session:
        await session.execute(
            text("UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = :id"),
            {"id": invitation_id},
        )


async def _my_invitations(
    client: httpx.AsyncClient, actor: Actor, **params: Any
) -> list[dict[str, Any]]:
    r = await client.get("/v1/me/invitations", params=params, headers=actor.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


# --- inviting ---------------------------------------------------------------------------------


async def test_brand_invites_a_creator_for_seven_days(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    r = await _invite(
        client,
        brand,
        brief["id"],
        {"creator_id": str(creator.creator_id), "message": "Your routines are perfect for us."},
    )
    assert r.status_code == 201, r.text
    invitation = r.json()
    assert invitation["brief_id"] == brief["id"]
    assert invitation["creator_id"] == str(creator.creator_id)
    assert invitation["message"] == "Your routines are perfect for us."
    assert invitation["status"] == "pending"
    assert invitation["applied_at"] is None
    created = datetime.fromisoformat(invitation["created_at"])
    expires = datetime.fromisoformat(invitation["expires_at"])
    assert expires - created == timedelta(days=7)
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=1)

    assert await _my_invitations(client, creator) == [invitation]
    events = await factories.db_rows(
        app, "SELECT type, brand_id, creator_id FROM outbox_events WHERE type NOT LIKE 'brief.%'"
    )
    assert events == [
        {
            "type": "invitation.created",
            "brand_id": brand.brand_id,
            "creator_id": creator.creator_id,
        }
    ]


async def test_creator_is_invited_once_per_brief(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    await _invited(client, brand, brief, creator)
    r = await _invite(client, brand, brief["id"], {"creator_id": str(creator.creator_id)})
    assert_problem(r, 409, "already_invited")

    # Another brief of the same brand is another invitation.
    second = await factories.open_brief(client, brand)
    await _invited(client, brand, second, creator)
    assert len(await _my_invitations(client, creator)) == 2


async def test_an_expired_invitation_is_renewed_by_inviting_again(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    first = await _invited(client, brand, brief, creator)
    await _expire(app, first["id"])

    r = await _invite(
        client, brand, brief["id"], {"creator_id": str(creator.creator_id), "message": "Again?"}
    )
    assert r.status_code == 201, r.text
    renewed = r.json()
    assert renewed["id"] == first["id"]
    assert renewed["status"] == "pending"
    assert renewed["message"] == "Again?"
    assert datetime.fromisoformat(renewed["expires_at"]) > datetime.now(UTC) + timedelta(days=6)
    [seen] = await _my_invitations(client, creator)
    assert seen["status"] == "pending"
    # The renewed invitation is live again: a third invite is refused, and applying uses it.
    r = await _invite(client, brand, brief["id"], {"creator_id": str(creator.creator_id)})
    assert_problem(r, 409, "already_invited")
    application = await factories.apply(client, creator, brief)
    assert application["invitation_id"] == first["id"]


async def test_a_used_invitation_is_not_renewed(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    invitation = await _invited(client, brand, brief, creator)
    await factories.apply(client, creator, brief)
    await _expire(app, invitation["id"])
    r = await _invite(client, brand, brief["id"], {"creator_id": str(creator.creator_id)})
    assert_problem(r, 409, "already_applied")


async def test_creator_who_applied_is_not_invited(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    await factories.apply(client, creator, brief)
    r = await _invite(client, brand, brief["id"], {"creator_id": str(creator.creator_id)})
    assert_problem(r, 409, "already_applied")
    assert await _my_invitations(client, creator) == []


async def test_inviting_an_unknown_creator_is_404(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    for creator_id in (UNKNOWN_ID, str(brand.brand_id), str(brand.user_id)):
        r = await _invite(client, brand, brief["id"], {"creator_id": creator_id})
        assert_problem(r, 404, "creator_not_found")


@pytest.mark.parametrize("actions", [[], ["publish", "close"]], ids=["draft", "closed"])
async def test_invitations_need_an_open_brief(
    client: httpx.AsyncClient, actions: list[str]
) -> None:
    brand = await factories.brand(client)
    brief = await factories.brief(client, brand)
    for action in actions:
        r = await client.post(f"/v1/briefs/{brief['id']}/{action}", headers=brand.headers)
        assert r.status_code == 200, r.text
    creator = await factories.applicant(client)
    r = await _invite(client, brand, brief["id"], {"creator_id": str(creator.creator_id)})
    assert_problem(r, 409, "brief_not_open")


async def test_invitations_need_a_brief_before_its_deadline(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    await factories.expire_deadline(app, brief["id"])
    creator = await factories.applicant(client)
    r = await _invite(client, brand, brief["id"], {"creator_id": str(creator.creator_id)})
    assert_problem(r, 409, "brief_not_open")


async def test_only_the_briefs_brand_invites(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    draft = await factories.brief(client, brand)
    creator = await factories.applicant(client)
    body = {"creator_id": str(creator.creator_id)}
    other_brand = await factories.brand(client, name="Rival Labs")

    assert_problem(await _invite(client, other_brand, brief["id"], body), 404, "not_found")
    assert_problem(await _invite(client, other_brand, draft["id"], body), 404, "not_found")
    assert_problem(await _invite(client, other_brand, UNKNOWN_ID, body), 404, "not_found")
    assert_problem(await _invite(client, creator, brief["id"], body), 403, "brand_only")
    admin = await factories.admin(client, app)
    assert_problem(await _invite(client, admin, brief["id"], body), 403, "brand_only")
    assert_problem(await _invite(client, None, brief["id"], body), 401, "not_authenticated")
    assert await _my_invitations(client, creator) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "creator_id"),
        ({"creator_id": "nobody"}, "creator_id"),
        ({"creator_id": UNKNOWN_ID, "message": "hi\x00"}, "message"),
        ({"creator_id": UNKNOWN_ID, "message": "x" * 5_001}, "message"),
        ({"creator_id": UNKNOWN_ID, "priority": "high"}, "priority"),
    ],
    ids=["missing", "not-a-uuid", "nul", "too-long", "unknown-field"],
)
async def test_malformed_invitation_is_a_422(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    problem = assert_problem(await _invite(client, brand, brief["id"], body), 422)
    assert field in error_fields(problem)


# --- the creator's invitations ----------------------------------------------------------------


async def test_creator_sees_pending_expired_and_applied_invitations(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    briefs = [await factories.open_brief(client, brand) for _ in range(3)]
    creator = await factories.applicant(client)
    pending, expired, applied = [await _invited(client, brand, b, creator) for b in briefs]
    await _expire(app, expired["id"])
    application = await factories.apply(client, creator, briefs[2])

    assert application["invitation_id"] == applied["id"]
    mine = {i["id"]: i for i in await _my_invitations(client, creator)}
    assert mine[pending["id"]]["status"] == "pending"
    assert mine[expired["id"]]["status"] == "expired"
    assert mine[applied["id"]]["status"] == "applied"
    assert mine[applied["id"]]["applied_at"] is not None

    for status, invitation in (("pending", pending), ("expired", expired), ("applied", applied)):
        filtered = await _my_invitations(client, creator, status=status)
        assert [i["id"] for i in filtered] == [invitation["id"]]
    r = await client.get("/v1/me/invitations", params={"status": "lost"}, headers=creator.headers)
    assert_problem(r, 422, "validation_error")


async def test_an_invitation_to_a_brief_that_closed_shows_closed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    closed, past_deadline, still_open = [
        await factories.open_brief(client, brand) for _ in range(3)
    ]
    creator = await factories.applicant(client)
    invited = {
        b["id"]: await _invited(client, brand, b, creator)
        for b in (closed, past_deadline, still_open)
    }
    r = await client.post(f"/v1/briefs/{closed['id']}/close", headers=brand.headers)
    assert r.status_code == 200, r.text
    await factories.expire_deadline(app, past_deadline["id"])

    mine = {i["brief_id"]: i["status"] for i in await _my_invitations(client, creator)}
    assert mine == {
        closed["id"]: "closed",
        past_deadline["id"]: "closed",
        still_open["id"]: "pending",
    }
    only_closed = await _my_invitations(client, creator, status="closed")
    assert {i["id"] for i in only_closed} == {
        invited[closed["id"]]["id"],
        invited[past_deadline["id"]]["id"],
    }
    [pending] = await _my_invitations(client, creator, status="pending")
    assert pending["id"] == invited[still_open["id"]]["id"]


async def test_expired_invitation_is_not_recorded_on_the_application(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    invitation = await _invited(client, brand, brief, creator)
    await _expire(app, invitation["id"])

    application = await factories.apply(client, creator, brief)
    assert application["invitation_id"] is None
    [seen] = await _my_invitations(client, creator)
    assert seen["status"] == "expired"
    assert seen["applied_at"] is None


async def test_creator_applies_uninvited_with_no_invitation_recorded(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    other_brief = await factories.open_brief(client, brand)
    creator = await factories.applicant(client)
    invitation = await _invited(client, brand, other_brief, creator)
    application = await factories.apply(client, creator, brief)
    assert application["invitation_id"] is None
    [seen] = await _my_invitations(client, creator)
    assert seen["id"] == invitation["id"]
    assert seen["status"] == "pending"


async def test_creators_see_only_their_own_invitations(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    invited = await factories.applicant(client)
    other = await factories.applicant(client)
    await _invited(client, brand, brief, invited)
    assert await _my_invitations(client, other) == []


async def test_invitations_page_newest_first(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    creator = await factories.applicant(client)
    ids = []
    for _ in range(3):
        brief = await factories.open_brief(client, brand)
        ids.append((await _invited(client, brand, brief, creator))["id"])
    first = await client.get("/v1/me/invitations?limit=2", headers=creator.headers)
    assert [i["id"] for i in first.json()["items"]] == [ids[2], ids[1]]
    second = await client.get(
        "/v1/me/invitations",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=creator.headers,
    )
    assert [i["id"] for i in second.json()["items"]] == [ids[0]]
    assert second.json()["next_cursor"] is None


async def test_only_creators_read_invitations(client: httpx.AsyncClient, app: FastAPI) -> None:
    brand = await factories.brand(client)
    r = await client.get("/v1/me/invitations", headers=brand.headers)
    assert_problem(r, 403, "creator_only")
    admin = await factories.admin(client, app)
    assert_problem(
        await client.get("/v1/me/invitations", headers=admin.headers), 403, "creator_only"
    )
    assert_problem(await client.get("/v1/me/invitations"), 401, "not_authenticated")


# --- the brief summary each invitation carries ------------------------------------------------


async def test_invitation_embeds_the_brief_summary(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client, name="Glow Labs")
    brief = await factories.open_brief(client, brand, title="Winter balm seeding")
    creator = await factories.applicant(client)
    created = await _invited(client, brand, brief, creator)
    expected = {
        "title": "Winter balm seeding",
        "brand_id": str(brand.brand_id),
        "brand_name": "Glow Labs",
        "compensation_type": "paid",
        "application_deadline": brief["application_deadline"],
    }
    assert created["brief"] == expected
    (listed,) = await _my_invitations(client, creator)
    assert listed["brief"] == expected


async def test_listed_invitations_each_show_their_own_brief(client: httpx.AsyncClient) -> None:
    first_brand = await factories.brand(client, name="Glow Labs")
    second_brand = await factories.brand(client, name="Trail Co")
    creator = await factories.applicant(client)
    for owner, title in ((first_brand, "Serum reels"), (second_brand, "Boot reviews")):
        brief = await factories.open_brief(client, owner, title=title)
        await _invited(client, owner, brief, creator)
    listed = await _my_invitations(client, creator)
    assert [(i["brief"]["title"], i["brief"]["brand_name"]) for i in listed] == [
        ("Boot reviews", "Trail Co"),
        ("Serum reels", "Glow Labs"),
    ]
