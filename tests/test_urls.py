"""Stored links are public http(s) URLs; a live post's link is on its platform (issue #13, 19)."""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.models.common import link_pattern
from api.urls import UnsafeUrl, check_public_url, is_public_address, on_platform, resolve_public
from tests import factories
from tests.factories import assert_problem

REFUSED = [
    pytest.param("http://127.0.0.1/x", id="loopback"),
    pytest.param("http://127.1/x", id="loopback-short"),
    pytest.param("http://2130706433/", id="loopback-decimal"),
    pytest.param("http://0x7f.0.0.1/", id="loopback-hex"),
    pytest.param("http://0177.0.0.1/", id="loopback-octal"),
    pytest.param("http://[::1]/", id="loopback-v6"),
    pytest.param("http://[::ffff:127.0.0.1]/", id="loopback-v4-mapped"),
    pytest.param("http://localhost:8000/admin", id="localhost"),
    pytest.param("http://api.localhost/", id="localhost-subdomain"),
    pytest.param("http://printer.local/", id="mdns"),
    pytest.param("http://metadata.google.internal/", id="internal"),
    pytest.param("http://intranet/", id="single-label"),
    pytest.param("http://169.254.169.254/latest/meta-data/", id="cloud-metadata"),
    pytest.param("http://[fe80::1]/", id="link-local-v6"),
    pytest.param("http://10.0.0.5/", id="private-10"),
    pytest.param("http://172.16.3.4/", id="private-172"),
    pytest.param("http://192.168.1.1/", id="private-192"),
    pytest.param("http://100.64.0.1/", id="shared"),
    pytest.param("http://[fd00::1]/", id="unique-local-v6"),
    pytest.param("http://0.0.0.0/", id="unspecified"),
    pytest.param("http://224.0.0.1/", id="multicast"),
    pytest.param("http://1.2.3.999/", id="not-an-address"),
    pytest.param("https://user:password@glowlabs.example/", id="credentials"),
    pytest.param("https://glowlabs.example@evil.example/", id="user-only"),
    pytest.param("https://glowlabs.example\\@evil.example/", id="backslash"),
    pytest.param("https://glowlabs.example/\u202egpj.exe", id="right-to-left-override"),
    pytest.param("https://glow\u200blabs.example/", id="zero-width-space"),
    pytest.param("https://glowlabs.example/\u2066x", id="bidi-isolate"),
    pytest.param("https://glowlabs.example/a\x7fb", id="control"),
    pytest.param("ftp://glowlabs.example/", id="ftp"),
    pytest.param("javascript:alert(1)", id="javascript"),
    pytest.param("https:/glowlabs.example/", id="no-authority"),
    pytest.param("https://glowlabs.example:99999/", id="bad-port"),
    pytest.param("https://-glow.example/", id="bad-label"),
    pytest.param("https://glow_labs.example/", id="underscore-host"),
]

ACCEPTED = [
    "https://glowlabs.example/serum",
    "http://www.example.com:8080/a?b=c#d",
    "https://GlowLabs.Example/Path",
    "https://bücher.example/",
    "https://glowlabs.example./x",
    "https://8.8.8.8/",
    "https://[2001:4860:4860::8888]/",
    "https://example.com/caf%C3%A9",
]


@pytest.mark.parametrize("url", REFUSED)
def test_a_link_that_is_not_public_http_is_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_public_url(url)


@pytest.mark.parametrize("url", ACCEPTED)
def test_a_public_http_link_is_kept_as_given(url: str) -> None:
    assert check_public_url(url) == url


_LOCAL_SUFFIXES = ("localhost", "local", "internal", "localdomain", "arpa")


@settings(max_examples=300, deadline=None, database=None)
@given(st.from_regex(link_pattern("https?"), fullmatch=True))
def test_every_link_of_the_documented_form_is_accepted(url: str) -> None:
    """The OpenAPI pattern of a link (what generated clients and schemathesis send) is a form
    the rule takes; only the local names it cannot exclude are refused."""
    host = url.split("://", 1)[1].split("/")[0].split("?")[0].split("#")[0].split(":")[0]
    if host.lower().rsplit(".", 1)[-1] in _LOCAL_SUFFIXES:
        return
    assert check_public_url(url) == url


def test_public_addresses() -> None:
    assert is_public_address(ipaddress.ip_address("93.184.216.34"))
    for private in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:10.0.0.1"):
        assert not is_public_address(ipaddress.ip_address(private))


async def test_resolving_refuses_a_name_that_points_inside() -> None:
    # Checked before any lookup; an address literal resolves to itself (no DNS needed).
    with pytest.raises(UnsafeUrl):
        await resolve_public("http://localhost/")
    with pytest.raises(UnsafeUrl):
        await resolve_public("http://127.0.0.1/")
    assert await resolve_public("https://8.8.8.8/") == [ipaddress.ip_address("8.8.8.8")]


@pytest.mark.parametrize(
    ("url", "platform", "expected"),
    [
        ("https://www.instagram.com/reel/Cx1", "instagram", True),
        ("https://instagram.com.evil.example/reel/Cx1", "instagram", False),
        ("https://evilinstagram.com/reel/Cx1", "instagram", False),
        ("https://vm.tiktok.com/ZM1/", "tiktok", True),
        ("https://youtu.be/abc", "youtube", True),
        ("https://m.youtube.com/watch?v=abc", "youtube", True),
        ("https://twitter.com/a/status/1", "x", True),
        ("https://x.com/a/status/1", "x", True),
        ("https://www.twitch.tv/videos/1", "twitch", True),
        ("https://www.instagram.com/p/1", "tiktok", False),
        ("https://my-blog.example/post", "blog", True),
    ],
)
def test_a_post_link_belongs_to_its_platform(url: str, platform: str, expected: bool) -> None:
    assert on_platform(url, platform) is expected


# --- through the API ------------------------------------------------------------------------

HOSTILE = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:8000/",
    "http://192.168.0.10/",
    "https://user:secret@glowlabs.example/",
    "https://glowlabs.example/\u202egpj.exe",
]


@pytest.mark.parametrize("url", HOSTILE)
async def test_brand_website_and_product_links_must_be_public(
    client: httpx.AsyncClient, url: str
) -> None:
    owner = await factories.brand(client)
    r = await client.patch(
        f"/v1/brands/{owner.brand_id}", json={"website": url}, headers=owner.headers
    )
    problem = assert_problem(r, 422, "validation_error")
    assert ["body", "website"] in [e["loc"] for e in problem["errors"]]
    for field in ("product", "gifted_product"):
        r = await client.post(
            "/v1/briefs",
            json=factories.brief_body(**{field: {"name": "Serum", "url": url}}),
            headers=owner.headers,
        )
        problem = assert_problem(r, 422, "validation_error")
        assert ["body", field, "url"] in [e["loc"] for e in problem["errors"]]


async def _approved_unit(
    client: httpx.AsyncClient,
) -> tuple[factories.Actor, dict[str, Any], dict[str, Any]]:
    owner = await factories.brand(client)
    creator = await factories.applicant(client)
    deal = await factories.active_deal(
        client, owner, await factories.open_brief(client, owner), creator
    )
    unit = (await factories.deliverables(client, creator, deal))[0]
    unit = await factories.submit_draft(client, creator, deal, unit)
    unit = await factories.approve_draft(client, owner, deal, unit)
    return creator, deal, unit


@pytest.mark.parametrize("url", HOSTILE)
async def test_draft_and_live_links_must_be_public(client: httpx.AsyncClient, url: str) -> None:
    creator, deal, unit = await _approved_unit(client)
    path = f"/v1/deals/{deal['id']}/deliverables/{unit['id']}"
    r = await client.post(
        f"{path}/submissions", json=factories.draft_body(draft_url=url), headers=creator.headers
    )
    assert_problem(r, 422, "validation_error")
    r = await client.post(
        f"{path}/publish", json=factories.publish_body(live_url=url), headers=creator.headers
    )
    problem = assert_problem(r, 422, "validation_error")
    assert ["body", "live_url"] in [e["loc"] for e in problem["errors"]]


async def test_a_live_link_off_the_posts_platform_is_422(client: httpx.AsyncClient) -> None:
    creator, deal, unit = await _approved_unit(client)  # an Instagram reel
    publish = f"/v1/deals/{deal['id']}/deliverables/{unit['id']}/publish"
    for url in ("https://www.tiktok.com/@ana/video/1", "https://instagram.com.evil.example/r"):
        r = await client.post(
            publish, json=factories.publish_body(live_url=url), headers=creator.headers
        )
        problem = assert_problem(r, 422, "validation_error")
        assert (["body", "live_url"], "not_on_platform") in [
            (e["loc"], e["type"]) for e in problem["errors"]
        ]
    r = await client.post(
        publish,
        json=factories.publish_body(live_url="https://www.instagram.com/reel/Cx1"),
        headers=creator.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["published_url"] == "https://www.instagram.com/reel/Cx1"
