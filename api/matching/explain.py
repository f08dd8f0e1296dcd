"""Why a creator and a brief match: short sentences from the score's parts.

Each part says its own sentence (`model.Part.explain`, written with the part). Both
directions are told: every part below neutral (0.5) gets a sentence saying what lowered
the score, whatever its weight; the parts that raised it most fill the list up to
`MAX_REASONS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.matching import model
from api.settings import Settings

MAX_REASONS = 5

# Reasons that move the score equally are told in this order (`Part.told`).
_TOLD = sorted(model.SCORE_PARTS, key=lambda part: part.told)


def reasons(
    b: Mapping[str, Any], a: Mapping[str, Any], parts: Mapping[str, float], settings: Settings
) -> list[str]:
    """The strongest and weakest points of a match, most telling first."""
    weights = model.normalized_weights(settings.match_weights)
    candidates = [
        (part.name, part.explain(b, a, parts[part.name], settings))
        for part in _TOLD
        if weights[part.name] > 0
    ]

    def weight(entry: tuple[str, str | None]) -> float:
        # How far the part moves the score away from neutral, either way.
        part = entry[0]
        return weights[part] * abs(parts[part] - model.NEUTRAL)

    told = [entry for entry in candidates if entry[1] is not None]
    told.sort(key=weight, reverse=True)
    lowered = {part for part, _ in told if parts[part] < model.NEUTRAL}
    room = max(MAX_REASONS - len(lowered), 0)
    raised = {part for part, _ in [e for e in told if e[0] not in lowered][:room]}
    return [sentence for part, sentence in told if sentence and (part in lowered or part in raised)]
