"""Deal work: terms acceptance, deliverables with draft reviews and metrics, shipments,
usage-rights expiry notices; accepted terms become immutable.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values as of this revision (later enum changes need migrations of their own).
PLATFORMS = (
    "'instagram', 'tiktok', 'youtube', 'facebook', 'x', 'twitch', 'pinterest', 'snapchat', "
    "'linkedin', 'blog'"
)
FORMATS = (
    "'post', 'carousel', 'story', 'reel', 'short_video', 'long_video', 'live', 'blog_post', "
    "'ugc_video', 'ugc_photo'"
)
DELIVERABLE_STATES = (
    "'pending', 'in_review', 'changes_requested', 'approved', 'published', 'dropped'"
)

# An accepted terms version never changes. Only the user references may still move (to NULL,
# when a user is deleted: ON DELETE SET NULL updates the row).
IMMUTABLE_TERMS_FUNCTION = """
CREATE FUNCTION deal_terms_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.accepted_at IS NOT NULL AND (
        NEW.deal_id, NEW.version, NEW.currency, NEW.fee_minor, NEW.commission_rate_percent,
        NEW.gifted_product, NEW.deliverables, NEW.publish_start_date, NEW.publish_end_date,
        NEW.usage_rights, NEW.disclosure, NEW.proposed_by, NEW.proposed_at, NEW.accepted_at
    ) IS DISTINCT FROM (
        OLD.deal_id, OLD.version, OLD.currency, OLD.fee_minor, OLD.commission_rate_percent,
        OLD.gifted_product, OLD.deliverables, OLD.publish_start_date, OLD.publish_end_date,
        OLD.usage_rights, OLD.disclosure, OLD.proposed_by, OLD.proposed_at, OLD.accepted_at
    ) THEN
        RAISE EXCEPTION 'deal terms version % is accepted and cannot change', OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$
"""
IMMUTABLE_TERMS_TRIGGER = """
CREATE TRIGGER deal_terms_immutable BEFORE UPDATE ON deal_terms
FOR EACH ROW EXECUTE FUNCTION deal_terms_immutable()
"""


def upgrade() -> None:
    op.create_table(
        "deal_deliverables",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("optional", sa.Boolean(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("due_days_after_delivery", sa.SmallInteger(), nullable=True),
        sa.Column("draft_due_date", sa.Date(), nullable=True),
        sa.Column("disclosure", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("change_requests", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_url", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_caption", sa.Text(), nullable=True),
        sa.Column("paid_partnership_label", sa.Boolean(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
        sa.Column("disclosure_check", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            f"format IN ({FORMATS})",
            name=op.f("ck_deal_deliverables_format_valid"),
        ),
        sa.CheckConstraint(
            f"platform IN ({PLATFORMS})",
            name=op.f("ck_deal_deliverables_platform_valid"),
        ),
        sa.CheckConstraint(
            "status <> 'published' OR (published_at IS NOT NULL AND published_url IS NOT NULL)",
            name=op.f("ck_deal_deliverables_published_complete"),
        ),
        sa.CheckConstraint(
            f"status IN ({DELIVERABLE_STATES})",
            name=op.f("ck_deal_deliverables_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_deal_deliverables_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_deliverables")),
        sa.UniqueConstraint(
            "deal_id",
            "platform",
            "format",
            "unit",
            name=op.f("uq_deal_deliverables_deal_id_platform_format_unit"),
        ),
        sa.UniqueConstraint(
            "deal_id", "position", name=op.f("uq_deal_deliverables_deal_id_position")
        ),
    )
    op.create_table(
        "deal_shipments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("carrier", sa.String(length=60), nullable=False),
        sa.Column("tracking_number", sa.String(length=100), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "delivered_at IS NULL OR (shipped_at IS NOT NULL AND delivered_at >= shipped_at)",
            name=op.f("ck_deal_shipments_delivered_after_shipped"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_deal_shipments_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_deal_shipments_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_shipments")),
    )
    op.create_index(
        "ix_deal_shipments_deal_id_created_at",
        "deal_shipments",
        ["deal_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "deliverable_metrics",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deliverable_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by_user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("reach", sa.BigInteger(), nullable=True),
        sa.Column("impressions", sa.BigInteger(), nullable=True),
        sa.Column("likes", sa.BigInteger(), nullable=True),
        sa.Column("comments", sa.BigInteger(), nullable=True),
        sa.Column("shares", sa.BigInteger(), nullable=True),
        sa.Column("saves", sa.BigInteger(), nullable=True),
        sa.Column("clicks", sa.BigInteger(), nullable=True),
        sa.Column("conversions", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "source IN ('brand', 'creator')", name=op.f("ck_deliverable_metrics_source_valid")
        ),
        sa.ForeignKeyConstraint(
            ["deliverable_id"],
            ["deal_deliverables.id"],
            name=op.f("fk_deliverable_metrics_deliverable_id_deal_deliverables"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"],
            ["users.id"],
            name=op.f("fk_deliverable_metrics_recorded_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliverable_metrics")),
    )
    op.create_index(
        "ix_deliverable_metrics_latest",
        "deliverable_metrics",
        ["deliverable_id", "recorded_at", "id"],
        unique=False,
    )
    op.create_table(
        "deliverable_submissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deliverable_id", sa.Uuid(), nullable=False),
        sa.Column("round", sa.SmallInteger(), nullable=False),
        sa.Column("draft_url", sa.Text(), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("submitted_by_user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("auto_approved", sa.Boolean(), nullable=False),
        sa.Column(
            "comments", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('pending_review', 'approved', 'changes_requested')",
            name=op.f("ck_deliverable_submissions_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["deliverable_id"],
            ["deal_deliverables.id"],
            name=op.f("fk_deliverable_submissions_deliverable_id_deal_deliverables"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_user_id"],
            ["users.id"],
            name=op.f("fk_deliverable_submissions_reviewed_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_user_id"],
            ["users.id"],
            name=op.f("fk_deliverable_submissions_submitted_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliverable_submissions")),
        sa.UniqueConstraint(
            "deliverable_id", "round", name=op.f("uq_deliverable_submissions_deliverable_id_round")
        ),
    )
    op.create_index(
        "ix_deliverable_submissions_pending",
        "deliverable_submissions",
        ["deliverable_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending_review'"),
    )
    op.create_index(
        "ix_deliverable_submissions_pending_since",
        "deliverable_submissions",
        ["submitted_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending_review'"),
    )
    op.create_table(
        "usage_rights_notices",
        sa.Column("deal_terms_id", sa.Uuid(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["deal_terms_id"],
            ["deal_terms.id"],
            name=op.f("fk_usage_rights_notices_deal_terms_id_deal_terms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("deal_terms_id", name=op.f("pk_usage_rights_notices")),
    )
    op.add_column("deals", sa.Column("accepted_version", sa.Integer(), nullable=True))
    op.add_column("deals", sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("deals", sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("deals", sa.Column("rights_start_date", sa.Date(), nullable=True))
    op.add_column("deals", sa.Column("cancelled_by", sa.String(length=16), nullable=True))

    op.create_check_constraint(
        op.f("ck_deals_cancelled_by_valid"),
        "deals",
        "cancelled_by IS NULL OR cancelled_by IN ('brand', 'creator')",
    )
    op.create_check_constraint(
        op.f("ck_deals_accepted_version_known"),
        "deals",
        "accepted_version IS NULL OR accepted_version <= current_version",
    )
    op.execute(IMMUTABLE_TERMS_FUNCTION)
    op.execute(IMMUTABLE_TERMS_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER deal_terms_immutable ON deal_terms")
    op.execute("DROP FUNCTION deal_terms_immutable()")
    op.drop_constraint(op.f("ck_deals_accepted_version_known"), "deals", type_="check")
    op.drop_constraint(op.f("ck_deals_cancelled_by_valid"), "deals", type_="check")
    op.drop_column("deals", "cancelled_by")
    op.drop_column("deals", "rights_start_date")
    op.drop_column("deals", "paid_at")
    op.drop_column("deals", "activated_at")
    op.drop_column("deals", "accepted_version")
    op.drop_table("usage_rights_notices")
    op.drop_index(
        "ix_deliverable_submissions_pending_since",
        table_name="deliverable_submissions",
        postgresql_where=sa.text("status = 'pending_review'"),
    )
    op.drop_index(
        "ix_deliverable_submissions_pending",
        table_name="deliverable_submissions",
        postgresql_where=sa.text("status = 'pending_review'"),
    )
    op.drop_table("deliverable_submissions")
    op.drop_index("ix_deliverable_metrics_latest", table_name="deliverable_metrics")
    op.drop_table("deliverable_metrics")
    op.drop_index("ix_deal_shipments_deal_id_created_at", table_name="deal_shipments")
    op.drop_table("deal_shipments")
    op.drop_table("deal_deliverables")
