"""Briefs: drafts, defaults, every lifecycle transition, and closing at the deadline."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from api.db import create_engine, create_sessionmaker
from api.maintenance import run_forever
from api.services.briefs import close_expired_briefs
from api.settings import get_settings
from tests import factories
from tests.factories import Actor


async def _action(client: httpx.AsyncClient, owner: Actor, brief_id: str, action: str) -> Any:
    return await client.post(f"/v1/briefs/{brief_id}/{action}", headers=owner.headers)


async def _brief_in(client: httpx.AsyncClient, owner: Actor, state: str) -> dict[str, Any]:
    """A brief brought to `state` through the API."""
    paths = {
        "draft": [],
        "open": ["publish"],
        "closed": ["publish", "close"],
        "completed": ["publish", "close", "complete"],
        "cancelled": ["cancel"],
    }
    brief = await factories.brief(client, owner)
    for action in paths[state]:
        r = await _action(client, owner, brief["id"], action)
        assert r.status_code == 200, r.text
        brief = r.json()
    assert brief["status"] == state
    return brief


async def _status_in_db(app: FastAPI, brief_id: str) -> str:
    async with app.state.sessionmaker() as session:
        value = await session.scalar(
            text("SELECT status FROM briefs WHERE id = :id"), {"id": brief_id}
        )
    return str(value)


# --- drafts and their defaults ----------------------------------------------------------------


async def test_brand_creates_a_draft_with_only_title_and_kind(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    body = {"title": "Spring drop", "collaboration_type": "ugc", "compensation_type": "paid"}
    r = await client.post("/v1/briefs", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    brief = r.json()
    assert r.headers["location"] == f"/v1/briefs/{brief['id']}"
    assert r.headers["etag"] == '"1"'
    assert brief["status"] == "draft"
    assert brief["brand_id"] == str(owner.brand_id)
    assert brief["version"] == 1
    assert brief["max_revision_rounds"] == 2
    assert brief["review_window_days"] == 3
    assert brief["posting_required"] is True
    assert brief["deliverables"] == []
    assert brief["slots"] is None


@pytest.mark.parametrize(
    ("compensation", "channels"),
    [
        ("paid", ["organic_social", "website", "email"]),
        ("hybrid", ["organic_social", "website", "email"]),
        ("gifted", ["organic_social"]),
        ("affiliate", ["organic_social"]),
    ],
)
async def test_usage_rights_default_from_compensation_type_and_never_perpetual(
    client: httpx.AsyncClient, compensation: str, channels: list[str]
) -> None:
    owner = await factories.brand(client)
    body = {"title": "Drop", "collaboration_type": "giveaway", "compensation_type": compensation}
    r = await client.post("/v1/briefs", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    rights = r.json()["usage_rights"]
    assert rights["channels"] == channels
    assert rights["duration_days"] == 365
    assert rights["perpetual"] is False
    assert rights["worldwide"] is True
    assert rights["ai_likeness_reuse_prohibited"] is True


async def test_disclosure_defaults_to_ad_or_gifted(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    paid = await factories.brief(client, owner)
    gifted = await factories.brief(client, owner, **factories.GIFTED)
    assert paid["disclosure"] == {
        "hashtags": ["#ad"],
        "mentions": [],
        "paid_partnership_label": True,
    }
    assert gifted["disclosure"]["hashtags"] == ["#gifted"]
    assert gifted["disclosure"]["paid_partnership_label"] is False


async def test_perpetual_usage_rights_only_when_asked_for(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    rights = {"channels": ["organic_social", "paid_social"], "perpetual": True}
    brief = await factories.brief(client, owner, usage_rights=rights)
    assert brief["usage_rights"]["perpetual"] is True
    assert brief["usage_rights"]["duration_days"] is None


async def test_draft_changing_compensation_keeps_default_rights_in_step(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    brief = await factories.brief(client, owner)
    r = await client.patch(
        f"/v1/briefs/{brief['id']}",
        json={"compensation_type": "gifted"},
        headers={**owner.headers, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["usage_rights"]["channels"] == ["organic_social"]
    assert r.json()["disclosure"]["hashtags"] == ["#gifted"]


async def test_draft_changing_compensation_keeps_custom_rights(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    custom = {"channels": ["organic_social", "ecommerce"], "duration_days": 90}
    brief = await factories.brief(client, owner, usage_rights=custom)
    r = await client.patch(
        f"/v1/briefs/{brief['id']}",
        json={"compensation_type": "gifted"},
        headers={**owner.headers, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["usage_rights"]["channels"] == ["organic_social", "ecommerce"]
    assert r.json()["usage_rights"]["duration_days"] == 90


# --- transitions --------------------------------------------------------------------------------


async def test_publish_opens_a_complete_draft(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    draft = await factories.brief(client, owner)
    r = await _action(client, owner, draft["id"], "publish")
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    brief = r.json()
    assert brief["status"] == "open"
    assert brief["published_at"] is not None
    assert brief["version"] == 2


async def test_brand_closing_records_the_reason(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner)
    r = await _action(client, owner, brief["id"], "close")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"
    assert r.json()["closed_reason"] == "brand"
    assert r.json()["closed_at"] is not None


LEGAL = {
    ("draft", "publish"): "open",
    ("draft", "cancel"): "cancelled",
    ("open", "close"): "closed",
    ("open", "cancel"): "cancelled",
    ("closed", "complete"): "completed",
}
STATES = ["draft", "open", "closed", "completed", "cancelled"]
ACTIONS = ["publish", "close", "cancel", "complete"]


@pytest.mark.parametrize(("state", "action"), list(LEGAL))
async def test_legal_transition(client: httpx.AsyncClient, state: str, action: str) -> None:
    owner = await factories.brand(client)
    brief = await _brief_in(client, owner, state)
    r = await _action(client, owner, brief["id"], action)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == LEGAL[(state, action)]
    assert r.json()["version"] == brief["version"] + 1
    assert r.headers["etag"] == f'"{brief["version"] + 1}"'


@pytest.mark.parametrize(
    ("state", "action"), [(s, a) for s in STATES for a in ACTIONS if (s, a) not in LEGAL]
)
async def test_illegal_transition_is_409_and_changes_nothing(
    client: httpx.AsyncClient, state: str, action: str
) -> None:
    owner = await factories.brand(client)
    brief = await _brief_in(client, owner, state)
    r = await _action(client, owner, brief["id"], action)
    factories.problem_of(r, 409, "invalid_state")
    again = await client.get(f"/v1/briefs/{brief['id']}", headers=owner.headers)
    assert again.json()["status"] == state
    assert again.json()["version"] == brief["version"]


async def test_lifecycle_action_checks_if_match_when_sent(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    draft = await factories.brief(client, owner)
    path = f"/v1/briefs/{draft['id']}/publish"
    stale = await client.post(path, headers={**owner.headers, "If-Match": '"7"'})
    factories.problem_of(stale, 412, "precondition_failed")
    fresh = await client.post(path, headers={**owner.headers, "If-Match": '"1"'})
    assert fresh.status_code == 200, fresh.text


# --- closing at the deadline ------------------------------------------------------------------


async def test_open_brief_past_its_deadline_reads_as_closed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    reader = await factories.creator(client)
    brief = await factories.open_brief(client, owner)
    await factories.expire_deadline(app, brief["id"])
    r = await client.get(f"/v1/briefs/{brief['id']}", headers=reader.headers)
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["status"] == "closed"
    assert closed["closed_reason"] == "deadline"
    assert closed["closed_at"] == closed["application_deadline"]
    assert closed["version"] == brief["version"] + 1


async def test_search_never_shows_a_brief_past_its_deadline(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    expired = await factories.open_brief(client, owner)
    current = await factories.open_brief(client, owner)
    await factories.expire_deadline(app, expired["id"])
    r = await client.get("/v1/briefs", headers=owner.headers)
    assert [b["id"] for b in r.json()["items"]] == [current["id"]]


async def test_own_list_shows_a_brief_past_its_deadline_as_closed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner)
    await factories.expire_deadline(app, brief["id"])
    r = await client.get("/v1/briefs", params={"mine": "true"}, headers=owner.headers)
    [item] = r.json()["items"]
    assert (item["status"], item["closed_reason"]) == ("closed", "deadline")


async def test_writes_see_the_deadline_closure_first(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner)
    await factories.expire_deadline(app, brief["id"])
    path = f"/v1/briefs/{brief['id']}"
    stale = await client.patch(
        path, json={"slots": 9}, headers={**owner.headers, "If-Match": '"2"'}
    )
    factories.problem_of(stale, 412, "precondition_failed")
    current = await client.get(path, headers=owner.headers)
    assert current.json()["status"] == "closed"
    edit = await client.patch(
        path, json={"slots": 9}, headers={**owner.headers, "If-Match": current.headers["etag"]}
    )
    factories.problem_of(edit, 409, "invalid_state")
    factories.problem_of(await _action(client, owner, brief["id"], "close"), 409, "invalid_state")
    done = await _action(client, owner, brief["id"], "complete")
    assert done.status_code == 200, done.text


async def test_sweeper_closes_expired_open_briefs_and_nothing_else(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    expired = [await factories.open_brief(client, owner) for _ in range(3)]
    current = await factories.open_brief(client, owner)
    draft = await factories.brief(client, owner)
    ids = [b["id"] for b in expired]
    # One transaction: the background sweeper cannot see (or close) these rows first.
    async with app.state.sessionmaker.begin() as session:
        await session.execute(
            text(
                "UPDATE briefs SET application_deadline = now() - interval '1 minute'"
                " WHERE id = ANY(:ids)"
            ),
            {"ids": [uuid.UUID(i) for i in ids]},
        )
        assert await close_expired_briefs(session) == 3
        assert await close_expired_briefs(session) == 0
    for brief_id in ids:
        assert await _status_in_db(app, brief_id) == "closed"
    assert await _status_in_db(app, current["id"]) == "open"
    assert await _status_in_db(app, draft["id"]) == "draft"


async def test_concurrent_sweepers_close_each_brief_exactly_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    briefs = [await factories.open_brief(client, owner) for _ in range(12)]
    for brief in briefs:
        await factories.expire_deadline(app, brief["id"])

    async def sweep() -> int:
        async with app.state.sessionmaker.begin() as session:
            return await close_expired_briefs(session, limit=5)

    counts = await asyncio.gather(*(sweep() for _ in range(6)))
    # SKIP LOCKED: a sweeper never waits, so a brief another one held may be left for the
    # next round; one more round finishes the job.
    counts.append(await sweep())
    assert sum(counts) <= 12  # the app's own sweeper may have closed some first
    async with app.state.sessionmaker() as session:
        rows = (
            await session.execute(
                text("SELECT status, version FROM briefs WHERE brand_id = :b"),
                {"b": owner.brand_id},
            )
        ).all()
    # Each was closed exactly once: one version step past the published version (2).
    assert sorted(rows) == [("closed", 3)] * 12


async def test_sweeper_skips_a_brief_locked_elsewhere_instead_of_waiting(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    locked = await factories.open_brief(client, owner)
    free = await factories.open_brief(client, owner)
    async with app.state.sessionmaker.begin() as holder:
        await holder.execute(
            text(
                "UPDATE briefs SET application_deadline = now() - interval '1 minute'"
                " WHERE id IN (:a, :b)"
            ),
            {"a": locked["id"], "b": free["id"]},
        )
    async with app.state.sessionmaker.begin() as holder:
        await holder.execute(
            text("SELECT 1 FROM briefs WHERE id = :id FOR UPDATE"), {"id": locked["id"]}
        )
        async with app.state.sessionmaker.begin() as sweeper:
            await asyncio.wait_for(close_expired_briefs(sweeper), timeout=5)
        assert await _status_in_db(app, free["id"]) == "closed"
        assert await _status_in_db(app, locked["id"]) == "open"


async def test_background_sweeper_closes_briefs_without_any_request(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner)
    await factories.expire_deadline(app, brief["id"])
    task = asyncio.create_task(run_forever(app.state.sessionmaker, get_settings(), 0.05))
    try:
        for _ in range(100):
            if await _status_in_db(app, brief["id"]) == "closed":
                break
            await asyncio.sleep(0.05)
        assert await _status_in_db(app, brief["id"]) == "closed"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_background_sweeper_survives_database_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = create_engine(
        "postgresql+asyncpg://nobody@127.0.0.1:1/none", get_settings(), pool_pre_ping=False
    )
    task = asyncio.create_task(run_forever(create_sessionmaker(engine), get_settings(), 0.02))
    try:
        with caplog.at_level(logging.WARNING, logger="api.maintenance"):
            await asyncio.sleep(0.3)
        assert not task.done()
        assert any("maintenance failed" in r.message for r in caplog.records)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await engine.dispose()
