"""Webhook subscriptions: owned by a brand or a creator, secrets shown once and encrypted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests import factories
from tests.factories import assert_problem

URL = "https://hooks.example.com/briefboard"


async def _create(client: httpx.AsyncClient, actor: factories.Actor, **body: Any) -> dict[str, Any]:
    r = await client.post("/v1/webhooks", json={"url": URL, **body}, headers=actor.headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def test_brand_creates_webhook_with_minimal_body_and_sees_secret_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    r = await client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/x"}, headers=brand.headers
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["cache-control"] == "no-store"
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == []
    assert created["enabled"] is True
    assert created["brand_id"] == str(brand.brand_id)
    assert created["creator_id"] is None
    read = await client.get(f"/v1/webhooks/{created['id']}", headers=brand.headers)
    assert read.status_code == 200
    assert "secret" not in read.json()
    listed = await client.get("/v1/webhooks", headers=brand.headers)
    assert created["secret"] not in listed.text
    # Encrypted at rest: the stored value is not the secret and does not contain it.
    rows = await factories.db_rows(app, "SELECT secret_encrypted FROM webhook_subscriptions")
    stored = rows[0]["secret_encrypted"]
    assert created["secret"] not in stored
    assert created["secret"].removeprefix("whsec_") not in stored


async def test_creator_subscribes_for_their_profile(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    created = await _create(client, creator, event_types=["deal.*", "application.updated"])
    assert created["creator_id"] == str(creator.creator_id)
    assert created["brand_id"] is None
    assert created["event_types"] == ["deal.*", "application.updated"]


async def test_unknown_event_types_are_refused_by_name(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    r = await client.post(
        "/v1/webhooks",
        json={"url": URL, "event_types": ["deal.created", "deal.exploded", "nothing.*"]},
        headers=brand.headers,
    )
    problem = assert_problem(r, 422, "unknown_event_type")
    assert [e["loc"] for e in problem["errors"]] == [
        ["body", "event_types", 1],
        ["body", "event_types", 2],
    ]


async def test_other_brand_and_creator_get_404_for_a_webhook(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    created = await _create(client, owner)
    path = f"/v1/webhooks/{created['id']}"
    for stranger in (await factories.brand(client, "Other"), await factories.creator(client)):
        h = stranger.headers
        assert_problem(await client.get(path, headers=h), 404)
        assert_problem(await client.patch(path, json={"enabled": False}, headers=h), 404)
        assert_problem(await client.delete(path, headers=h), 404)
        assert_problem(await client.get(path + "/deliveries", headers=h), 404)
        assert_problem(await client.post(path + "/rotate-secret", headers=h), 404)
        assert_problem(await client.post(path + "/test", headers=h), 404)
        listed = await client.get("/v1/webhooks", headers=h)
        assert listed.json()["items"] == []
    still = await client.get(path, headers=owner.headers)
    assert still.json()["enabled"] is True


async def test_token_without_webhooks_manage_scope_is_refused(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    token = await factories.api_token(client, brand, ["briefs:read"])
    r = await client.get("/v1/webhooks", headers=factories.bearer(token["token"]))
    assert_problem(r, 403, "insufficient_scope")
    scoped = await factories.api_token(client, brand, ["webhooks:manage"])
    r = await client.get("/v1/webhooks", headers=factories.bearer(scoped["token"]))
    assert r.status_code == 200, r.text


async def test_unauthenticated_and_admin_are_refused(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    assert_problem(await client.get("/v1/webhooks"), 401)
    admin = await factories.admin(client, app)
    assert_problem(await client.post("/v1/webhooks", json={"url": URL}, headers=admin.headers), 403)


async def test_list_is_paginated_newest_first(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    ids = [(await _create(client, brand, description=f"n{i}"))["id"] for i in range(3)]
    first = await client.get("/v1/webhooks?limit=2", headers=brand.headers)
    body = first.json()
    assert [w["id"] for w in body["items"]] == ids[::-1][:2]
    second = await client.get(
        f"/v1/webhooks?limit=2&cursor={body['next_cursor']}", headers=brand.headers
    )
    assert [w["id"] for w in second.json()["items"]] == [ids[0]]
    assert second.json()["next_cursor"] is None


async def test_patch_changes_only_what_is_sent_and_delete_removes(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    created = await _create(client, brand, description="CRM", event_types=["brief.*"])
    path = f"/v1/webhooks/{created['id']}"
    r = await client.patch(path, json={"enabled": False}, headers=brand.headers)
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False
    assert r.json()["disabled_reason"] == "owner"
    assert r.json()["description"] == "CRM"
    assert r.json()["event_types"] == ["brief.*"]
    r = await client.patch(path, json={"enabled": True}, headers=brand.headers)
    assert r.json()["disabled_reason"] is None
    assert_problem(await client.patch(path, json={"url": None}, headers=brand.headers), 422)
    assert (await client.delete(path, headers=brand.headers)).status_code == 204
    assert_problem(await client.get(path, headers=brand.headers), 404)


async def test_rotate_secret_returns_a_new_secret_with_overlap(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    created = await _create(client, brand)
    r = await client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=brand.headers)
    assert r.status_code == 200, r.text
    assert r.json()["secret"].startswith("whsec_")
    assert r.json()["secret"] != created["secret"]
    assert r.json()["previous_secret_expires_at"] is not None


def test_secrets_are_encrypted_with_the_configured_key() -> None:
    from cryptography.fernet import Fernet, InvalidToken

    from api.services import webhook_signing
    from api.settings import Settings

    one = Settings(webhooks_encryption_key=Fernet.generate_key().decode())
    other = Settings(webhooks_encryption_key=Fernet.generate_key().decode())
    stored = webhook_signing.encrypt(one, "whsec_abc")
    assert webhook_signing.decrypt(one, stored) == "whsec_abc"
    with pytest.raises(InvalidToken):
        webhook_signing.decrypt(other, stored)


def test_production_requires_an_encryption_key() -> None:
    from api.settings import Settings

    unset = Settings(environment="production", jwt_secret="x" * 40, webhooks_encryption_key=None)
    assert "WEBHOOKS_ENCRYPTION_KEY" in (unset.secrets_problem() or "")
    key = "a" * 43 + "="
    given = Settings(environment="production", jwt_secret="x" * 40, webhooks_encryption_key=key)
    assert given.secrets_problem() is None


async def test_retrying_another_subscriptions_delivery_is_404(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    mine = await _create(client, brand)
    theirs = await _create(client, brand, description="other")
    ping = await client.post(f"/v1/webhooks/{theirs['id']}/test", headers=brand.headers)
    assert ping.status_code == 202, ping.text
    r = await client.post(
        f"/v1/webhooks/{mine['id']}/deliveries/{ping.json()['id']}/retry", headers=brand.headers
    )
    assert_problem(r, 404)
    stranger = await factories.brand(client, "Other")
    r = await client.post(
        f"/v1/webhooks/{theirs['id']}/deliveries/{ping.json()['id']}/retry",
        headers=stranger.headers,
    )
    assert_problem(r, 404)


async def test_a_disabled_subscription_takes_no_ping(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    hook = await _create(client, brand, enabled=False)
    assert hook["disabled_reason"] == "owner"
    r = await client.post(f"/v1/webhooks/{hook['id']}/test", headers=brand.headers)
    assert_problem(r, 409, "webhook_disabled")
