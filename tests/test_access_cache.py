"""Each worker caches its callers (`api.services.access_cache`), and a change to who may
do what is refused on the very next request on every worker: a suspension, a membership
removed, an API token revoked. A worker whose listening connection is lost stops using
its cache until the listener is back.

Two workers: the `client` app and `second_worker`, each with its own cache and listener.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.security import token_digest
from api.services.access_cache import AccessCache
from api.services.tokens import HotCaller
from tests import factories

LISTENERS = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
    " WHERE application_name = 'briefboard-access-listener'"
)


def cache_of(worker: httpx.AsyncClient) -> AccessCache:
    app: Any = worker._transport.app  # type: ignore[attr-defined]
    cache: AccessCache = app.state.access_cache
    return cache


async def _settled(worker: httpx.AsyncClient) -> None:
    """Wait until `worker` listens and has applied every access change made so far.

    A notice still on its way (the caller's own sign-up, say) would otherwise drop the
    entry the next read keeps, and the test would see an empty cache for the wrong reason.
    """
    app: Any = worker._transport.app  # type: ignore[attr-defined]
    [state] = await factories.db_rows(app, "SELECT version FROM access_state")
    cache = cache_of(worker)
    await factories.until(lambda: cache.seen is not None and cache.seen >= state["version"])


async def _read_on_both(
    workers: list[httpx.AsyncClient], path: str, headers: dict[str, str], user_id: Any
) -> None:
    """The caller reads `path` on every worker, so every worker's cache holds it."""
    for worker in workers:
        await _settled(worker)
        r = await worker.get(path, headers=headers)
        assert r.status_code == 200, r.text
        assert cache_of(worker).user(user_id) is not None


async def test_a_suspension_is_refused_on_the_next_request_on_every_worker(
    client: httpx.AsyncClient, second_worker: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await factories.admin(client, app)
    owner = await factories.brand(client)
    creator = await factories.creator(client)
    path = f"/v1/briefs/{(await factories.open_brief(client, owner))['id']}"
    workers = [client, second_worker]
    await _read_on_both(workers, path, creator.headers, creator.user_id)

    r = await second_worker.post(
        f"/v1/admin/users/{creator.user_id}/suspend", headers=admin.headers
    )
    assert r.status_code == 200, r.text
    for worker in workers:
        factories.problem_of(
            await worker.get(path, headers=creator.headers), 401, "account_suspended"
        )

    r = await client.post(f"/v1/admin/users/{creator.user_id}/unsuspend", headers=admin.headers)
    assert r.status_code == 200, r.text
    # Lifting it bumped nothing the old token carries: the same token works again at once.
    for worker in workers:
        factories.problem_of(await worker.get(path, headers=creator.headers), 401, "invalid_token")


async def test_a_removed_member_loses_the_brand_on_the_next_request_on_every_worker(
    client: httpx.AsyncClient, second_worker: httpx.AsyncClient
) -> None:
    owner = await factories.brand(client)
    viewer = await factories.member(client, owner, role="viewer")
    draft = await factories.brief(client, owner)  # a draft: its brand's members only
    path = f"/v1/briefs/{draft['id']}"
    applicants = f"{path}/applications"
    workers = [client, second_worker]
    await _read_on_both(workers, path, viewer.headers, viewer.user_id)
    for worker in workers:
        assert (await worker.get(applicants, headers=viewer.headers)).status_code == 200
        me = (await worker.get("/v1/me", headers=viewer.headers)).json()
        assert [m["brand_id"] for m in me["memberships"]] == [str(owner.brand_id)]
        r = await worker.get("/v1/briefs?mine=true", headers=viewer.headers)
        assert [b["id"] for b in r.json()["items"]] == [draft["id"]]

    r = await client.delete(
        f"/v1/brands/{owner.brand_id}/members/{viewer.user_id}", headers=owner.headers
    )
    assert r.status_code == 204, r.text
    for worker in workers:
        factories.problem_of(await worker.get(path, headers=viewer.headers), 404, "not_found")
        factories.problem_of(await worker.get(applicants, headers=viewer.headers), 404, "not_found")
        me = (await worker.get("/v1/me", headers=viewer.headers)).json()
        assert me["memberships"] == []
        r = await worker.get("/v1/briefs?mine=true", headers=viewer.headers)
        assert r.status_code == 200, r.text
        assert r.json()["items"] == []


async def test_a_revoked_api_token_is_refused_on_the_next_request_on_every_worker(
    client: httpx.AsyncClient, second_worker: httpx.AsyncClient
) -> None:
    owner = await factories.brand(client)
    creator = await factories.creator(client)
    path = f"/v1/briefs/{(await factories.open_brief(client, owner))['id']}"
    created = await factories.api_token(client, creator, ["briefs:read"])
    headers = factories.bearer(created["token"])
    workers = [client, second_worker]
    await _read_on_both(workers, path, headers, creator.user_id)

    r = await client.delete(f"/v1/me/api-tokens/{created['id']}", headers=creator.headers)
    assert r.status_code == 204, r.text
    for worker in workers:
        factories.problem_of(await worker.get(path, headers=headers), 401, "invalid_token")


async def test_a_lost_listener_empties_the_cache_until_it_is_back(
    client: httpx.AsyncClient, second_worker: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    creator = await factories.creator(client)
    path = f"/v1/briefs/{(await factories.open_brief(client, owner))['id']}"
    workers = [client, second_worker]
    await _read_on_both(workers, path, creator.headers, creator.user_id)

    [ended] = await factories.db_rows(app, LISTENERS)
    assert ended["count"] >= 2
    for worker in workers:
        await factories.until(lambda w=worker: not cache_of(w).live)  # type: ignore[misc]
        # Nothing is kept meanwhile: every request reads its caller from the database.
        assert (await worker.get(path, headers=creator.headers)).status_code == 200
        assert cache_of(worker).user(creator.user_id) is None
    # A change made while no worker listens is refused all the same.
    await factories.db_execute(
        app, "UPDATE users SET suspended_at = now() WHERE id = :id", id=creator.user_id
    )
    for worker in workers:
        factories.problem_of(
            await worker.get(path, headers=creator.headers), 401, "account_suspended"
        )
    # The listeners come back (`access_listener_retry_seconds`) and the cache is used again.
    await factories.db_execute(
        app, "UPDATE users SET suspended_at = NULL WHERE id = :id", id=creator.user_id
    )
    await _read_on_both(workers, path, creator.headers, creator.user_id)


async def test_a_cached_caller_is_read_again_when_the_statement_saw_a_newer_change(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notification is not what makes it exact: a hot read's own snapshot says whether
    this worker has applied every change up to it."""
    owner = await factories.brand(client)
    creator = await factories.creator(client)
    path = f"/v1/briefs/{(await factories.open_brief(client, owner))['id']}"
    await _read_on_both([client], path, creator.headers, creator.user_id)
    cache = cache_of(client)
    # As if the suspension's notification were still on its way to this worker.
    monkeypatch.setattr(cache, "forget", lambda _payload: None)
    await factories.db_execute(
        app, "UPDATE users SET suspended_at = now() WHERE id = :id", id=creator.user_id
    )
    assert cache.user(creator.user_id) is not None  # the stale entry is still there
    factories.problem_of(await client.get(path, headers=creator.headers), 401, "account_suspended")


async def test_a_notice_applied_while_the_route_reads_is_not_confirmed_by_the_cached_caller(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revocation commits, and its notice is applied, after the route took the caller
    from the cache but before its statement read `access_state`: the statement's version
    is then one the cache has seen, yet the caller it handed out predates it."""
    owner = await factories.brand(client)
    creator = await factories.creator(client)
    path = f"/v1/briefs/{(await factories.open_brief(client, owner))['id']}"
    created = await factories.api_token(client, creator, ["briefs:read"])
    headers = factories.bearer(created["token"])
    await _read_on_both([client], path, headers, creator.user_id)
    cache = cache_of(client)
    confirm = HotCaller.confirm

    async def revoked_meanwhile(self: HotCaller, connection: Any, version: int | None) -> Any:
        await factories.db_execute(
            app, "UPDATE api_tokens SET revoked_at = now() WHERE id = :id", id=created["id"]
        )
        [state] = await factories.db_rows(app, "SELECT version FROM access_state")
        await factories.until(lambda: cache.seen is not None and cache.seen >= state["version"])
        return await confirm(self, connection, state["version"])

    monkeypatch.setattr(HotCaller, "confirm", revoked_meanwhile)
    factories.problem_of(await client.get(path, headers=headers), 401, "invalid_token")


async def test_a_page_read_for_a_stale_cached_member_is_read_again_for_the_member_as_now(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that depends on the caller's brands (`mine=true`, `/v1/me`) is read again
    when its snapshot shows a change this worker has not applied yet."""
    owner = await factories.brand(client)
    viewer = await factories.member(client, owner, role="viewer")
    draft = await factories.brief(client, owner)
    await _read_on_both([client], f"/v1/briefs/{draft['id']}", viewer.headers, viewer.user_id)
    cache = cache_of(client)
    monkeypatch.setattr(cache, "forget", lambda _payload: None)
    await factories.db_execute(
        app, "DELETE FROM brand_memberships WHERE user_id = :id", id=viewer.user_id
    )
    assert cache.user(viewer.user_id) is not None  # the stale entry is still there
    r = await client.get("/v1/briefs?mine=true", headers=viewer.headers)
    assert r.status_code == 200, r.text
    assert r.json()["items"] == []
    assert (await client.get("/v1/me", headers=viewer.headers)).json()["memberships"] == []


async def test_a_cached_api_token_still_records_each_use(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    creator = await factories.creator(client)
    path = f"/v1/briefs/{(await factories.open_brief(client, owner))['id']}"
    created = await factories.api_token(client, creator, ["briefs:read"])
    headers = factories.bearer(created["token"])
    await _read_on_both([client], path, headers, creator.user_id)
    assert cache_of(client).token(token_digest(created["token"])) is not None
    # Not an access change (no notification): the cached token is used as it is.
    await factories.db_execute(
        app,
        "UPDATE api_tokens SET last_used_at = '2000-01-01T00:00:00Z' WHERE id = :id",
        id=created["id"],
    )
    assert (await client.get(path, headers=headers)).status_code == 200
    [row] = await factories.db_rows(
        app,
        "SELECT last_used_at > '2001-01-01' AS recent FROM api_tokens WHERE id = :id",
        id=created["id"],
    )
    assert row["recent"]
