"""Bytes on the wire: gzip above ~1 KB when accepted, 304 for an ETag the client holds."""

from __future__ import annotations

import gzip
import json

import httpx

from api.compression import MIN_BYTES, accepts_gzip
from tests import factories


async def test_a_page_of_briefs_is_gzipped_when_the_client_accepts_it(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    for _ in range(3):
        await factories.open_brief(client, owner)
    plain = await client.get("/v1/briefs", headers={**owner.headers, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert len(plain.content) > MIN_BYTES
    assert "accept-encoding" in plain.headers["vary"].lower()

    async with client.stream(
        "GET", "/v1/briefs", headers={**owner.headers, "Accept-Encoding": "gzip"}
    ) as r:
        raw = b"".join([chunk async for chunk in r.aiter_raw()])
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) == len(raw) < len(plain.content) / 2
    assert json.loads(gzip.decompress(raw)) == plain.json()
    assert r.headers["x-content-type-options"] == "nosniff"  # security headers still set


async def test_small_answers_and_refusing_clients_get_plain_json(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    me = await client.get("/v1/me", headers={**owner.headers, "Accept-Encoding": "gzip"})
    assert me.status_code == 200
    assert len(me.content) < MIN_BYTES
    assert "content-encoding" not in me.headers
    for _ in range(3):
        await factories.open_brief(client, owner)
    refused = await client.get(
        "/v1/briefs", headers={**owner.headers, "Accept-Encoding": "gzip;q=0, identity"}
    )
    assert "content-encoding" not in refused.headers
    assert len(refused.json()["items"]) == 3


def test_accept_encoding_is_read_with_its_quality_values() -> None:
    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("br;q=1.0, gzip;q=0.5")
    assert accepts_gzip("*")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("br, zstd")
    assert not accepts_gzip("")


async def test_a_brief_the_client_holds_answers_304_without_a_body(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(client, owner)
    path = f"/v1/briefs/{brief['id']}"
    first = await client.get(path, headers=owner.headers)
    etag = first.headers["etag"]

    for held in (etag, f"W/{etag}", f'"0", {etag}', "*"):
        r = await client.get(path, headers={**owner.headers, "If-None-Match": held})
        assert r.status_code == 304, (held, r.text)
        assert r.content == b""
        assert r.headers["etag"] == etag
        assert r.headers["x-request-id"]

    stale = await client.get(path, headers={**owner.headers, "If-None-Match": '"0"'})
    assert stale.status_code == 200
    assert stale.json() == first.json()

    # After a change the old tag no longer matches: the new version is sent.
    changed = await client.patch(
        path, json={"description": "Now longer."}, headers={**owner.headers, "If-Match": etag}
    )
    assert changed.status_code == 200, changed.text
    r = await client.get(path, headers={**owner.headers, "If-None-Match": etag})
    assert r.status_code == 200
    assert r.json()["description"] == "Now longer."


async def test_if_none_match_never_bypasses_authorization(client: httpx.AsyncClient) -> None:
    owner = await factories.brand(client)
    other = await factories.brand(client)
    draft = await factories.brief(client, owner)
    path = f"/v1/briefs/{draft['id']}"
    held = {"If-None-Match": "*"}
    factories.problem_of(
        await client.get(path, headers={**other.headers, **held}), 404, "not_found"
    )
    assert (await client.get(path, headers=held)).status_code == 401


async def test_a_deal_answers_304_with_its_etag(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    deal = await factories.deal(client, brand, brief, await factories.applicant(client))
    path = f"/v1/deals/{deal['id']}"
    first = await client.get(path, headers=brand.headers)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    r = await client.get(path, headers={**brand.headers, "If-None-Match": etag})
    assert r.status_code == 304
    assert r.headers["etag"] == etag
