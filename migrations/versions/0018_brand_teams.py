"""Brand teams: memberships with roles (every existing brand user becomes its brand's owner),
brand invitations, API tokens limited to one brand; users no longer carry a brand.
Conversations on applications and deals: messages and read marks. The activity trail.

Revision ID: 0018
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = "'owner', 'manager', 'viewer'"


def upgrade() -> None:
    op.create_table(
        "brand_memberships",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(f"role IN ({ROLES})", name=op.f("ck_brand_memberships_role_valid")),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_brand_memberships_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_brand_memberships_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_memberships")),
        sa.UniqueConstraint(
            "brand_id", "user_id", name=op.f("uq_brand_memberships_brand_id_user_id")
        ),
    )
    op.create_index("ix_brand_memberships_user_id", "brand_memberships", ["user_id"])
    op.create_table(
        "brand_invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"role IN ({ROLES})", name=op.f("ck_brand_invitations_role_valid")),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_brand_invitations_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_user_id"],
            ["users.id"],
            name=op.f("fk_brand_invitations_invited_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_user_id"],
            ["users.id"],
            name=op.f("fk_brand_invitations_accepted_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_brand_invitations_token_hash")),
    )
    op.create_index("ix_brand_invitations_brand_id", "brand_invitations", ["brand_id"])

    op.add_column("api_tokens", sa.Column("brand_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_api_tokens_brand_id_brands"),
        "api_tokens",
        "brands",
        ["brand_id"],
        ["id"],
        ondelete="CASCADE",
    )

    # One login was one brand: that user becomes the brand's owner.
    op.execute(
        "INSERT INTO brand_memberships (id, brand_id, user_id, role, created_at, updated_at) "
        "SELECT gen_random_uuid(), brand_id, id, 'owner', created_at, created_at "
        "FROM users WHERE brand_id IS NOT NULL"
    )
    op.drop_constraint(op.f("ck_users_brand_membership"), "users", type_="check")
    op.drop_index("ix_users_brand_id", table_name="users")
    op.drop_constraint(op.f("fk_users_brand_id_brands"), "users", type_="foreignkey")
    op.drop_column("users", "brand_id")

    # Conversations on applications and deals.
    op.create_table(
        "conversations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("deal_id", sa.Uuid(), nullable=True),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("creator_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_message_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(application_id IS NULL) <> (deal_id IS NULL)",
            name=op.f("ck_conversations_one_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_conversations_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_conversations_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_conversations_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_conversations_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("application_id", name=op.f("uq_conversations_application_id")),
        sa.UniqueConstraint("deal_id", name=op.f("uq_conversations_deal_id")),
    )
    op.create_index(
        "ix_conversations_brand_id_last_message_at",
        "conversations",
        ["brand_id", "last_message_at"],
        unique=False,
    )
    op.create_index(
        "ix_conversations_creator_id_last_message_at",
        "conversations",
        ["creator_id", "last_message_at"],
        unique=False,
    )
    op.create_table(
        "conversation_reads",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_read_message_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_reads_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_conversation_reads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "user_id", name=op.f("pk_conversation_reads")),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=True),
        sa.Column("author_party", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("attachments", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "author_party IN ('brand', 'creator')", name=op.f("ck_messages_author_party_valid")
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_messages_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_messages_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(
        "ix_messages_conversation_id_created_at",
        "messages",
        ["conversation_id", "created_at", "id"],
        unique=False,
    )

    # The activity trail.
    op.create_table(
        "activity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=True),
        sa.Column("brief_id", sa.Uuid(), nullable=True),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("deal_id", sa.Uuid(), nullable=True),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_activity_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_activity_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["brief_id"],
            ["briefs.id"],
            name=op.f("fk_activity_brief_id_briefs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_activity_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
    )
    op.create_index(
        "ix_activity_brief_id_occurred_at",
        "activity",
        ["brief_id", "occurred_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_activity_deal_id_occurred_at",
        "activity",
        ["deal_id", "occurred_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_activity_deal_id_occurred_at", table_name="activity")
    op.drop_index("ix_activity_brief_id_occurred_at", table_name="activity")
    op.drop_table("activity")
    op.drop_index("ix_messages_conversation_id_created_at", table_name="messages")
    op.drop_table("messages")
    op.drop_table("conversation_reads")
    op.drop_index("ix_conversations_creator_id_last_message_at", table_name="conversations")
    op.drop_index("ix_conversations_brand_id_last_message_at", table_name="conversations")
    op.drop_table("conversations")
    op.add_column("users", sa.Column("brand_id", sa.Uuid(), nullable=True))
    # Back to one brand per login: the brand a user joined first (brand users with none
    # left cannot be represented and are turned away by the restored constraint).
    op.execute(
        "UPDATE users u SET brand_id = m.brand_id FROM ("
        "  SELECT DISTINCT ON (user_id) user_id, brand_id FROM brand_memberships"
        "  ORDER BY user_id, created_at"
        ") m WHERE m.user_id = u.id"
    )
    op.create_foreign_key(
        op.f("fk_users_brand_id_brands"),
        "users",
        "brands",
        ["brand_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index("ix_users_brand_id", "users", ["brand_id"])
    op.create_check_constraint(
        op.f("ck_users_brand_membership"), "users", "(role = 'brand') = (brand_id IS NOT NULL)"
    )
    op.drop_constraint(op.f("fk_api_tokens_brand_id_brands"), "api_tokens", type_="foreignkey")
    op.drop_column("api_tokens", "brand_id")
    op.drop_index("ix_brand_invitations_brand_id", table_name="brand_invitations")
    op.drop_table("brand_invitations")
    op.drop_index("ix_brand_memberships_user_id", table_name="brand_memberships")
    op.drop_table("brand_memberships")
