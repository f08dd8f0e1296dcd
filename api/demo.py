"""Demo data for `make run`: brands and creators with realistic audience figures."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import col

from api.db import create_engine, create_sessionmaker
from api.demo_briefs import seed_briefs
from api.models.creators import (
    AudienceDemographics,
    Creator,
    CreatorUpdate,
    RateCardEntry,
    ShippingAddressWrite,
    SocialAccountCreate,
)
from api.models.users import BrandSignup, RegisterRequest, User
from api.services import accounts, creators
from api.settings import Settings

# Public demo credentials for local development only; `seed-demo` refuses production.
DEMO_PASSWORD = "briefboard-demo"  # noqa: S105
DEMO_MARKER_EMAIL = "brand@glowlabs.example"

BRANDS = [
    ("brand@glowlabs.example", "Glow Labs"),
    ("brand@trailfuel.example", "Trail Fuel"),
    ("brand@pixelforge.example", "Pixel Forge"),
]

# email, display name, handle, country, niches, [(platform, followers, likes, comments)], audience
CREATORS = [
    (
        "creator@ana.example",
        "Ana Cooks",
        "ana.cooks",
        "ES",
        ["food", "lifestyle"],
        [("instagram", 48_200, 2_150, 96), ("tiktok", 120_500, 9_800, 310)],
        {"ES": 55.0, "MX": 12.0, "US": 8.0},
        {"female": 71.0, "male": 28.0},
        {"18-24": 31.0, "25-34": 44.0, "35-44": 15.0},
    ),
    (
        "creator@ben.example",
        "Ben Lifts",
        "benlifts",
        "GB",
        ["fitness", "health"],
        [("instagram", 8_400, 510, 42), ("youtube", 23_000, 1_100, 140)],
        {"GB": 62.0, "IE": 9.0, "US": 11.0},
        {"male": 64.0, "female": 35.0},
        {"18-24": 40.0, "25-34": 38.0},
    ),
    (
        "creator@chloe.example",
        "Chloé Glow",
        "chloeglow",
        "FR",
        ["beauty", "fashion"],
        [("instagram", 410_000, 9_200, 380), ("tiktok", 1_250_000, 61_000, 1_900)],
        {"FR": 48.0, "BE": 10.0, "CA": 7.0},
        {"female": 86.0, "male": 13.0},
        {"18-24": 46.0, "25-34": 35.0},
    ),
    (
        "creator@dev.example",
        "Dev Plays",
        "devplays",
        "US",
        ["gaming", "tech"],
        [("twitch", 75_000, 2_300, 900), ("youtube", 310_000, 8_800, 1_250)],
        {"US": 58.0, "CA": 9.0, "GB": 8.0},
        {"male": 78.0, "female": 21.0},
        {"13-17": 12.0, "18-24": 52.0, "25-34": 27.0},
    ),
    (
        "creator@emi.example",
        "Emi Travels",
        "emi.travels",
        "DE",
        ["travel", "food"],
        [("instagram", 19_800, 1_050, 61)],
        {"DE": 51.0, "AT": 14.0, "CH": 9.0},
        {"female": 60.0, "male": 39.0},
        {"25-34": 49.0, "35-44": 24.0},
    ),
    (
        "creator@finn.example",
        "Finn Finance",
        "finnfinance",
        "US",
        ["finance", "business"],
        [("youtube", 2_100_000, 41_000, 3_200), ("x", 190_000, 1_900, 240)],
        {"US": 64.0, "GB": 7.0, "IN": 6.0},
        {"male": 69.0, "female": 30.0},
        {"25-34": 45.0, "35-44": 28.0},
    ),
]


async def seed(database_url: str, settings: Settings) -> bool:
    """Load the demo data unless it is already there. Returns whether it loaded it."""
    engine = create_engine(database_url, settings, pool_size=1, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker.begin() as session:
            if await accounts.email_taken(session, DEMO_MARKER_EMAIL):
                return False
            for email, name in BRANDS:
                await accounts.register(
                    session,
                    settings,
                    RegisterRequest(
                        email=email,
                        password=DEMO_PASSWORD,
                        role="brand",
                        brand=BrandSignup(name=name),
                    ),
                )
            for email, display, handle, country, niches, accts, geo, genders, ages in CREATORS:
                user = await accounts.register(
                    session,
                    settings,
                    RegisterRequest(
                        email=email,
                        password=DEMO_PASSWORD,
                        role="creator",
                        display_name=display,
                    ),
                )
                creator = await session.scalar(
                    select(Creator).where(col(Creator.user_id) == user.id)
                )
                assert creator is not None
                await creators.update_profile(
                    session,
                    creator,
                    CreatorUpdate.model_validate(
                        {
                            "handle": handle,
                            "country": country,
                            "niches": niches,
                            "languages": ["en"],
                            "bio": f"{display}: honest content about {' and '.join(niches)}.",
                            "rate_card_currency": "EUR",
                            "rate_card": [
                                RateCardEntry.model_validate(
                                    {"platform": p, "format": "post", "fee_minor": f // 10 * 2}
                                ).model_dump()
                                for p, f, _, _ in accts
                            ],
                        }
                    ),
                )
                for platform, followers, likes, comments in accts:
                    await creators.add_account(
                        session,
                        creator,
                        SocialAccountCreate.model_validate(
                            {
                                "platform": platform,
                                "handle": handle,
                                "followers": followers,
                                "avg_likes": likes,
                                "avg_comments": comments,
                                "audience": AudienceDemographics.model_validate(
                                    {"countries": geo, "genders": genders, "ages": ages}
                                ).model_dump(),
                                "source": "self_reported",
                                "as_of": date(2026, 11, 1).isoformat(),
                            }
                        ),
                    )
                await creators.put_shipping_address(
                    session,
                    creator,
                    ShippingAddressWrite(
                        recipient_name=display,
                        line1="1 Demo Street",
                        city="Demo City",
                        postal_code="10001",
                        country=country,
                    ),
                )
            await seed_briefs(session, [name for _, name in BRANDS])
        return True
    finally:
        await engine.dispose()


async def create_admin_account(
    database_url: str, settings: Settings, email: str, password: str
) -> User:
    engine = create_engine(database_url, settings, pool_size=1, max_overflow=0)
    try:
        async with create_sessionmaker(engine).begin() as session:
            return await accounts.create_admin(session, settings, email.strip().lower(), password)
    finally:
        await engine.dispose()


def print_logins() -> None:
    print(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
    for email, name in BRANDS:
        print(f"  brand    {email:28} {name}")
    for email, display, *_ in CREATORS:
        print(f"  creator  {email:28} {display}")
    print("\nAPI docs: http://127.0.0.1:8000/docs\n")
