"""Brand and creator profiles, social accounts with derived figures, the private address."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests import factories
from tests.factories import assert_problem, social_account

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

ADDRESS: dict[str, Any] = {
    "recipient_name": "Ana Cooks",
    "line1": "12 Market Street",
    "city": "London",
    "postal_code": "E1 6AN",
    "country": "gb",
    "phone": "+44 20 7946 0000",
}


def _locs(problem: dict[str, Any]) -> list[list[str | int]]:
    return [e["loc"] for e in problem.get("errors", [])]


# --- brands ---------------------------------------------------------------------------------


async def test_any_signed_in_user_reads_a_brand(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client, name="Glow Labs")
    creator = await factories.creator(client)
    r = await client.get(f"/v1/brands/{brand.brand_id}", headers=creator.headers)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == str(brand.brand_id)
    assert r.json()["name"] == "Glow Labs"


async def test_anonymous_cannot_read_a_brand(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    assert_problem(await client.get(f"/v1/brands/{brand.brand_id}"), 401)


async def test_unknown_brand_is_404(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.get(f"/v1/brands/{UNKNOWN_ID}", headers=creator.headers)
    assert_problem(r, 404, "not_found")


async def test_brand_id_must_be_a_uuid(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.get("/v1/brands/not-a-uuid", headers=creator.headers)
    problem = assert_problem(r, 422, "validation_error")
    assert ["path", "brand_id"] in _locs(problem)


async def test_member_updates_their_brand(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    r = await client.patch(
        f"/v1/brands/{brand.brand_id}",
        json={"name": "Glow Labs GmbH", "website": "https://glow.example", "country": "de"},
        headers=brand.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Glow Labs GmbH"
    assert r.json()["country"] == "DE"
    again = await client.get(f"/v1/brands/{brand.brand_id}", headers=brand.headers)
    assert again.json()["website"] == "https://glow.example"


async def test_partial_update_leaves_other_fields_alone(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client, name="Keep Me")
    r = await client.patch(
        f"/v1/brands/{brand.brand_id}",
        json={"description": "Clean skincare"},
        headers=brand.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Keep Me"
    assert r.json()["description"] == "Clean skincare"


async def test_other_brands_member_cannot_update_a_brand(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client, name="Original")
    other = await factories.brand(client)
    r = await client.patch(
        f"/v1/brands/{brand.brand_id}", json={"name": "Hijacked"}, headers=other.headers
    )
    assert_problem(r, 403)
    assert (await client.get(f"/v1/brands/{brand.brand_id}", headers=brand.headers)).json()[
        "name"
    ] == "Original"


async def test_creator_cannot_update_a_brand(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    creator = await factories.creator(client)
    r = await client.patch(
        f"/v1/brands/{brand.brand_id}", json={"name": "Mine"}, headers=creator.headers
    )
    assert_problem(r, 403, "brand_only")


async def test_brand_name_cannot_be_cleared(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    r = await client.patch(
        f"/v1/brands/{brand.brand_id}", json={"name": None}, headers=brand.headers
    )
    problem = assert_problem(r, 422, "validation_error")
    assert ["body", "name"] in _locs(problem)


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x" * 121},
        {"website": "javascript:alert(1)"},
        {"country": "Germany"},
        {"owner_id": UNKNOWN_ID},
    ],
)
async def test_brand_update_rejects_bad_input(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    brand = await factories.brand(client)
    r = await client.patch(f"/v1/brands/{brand.brand_id}", json=body, headers=brand.headers)
    assert_problem(r, 422, "validation_error")


async def test_updating_an_unknown_brand_is_404(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    r = await client.patch(f"/v1/brands/{UNKNOWN_ID}", json={"name": "X"}, headers=brand.headers)
    assert_problem(r, 404, "not_found")


# --- the creator's own profile --------------------------------------------------------------


async def test_creator_reads_and_updates_their_profile(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.patch(
        "/v1/creators/me",
        json={
            "display_name": "Ana Cooks",
            "handle": "@ana.cooks",
            "bio": "Weeknight recipes",
            "country": "gb",
            "languages": ["EN", "es"],
            "niches": ["food", "lifestyle"],
            "content_styles": ["Tutorials"],
            "rate_card_currency": "gbp",
            "rate_card": [{"platform": "instagram", "format": "reel", "fee_minor": 45_000}],
            "accepts_gifting": False,
        },
        headers=creator.headers,
    )
    assert r.status_code == 200, r.text
    me = (await client.get("/v1/creators/me", headers=creator.headers)).json()
    assert me["display_name"] == "Ana Cooks"
    assert me["handle"] == "@ana.cooks"
    assert me["country"] == "GB"
    assert me["languages"] == ["en", "es"]
    assert me["niches"] == ["food", "lifestyle"]
    assert me["content_styles"] == ["tutorials"]
    assert me["rate_card_currency"] == "GBP"
    assert me["rate_card"] == [{"platform": "instagram", "format": "reel", "fee_minor": 45_000}]
    assert me["accepts_gifting"] is False
    assert me["has_shipping_address"] is False


async def test_brand_cannot_use_the_creator_profile_endpoints(client: httpx.AsyncClient) -> None:
    brand = await factories.brand(client)
    assert_problem(await client.get("/v1/creators/me", headers=brand.headers), 403, "creator_only")
    r = await client.patch("/v1/creators/me", json={"bio": "x"}, headers=brand.headers)
    assert_problem(r, 403, "creator_only")
    r = await client.post("/v1/creators/me/accounts", json=social_account(), headers=brand.headers)
    assert_problem(r, 403, "creator_only")
    r = await client.put("/v1/creators/me/shipping-address", json=ADDRESS, headers=brand.headers)
    assert_problem(r, 403, "creator_only")


async def test_anonymous_cannot_read_the_own_profile(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/creators/me"), 401)
    assert_problem(await client.patch("/v1/creators/me", json={"bio": "x"}), 401)


async def test_handle_is_unique_case_insensitively(client: httpx.AsyncClient) -> None:
    first = await factories.creator(client, profile={"handle": "ana.cooks"})
    second = await factories.creator(client)
    r = await client.patch("/v1/creators/me", json={"handle": "ANA.Cooks"}, headers=second.headers)
    assert_problem(r, 409, "handle_taken")
    # Changing the case of one's own handle is no conflict.
    mine = await client.patch(
        "/v1/creators/me", json={"handle": "Ana.Cooks"}, headers=first.headers
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["handle"] == "Ana.Cooks"


async def test_rate_card_rejects_two_fees_for_one_platform_and_format(
    client: httpx.AsyncClient,
) -> None:
    creator = await factories.creator(client)
    entry = {"platform": "tiktok", "format": "short_video", "fee_minor": 10_000}
    r = await client.patch(
        "/v1/creators/me",
        json={"rate_card_currency": "EUR", "rate_card": [entry, {**entry, "fee_minor": 20_000}]},
        headers=creator.headers,
    )
    assert_problem(r, 422, "validation_error")


async def test_rate_card_needs_a_currency(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.patch(
        "/v1/creators/me",
        json={"rate_card": [{"platform": "tiktok", "format": "short_video", "fee_minor": 10_000}]},
        headers=creator.headers,
    )
    assert_problem(r, 409, "currency_required")
    me = (await client.get("/v1/creators/me", headers=creator.headers)).json()
    assert me["rate_card"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"niches": ["crypto"]},
        {"niches": ["food", "travel", "tech", "art", "music", "pets"]},
        {"rate_card_currency": "EURO"},
        {"rate_card": [{"platform": "myspace", "format": "post", "fee_minor": 1}]},
        {"rate_card": [{"platform": "instagram", "format": "post", "fee_minor": -1}]},
        {"rate_card": [{"platform": "instagram", "format": "post", "fee_minor": 12.5}]},
        {"handle": "ana cooks"},
        {"display_name": None},
        {"languages": ["english"]},
        {"tier": "mega"},
    ],
)
async def test_profile_update_rejects_bad_input(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    creator = await factories.creator(client)
    r = await client.patch("/v1/creators/me", json=body, headers=creator.headers)
    assert_problem(r, 422, "validation_error")


# --- social accounts ------------------------------------------------------------------------


async def test_account_tier_and_engagement_rate_are_derived(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.post(
        "/v1/creators/me/accounts",
        json=social_account(followers=48_200, avg_likes=2_150, avg_comments=96),
        headers=creator.headers,
    )
    assert r.status_code == 201, r.text
    account = r.json()
    assert account["tier"] == "micro"
    assert account["engagement_rate"] == pytest.approx((2_150 + 96) / 48_200, abs=1e-6)
    assert account["audience"]["countries"] == {"US": 40.0, "GB": 20.0}
    assert account["source"] == "self_reported"
    assert account["as_of"] == "2026-11-01"


@pytest.mark.parametrize(
    ("followers", "tier"),
    [(999, None), (1_000, "nano"), (9_999, "nano"), (10_000, "micro"), (100_000, "macro"),
     (999_999, "macro"), (1_000_000, "mega")],
)  # fmt: skip
async def test_tier_follows_the_configured_bands(
    client: httpx.AsyncClient, followers: int, tier: str | None
) -> None:
    creator = await factories.creator(client)
    r = await client.post(
        "/v1/creators/me/accounts",
        json=social_account(followers=followers, avg_likes=10, avg_comments=0),
        headers=creator.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["tier"] == tier


async def test_account_with_no_followers_has_zero_engagement(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    r = await client.post(
        "/v1/creators/me/accounts",
        json=social_account(followers=0, avg_likes=0, avg_comments=0),
        headers=creator.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["engagement_rate"] == 0


@pytest.mark.parametrize("field", [{"tier": "mega"}, {"engagement_rate": 0.5}])
async def test_client_cannot_send_derived_figures(
    client: httpx.AsyncClient, field: dict[str, Any]
) -> None:
    creator = await factories.creator(client)
    r = await client.post(
        "/v1/creators/me/accounts", json=social_account(**field), headers=creator.headers
    )
    problem = assert_problem(r, 422, "validation_error")
    assert ["body", next(iter(field))] in _locs(problem)
    created = await client.post(
        "/v1/creators/me/accounts", json=social_account(), headers=creator.headers
    )
    patched = await client.patch(
        f"/v1/creators/me/accounts/{created.json()['id']}", json=field, headers=creator.headers
    )
    assert_problem(patched, 422, "validation_error")


@pytest.mark.parametrize(
    "audience",
    [
        {"countries": {"US": 70.0, "GB": 40.0}},
        {"genders": {"female": 80.0, "male": 30.0}},
        {"ages": {"18-24": 101.0}},
        {"ages": {"18-24": -1.0}},
        {"ages": {"17-19": 10.0}},
        {"countries": {"USA": 10.0}},
        {"genders": {"robots": 10.0}},
    ],
)
async def test_audience_shares_are_valid_percentages(
    client: httpx.AsyncClient, audience: dict[str, Any]
) -> None:
    creator = await factories.creator(client)
    r = await client.post(
        "/v1/creators/me/accounts", json=social_account(audience=audience), headers=creator.headers
    )
    assert_problem(r, 422, "validation_error")


async def test_second_account_on_the_same_platform_conflicts(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client, accounts=[{"platform": "tiktok"}])
    r = await client.post(
        "/v1/creators/me/accounts",
        json=social_account(platform="tiktok", handle="@second"),
        headers=creator.headers,
    )
    assert_problem(r, 409, "account_exists")
    other_platform = await client.post(
        "/v1/creators/me/accounts", json=social_account(platform="youtube"), headers=creator.headers
    )
    assert other_platform.status_code == 201, other_platform.text


async def test_updating_figures_recomputes_tier_and_engagement(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    account = (
        await client.post(
            "/v1/creators/me/accounts", json=social_account(), headers=creator.headers
        )
    ).json()
    r = await client.patch(
        f"/v1/creators/me/accounts/{account['id']}",
        json={
            "followers": 250_000,
            "avg_likes": 4_000,
            "avg_comments": 1_000,
        },
        headers=creator.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["tier"] == "macro"
    assert r.json()["engagement_rate"] == pytest.approx(0.02)
    assert r.json()["source"] == "self_reported"
    # Audience figures not sent are kept.
    assert r.json()["audience"] == account["audience"]
    profile = (await client.get("/v1/creators/me", headers=creator.headers)).json()
    assert profile["accounts"][0]["followers"] == 250_000


async def test_account_figures_cannot_be_cleared(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client, accounts=[{}])
    account_id = (await client.get("/v1/creators/me", headers=creator.headers)).json()["accounts"][
        0
    ]["id"]
    r = await client.patch(
        f"/v1/creators/me/accounts/{account_id}", json={"followers": None}, headers=creator.headers
    )
    assert_problem(r, 422, "validation_error")


async def test_creator_deletes_their_account(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client, accounts=[{}])
    account_id = (await client.get("/v1/creators/me", headers=creator.headers)).json()["accounts"][
        0
    ]["id"]
    r = await client.delete(f"/v1/creators/me/accounts/{account_id}", headers=creator.headers)
    assert r.status_code == 204
    profile = (await client.get("/v1/creators/me", headers=creator.headers)).json()
    assert profile["accounts"] == []
    again = await client.delete(f"/v1/creators/me/accounts/{account_id}", headers=creator.headers)
    assert_problem(again, 404, "not_found")


async def test_another_creators_account_is_404(client: httpx.AsyncClient) -> None:
    owner = await factories.creator(client, accounts=[{}])
    intruder = await factories.creator(client)
    account_id = (await client.get("/v1/creators/me", headers=owner.headers)).json()["accounts"][0][
        "id"
    ]
    r = await client.patch(
        f"/v1/creators/me/accounts/{account_id}", json={"followers": 1}, headers=intruder.headers
    )
    assert_problem(r, 404, "not_found")
    r = await client.delete(f"/v1/creators/me/accounts/{account_id}", headers=intruder.headers)
    assert_problem(r, 404, "not_found")
    # Unknown ids answer the same way, and the owner's account is untouched.
    r = await client.delete(f"/v1/creators/me/accounts/{UNKNOWN_ID}", headers=intruder.headers)
    assert_problem(r, 404, "not_found")
    accounts = (await client.get("/v1/creators/me", headers=owner.headers)).json()["accounts"]
    assert accounts[0]["followers"] == 48_200


async def test_anonymous_cannot_manage_accounts(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/v1/creators/me/accounts", json=social_account()), 401)
    assert_problem(await client.delete(f"/v1/creators/me/accounts/{UNKNOWN_ID}"), 401)


# --- shipping address and the public profile ------------------------------------------------


async def test_owner_sets_and_reads_their_shipping_address(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    missing = await client.get("/v1/creators/me/shipping-address", headers=creator.headers)
    assert_problem(missing, 404, "no_shipping_address")

    r = await client.put("/v1/creators/me/shipping-address", json=ADDRESS, headers=creator.headers)
    assert r.status_code == 200, r.text
    assert r.json()["country"] == "GB"

    replaced = await client.put(
        "/v1/creators/me/shipping-address",
        json={**ADDRESS, "line1": "1 New Road"},
        headers=creator.headers,
    )
    assert replaced.status_code == 200, replaced.text
    got = await client.get("/v1/creators/me/shipping-address", headers=creator.headers)
    assert got.status_code == 200
    assert got.json()["line1"] == "1 New Road"
    assert got.json()["postal_code"] == "E1 6AN"
    me = (await client.get("/v1/creators/me", headers=creator.headers)).json()
    assert me["has_shipping_address"] is True


async def test_shipping_address_rejects_bad_input(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(client)
    for body in (
        {**ADDRESS, "postal_code": "<script>"},
        {**ADDRESS, "country": "GBR"},
        {k: v for k, v in ADDRESS.items() if k != "city"},
        {**ADDRESS, "note": "leave at the door"},
    ):
        r = await client.put("/v1/creators/me/shipping-address", json=body, headers=creator.headers)
        assert_problem(r, 422, "validation_error")


async def test_public_creator_profile_shows_no_private_fields(client: httpx.AsyncClient) -> None:
    creator = await factories.creator(
        client,
        profile={
            "display_name": "Ana Cooks",
            "rate_card_currency": "GBP",
            "rate_card": [{"platform": "instagram", "format": "reel", "fee_minor": 45_000}],
        },
        accounts=[{}],
    )
    put = await client.put(
        "/v1/creators/me/shipping-address", json=ADDRESS, headers=creator.headers
    )
    assert put.status_code == 200
    brand = await factories.brand(client)

    r = await client.get(f"/v1/creators/{creator.creator_id}", headers=brand.headers)
    assert r.status_code == 200, r.text
    public = r.json()
    assert public["display_name"] == "Ana Cooks"
    assert public["accounts"][0]["tier"] == "micro"
    for private in ("rate_card", "rate_card_currency", "has_shipping_address", "shipping_address"):
        assert private not in public
    for secret in ("12 Market Street", "E1 6AN", "+44", "45000", "user_id", "email"):
        assert secret not in r.text


async def test_public_creator_profile_needs_sign_in_and_a_known_id(
    client: httpx.AsyncClient,
) -> None:
    creator = await factories.creator(client)
    assert_problem(await client.get(f"/v1/creators/{creator.creator_id}"), 401)
    r = await client.get(f"/v1/creators/{UNKNOWN_ID}", headers=creator.headers)
    assert_problem(r, 404, "not_found")
    r = await client.get("/v1/creators/12345", headers=creator.headers)
    assert_problem(r, 422, "validation_error")
    own = await client.get(f"/v1/creators/{creator.creator_id}", headers=creator.headers)
    assert own.status_code == 200
    assert uuid.UUID(own.json()["id"]) == creator.creator_id
