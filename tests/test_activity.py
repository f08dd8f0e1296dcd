"""The activity trail: who did what on a brief and a deal, for which brand, with the
request id; who may read it."""

from __future__ import annotations

import httpx

from tests import factories
from tests.factories import assert_problem


async def test_brief_trail_names_each_actor_and_request(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    manager = await factories.member(client, owner, "manager")
    draft = await factories.brief(client, owner)
    r = await client.post(
        f"/v1/briefs/{draft['id']}/publish", headers={**manager.headers, "X-Request-Id": "pub-1"}
    )
    assert r.status_code == 200, r.text
    creator = await factories.applicant(client)
    application = await factories.apply(client, creator, r.json())

    r = await client.get(f"/v1/briefs/{draft['id']}/activity", headers=owner.headers)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(a["action"], a["actor_user_id"]) for a in items] == [
        ("application.created", str(creator.user_id)),
        ("brief.published", str(manager.user_id)),
        ("brief.created", str(owner.user_id)),
    ]
    assert items[1]["request_id"] == "pub-1"
    assert {a["brand_id"] for a in items} == {str(owner.brand_id)}
    assert items[0]["application_id"] == application["id"]


async def test_deal_trail_is_read_by_both_parties(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    creator = await factories.applicant(client)
    deal = await factories.deal(client, owner, await factories.open_brief(client, owner), creator)
    await factories.accept_terms(client, creator, deal)
    for actor in (owner, creator):
        r = await client.get(f"/v1/deals/{deal['id']}/activity", headers=actor.headers)
        assert r.status_code == 200, r.text
        actions = [(a["action"], a["actor_user_id"]) for a in r.json()["items"]]
        assert actions[0] == ("deal.terms_accepted", str(creator.user_id))
        assert actions[-1] == ("deal.created", str(owner.user_id))


async def test_trail_is_for_owners_managers_and_the_creator(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    viewer = await factories.member(client, owner, "viewer")
    rival = await factories.brand(client)
    stranger = await factories.applicant(client)
    creator = await factories.applicant(client)
    brief = await factories.open_brief(client, owner)
    deal = await factories.deal(client, owner, brief, creator)
    for path in (f"/v1/briefs/{brief['id']}/activity", f"/v1/deals/{deal['id']}/activity"):
        assert_problem(await client.get(path, headers=viewer.headers), 403, "insufficient_role")
        assert_problem(await client.get(path, headers=rival.headers), 404, "not_found")
    r = await client.get(f"/v1/deals/{deal['id']}/activity", headers=stranger.headers)
    assert_problem(r, 404, "not_found")
    r = await client.get(f"/v1/briefs/{brief['id']}/activity", headers=creator.headers)
    assert_problem(r, 403, "brand_only")
