"""Identities and real objects for the schemathesis run, written as its config file.

Against a live server: a brand and a creator sign up and build one of each object (draft and
open briefs, a social account, an application, an active deal with its deliverable, a
gifted deal with a shipment), so generated requests reach real objects instead of only
404s. Writes `schemathesis.toml`: the ids as path parameters, the brand's token for brand
operations and the creator's for creator operations.

    python -m tests.live.schemathesis_seed --base-url http://127.0.0.1:8000 --output FILE
"""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "fuzz-password-0123456"  # a throwaway account on a test server

# Operations only a creator may call; every other operation runs as the brand.
CREATOR_OPERATIONS = [
    "getOwnCreatorProfile",
    "updateOwnCreatorProfile",
    "addSocialAccount",
    "updateSocialAccount",
    "deleteSocialAccount",
    "getShippingAddress",
    "putShippingAddress",
    "applyToBrief",
    "withdrawApplication",
    "listMyApplications",
    "listMyInvitations",
    "listMyMatches",
    "submitDraft",
    "publishDeliverable",
]

# Operations on a gifted deal's logistics: they run on the gifted deal.
GIFTING_OPERATIONS = ["getDealShippingAddress", "createShipment", "listShipments", "updateShipment"]


class Seeder:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60)
        self.run = uuid.uuid4().hex[:8]

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = self.http.request(method, path, headers=headers, **kwargs)
        if r.status_code >= 300:
            raise SystemExit(f"seeding failed: {method} {path} -> {r.status_code} {r.text}")
        return r.json() if r.content else None

    def account(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        me = self.call("POST", "/v1/auth/register", json=body)
        tokens = self.call(
            "POST",
            "/v1/auth/token",
            data={"grant_type": "password", "username": body["email"], "password": PASSWORD},
        )
        return tokens["access_token"], me

    def brief(self, brand: str, **overrides: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        body = {
            "title": "Fuzz: serum reels",
            "description": "Show your morning routine.",
            "collaboration_type": "sponsored_post",
            "compensation_type": "paid",
            "currency": "EUR",
            "fee_min_minor": 20_000,
            "fee_max_minor": 50_000,
            "platforms": ["instagram"],
            "deliverables": [{"platform": "instagram", "format": "reel", "quantity": 1}],
            "tiers": ["micro"],
            "niches": ["beauty"],
            "publish_start_date": (now.date() + timedelta(days=30)).isoformat(),
            "application_deadline": (now + timedelta(days=14)).isoformat(),
            "slots": 50,
            **overrides,
        }
        return dict(self.call("POST", "/v1/briefs", brand, json=body))

    def seed(self) -> dict[str, Any]:
        brand, brand_me = self.account(
            {
                "email": f"fuzz-brand-{self.run}@fuzz.example",
                "password": PASSWORD,
                "role": "brand",
                "brand": {"name": "Fuzz Labs"},
            }
        )
        creator, creator_me = self.account(
            {
                "email": f"fuzz-creator-{self.run}@fuzz.example",
                "password": PASSWORD,
                "role": "creator",
            }
        )
        self.call(
            "PATCH",
            "/v1/creators/me",
            creator,
            json={"country": "ES", "niches": ["beauty"], "accepts_gifting": True},
        )
        address = {
            "recipient_name": "Fuzz Creator",
            "line1": "Calle Mayor 5",
            "city": "Madrid",
            "postal_code": "28013",
            "country": "ES",
        }
        self.call("PUT", "/v1/creators/me/shipping-address", creator, json=address)
        account = self.call(
            "POST",
            "/v1/creators/me/accounts",
            creator,
            json={
                "platform": "instagram",
                "handle": f"@fuzz{self.run}",
                "followers": 48_200,
                "avg_likes": 2_150,
                "avg_comments": 96,
                "source": "self_reported",
                "as_of": date.today().isoformat(),
            },
        )
        self.brief(brand)  # a draft stays a draft
        paid = self.call("POST", f"/v1/briefs/{self.brief(brand)['id']}/publish", brand)
        gifted = self.brief(
            brand,
            compensation_type="gifted",
            fee_min_minor=None,
            fee_max_minor=None,
            gifted_product={"name": "Serum trio", "retail_value_minor": 7_500},
        )
        gifted = self.call("POST", f"/v1/briefs/{gifted['id']}/publish", brand)
        deals = []
        for brief, fee in ((paid, 30_000), (gifted, None)):
            body: dict[str, Any] = {"pitch": "Fuzz pitch", "account_ids": [account["id"]]}
            if fee is not None:
                body["proposed_fee_minor"] = fee
            application = self.call(
                "POST", f"/v1/briefs/{brief['id']}/applications", creator, json=body
            )
            deal = self.call("POST", f"/v1/applications/{application['id']}/accept", brand)
            deal = self.call(
                "POST", f"/v1/deals/{deal['id']}/terms/{deal['current_version']}/accept", creator
            )
            deals.append(deal)
        paid_deal, gifted_deal = deals
        units = self.call("GET", f"/v1/deals/{paid_deal['id']}/deliverables", brand)["items"]
        unit = self.call(
            "POST",
            f"/v1/deals/{paid_deal['id']}/deliverables/{units[0]['id']}/submissions",
            creator,
            json={"draft_url": "https://drive.example/fuzz.mp4", "caption": "Fuzz #ad"},
        )
        shipment = self.call(
            "POST", f"/v1/deals/{gifted_deal['id']}/shipments", brand, json={"carrier": "DHL"}
        )
        # A second application stays pending for the application actions.
        other = self.call("POST", f"/v1/briefs/{self.brief(brand)['id']}/publish", brand)
        pending = self.call(
            "POST",
            f"/v1/briefs/{other['id']}/applications",
            creator,
            json={"pitch": "Fuzz pitch", "account_ids": [account["id"]], "proposed_fee_minor": 1},
        )
        api_token = self.call(
            "POST", "/v1/me/api-tokens", brand, json={"name": "fuzz", "scopes": ["briefs:read"]}
        )
        webhook = self.call(
            "POST", "/v1/webhooks", brand, json={"url": "https://hooks.fuzz.example/briefboard"}
        )
        message = self.call(
            "POST",
            f"/v1/applications/{pending['id']}/messages",
            brand,
            json={"body": "Fuzz: welcome aboard"},
        )
        invitation = self.call(
            "POST",
            f"/v1/brands/{brand_me['brand_id']}/invitations",
            brand,
            json={"email": f"fuzz-manager-{self.run}@fuzz.example", "role": "manager"},
        )
        parameters = {
            "path.brand_id": brand_me["brand_id"],
            "path.creator_id": creator_me["creator_id"],
            "path.user_id": creator_me["id"],
            "path.account_id": account["id"],
            "path.brief_id": paid["id"],
            "path.application_id": pending["id"],
            "path.deal_id": paid_deal["id"],
            "path.version": paid_deal["current_version"],
            "path.deliverable_id": unit["id"],
            "path.submission_id": unit["submissions"][-1]["id"],
            "path.shipment_id": shipment["id"],
            "path.token_id": api_token["id"],
            "path.webhook_id": webhook["id"],
            "path.message_id": message["id"],
            "path.invitation_id": invitation["id"],
        }
        return {
            "brand": brand,
            "creator": creator,
            "parameters": parameters,
            # The brand's fuzzed writes close and cancel `brief_id`: creators apply elsewhere.
            "creator_parameters": {"path.brief_id": other["id"]},
            "gifted_parameters": {"path.deal_id": gifted_deal["id"]},
        }


def config(seed: dict[str, Any], base_url: str, base: str) -> str:
    """The committed base config with the identities and object ids added."""

    def value(v: Any) -> str:
        return json.dumps(v)

    def inline(table: dict[str, Any]) -> str:
        return "{ " + ", ".join(f"{value(k)} = {value(v)}" for k, v in table.items()) + " }"

    # Top-level (dotted) keys first: the base file's tables follow them.
    top = [f"base-url = {value(base_url)}"]
    top += [f"parameters.{value(k)} = {value(v)}" for k, v in seed["parameters"].items()]
    top += [f"headers.Authorization = {value('Bearer ' + seed['brand'])}", ""]
    tables = [
        "",
        "[[operations]]",
        f"include-operation-id = {value(CREATOR_OPERATIONS)}",
        f"headers = {{ Authorization = {value('Bearer ' + seed['creator'])} }}",
        f"parameters = {inline(seed['creator_parameters'])}",
        "",
        "[[operations]]",
        f"include-operation-id = {value(GIFTING_OPERATIONS)}",
        f"parameters = {inline(seed['gifted_parameters'])}",
        "",
    ]
    return "\n".join([*top, base, *tables])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--output", required=True)
    parser.add_argument("--base-config", default=str(Path(__file__).with_name("schemathesis.toml")))
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")
    base = Path(args.base_config).read_text()
    Path(args.output).write_text(config(Seeder(base_url).seed(), base_url, base))
    print(f"schemathesis identities and objects written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
