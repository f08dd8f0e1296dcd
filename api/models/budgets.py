"""A campaign's budget: what the brand means to spend on one brief, and where it stands.
Private to the brand (briefs are read by creators; the budget never is)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, String
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import timestamp_field
from api.models.common import CurrencyCode, MoneyMinor


class BriefBudget(SQLModel, table=True):
    __tablename__ = "brief_budgets"

    brief_id: uuid.UUID = SQLField(foreign_key="briefs.id", primary_key=True, ondelete="CASCADE")
    amount_minor: int = SQLField(sa_type=BigInteger)
    currency: str = SQLField(sa_type=String(3))
    updated_by_user_id: uuid.UUID | None = SQLField(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    updated_at: datetime = timestamp_field()


class BudgetSet(BaseModel):
    """The campaign's total budget, in the brief's currency."""

    model_config = ConfigDict(extra="forbid")
    amount_minor: MoneyMinor = Field(examples=[1_500_000])
    currency: CurrencyCode = Field(examples=["EUR"])


class BudgetRead(BaseModel):
    """Where the campaign's money stands. Spend counts what deals agree to pay: the fee and
    the usage-rights licensing fee of each deal's terms in force (before the creator's
    acceptance, of the proposed terms), over deals that are not cancelled."""

    brief_id: uuid.UUID
    amount_minor: int | None = Field(description="The budget; null when none is set.")
    currency: str | None
    committed_minor: int = Field(description="Spend agreed by deals that are not cancelled.")
    paid_minor: int = Field(description="The part of committed spend on deals marked paid.")
    remaining_minor: int | None = Field(
        description="amount - committed; negative once over budget; null without a budget."
    )
    over_budget: bool
    updated_at: datetime | None
