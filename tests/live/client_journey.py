"""A client generated from the live server's OpenAPI document runs the core journey.

Generates a Python client with `openapi-python-client` from `<base-url>/openapi.json` (any
warning fails), imports it, and with it alone: registers a brand and a creator, signs both
in, creates and publishes a brief, adds a social account, applies, accepts, and reads the
deal and its usage rights. Exits 1 on any failure. Run by .ci/run against `make run`:

    python -m tests.live.client_journey --base-url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

PACKAGE = "briefboard_client"
PASSWORD = "journey-password-0123"  # a throwaway account on a test server


def generate(base_url: str, into: Path) -> None:
    config = into / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    command = [
        str(Path(sys.executable).with_name("openapi-python-client")),
        "generate",
        "--url",
        f"{base_url}/openapi.json",
        "--meta",
        "none",
        "--output-path",
        str(into / PACKAGE),
        "--config",
        str(config),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    output = done.stdout + done.stderr
    if done.returncode != 0 or "warning" in output.lower() or "error" in output.lower():
        raise SystemExit(f"openapi-python-client did not generate cleanly:\n{output}")
    print(f"client generated: {len(list((into / PACKAGE / 'api').rglob('*.py')))} modules")


def ok(response: Any, status: int) -> Any:
    """The parsed body of a response with the expected status (or exit with its content)."""
    if response.status_code != status:
        raise AssertionError(
            f"expected {status}, got {int(response.status_code)}: {response.content[:500]!r}"
        )
    return response.parsed


def journey(base_url: str) -> None:
    c = importlib.import_module(PACKAGE)
    api = {
        name: importlib.import_module(f"{PACKAGE}.api.{name}")
        for name in ("auth", "briefs", "creators", "applications", "deals")
    }
    auth, briefs, creators = api["auth"], api["briefs"], api["creators"]
    applications, deals = api["applications"], api["deals"]
    for module in (
        "auth.register",
        "auth.issue_token",
        "briefs.create_brief",
        "briefs.publish_brief",
        "creators.add_social_account",
        "creators.update_own_creator_profile",
        "applications.apply_to_brief",
        "applications.accept_application",
        "deals.get_deal",
        "deals.get_deal_usage_rights",
    ):
        importlib.import_module(f"{PACKAGE}.api.{module}")
    m = importlib.import_module(f"{PACKAGE}.models")
    anonymous = c.Client(base_url=base_url)
    run = uuid.uuid4().hex[:10]

    def register(body: Any) -> Any:
        return ok(auth.register.sync_detailed(client=anonymous, body=body), 201)

    def sign_in(email: str) -> Any:
        form = m.IssueTokenRequest(grant_type="password", username=email, password=PASSWORD)
        tokens = ok(auth.issue_token.sync_detailed(client=anonymous, body=form), 200)
        return c.AuthenticatedClient(base_url=base_url, token=tokens.access_token)

    brand_email, creator_email = f"brand-{run}@journey.example", f"creator-{run}@journey.example"
    register(
        m.BrandRegistration(
            email=brand_email,
            password=PASSWORD,
            role="brand",
            brand=m.BrandSignup(name="Journey Labs"),
        )
    )
    creator_me = register(
        m.CreatorRegistration(email=creator_email, password=PASSWORD, role="creator")
    )
    brand, creator = sign_in(brand_email), sign_in(creator_email)
    print("registered and signed in: a brand and a creator")

    now = datetime.now(UTC)
    draft = ok(
        briefs.create_brief.sync_detailed(
            client=brand,
            body=m.BriefCreate(
                title="Journey: serum reels",
                description="Show your morning routine with our serum.",
                collaboration_type=m.CollaborationType.SPONSORED_POST,
                compensation_type=m.CompensationType.PAID,
                currency="EUR",
                fee_min_minor=20_000,
                fee_max_minor=50_000,
                platforms=[m.Platform.INSTAGRAM],
                deliverables=[
                    m.DeliverableSpec(
                        platform=m.Platform.INSTAGRAM, format_=m.DeliverableFormat.REEL
                    )
                ],
                tiers=[m.Tier.MICRO],
                niches=[m.Niche.BEAUTY],
                publish_start_date=now.date() + timedelta(days=30),
                application_deadline=now + timedelta(days=14),
                slots=2,
            ),
        ),
        201,
    )
    brief = ok(briefs.publish_brief.sync_detailed(draft.id, client=brand), 200)
    assert str(brief.status) == "open", brief.status
    print(f"brief {brief.id} published")

    ok(
        creators.update_own_creator_profile.sync_detailed(
            client=creator, body=m.CreatorUpdate(country="ES", niches=[m.Niche.BEAUTY])
        ),
        200,
    )
    account = ok(
        creators.add_social_account.sync_detailed(
            client=creator,
            body=m.SocialAccountCreate(
                platform=m.Platform.INSTAGRAM,
                handle=f"@journey{run}",
                followers=48_200,
                avg_likes=2_150,
                avg_comments=96,
                as_of=date.today(),
                source=m.MetricsSource.SELF_REPORTED,
            ),
        ),
        201,
    )
    application = ok(
        applications.apply_to_brief.sync_detailed(
            brief.id,
            client=creator,
            body=m.ApplicationCreate(
                pitch="Skincare mornings for 48k followers.",
                account_ids=[account.id],
                proposed_fee_minor=30_000,
            ),
            idempotency_key=f"apply-{run}",
        ),
        201,
    )
    assert 0 <= application.match_parts.niche_overlap <= 1
    print(f"creator {creator_me.creator_id} applied (score {application.match_score:.2f})")

    deal = ok(applications.accept_application.sync_detailed(application.id, client=brand), 201)
    for party in (brand, creator):
        read = ok(deals.get_deal.sync_detailed(deal.id, client=party), 200)
        assert read.id == deal.id
    rights = ok(deals.get_deal_usage_rights.sync_detailed(deal.id, client=brand), 200)
    print(f"deal {deal.id} read by both parties; usage rights today: {rights.status}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")
    with tempfile.TemporaryDirectory(prefix="briefboard-client-") as tmp:
        generate(base_url, Path(tmp))
        sys.path.insert(0, tmp)
        try:
            journey(base_url)
        except AssertionError as exc:
            print(f"client journey FAILED: {exc}", file=sys.stderr)
            return 1
    print("client journey OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
