"""open311: api_keys and requests

Revision ID: 4ea3b86c2aac
Revises: c07b166a3b9a
Create Date: 2026-11-27 06:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "4ea3b86c2aac"
down_revision = "c07b166a3b9a"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "open311_api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_open311_api_keys_created_by_users")),
        sa.ForeignKeyConstraint(["reporter_id"], ["users.id"], name=op.f("fk_open311_api_keys_reporter_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_api_keys_key_hash")),
    )
    op.create_table(
        "open311_requests",
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("media_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["open311_api_keys.id"],
                                name=op.f("fk_open311_requests_api_key_id_open311_api_keys")),
        sa.ForeignKeyConstraint(["problem_id"], ["problems.id"], name=op.f("fk_open311_requests_problem_id_problems")),
        sa.PrimaryKeyConstraint("problem_id", name=op.f("pk_open311_requests")),
    )
    with op.batch_alter_table("open311_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open311_requests_api_key_id"), ["api_key_id"], unique=False)


def downgrade():
    with op.batch_alter_table("open311_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open311_requests_api_key_id"))
    op.drop_table("open311_requests")
    op.drop_table("open311_api_keys")
