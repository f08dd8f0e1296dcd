"""A brief's hard requirements, checked against a creator and the accounts they offer."""

from __future__ import annotations

from collections.abc import Sequence

from api.errors import FieldError
from api.models.account_figures import engagement_rate, tier_for
from api.models.briefs import Brief, CompensationType
from api.models.creators import Creator, SocialAccount
from api.settings import Settings


def _unmet(requirement: str, msg: str) -> FieldError:
    return FieldError(loc=["requirement", requirement], msg=msg, type="ineligible")


def qualifying_accounts(brief: Brief, accounts: Sequence[SocialAccount]) -> list[SocialAccount]:
    """The offered accounts on one of the brief's platforms (all of them if it names none)."""
    if not brief.platforms:
        return list(accounts)
    return [a for a in accounts if a.platform in brief.platforms]


def _size_ok(brief: Brief, account: SocialAccount, settings: Settings) -> bool:
    # Explicit follower bounds rule over tiers, as the SPEC says.
    if brief.min_followers is not None or brief.max_followers is not None:
        low = brief.min_followers or 0
        high = brief.max_followers
        return account.followers >= low and (high is None or account.followers <= high)
    if brief.tiers:
        return tier_for(account.followers, settings.tiers) in brief.tiers
    return True


def unmet_requirements(
    brief: Brief, creator: Creator, accounts: Sequence[SocialAccount], settings: Settings
) -> list[FieldError]:
    """Every hard requirement the creator misses, each saying what is required and what
    they have. Account requirements are met when one offered account on a brief platform
    meets them all (its size, then its engagement)."""
    problems: list[FieldError] = []
    eligible = qualifying_accounts(brief, accounts)
    offered = sorted({a.platform for a in accounts})
    if not eligible:
        problems.append(
            _unmet(
                "platform",
                f"required an account on one of {sorted(brief.platforms)}; offered {offered}",
            )
        )
    if eligible and not any(_size_ok(brief, a, settings) for a in eligible):
        if brief.min_followers is not None or brief.max_followers is not None:
            wanted = f"{brief.min_followers or 0}-{brief.max_followers or 'any'} followers"
        else:
            wanted = "tier " + " or ".join(sorted(brief.tiers))
        have = ", ".join(
            f"{a.platform} {a.followers:,} ({tier_for(a.followers, settings.tiers) or 'no tier'})"
            for a in eligible
        )
        problems.append(_unmet("followers", f"required {wanted}; you have {have}"))
    if brief.min_engagement_rate is not None and eligible:
        # The engagement must come from an account of the wanted size: a big account with
        # little engagement and a small one with much do not add up to what the brand asked.
        sized = [a for a in eligible if _size_ok(brief, a, settings)] or eligible
        rates = {
            a.platform: engagement_rate(a.followers, a.avg_likes, a.avg_comments) for a in sized
        }
        if max(rates.values()) < float(brief.min_engagement_rate):
            problems.append(
                _unmet(
                    "engagement_rate",
                    f"required at least {float(brief.min_engagement_rate):.2%}; you have "
                    + ", ".join(f"{platform} {rate:.2%}" for platform, rate in rates.items()),
                )
            )
    if brief.creator_countries and creator.country not in brief.creator_countries:
        problems.append(
            _unmet(
                "country",
                f"required a creator living in {sorted(brief.creator_countries)}; "
                f"your profile says {creator.country or 'nothing'}",
            )
        )
    if brief.compensation_type == CompensationType.gifted and not creator.accepts_gifting:
        problems.append(
            _unmet("accepts_gifting", "this brief pays in product; your profile declines gifting")
        )
    return problems
