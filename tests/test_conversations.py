"""Conversations on applications and deals: who sees them, ordering both ways, unread
counts, read-only threads, tombstones, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import Actor, assert_problem


async def _say(
    client: httpx.AsyncClient, actor: Actor, path: str, text: str, **extra: Any
) -> dict[str, Any]:
    r = await client.post(f"{path}/messages", json={"body": text, **extra}, headers=actor.headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def _scene(client: httpx.AsyncClient) -> tuple[Actor, Actor, str]:
    owner = await factories.brand(client)
    creator = await factories.applicant(client)
    brief = await factories.open_brief(client, owner)
    application = await factories.apply(client, creator, brief)
    return owner, creator, f"/v1/applications/{application['id']}"


async def test_brand_and_creator_talk_on_an_application(client: httpx.AsyncClient) -> None:
    owner, creator, path = await _scene(client)
    r = await client.get(f"{path}/messages", headers=owner.headers)
    assert r.json() == {"items": [], "next_cursor": None}
    first = await _say(client, owner, path, "Hi! Could you do a story too?")
    second = await _say(
        client,
        creator,
        path,
        "Sure, here is my media kit.",
        attachments=[{"url": "https://kit.example/ana", "label": "Media kit"}],
    )
    assert first["author_party"] == "brand"
    assert second["author_party"] == "creator"
    assert second["attachments"] == [{"url": "https://kit.example/ana", "label": "Media kit"}]
    for actor in (owner, creator):
        r = await client.get(f"{path}/messages", headers=actor.headers)
        assert [m["id"] for m in r.json()["items"]] == [second["id"], first["id"]]


async def test_messages_page_back_by_cursor_and_forward_by_after(
    client: httpx.AsyncClient,
) -> None:
    owner, creator, path = await _scene(client)
    sent = [await _say(client, owner, path, f"message {i}") for i in range(5)]
    r = await client.get(f"{path}/messages?limit=2", headers=creator.headers)
    page1 = r.json()
    assert [m["body"] for m in page1["items"]] == ["message 4", "message 3"]
    r = await client.get(
        f"{path}/messages?limit=2&cursor={page1['next_cursor']}", headers=creator.headers
    )
    assert [m["body"] for m in r.json()["items"]] == ["message 2", "message 1"]
    r = await client.get(f"{path}/messages?after={sent[1]['id']}", headers=creator.headers)
    assert [m["body"] for m in r.json()["items"]] == ["message 2", "message 3", "message 4"]
    r = await client.get(f"{path}/messages?after={sent[4]['id']}", headers=creator.headers)
    assert r.json()["items"] == []


async def test_outsiders_get_404(client: httpx.AsyncClient) -> None:
    owner, _creator, path = await _scene(client)
    await _say(client, owner, path, "Hello")
    rival = await factories.brand(client)
    other_creator = await factories.applicant(client)
    removed = await factories.member(client, owner, "manager")
    await client.delete(
        f"/v1/brands/{owner.brand_id}/members/{removed.user_id}", headers=owner.headers
    )
    for outsider in (rival, other_creator, removed):
        r = await client.get(f"{path}/messages", headers=outsider.headers)
        assert_problem(r, 404, "not_found")
        r = await client.post(f"{path}/messages", json={"body": "x"}, headers=outsider.headers)
        assert_problem(r, 404, "not_found")
        r = await client.get("/v1/me/conversations", headers=outsider.headers)
        assert r.json()["items"] == []


async def test_viewers_read_but_do_not_write(client: httpx.AsyncClient) -> None:
    owner, _, path = await _scene(client)
    viewer = await factories.member(client, owner, "viewer")
    message = await _say(client, owner, path, "Hello")
    r = await client.get(f"{path}/messages", headers=viewer.headers)
    assert [m["id"] for m in r.json()["items"]] == [message["id"]]
    r = await client.post(f"{path}/messages", json={"body": "x"}, headers=viewer.headers)
    assert_problem(r, 403, "insufficient_role")
    manager = await factories.member(client, owner, "manager")
    await _say(client, manager, path, "Welcome from the team")


async def test_unread_counts_and_read_marks(client: httpx.AsyncClient) -> None:
    owner, creator, path = await _scene(client)
    manager = await factories.member(client, owner, "manager")
    sent = [await _say(client, creator, path, f"question {i}") for i in range(3)]
    await _say(client, owner, path, "answer")

    async def unread(actor: Actor) -> list[int]:
        r = await client.get("/v1/me/conversations", headers=actor.headers)
        assert r.status_code == 200, r.text
        return [c["unread_count"] for c in r.json()["items"]]

    assert await unread(owner) == [3]
    assert await unread(manager) == [4]
    assert await unread(creator) == [1]
    r = await client.post(
        f"{path}/messages/read", json={"message_id": sent[1]["id"]}, headers=owner.headers
    )
    assert r.status_code == 204, r.text
    assert await unread(owner) == [1]
    assert await unread(manager) == [4]  # read marks are per person
    # A mark never moves back.
    r = await client.post(
        f"{path}/messages/read", json={"message_id": sent[0]["id"]}, headers=owner.headers
    )
    assert await unread(owner) == [1]


async def test_inbox_orders_by_latest_activity(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    creator = await factories.applicant(client)
    brief = await factories.open_brief(client, owner)
    application = await factories.apply(client, creator, brief)
    deal = await factories.deal(client, owner, await factories.open_brief(client, owner), creator)
    app_path, deal_path = f"/v1/applications/{application['id']}", f"/v1/deals/{deal['id']}"
    await _say(client, owner, app_path, "first")
    await _say(client, creator, deal_path, "second")
    r = await client.get("/v1/me/conversations", headers=owner.headers)
    assert [(c["deal_id"], c["application_id"]) for c in r.json()["items"]] == [
        (deal["id"], None),
        (None, application["id"]),
    ]
    await _say(client, creator, app_path, "third")
    r = await client.get("/v1/me/conversations?limit=1", headers=creator.headers)
    assert r.json()["items"][0]["application_id"] == application["id"]
    assert r.json()["next_cursor"]


async def test_declined_and_withdrawn_threads_are_read_only(client: httpx.AsyncClient) -> None:
    owner, creator, path = await _scene(client)
    await _say(client, owner, path, "Thanks for applying")
    r = await client.post(f"{path}/decline", headers=owner.headers)
    assert r.status_code == 200, r.text
    for actor in (owner, creator):
        r = await client.post(f"{path}/messages", json={"body": "x"}, headers=actor.headers)
        assert_problem(r, 409, "conversation_closed")
        r = await client.get(f"{path}/messages", headers=actor.headers)
        assert len(r.json()["items"]) == 1

    owner, creator, path = await _scene(client)
    r = await client.post(f"{path}/withdraw", headers=creator.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"{path}/messages", json={"body": "x"}, headers=creator.headers)
    assert_problem(r, 409, "conversation_closed")


async def test_authors_delete_within_15_minutes_leaving_a_tombstone(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner, creator, path = await _scene(client)
    message = await _say(client, creator, path, "oops, wrong brief")
    r = await client.delete(f"{path}/messages/{message['id']}", headers=owner.headers)
    assert_problem(r, 403, "not_the_author")
    r = await client.delete(f"{path}/messages/{message['id']}", headers=creator.headers)
    assert r.status_code == 200, r.text
    r = await client.get(f"{path}/messages", headers=owner.headers)
    (tombstone,) = r.json()["items"]
    assert tombstone["id"] == message["id"]
    assert tombstone["body"] is None
    assert tombstone["deleted_at"] is not None

    late = await _say(client, creator, path, "an old message")
    await factories.db_execute(
        app,
        "UPDATE messages SET created_at = :t WHERE id = :id",
        t=datetime.now(UTC) - timedelta(minutes=16),
        id=late["id"],
    )
    r = await client.delete(f"{path}/messages/{late['id']}", headers=creator.headers)
    assert_problem(r, 409, "delete_window_passed")


async def test_message_limits(client: httpx.AsyncClient) -> None:
    owner, _, path = await _scene(client)
    link = {"url": "https://a.example/x", "label": "x"}
    bad = [
        {"body": "x" * 5001},
        {"body": ""},
        {"body": "x", "attachments": [link] * 6},
        {"body": "x", "attachments": [{"url": "javascript:alert(1)", "label": "x"}]},
        {"body": "nul \u0000 byte"},
    ]
    for body in bad:
        r = await client.post(f"{path}/messages", json=body, headers=owner.headers)
        assert_problem(r, 422, "validation_error")
    await _say(client, owner, path, "x" * 5000, attachments=[link] * 5)


async def test_deal_thread_follows_the_deal_rule(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    creator = await factories.applicant(client)
    deal = await factories.deal(client, owner, await factories.open_brief(client, owner), creator)
    path = f"/v1/deals/{deal['id']}"
    await _say(client, creator, path, "Shipping address updated")
    rival = await factories.brand(client)
    r = await client.get(f"{path}/messages", headers=rival.headers)
    assert_problem(r, 404, "not_found")
    viewer = await factories.member(client, owner, "viewer")
    r = await client.post(f"{path}/messages", json={"body": "x"}, headers=viewer.headers)
    assert_problem(r, 403, "insufficient_role")
    r = await client.get(f"{path}/messages", headers=viewer.headers)
    assert len(r.json()["items"]) == 1


async def test_new_messages_are_events(client: httpx.AsyncClient, app: FastAPI) -> None:
    owner, creator, path = await _scene(client)
    message = await _say(client, creator, path, "Hello")
    rows = await factories.db_rows(
        app,
        "SELECT brand_id, creator_id, payload FROM outbox_events WHERE type = 'message.created'",
    )
    assert len(rows) == 1
    assert rows[0]["payload"]["id"] == message["id"]
    assert rows[0]["payload"]["application_id"] == path.rsplit("/", 1)[1]
    assert rows[0]["brand_id"] == owner.brand_id
    assert rows[0]["creator_id"] == creator.creator_id
