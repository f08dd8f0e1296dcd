"""Administration: admins read users and suspend them; a suspension takes effect at once."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests import factories
from tests.factories import assert_problem, bearer, login

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}
    )


async def test_admin_lists_users(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await factories.admin(client, app)
    brand = await factories.brand(client)
    creator = await factories.creator(client)
    r = await client.get("/v1/admin/users", headers=admin.headers)
    assert r.status_code == 200, r.text
    by_id = {u["id"]: u for u in r.json()["items"]}
    assert set(by_id) == {str(admin.user_id), str(brand.user_id), str(creator.user_id)}
    assert by_id[str(brand.user_id)]["role"] == "brand"
    assert by_id[str(creator.user_id)]["email"] == creator.email
    assert by_id[str(creator.user_id)]["suspended_at"] is None


async def test_admin_filters_users_by_role_and_pages(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await factories.admin(client, app)
    creators = [await factories.creator(client) for _ in range(3)]
    await factories.brand(client)
    r = await client.get(
        "/v1/admin/users", params={"role": "creator", "limit": 2}, headers=admin.headers
    )
    assert r.status_code == 200, r.text
    first = r.json()
    assert len(first["items"]) == 2
    r = await client.get(
        "/v1/admin/users",
        params={"role": "creator", "limit": 2, "cursor": first["next_cursor"]},
        headers=admin.headers,
    )
    second = r.json()
    assert second.get("next_cursor") is None
    ids = [u["id"] for u in first["items"] + second["items"]]
    assert sorted(ids) == sorted(str(c.user_id) for c in creators)


async def test_suspended_creator_is_locked_out_at_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await factories.admin(client, app)
    creator = await factories.creator(client)
    token = (await factories.api_token(client, creator, ["profile:read"]))["token"]
    assert (await client.get("/v1/me", headers=creator.headers)).status_code == 200

    r = await client.post(f"/v1/admin/users/{creator.user_id}/suspend", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["suspended_at"] is not None

    # The access token issued before the suspension stops working immediately.
    assert_problem(await client.get("/v1/me", headers=creator.headers), 401, "account_suspended")
    assert_problem(await client.get("/v1/me", headers=bearer(token)), 401, "account_suspended")
    assert_problem(await _refresh(client, creator.refresh_token), 400)
    assert_problem(await login(client, creator.email), 400, "account_suspended")


async def test_suspending_twice_keeps_the_first_time(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await factories.admin(client, app)
    creator = await factories.creator(client)
    first = await client.post(f"/v1/admin/users/{creator.user_id}/suspend", headers=admin.headers)
    again = await client.post(f"/v1/admin/users/{creator.user_id}/suspend", headers=admin.headers)
    assert again.status_code == 200
    assert again.json()["suspended_at"] == first.json()["suspended_at"]


async def test_unsuspended_user_can_sign_in_again(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await factories.admin(client, app)
    brand = await factories.brand(client)
    await client.post(f"/v1/admin/users/{brand.user_id}/suspend", headers=admin.headers)
    r = await client.post(f"/v1/admin/users/{brand.user_id}/unsuspend", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["suspended_at"] is None

    tokens = await login(client, brand.email)
    assert tokens.status_code == 200, tokens.text
    me = await client.get("/v1/me", headers=bearer(tokens.json()["access_token"]))
    assert me.status_code == 200
    # The refresh tokens revoked by the suspension stay revoked.
    assert_problem(await _refresh(client, brand.refresh_token), 400, "invalid_grant")


async def test_lifting_a_suspension_does_not_revive_old_access_tokens(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await factories.admin(client, app)
    creator = await factories.creator(client)
    await client.post(f"/v1/admin/users/{creator.user_id}/suspend", headers=admin.headers)
    await client.post(f"/v1/admin/users/{creator.user_id}/unsuspend", headers=admin.headers)

    assert_problem(await client.get("/v1/me", headers=creator.headers), 401, "invalid_token")


async def test_admins_cannot_be_suspended_through_the_api(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await factories.admin(client, app)
    other = await factories.admin(client, app)
    r = await client.post(f"/v1/admin/users/{other.user_id}/suspend", headers=admin.headers)
    assert_problem(r, 409, "invalid_state")
    assert (await client.get("/v1/me", headers=other.headers)).status_code == 200


async def test_non_admins_cannot_administer(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    creator = await factories.creator(client)
    # (The sign-in token of a non-admin lacks the `admin` scope, so the code says so.)
    for actor in (brand, creator):
        assert_problem(await client.get("/v1/admin/users", headers=actor.headers), 403)
    r = await client.post(f"/v1/admin/users/{creator.user_id}/suspend", headers=brand.headers)
    assert_problem(r, 403)
    r = await client.post(f"/v1/admin/users/{creator.user_id}/unsuspend", headers=brand.headers)
    assert_problem(r, 403)
    assert (await client.get("/v1/me", headers=creator.headers)).status_code == 200


async def test_anonymous_cannot_administer(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    assert_problem(await client.get("/v1/admin/users"), 401, "not_authenticated")
    r = await client.post(f"/v1/admin/users/{creator.user_id}/suspend")
    assert_problem(r, 401, "not_authenticated")


async def test_admin_token_without_admin_scope_cannot_administer(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await factories.admin(client, app)
    token = (await factories.api_token(client, admin, ["profile:read"]))["token"]
    r = await client.get("/v1/admin/users", headers=bearer(token))
    assert_problem(r, 403, "insufficient_scope")


async def test_unknown_user_is_404(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await factories.admin(client, app)
    for action in ("suspend", "unsuspend"):
        r = await client.post(f"/v1/admin/users/{UNKNOWN_ID}/{action}", headers=admin.headers)
        assert_problem(r, 404, "not_found")
    r = await client.post("/v1/admin/users/not-a-uuid/suspend", headers=admin.headers)
    assert_problem(r, 422, "validation_error")


async def test_admin_user_list_rejects_an_unknown_role(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await factories.admin(client, app)
    r = await client.get("/v1/admin/users", params={"role": "root"}, headers=admin.headers)
    assert_problem(r, 422, "validation_error")


async def test_lifting_a_suspension_does_not_revive_api_tokens(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await factories.admin(client, app)
    creator = await factories.creator(client)
    token = (await factories.api_token(client, creator, ["profile:read"]))["token"]
    assert (await client.get("/v1/me", headers=factories.bearer(token))).status_code == 200

    await client.post(f"/v1/admin/users/{creator.user_id}/suspend", headers=admin.headers)
    await client.post(f"/v1/admin/users/{creator.user_id}/unsuspend", headers=admin.headers)

    r = await client.get("/v1/me", headers=factories.bearer(token))
    assert_problem(r, 401, "invalid_token")
    # The owner sees it revoked, and can make a new one.
    fresh = await factories.login(client, creator.email)
    tokens = await client.get(
        "/v1/me/api-tokens", headers=factories.bearer(fresh.json()["access_token"])
    )
    assert [t["revoked_at"] is not None for t in tokens.json()["items"]] == [True]
