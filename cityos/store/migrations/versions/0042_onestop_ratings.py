"""好差评 (GB/T 39734): onestop_ratings, one row per rating of a handled application or a closed case by one
rater; onestop_rating_follow_ups, the follow-up (差评整改) a rating of 2 or less opens, as it is now;
onestop_rating_follow_up_history, every move made on one.

Revision ID: 0042
Revises: 0041
"""

import sqlalchemy as sa
from alembic import op

from cityos.store.engine import JSONDoc

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onestop_ratings",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("rater", sa.String(128), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("reasons", JSONDoc, nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("item_name", sa.String(256), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("rated_at_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ux_onestop_ratings_once", "onestop_ratings", ["tenant", "subject_kind", "subject_id", "rater"],
                    unique=True)  # fmt: skip
    op.create_index("ix_onestop_ratings_time", "onestop_ratings", ["tenant", "rated_at_ms"])
    op.create_index("ix_onestop_ratings_rater", "onestop_ratings", ["tenant", "rater", "rated_at_ms"])
    op.create_table(
        "onestop_rating_follow_ups",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("rating_id", sa.String(32), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("opened_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("remind_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("due_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("first_due_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("reminded", sa.Integer(), nullable=False),
        sa.Column("escalated", sa.Integer(), nullable=False),
        sa.Column("answered_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ux_onestop_rating_follow_ups_rating", "onestop_rating_follow_ups", ["tenant", "rating_id"],
                    unique=True)  # fmt: skip
    op.create_index("ix_onestop_rating_follow_ups_queue", "onestop_rating_follow_ups", ["tenant", "holder", "state"])
    op.create_index("ix_onestop_rating_follow_ups_due", "onestop_rating_follow_ups", ["tenant", "state", "due_at_ms"])
    op.create_table(
        "onestop_rating_follow_up_history",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("follow_up_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("onestop_rating_follow_up_history")
    op.drop_table("onestop_rating_follow_ups")
    op.drop_table("onestop_ratings")
