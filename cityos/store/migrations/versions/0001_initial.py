"""initial schema: context and auth

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "auth_principals",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column(
            "attributes", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_auth_principals")),
        sa.UniqueConstraint("name", name=op.f("uq_auth_principals_name")),
    )
    op.create_table(
        "auth_tenants",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_auth_tenants")),
    )
    op.create_table(
        "context_entities",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=512), nullable=False),
        sa.Column(
            "types", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "scope", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column(
            "attrs", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("modified_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_context_entities")),
        sa.UniqueConstraint("tenant", "id", name=op.f("uq_context_entities_tenant_id")),
    )
    op.create_table(
        "context_jsonld_contexts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "body", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("last_used_at", sa.String(length=32), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_jsonld_contexts")),
        sa.UniqueConstraint("url", name=op.f("uq_context_jsonld_contexts_url")),
    )
    op.create_table(
        "auth_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("principal_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=True),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["principal_pk"],
            ["auth_principals.pk"],
            name=op.f("fk_auth_tokens_principal_pk_auth_principals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_auth_tokens")),
    )
    with op.batch_alter_table("auth_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_auth_tokens_principal_pk", ["principal_pk"], unique=False)

    op.create_table(
        "context_entity_geo",
        sa.Column("entity_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("attr", sa.String(length=512), nullable=False),
        sa.Column("dataset_id", sa.String(length=512), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("min_x", sa.Float(), nullable=False),
        sa.Column("min_y", sa.Float(), nullable=False),
        sa.Column("max_x", sa.Float(), nullable=False),
        sa.Column("max_y", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_pk"],
            ["context_entities.pk"],
            name=op.f("fk_context_entity_geo_entity_pk_context_entities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entity_pk", "attr", "dataset_id", name=op.f("pk_context_entity_geo")),
    )
    with op.batch_alter_table("context_entity_geo", schema=None) as batch_op:
        batch_op.create_index("ix_context_entity_geo_tenant_attr_min_x", ["tenant", "attr", "min_x"], unique=False)

    op.create_table(
        "context_entity_types",
        sa.Column("entity_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", sa.String(length=512), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_pk"],
            ["context_entities.pk"],
            name=op.f("fk_context_entity_types_entity_pk_context_entities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entity_pk", "type", name=op.f("pk_context_entity_types")),
    )
    with op.batch_alter_table("context_entity_types", schema=None) as batch_op:
        batch_op.create_index("ix_context_entity_types_tenant_type", ["tenant", "type", "entity_pk"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("context_entity_types", schema=None) as batch_op:
        batch_op.drop_index("ix_context_entity_types_tenant_type")

    op.drop_table("context_entity_types")
    with op.batch_alter_table("context_entity_geo", schema=None) as batch_op:
        batch_op.drop_index("ix_context_entity_geo_tenant_attr_min_x")

    op.drop_table("context_entity_geo")
    with op.batch_alter_table("auth_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_tokens_principal_pk")

    op.drop_table("auth_tokens")
    op.drop_table("context_jsonld_contexts")
    op.drop_table("context_entities")
    op.drop_table("auth_tenants")
    op.drop_table("auth_principals")
