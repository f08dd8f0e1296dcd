"""Terms versions: either party proposes, only the other accepts; accepted ones never change.

A deal is `pending_terms` until both sides accepted its first version, then `active`. A
new proposal on an active deal (an amendment) does not stop the work: the deal stays
`active` under its last accepted version (deliverables, due dates, usage rights, fee) and
shows the proposal as its pending amendment; acceptance switches the deal to it, and its
proposer may withdraw it instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Conflict, FieldError, Forbidden, InvalidState, NotFound, Unprocessable
from api.models.base import utcnow
from api.models.briefs import CompensationType
from api.models.deals import (
    OPEN_DEAL_STATES,
    Deal,
    DealStatus,
    DealTerms,
    DealTermsRead,
    TermsDeliverable,
    TermsProposal,
)
from api.pagination import PageParams, keyset, make_page, parse_int
from api.services import deals, deliverables, events
from api.services.deal_timeline import Loc, date_errors
from api.services.deals import DealAccess

# Proposals ping-ponging forever would grow a deal without bound.
MAX_VERSIONS = 100
PROPOSAL_FIELDS = tuple(TermsProposal.model_fields)


async def history(
    session: AsyncSession, access: DealAccess, page: PageParams
) -> tuple[list[DealTermsRead], str | None]:
    """Every version of the deal's terms, newest first."""
    deal = access.deal
    stmt = select(DealTerms).where(col(DealTerms.deal_id) == deal.id)
    stmt = keyset(stmt, page, [col(DealTerms.version)], [parse_int], [True])
    rows = (await session.scalars(stmt)).all()
    items, cursor = make_page(rows, page, lambda t: (t.version,))
    return [deals.terms_read(t, deal.current_version) for t in items], cursor


async def get_version(session: AsyncSession, access: DealAccess, version: int) -> DealTerms:
    terms = await deals.terms_version(session, access.deal, version)
    if terms is None:
        raise NotFound("no such terms version")
    return terms


def _as_values(terms: DealTerms) -> dict[str, Any]:
    values = {name: getattr(terms, name) for name in PROPOSAL_FIELDS}
    rate = values["commission_rate_percent"]
    values["commission_rate_percent"] = float(rate) if isinstance(rate, Decimal) else rate
    return values


def _merge(current: Mapping[str, Any], data: TermsProposal) -> dict[str, Any]:
    merged = dict(current)
    dumped = data.model_dump(mode="json", include=data.model_fields_set)
    for name in data.model_fields_set:
        value = getattr(data, name)
        merged[name] = value if isinstance(value, date) or value is None else dumped[name]
    return merged


def _error(field: str | list[str | int], msg: str, type_: str) -> FieldError:
    path = [field] if isinstance(field, str) else field
    return FieldError(loc=["body", *path], msg=msg, type=type_)


def _compensation_errors(comp: CompensationType, terms: Mapping[str, Any]) -> list[FieldError]:
    fee, product = terms["fee_minor"], terms["gifted_product"]
    commission = terms["commission_rate_percent"]
    errors = []
    if comp == CompensationType.paid and not fee:
        errors.append(_error("fee_minor", "a paid deal needs a fee above 0", "missing"))
    if comp in (CompensationType.gifted, CompensationType.affiliate) and fee is not None:
        errors.append(_error("fee_minor", f"a {comp} deal pays no fee", "not_allowed"))
    if comp == CompensationType.hybrid and not fee and product is None:
        why = "a hybrid deal needs a fee or a gifted product"
        errors += [_error(f, why, "missing") for f in ("fee_minor", "gifted_product")]
    wants_commission = comp in (CompensationType.affiliate, CompensationType.hybrid)
    if wants_commission and commission is None:
        errors.append(_error("commission_rate_percent", f"a {comp} deal needs one", "missing"))
    if not wants_commission and commission is not None:
        errors.append(
            _error("commission_rate_percent", f"a {comp} deal has no commission", "not_allowed")
        )
    if comp == CompensationType.gifted and product is None:
        errors.append(_error("gifted_product", "a gifted deal sends a product", "missing"))
    if comp == CompensationType.affiliate and product is not None:
        errors.append(_error("gifted_product", "an affiliate deal sends none", "not_allowed"))
    return errors


def _schedule_errors(
    terms: Mapping[str, Any], published: Mapping[tuple[str, str], int]
) -> list[FieldError]:
    errors = []
    start, end = terms["publish_start_date"], terms["publish_end_date"]
    if start is not None and end is not None and end < start:
        errors.append(_error("publish_end_date", "must not be before publish_start_date", "range"))
    quantities: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(terms["deliverables"]):
        item = TermsDeliverable.model_validate(raw)
        quantities[(item.platform, item.format)] = item.quantity
        if item.due_days_after_delivery is not None and terms["gifted_product"] is None:
            errors.append(
                _error(
                    ["deliverables", i, "due_days_after_delivery"],
                    "only deals that send a product count days from its delivery",
                    "not_allowed",
                )
            )
        if item.due_date is None and item.due_days_after_delivery is None:
            errors.append(
                _error(
                    ["deliverables", i, "due_date"],
                    "give a due date (or, with a product, days after delivery)",
                    "missing",
                )
            )
    for (platform, format_), count in published.items():
        if quantities.get((platform, format_), 0) < count:
            errors.append(
                _error(
                    "deliverables",
                    f"{count} {platform} {format_}(s) are already published: keep at least that",
                    "below_published",
                )
            )
    return errors


def _as_date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _new_dates(
    current: Mapping[str, Any], merged: Mapping[str, Any], sent: set[str]
) -> list[tuple[Loc, date | None]]:
    """The dates a proposal sets that the current version does not already hold: a date
    carried over (a publish date that passed before the deal was made) is not news."""
    dates: list[tuple[Loc, date | None]] = [
        ([name], merged[name])
        for name in ("publish_start_date", "publish_end_date")
        if name in sent and merged[name] != current[name]
    ]
    if "deliverables" in sent:
        agreed = {
            (d["platform"], d["format"], _as_date(d.get("due_date")))
            for d in current["deliverables"]
        }
        for i, d in enumerate(merged["deliverables"]):
            due = _as_date(d.get("due_date"))
            if (d["platform"], d["format"], due) not in agreed:
                dates.append((["deliverables", i, "due_date"], due))
    if "usage_rights" in sent:
        before = current["usage_rights"] or {}
        for name in ("ad_start_date", "ad_end_date"):
            value = _as_date(merged["usage_rights"].get(name))
            if value != _as_date(before.get(name)):
                dates.append((["usage_rights", name], value))
    return dates


async def propose(session: AsyncSession, access: DealAccess, data: TermsProposal) -> DealTerms:
    """A new version from one party, built on the current one; the other party must accept."""
    deal, party = access.deal, access.party
    assert party is not None  # the route admits the two parties only
    if deal.status not in OPEN_DEAL_STATES:
        raise InvalidState(f"a {deal.status} deal takes no new terms")
    # Versions are numbered past withdrawn ones, which the history keeps.
    newest = await session.scalar(
        select(func.max(DealTerms.version)).where(col(DealTerms.deal_id) == deal.id)
    )
    if (newest or 0) >= MAX_VERSIONS:
        raise Conflict(
            f"a deal has at most {MAX_VERSIONS} terms versions", code="too_many_versions"
        )
    current = _as_values(await deals.current_terms(session, deal))
    merged = _merge(current, data)
    if merged == current:
        raise Unprocessable("the proposal changes nothing", code="no_changes")
    published = await deliverables.published_counts(session, deal.id)
    comp = CompensationType(access.brief.compensation_type)
    errors = (
        _compensation_errors(comp, merged)
        + _schedule_errors(merged, published)
        + date_errors(deal, _new_dates(current, merged, data.model_fields_set))
    )
    if errors:
        raise Unprocessable(
            f"the proposal is invalid: {len(errors)} problem(s)",
            code="terms_invalid",
            errors=errors,
        )
    terms = DealTerms(
        deal_id=deal.id,
        version=(newest or 0) + 1,
        currency=access.brief.currency,
        proposed_by=party,
        proposed_by_user_id=access.user_id,
        **merged,
    )
    session.add(terms)
    deal.current_version = terms.version
    # An amendment leaves the deal active under the version in force.
    if deal.accepted_version is None:
        deal.status = DealStatus.pending_terms
    deal.updated_at = utcnow()
    session.add(deal)
    await session.flush()
    await events.record(
        session,
        "deal.terms_proposed",
        deals.to_read(deal, terms),
        brand_id=deal.brand_id,
        creator_id=deal.creator_id,
    )
    return terms


def _require_pending(deal: Deal, terms: DealTerms) -> None:
    """The version is the live proposal: neither accepted, withdrawn nor superseded."""
    if terms.accepted_at is not None:
        raise Conflict(f"version {terms.version} is already accepted", code="already_accepted")
    if terms.withdrawn_at is not None:
        raise Conflict(f"version {terms.version} was withdrawn", code="withdrawn")
    if terms.version != deal.current_version:
        raise Conflict(
            f"version {terms.version} was superseded by version {deal.current_version}",
            code="superseded",
        )


async def accept(session: AsyncSession, access: DealAccess, version: int) -> DealTerms:
    """The party that did not propose the current version accepts it: it becomes immutable,
    the deal active, and the deliverables follow it."""
    deal, party = access.deal, access.party
    assert party is not None
    terms = await get_version(session, access, version)
    if terms.proposed_by == party:
        raise Forbidden(
            "you proposed this version: only the other party can accept it", code="own_proposal"
        )
    if deal.status not in OPEN_DEAL_STATES:
        raise InvalidState(f"a {deal.status} deal takes no acceptance")
    _require_pending(deal, terms)
    now = utcnow()
    terms.accepted_at = now
    terms.accepted_by_user_id = access.user_id
    session.add(terms)
    deal.accepted_version = version
    deal.status = DealStatus.active
    deal.activated_at = deal.activated_at or now
    deal.updated_at = now
    session.add(deal)
    await session.flush()
    await deliverables.apply_terms(session, access, terms)
    await events.record(
        session,
        "deal.terms_accepted",
        deals.to_read(deal, terms),
        brand_id=deal.brand_id,
        creator_id=deal.creator_id,
    )
    # An amendment may drop the last unpublished deliverable.
    await deals.maybe_complete(session, access)
    return terms


async def withdraw(session: AsyncSession, access: DealAccess, version: int) -> DealTerms:
    """The proposer takes back a pending amendment: the version in force stays, and the
    next proposal starts from it. The first terms cannot be withdrawn (cancel the deal)."""
    deal, party = access.deal, access.party
    assert party is not None
    terms = await get_version(session, access, version)
    if terms.proposed_by != party:
        raise Forbidden("only the party that proposed it can withdraw it", code="not_proposer")
    if deal.status not in OPEN_DEAL_STATES:
        raise InvalidState(f"a {deal.status} deal takes no withdrawal")
    _require_pending(deal, terms)
    if deal.accepted_version is None:
        raise Conflict(
            "only an amendment can be withdrawn: no terms are in force yet (cancel the deal)",
            code="not_an_amendment",
        )
    now = utcnow()
    terms.withdrawn_at = now
    terms.withdrawn_by_user_id = access.user_id
    session.add(terms)
    # The ETag goes back to what it was before the proposal: so are the terms.
    deal.current_version = deal.accepted_version
    deal.updated_at = now
    session.add(deal)
    await session.flush()
    await events.record(
        session,
        "deal.terms_withdrawn",
        deals.terms_read(terms, deal.current_version),
        brand_id=deal.brand_id,
        creator_id=deal.creator_id,
    )
    return terms
