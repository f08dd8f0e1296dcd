"""Briefs and their deliverables, with the indexes search needs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:20:59.228522

Search reads open briefs only, so its indexes are partial (`WHERE status = 'open'`): GIN on
the list filters and on the full-text vector (a stored generated column over title, weight A,
and description, weight B), b-trees on each sort key with the id as tiebreak.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")
PLATFORMS = (
    "'instagram', 'tiktok', 'youtube', 'facebook', 'x', 'twitch', 'pinterest', 'snapchat', "
    "'linkedin', 'blog'"
)
NICHES = (
    "'beauty', 'fashion', 'fitness', 'food', 'travel', 'tech', 'gaming', 'parenting', "
    "'finance', 'home', 'pets', 'health', 'sports', 'music', 'art', 'education', 'lifestyle', "
    "'automotive', 'business', 'entertainment'"
)
COLLABORATION_TYPES = (
    "'sponsored_post', 'product_seeding', 'product_review', 'giveaway', 'brand_ambassador', "
    "'affiliate', 'ugc', 'event', 'takeover'"
)
FORMATS = (
    "'post', 'carousel', 'story', 'reel', 'short_video', 'long_video', 'live', 'blog_post', "
    "'ugc_video', 'ugc_photo'"
)
SEARCH_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')"
)


def upgrade() -> None:
    op.create_table(
        "briefs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("product", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("collaboration_type", sa.String(length=24), nullable=False),
        sa.Column("compensation_type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("fee_min_minor", sa.BigInteger(), nullable=True),
        sa.Column("fee_max_minor", sa.BigInteger(), nullable=True),
        sa.Column(
            "commission_rate_percent",
            sa.Numeric(precision=5, scale=2, asdecimal=False),
            nullable=True,
        ),
        sa.Column("gifted_product", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("posting_required", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "platforms", postgresql.ARRAY(sa.String(length=16)), server_default="{}", nullable=False
        ),
        sa.Column(
            "tiers", postgresql.ARRAY(sa.String(length=8)), server_default="{}", nullable=False
        ),
        sa.Column("min_followers", sa.BigInteger(), nullable=True),
        sa.Column("max_followers", sa.BigInteger(), nullable=True),
        sa.Column(
            "niches", postgresql.ARRAY(sa.String(length=20)), server_default="{}", nullable=False
        ),
        sa.Column(
            "min_engagement_rate", sa.Numeric(precision=6, scale=5, asdecimal=False), nullable=True
        ),
        sa.Column(
            "creator_countries",
            postgresql.ARRAY(sa.String(length=2)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "target_audience",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("publish_start_date", sa.Date(), nullable=True),
        sa.Column("publish_end_date", sa.Date(), nullable=True),
        sa.Column("application_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slots", sa.Integer(), nullable=True),
        sa.Column(
            "screening_questions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("disclosure", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("usage_rights", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("max_revision_rounds", sa.SmallInteger(), server_default="2", nullable=False),
        sa.Column("review_window_days", sa.SmallInteger(), server_default="3", nullable=False),
        sa.Column("closed_reason", sa.String(length=16), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(SEARCH_VECTOR, persisted=True),
            nullable=False,
        ),
        sa.Column(
            "fee_sort_minor",
            sa.BigInteger(),
            sa.Computed("coalesce(fee_max_minor, 0)", persisted=True),
            nullable=False,
        ),
        sa.CheckConstraint(
            "closed_reason IS NULL OR closed_reason IN ('deadline', 'slots_filled', 'brand')",
            name=op.f("ck_briefs_closed_reason_valid"),
        ),
        sa.CheckConstraint(
            f"collaboration_type IN ({COLLABORATION_TYPES})",
            name=op.f("ck_briefs_collaboration_type_valid"),
        ),
        sa.CheckConstraint(
            "compensation_type IN ('gifted', 'paid', 'affiliate', 'hybrid')",
            name=op.f("ck_briefs_compensation_type_valid"),
        ),
        sa.CheckConstraint(
            f"niches <@ ARRAY[{NICHES}]::varchar[]",
            name=op.f("ck_briefs_niches_valid"),
        ),
        sa.CheckConstraint(
            f"platforms <@ ARRAY[{PLATFORMS}]::varchar[]",
            name=op.f("ck_briefs_platforms_valid"),
        ),
        sa.CheckConstraint(
            "status = 'draft' OR (fee_min_minor <= fee_max_minor) IS NOT FALSE",
            name=op.f("ck_briefs_fee_range"),
        ),
        sa.CheckConstraint(
            "status = 'draft' OR (min_followers <= max_followers) IS NOT FALSE",
            name=op.f("ck_briefs_follower_bounds"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'cancelled') OR (publish_start_date IS NOT NULL"
            " AND application_deadline IS NOT NULL AND slots IS NOT NULL)",
            name=op.f("ck_briefs_published_complete"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'open', 'closed', 'completed', 'cancelled')",
            name=op.f("ck_briefs_status_valid"),
        ),
        sa.CheckConstraint(
            "tiers <@ ARRAY['nano', 'micro', 'macro', 'mega']::varchar[]",
            name=op.f("ck_briefs_tiers_valid"),
        ),
        sa.CheckConstraint("slots BETWEEN 1 AND 1000", name=op.f("ck_briefs_slots_range")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_briefs_version_positive")),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_briefs_brand_id_brands"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefs")),
    )
    op.create_index(
        "ix_briefs_brand_id_created_at", "briefs", ["brand_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_briefs_open_application_deadline",
        "briefs",
        ["application_deadline", "id"],
        unique=False,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_briefs_open_creator_countries",
        "briefs",
        ["creator_countries"],
        unique=False,
        postgresql_using="gin",
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_briefs_open_fee_sort",
        "briefs",
        ["fee_sort_minor", "id"],
        unique=False,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_briefs_open_niches",
        "briefs",
        ["niches"],
        unique=False,
        postgresql_using="gin",
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_briefs_open_platforms",
        "briefs",
        ["platforms"],
        unique=False,
        postgresql_using="gin",
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_briefs_open_publish_start_date",
        "briefs",
        ["publish_start_date", "id"],
        unique=False,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_briefs_open_published_at",
        "briefs",
        ["published_at", "id"],
        unique=False,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_briefs_open_search",
        "briefs",
        ["search"],
        unique=False,
        postgresql_using="gin",
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_briefs_open_tiers",
        "briefs",
        ["tiers"],
        unique=False,
        postgresql_using="gin",
        postgresql_where=OPEN,
    )
    op.create_table(
        "brief_deliverables",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("brief_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            f"format IN ({FORMATS})",
            name=op.f("ck_brief_deliverables_format_valid"),
        ),
        sa.CheckConstraint(
            f"platform IN ({PLATFORMS})",
            name=op.f("ck_brief_deliverables_platform_valid"),
        ),
        sa.CheckConstraint(
            "quantity BETWEEN 1 AND 50", name=op.f("ck_brief_deliverables_quantity_range")
        ),
        sa.ForeignKeyConstraint(
            ["brief_id"],
            ["briefs.id"],
            name=op.f("fk_brief_deliverables_brief_id_briefs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brief_deliverables")),
        sa.UniqueConstraint(
            "brief_id", "position", name=op.f("uq_brief_deliverables_brief_id_position")
        ),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes and constraints with it.
    op.drop_table("brief_deliverables")
    op.drop_table("briefs")
