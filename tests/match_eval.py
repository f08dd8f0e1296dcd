"""A fixed evaluation set for match quality: briefs, creators, and the order they should
rank in, derived from stated rules rather than from the model.

Each creator carries a grade (4 = best fit ... 0 = poor fit) and the rule that places it.
The rules, in the words a brand would use:

- R1 Right audience and high engagement beat niche keyword stuffing: a niche is a label a
  creator picks, audience and engagement are measured.
- R2 Within budget beats over budget, all else equal.
- R3 Engagement over follower counts: an account above its tier's engagement norm beats
  a larger one below it.
- R4 Listing more niches is not a fault: a creator covering the brief's niches ranks with
  one who lists only those niches.
- R5 Covering more of the brief's niches beats covering fewer, all else equal.
- R6 The brief's target audience (country, gender, age) beats an audience elsewhere.

`tests/test_matching_quality.py` builds the set through the API and checks the ranking
with NDCG@10 (graded gain 2^grade - 1); the default weights (`api.settings.MatchWeights`)
were chosen on it (README, "Matching").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# A profile lists at most five niches: a stuffer lists the brief's and the popular ones.
STUFFED_BEAUTY = ["beauty", "fashion", "lifestyle", "fitness", "health"]
STUFFED_FITNESS = ["fitness", "health", "sports", "beauty", "lifestyle"]


@dataclass(frozen=True)
class EvalCreator:
    name: str
    grade: int
    rule: str
    niches: list[str]
    countries: dict[str, float]
    er: float  # engagement rate of the one account
    fee_minor: int  # rate card for the brief's deliverable, in EUR
    followers: int = 40_000
    genders: dict[str, float] = field(default_factory=lambda: {"female": 80.0, "male": 20.0})
    ages: dict[str, float] = field(default_factory=lambda: {"18-24": 40.0, "25-34": 40.0})

    def account(self, platform: str) -> dict[str, Any]:
        return {
            "platform": platform,
            "followers": self.followers,
            "avg_likes": round(self.er * self.followers),
            "avg_comments": 0,
            "audience": {"countries": self.countries, "genders": self.genders, "ages": self.ages},
        }


@dataclass(frozen=True)
class EvalBrief:
    name: str
    platform: str
    fmt: str
    body: dict[str, Any]
    creators: list[EvalCreator]


DE = {"DE": 60.0, "AT": 10.0}
ELSEWHERE = {"US": 60.0, "DE": 5.0}
MEN = {"female": 20.0, "male": 80.0}
OLDER = {"45-54": 60.0, "18-24": 5.0}

SERUM = EvalBrief(
    name="serum reel for young women in Germany",
    platform="instagram",
    fmt="reel",
    body={
        "niches": ["beauty"],
        "tiers": ["micro"],
        "fee_max_minor": 50_000,
        "target_audience": {
            "countries": ["DE"],
            "genders": ["female"],
            "age_min": 18,
            "age_max": 34,
        },
    },
    # Instagram micro norm: 3-7 %.
    creators=[
        EvalCreator("ideal", 4, "all rules met", ["beauty"], DE, 0.08, 40_000),
        EvalCreator(
            "ideal, many niches",
            4,
            "R4",
            ["beauty", "fashion", "lifestyle", "food", "travel"],
            DE,
            0.08,
            40_000,
        ),
        EvalCreator("adjacent niche", 3, "R1", ["fashion"], DE, 0.08, 40_000),
        EvalCreator("over budget", 3, "R2", ["beauty"], DE, 0.08, 150_000),
        EvalCreator("engagement at the norm", 3, "R3", ["beauty"], DE, 0.045, 40_000),
        EvalCreator("audience elsewhere", 2, "R6", ["beauty"], ELSEWHERE, 0.08, 40_000),
        EvalCreator(
            "audience of men over 45",
            2,
            "R6",
            ["beauty"],
            DE,
            0.08,
            40_000,
            genders=MEN,
            ages=OLDER,
        ),
        EvalCreator("low engagement", 2, "R3", ["beauty"], DE, 0.012, 40_000),
        EvalCreator("keyword stuffer", 1, "R1", STUFFED_BEAUTY, ELSEWHERE, 0.015, 40_000),
        EvalCreator(
            "big keyword stuffer",
            1,
            "R1, R3",
            STUFFED_BEAUTY,
            {"DE": 15.0, "US": 50.0},
            0.01,
            40_000,
            followers=95_000,
        ),
        EvalCreator("nothing fits", 0, "R1-R6", ["gaming"], ELSEWHERE, 0.01, 150_000, genders=MEN),
    ],
)

GB = {"GB": 55.0, "IE": 10.0}
US = {"US": 70.0, "GB": 3.0}

FITNESS = EvalBrief(
    name="fitness app launch on TikTok in the UK",
    platform="tiktok",
    fmt="short_video",
    body={
        "niches": ["fitness", "health", "sports"],
        "tiers": ["micro"],
        "fee_max_minor": 80_000,
        "target_audience": {"countries": ["GB"]},
    },
    # TikTok micro norm: 5-10 %.
    creators=[
        EvalCreator("all three niches", 4, "R5", ["fitness", "health", "sports"], GB, 0.12, 60_000),
        EvalCreator(
            "all three and more",
            4,
            "R4",
            ["fitness", "health", "sports", "food", "travel"],
            GB,
            0.12,
            60_000,
        ),
        EvalCreator(
            "all three, over budget", 3, "R2", ["fitness", "health", "sports"], GB, 0.12, 240_000
        ),
        EvalCreator("one of three", 3, "R5", ["fitness"], GB, 0.12, 60_000),
        EvalCreator(
            "one of three and more",
            3,
            "R4",
            ["fitness", "food", "beauty", "gaming"],
            GB,
            0.12,
            60_000,
        ),
        EvalCreator("right audience, other niche", 2, "R1", ["music"], GB, 0.12, 60_000),
        EvalCreator(
            "niches, audience elsewhere", 1, "R6", ["fitness", "health", "sports"], US, 0.07, 60_000
        ),
        EvalCreator("keyword stuffer", 0, "R1", STUFFED_FITNESS, US, 0.03, 60_000),
    ],
)

EVAL_SET = (SERUM, FITNESS)


def dcg(gains: Sequence[int], k: int) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:k]))


def ndcg_at(ranked_names: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    """NDCG@k of a ranking against graded relevance (1 when it orders every grade right)."""
    ideal = dcg(sorted(grades.values(), reverse=True), k)
    return dcg([grades[name] for name in ranked_names], k) / ideal if ideal else 1.0
