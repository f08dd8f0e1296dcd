"""Either-or deliverables ("1 post on Instagram or TikTok"): which option a deal owes.

The creator may choose when applying, the brand when accepting (the brand's choice rules);
a deliverable nobody chose gets its first option on a platform of the accounts the creator
offered (else its first option). Any of a deliverable's options makes the creator eligible
for it: the brief's platforms, checked at apply, include every option's platform.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from api.errors import FieldError, Unprocessable
from api.models.applications import DeliverableChoice
from api.models.briefs import BriefDeliverable

Option = tuple[str, str]


def check_choices(
    rows: Sequence[BriefDeliverable],
    choices: Sequence[DeliverableChoice],
    offered_platforms: Collection[str],
    *,
    field: str = "deliverable_choices",
) -> dict[int, Option]:
    """The choices as {deliverable position: option}; 422 naming each choice that is not
    one of its deliverable's options, chosen twice, or on a platform not offered."""
    errors: list[FieldError] = []
    chosen: dict[int, Option] = {}
    for i, choice in enumerate(choices):
        where = ["body", field, i]
        option = (str(choice.platform), str(choice.format))
        if choice.deliverable >= len(rows):
            errors.append(
                FieldError(loc=[*where, "deliverable"], msg="no such deliverable", type="range")
            )
        elif choice.deliverable in chosen:
            errors.append(
                FieldError(loc=[*where, "deliverable"], msg="chosen twice", type="duplicate")
            )
        elif option not in rows[choice.deliverable].options():
            errors.append(
                FieldError(
                    loc=where,
                    msg="not one of the deliverable's options: "
                    + ", ".join(f"{p} {f}" for p, f in rows[choice.deliverable].options()),
                    type="not_an_option",
                )
            )
        elif choice.platform not in offered_platforms:
            errors.append(
                FieldError(
                    loc=[*where, "platform"],
                    msg="no account on this platform is offered",
                    type="ineligible",
                )
            )
        else:
            chosen[choice.deliverable] = option
    if errors:
        raise Unprocessable("the deliverable choices are invalid", errors=errors)
    return chosen


def pin(
    rows: Sequence[BriefDeliverable], chosen: dict[int, Option], offered_platforms: Collection[str]
) -> dict[int, Option]:
    """The option each deliverable is pinned to."""
    pinned: dict[int, Option] = {}
    for i, row in enumerate(rows):
        options = row.options()
        fallback = next((o for o in options if o[0] in offered_platforms), options[0])
        pinned[i] = chosen.get(i, fallback)
    return pinned
