"""The rules a brief must meet: everything, to be published; little, to change once open."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, time
from typing import Any

from api.errors import Conflict, FieldError, Unprocessable
from api.models.briefs import Brief, BriefDeliverable, CollaborationType, CompensationType

# What an open brief may still change: nothing that could harm those who applied.
OPEN_EDITABLE = frozenset({"description", "application_deadline", "slots"})

# Pairs that must be in order (low <= high) whenever both are set, in a draft too: a brief
# is never stored with a range upside down. (The audience's age range is one document,
# `target_audience`, checked by its schema.)
# Each: low, high, the field the error names, and what it says.
RANGES = (
    ("fee_min_minor", "fee_max_minor", "fee_min_minor", "must not exceed fee_max_minor"),
    ("min_followers", "max_followers", "min_followers", "must not exceed max_followers"),
    (
        "publish_start_date",
        "publish_end_date",
        "publish_end_date",
        "must not be before publish_start_date",
    ),
)
RANGE_FIELDS = tuple(name for low, high, _, _ in RANGES for name in (low, high))


def range_errors(
    values: Mapping[str, Any], loc: str, changed: Collection[str] | None = None
) -> list[FieldError]:
    """Each range of `values` upside down; with `changed`, only the ranges the change
    touches (a draft stored earlier may be fixed one field at a time)."""
    errors = []
    for low, high, named, msg in RANGES:
        if changed is not None and low not in changed and high not in changed:
            continue
        a, b = values.get(low), values.get(high)
        if a is not None and b is not None and a > b:
            errors.append(FieldError(loc=[loc, named], msg=msg, type="range"))
    return errors


def check_draft_ranges(values: Mapping[str, Any], changed: Collection[str] | None = None) -> None:
    """422 `brief_invalid` for a draft written with a range upside down."""
    errors = range_errors(values, "body", changed)
    if errors:
        raise Unprocessable("the brief is invalid", code="brief_invalid", errors=errors)


def check_open_changes(brief: Brief, changes: dict[str, Any]) -> None:
    """Refuse (409 `brief_locked`) any change to an open brief that could harm applicants,
    and (422) a change that breaks a publishing rule."""
    locked = sorted(changes.keys() - OPEN_EDITABLE)
    deadline = changes.get("application_deadline", brief.application_deadline)
    slots = changes.get("slots", brief.slots)
    if "application_deadline" in changes and (
        deadline is None
        or (brief.application_deadline is not None and deadline < brief.application_deadline)
    ):
        locked.append("application_deadline")
    if "slots" in changes and (slots is None or (brief.slots is not None and slots < brief.slots)):
        locked.append("slots")
    if locked:
        raise Conflict(
            "an open brief may only change its description, move its deadline later or add "
            f"slots; locked: {', '.join(locked)}",
            code="brief_locked",
            errors=[
                FieldError(loc=["body", name], msg="locked while the brief is open", type="locked")
                for name in locked
            ],
        )
    errors = []
    if "description" in changes and not (changes["description"] or "").strip():
        errors.append(
            FieldError(loc=["body", "description"], msg="an open brief needs one", type="missing")
        )
    start = brief.publish_start_date
    if (
        "application_deadline" in changes
        and start is not None
        and deadline is not None
        and deadline >= datetime.combine(start, time.min, UTC)
    ):
        errors.append(
            FieldError(
                loc=["body", "application_deadline"],
                msg="must be before the publish date",
                type="not_before_publish",
            )
        )
    if errors:
        raise Unprocessable("the change is invalid", code="brief_invalid", errors=errors)


class _Problems:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, loc: str | Sequence[str | int], msg: str, type_: str) -> None:
        path = [loc] if isinstance(loc, str) else list(loc)
        self.errors.append(FieldError(loc=["brief", *path], msg=msg, type=type_))

    def missing(self, field: str, why: str = "required to publish") -> None:
        self.add(field, why, "missing")

    def not_allowed(self, field: str, why: str) -> None:
        self.add(field, why, "not_allowed")


def _has_money(brief: Brief) -> bool:
    values = [
        brief.fee_min_minor,
        brief.fee_max_minor,
        (brief.product or {}).get("retail_value_minor"),
        (brief.gifted_product or {}).get("retail_value_minor"),
        brief.usage_rights.get("licensing_fee_minor"),
    ]
    return any(v is not None for v in values)


def _compensation_rules(brief: Brief, p: _Problems) -> None:
    comp = CompensationType(brief.compensation_type)
    fee_min, fee_max = brief.fee_min_minor, brief.fee_max_minor
    has_fee = fee_min is not None or fee_max is not None
    if comp == CompensationType.paid or (comp == CompensationType.hybrid and has_fee):
        if fee_min is None:
            p.missing("fee_min_minor", f"a {comp} brief needs a fee range")
        if fee_max is None:
            p.missing("fee_max_minor", f"a {comp} brief needs a fee range")
        elif fee_max == 0:
            p.add("fee_max_minor", "must be more than 0", "range")
    elif comp == CompensationType.hybrid and brief.gifted_product is None:
        why = "a hybrid brief needs a fee range or a gifted product"
        for field in ("fee_min_minor", "fee_max_minor", "gifted_product"):
            p.missing(field, why)
    elif comp in (CompensationType.gifted, CompensationType.affiliate):
        for field, value in (("fee_min_minor", fee_min), ("fee_max_minor", fee_max)):
            if value is not None:
                p.not_allowed(field, "only paid and hybrid briefs have a fee")

    wants_commission = comp in (CompensationType.affiliate, CompensationType.hybrid)
    if wants_commission and brief.commission_rate_percent is None:
        p.missing("commission_rate_percent", f"a {comp} brief needs a commission rate")
    if not wants_commission and brief.commission_rate_percent is not None:
        p.not_allowed("commission_rate_percent", "only affiliate and hybrid briefs have one")

    if comp == CompensationType.gifted and brief.gifted_product is None:
        p.missing("gifted_product", "a gifted brief needs the product the creator receives")
    if comp == CompensationType.affiliate and brief.gifted_product is not None:
        p.not_allowed("gifted_product", "an affiliate brief pays commission only")
    if not brief.posting_required and comp != CompensationType.gifted:
        p.not_allowed("posting_required", "only gifted briefs may make posting optional")
    if _has_money(brief) and brief.currency is None:
        p.missing("currency", "amounts need a currency")

    collab = CollaborationType(brief.collaboration_type)
    if collab == CollaborationType.product_seeding:
        if comp not in (CompensationType.gifted, CompensationType.hybrid):
            p.not_allowed("compensation_type", "product seeding is gifted or hybrid")
        elif brief.gifted_product is None and comp == CompensationType.hybrid:
            p.missing("gifted_product", "product seeding sends a product")
    if collab == CollaborationType.affiliate and comp not in (
        CompensationType.affiliate,
        CompensationType.hybrid,
    ):
        p.not_allowed("compensation_type", "an affiliate collaboration pays commission")


def _schedule_rules(brief: Brief, now: datetime, p: _Problems) -> None:
    start, end, deadline = (
        brief.publish_start_date,
        brief.publish_end_date,
        brief.application_deadline,
    )
    if start is None:
        p.missing("publish_start_date")
    elif start <= now.date():
        p.add("publish_start_date", "must be in the future", "not_in_future")
    if end is not None and start is not None and (end - start).days > 365:
        p.add("publish_end_date", "a publish window lasts at most 365 days", "range")
    if deadline is None:
        p.missing("application_deadline")
    else:
        if deadline <= now:
            p.add("application_deadline", "must be in the future", "not_in_future")
        if start is not None and deadline >= datetime.combine(start, time.min, UTC):
            p.add("application_deadline", "must be before the publish date", "not_before_publish")
    if brief.slots is None:
        p.missing("slots")


def publish_errors(
    brief: Brief, deliverables: Sequence[BriefDeliverable], now: datetime
) -> list[FieldError]:
    """Every reason the brief cannot be published yet, each naming its field."""
    p = _Problems()
    if not (brief.description or "").strip():
        p.missing("description")
    _schedule_rules(brief, now, p)
    _compensation_rules(brief, p)
    p.errors += range_errors({name: getattr(brief, name) for name in RANGE_FIELDS}, "brief")
    if not brief.platforms:
        p.missing("platforms", "name at least one platform")
    if not deliverables:
        p.missing("deliverables", "ask for at least one deliverable")
    for i, d in enumerate(deliverables):
        if d.platform not in brief.platforms:
            p.add(("deliverables", i, "platform"), "not one of the brief's platforms", "not_listed")
        for j, alternative in enumerate(d.alternatives):
            if alternative["platform"] not in brief.platforms:
                p.add(
                    ("deliverables", i, "alternatives", j, "platform"),
                    "not one of the brief's platforms",
                    "not_listed",
                )
    disclosure = brief.disclosure
    if brief.collaboration_type != CollaborationType.ugc and not (
        disclosure.get("hashtags") or disclosure.get("paid_partnership_label")
    ):
        p.missing("disclosure", "posts must be disclosed: a hashtag or the partnership label")
    return p.errors
